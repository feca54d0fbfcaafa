package arch

import (
	"encoding/binary"
	"errors"
	"testing"
)

// stackOf lays words out from base and returns a reader over them.
func stackOf(base uint64, words ...uint64) func(uint64) (uint64, error) {
	mem := make([]byte, 8*len(words))
	for i, w := range words {
		binary.LittleEndian.PutUint64(mem[8*i:], w)
	}
	return func(addr uint64) (uint64, error) {
		if addr < base || addr+8 > base+uint64(len(mem)) {
			return 0, errors.New("unmapped")
		}
		return binary.LittleEndian.Uint64(mem[addr-base:]), nil
	}
}

func TestReadInitialStack(t *testing.T) {
	const base = 0x1000
	word := stackOf(base,
		2, 0xa0, 0xb0, 0, // argc, argv, NULL
		0xc0, 0, // envp, NULL
		AtSysinfoEhdr, 0x7fff0000, 6, 4096, AtNull, 0)
	s, err := ReadInitialStack(base, word)
	if err != nil {
		t.Fatal(err)
	}
	if a0, _ := word(s.Argv); s.Argc != 2 || s.Argv != base+8 || a0 != 0xa0 {
		t.Errorf("argv: %+v", s)
	}
	if s.Auxv != base+6*8 || s.AuxvLen != 3*16 {
		t.Errorf("auxv at %#x len %d, want %#x len 48", s.Auxv, s.AuxvLen, base+6*8)
	}
	if p, ok := s.AuxvEntry(AtSysinfoEhdr, word); !ok || p != s.Auxv {
		t.Errorf("AT_SYSINFO_EHDR at %#x %v", p, ok)
	}
	if _, ok := s.AuxvEntry(AtIgnore, word); ok {
		t.Error("found an entry that is not there")
	}
}

func TestReadInitialStackBad(t *testing.T) {
	for name, word := range map[string]func(uint64) (uint64, error){
		"unterminated auxv": stackOf(0, 0, 0, 0, 7, 1, 7, 1),
		"huge argc":         stackOf(0, 1<<40),
		"short":             stackOf(0, 3, 1),
	} {
		if s, err := ReadInitialStack(0, word); err == nil {
			t.Errorf("%s: read %+v, want an error", name, s)
		}
	}
}
