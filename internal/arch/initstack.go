package arch

import (
	"errors"
	"fmt"
)

// Auxv entry types rewind reads or rewrites.
const (
	AtNull        = 0
	AtIgnore      = 1
	AtSysinfoEhdr = 33
)

// Bounds on a walk of the initial stack. The kernel limits argv and envp
// only by the stack's size (a quarter of its rlimit), so these are far
// above anything real: a reader fails at the end of the stack first. They
// bound a walk over memory a crafted trace describes.
const (
	maxStrings = 1 << 26
	maxAuxv    = 256
)

// InitialStack is the layout execve leaves at the stack pointer: argc,
// argv pointers and a NULL, envp pointers and a NULL, then auxv pairs
// ending with AT_NULL.
type InitialStack struct {
	Argc uint64
	// Argv is the address of argv[0], the first argument string pointer.
	Argv uint64
	// Auxv is the address of the first auxv entry; AuxvLen its length in
	// bytes, the AT_NULL entry included.
	Auxv    uint64
	AuxvLen uint64
}

// ErrAuxvUnterminated is returned when no AT_NULL ends the auxv.
var ErrAuxvUnterminated = errors.New("auxv not terminated")

// ReadInitialStack walks the initial stack at rsp, reading 8-byte words
// with word (from a live task or from saved memory).
func ReadInitialStack(rsp uint64, word func(addr uint64) (uint64, error)) (InitialStack, error) {
	var s InitialStack
	argc, err := word(rsp)
	if err != nil {
		return s, fmt.Errorf("read argc: %w", err)
	}
	if argc > maxStrings {
		return s, fmt.Errorf("argc %d is implausible", argc)
	}
	s.Argc, s.Argv = argc, rsp+8
	p := rsp + 8 + (argc+1)*8
	for i := 0; ; i++ {
		if i == maxStrings {
			return s, errors.New("environment not terminated")
		}
		v, err := word(p)
		if err != nil {
			return s, fmt.Errorf("read envp: %w", err)
		}
		p += 8
		if v == 0 {
			break
		}
	}
	s.Auxv = p
	for i := 0; i < maxAuxv; i++ {
		typ, err := word(p)
		if err != nil {
			return s, fmt.Errorf("read auxv: %w", err)
		}
		p += 16
		if typ == AtNull {
			s.AuxvLen = p - s.Auxv
			return s, nil
		}
	}
	return s, ErrAuxvUnterminated
}

// AuxvEntry returns the address of the first auxv entry of type typ, or
// false.
func (s InitialStack) AuxvEntry(typ uint64, word func(addr uint64) (uint64, error)) (uint64, bool) {
	for p := s.Auxv; p+16 <= s.Auxv+s.AuxvLen; p += 16 {
		if t, err := word(p); err == nil && t == typ {
			return p, true
		}
	}
	return 0, false
}
