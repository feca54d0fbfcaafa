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

// Bounds on what an initial stack may hold, so that a stack read from an
// untrusted trace (or a hostile program) cannot keep a walk going.
const (
	maxArgs = 1 << 16
	maxEnv  = 1 << 16
	maxAuxv = 256
)

// InitialStack is the layout execve leaves at the stack pointer: argc,
// argv pointers and a NULL, envp pointers and a NULL, then auxv pairs
// ending with AT_NULL.
type InitialStack struct {
	Argc uint64
	// Argv holds the argument string pointers, in order.
	Argv []uint64
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
	if argc > maxArgs {
		return s, fmt.Errorf("argc %d is implausible", argc)
	}
	s.Argc = argc
	for i := uint64(0); i < argc; i++ {
		p, err := word(rsp + 8 + 8*i)
		if err != nil {
			return s, fmt.Errorf("read argv[%d]: %w", i, err)
		}
		s.Argv = append(s.Argv, p)
	}
	p := rsp + 8 + (argc+1)*8
	for i := 0; ; i++ {
		if i == maxEnv {
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
