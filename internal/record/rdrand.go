package record

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/arch/x86/x86asm"
)

// rdrandScanner finds RDRAND/RDSEED instructions in code the program maps
// executable. Their results come from the CPU, which cannot be told to trap
// them on these machines (no CPUID faulting to hide the feature). Where an
// instruction is certain (decoded from the start of its function, known from
// a symbol or from .eh_frame), the recorder replaces its first byte with
// int3 and emulates it, recording the value (rdrand_trap.go); elsewhere it
// can only warn, naming file and function.
type rdrandScanner struct {
	seen map[string][]rdrandSite // file:offset ranges already scanned
}

// rdrandSite is one RDRAND/RDSEED found in a file.
type rdrandSite struct {
	off     uint64 // file offset of the instruction's first byte
	what    string // "RDRAND at file+0x... in function"
	certain bool   // decoded from a known function start
}

// scan looks at [off, off+length) of a preserved file and returns the
// RDRAND/RDSEED instructions found there.
func (s *rdrandScanner) scan(path, display string, off, length uint64) []rdrandSite {
	if s.seen == nil {
		s.seen = map[string][]rdrandSite{}
	}
	key := fmt.Sprintf("%s:%d:%d", path, off, length)
	if found, ok := s.seen[key]; ok {
		return found
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	// Read in windows (a mapping can be huge), overlapping by the two
	// bytes after a 0f c7 that tell whether it is one.
	var candidates []uint64 // file offsets of 0f c7 in register form, reg 6 or 7
	const window = 4 << 20
	buf := make([]byte, window+2)
	for base := uint64(0); base < length; base += window {
		n, _ := f.ReadAt(buf[:min(window+2, length-base)], int64(off+base))
		code := buf[:n]
		for i := 0; ; {
			j := bytes.Index(code[i:], []byte{0x0f, 0xc7})
			if j < 0 || i+j+2 >= len(code) || uint64(i+j) >= window {
				break
			}
			at := i + j
			i = at + 1
			if code[at+2] >= 0xf0 {
				candidates = append(candidates, off+base+uint64(at))
			}
		}
		if n < len(buf[:min(window+2, length-base)]) {
			break // end of file
		}
	}
	var found []rdrandSite
	if len(candidates) > 0 {
		ef, _ := elf.NewFile(f)
		var fdes [][2]uint64
		if ef != nil {
			fdes = fdeRanges(ef)
		}
		for _, c := range candidates {
			if name, start, end, ok := function(ef, fdes, c); ok {
				if op, at := decodeAt(f, start, end, c); op != "" {
					what := fmt.Sprintf("%s at %s+%#x", op, filepath.Base(display), c)
					if name != "" {
						what += " in " + name
					}
					found = append(found, rdrandSite{off: at, what: what, certain: true})
				}
				continue
			}
			// No symbol or FDE: x86 decoding falls into step with the real
			// instruction boundaries within a few bytes, so decode from each
			// of the 64 bytes before and let the starting points vote on
			// whether an instruction begins here. Not certain enough to
			// patch.
			if op := vote(f, c); op != "" {
				found = append(found, rdrandSite{off: c, what: fmt.Sprintf("%s at %s+%#x", op, filepath.Base(display), c)})
			}
		}
	}
	s.seen[key] = found
	return found
}

// decodeAt decodes the function [start, end) (file offsets) from its start
// and returns "RDRAND" or "RDSEED" if an instruction begins at c (or at a
// one-byte prefix before it) and is one, else "", and where the
// instruction begins.
func decodeAt(f *os.File, start, end, c uint64) (string, uint64) {
	// Only the bytes up to the candidate matter; a function (from a
	// symbol or an FDE of a file nobody checked) may claim any size.
	end = min(end, c+16)
	if end <= start || end-start > 16<<20 {
		return "", 0
	}
	fn := make([]byte, end-start)
	n, _ := f.ReadAt(fn, int64(start))
	fn = fn[:n]
	for pc := uint64(0); start+pc <= c && pc < uint64(len(fn)); {
		inst, err := x86asm.Decode(fn[pc:], 64)
		at := start + pc
		if at == c || at+1 == c && isPrefix(fn[pc]) {
			if err == nil && inst.Op == x86asm.RDRAND {
				return "RDRAND", at
			}
			// x86asm does not know RDSEED (0f c7 /7, register form).
			if err != nil && c-start+2 < uint64(len(fn)) && fn[c-start+2] >= 0xf8 {
				return "RDSEED", at
			}
		}
		if err != nil || inst.Len == 0 {
			pc++ // undecodable byte: skip it
			continue
		}
		pc += uint64(inst.Len)
	}
	return "", 0
}

// function finds the function containing file offset off, by symbol or
// else by .eh_frame FDE (fdes), and returns its name ("" for an FDE) and
// file-offset range.
func function(ef *elf.File, fdes [][2]uint64, off uint64) (string, uint64, uint64, bool) {
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
	for _, r := range fdes {
		if vaddr >= r[0] && vaddr < r[1] {
			return "", r[0] - delta, r[1] - delta, true
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
		if op, _ := decodeAt(f, start, c+16, c); op != "" {
			yes++
		} else {
			no++
		}
	}
	if yes > no {
		op, _ := decodeAt(f, c, c+16, c)
		return op
	}
	return ""
}
