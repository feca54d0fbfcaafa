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
	var candidates []uint64 // file offsets of 0f c7 in register form, reg 6 or 7
	for i := 0; ; {
		j := bytes.Index(code[i:], []byte{0x0f, 0xc7})
		if j < 0 || i+j+2 >= len(code) {
			break
		}
		at := i + j
		i = at + 1
		if code[at+2] >= 0xf0 {
			candidates = append(candidates, off+uint64(at))
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	ef, _ := elf.NewFile(f)
	var found []string
	for _, c := range candidates {
		name, start, end, ok := function(ef, c)
		if ok {
			if op := decodeAt(f, start, end, c); op != "" {
				found = append(found, fmt.Sprintf("%s at %s+%#x in %s", op, filepath.Base(display), c, name))
			}
			continue
		}
		// No symbol (a static function of a stripped file): x86 decoding
		// falls into step with the real instruction boundaries within a few
		// bytes, so decode from each of the 64 bytes before and let the
		// starting points vote on whether an instruction begins here.
		if op := vote(f, c); op != "" {
			found = append(found, fmt.Sprintf("%s at %s+%#x", op, filepath.Base(display), c))
		}
	}
	return found
}

// decodeAt decodes the function [start, end) (file offsets) from its start
// and returns "RDRAND" or "RDSEED" if an instruction begins at c (or at a
// one-byte prefix before it) and is one, else "".
func decodeAt(f *os.File, start, end, c uint64) string {
	fn := make([]byte, end-start)
	n, _ := f.ReadAt(fn, int64(start))
	fn = fn[:n]
	for pc := uint64(0); start+pc <= c && pc < uint64(len(fn)); {
		inst, err := x86asm.Decode(fn[pc:], 64)
		at := start + pc
		if at == c || at+1 == c && isPrefix(fn[pc]) {
			if err == nil && inst.Op == x86asm.RDRAND {
				return "RDRAND"
			}
			// x86asm does not know RDSEED (0f c7 /7, register form).
			if err != nil && c-start+2 < uint64(len(fn)) && fn[c-start+2] >= 0xf8 {
				return "RDSEED"
			}
		}
		if err != nil || inst.Len == 0 {
			pc++ // undecodable byte: skip it
			continue
		}
		pc += uint64(inst.Len)
	}
	return ""
}

// function finds the function symbol containing file offset off and returns
// its name and file-offset range.
func function(ef *elf.File, off uint64) (string, uint64, uint64, bool) {
	if ef == nil {
		return "", 0, 0, false
	}
	var vaddr, delta uint64
	ok := false
	for _, p := range ef.Progs {
		if p.Type == elf.PT_LOAD && off >= p.Off && off < p.Off+p.Filesz {
			vaddr, delta, ok = off-p.Off+p.Vaddr, p.Vaddr-p.Off, true
		}
	}
	if !ok {
		return "", 0, 0, false
	}
	syms, _ := ef.Symbols()
	dyn, _ := ef.DynamicSymbols()
	for _, sym := range append(syms, dyn...) {
		if elf.ST_TYPE(sym.Info) == elf.STT_FUNC && vaddr >= sym.Value && vaddr < sym.Value+sym.Size {
			return sym.Name, sym.Value - delta, sym.Value + sym.Size - delta, true
		}
	}
	return "", 0, 0, false
}

// isPrefix reports an operand-size or REX prefix, which may precede RDRAND.
func isPrefix(b byte) bool { return b == 0x66 || b&0xf0 == 0x40 }

// vote decodes from each of the 64 offsets before c and returns what
// decodeAt finds at c if most of those decodings have an instruction
// boundary exactly there.
func vote(f *os.File, c uint64) string {
	const window = 64
	if c < window {
		return ""
	}
	yes, no := 0, 0
	for start := c - window; start < c; start++ {
		if decodeAt(f, start, c+16, c) != "" {
			yes++
		} else {
			no++
		}
	}
	if yes > no {
		return decodeAt(f, c, c+16, c)
	}
	return ""
}
