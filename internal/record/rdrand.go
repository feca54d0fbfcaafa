package record

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/arch/x86/x86asm"
)

// rdrandScanner reports RDRAND/RDSEED instructions in code the program maps
// executable. Their results come from the CPU and cannot be trapped on these
// machines (no CPUID faulting to hide the feature), so if such code runs,
// replay diverges; the recorder says so up front, naming file and function.
type rdrandScanner struct {
	seen map[string]bool // file:offset ranges already scanned
}

// scan looks at [off, off+length) of a preserved file and returns one
// description per RDRAND/RDSEED instruction found there.
func (s *rdrandScanner) scan(path, display string, off, length uint64) []string {
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	key := fmt.Sprintf("%s:%d:%d", path, off, length)
	if s.seen[key] {
		return nil
	}
	s.seen[key] = true
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	code := make([]byte, length)
	n, _ := f.ReadAt(code, int64(off))
	code = code[:n]
	var found []string
	for i := 0; ; {
		j := bytes.Index(code[i:], []byte{0x0f, 0xc7})
		if j < 0 || i+j+2 >= len(code) {
			break
		}
		at := i + j
		i = at + 1
		if code[at+2] < 0xf0 { // ModRM: register form, reg 6 (rdrand) or 7 (rdseed)
			continue
		}
		name := ""
		if code[at+2] >= 0xf8 {
			// x86asm does not know RDSEED (0f c7 /7): the register form of
			// that opcode has no other meaning.
			name = "RDSEED"
		} else {
			for _, start := range []int{at - 1, at} { // with or without a REX/0x66 prefix
				if start < 0 {
					continue
				}
				if inst, err := x86asm.Decode(code[start:], 64); err == nil && inst.Op == x86asm.RDRAND {
					name = "RDRAND"
					break
				}
			}
		}
		if name != "" {
			found = append(found, fmt.Sprintf("%s at %s+%#x%s", name, filepath.Base(display), off+uint64(at), symbolAt(path, off+uint64(at))))
		}
	}
	return found
}

// symbolAt names the function containing a file offset, if the file's
// symbol tables say (" in NAME"), else "".
func symbolAt(path string, fileOff uint64) string {
	ef, err := elf.Open(path)
	if err != nil {
		return ""
	}
	defer ef.Close()
	var vaddr uint64
	ok := false
	for _, p := range ef.Progs {
		if p.Type == elf.PT_LOAD && fileOff >= p.Off && fileOff < p.Off+p.Filesz {
			vaddr, ok = fileOff-p.Off+p.Vaddr, true
		}
	}
	if !ok {
		return ""
	}
	syms, _ := ef.Symbols()
	dyn, _ := ef.DynamicSymbols()
	for _, sym := range append(syms, dyn...) {
		if elf.ST_TYPE(sym.Info) == elf.STT_FUNC && vaddr >= sym.Value && vaddr < sym.Value+sym.Size {
			return " in " + sym.Name
		}
	}
	return ""
}
