package tracee

import (
	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/ptrace"
)

// Rdrand is a decoded RDRAND or RDSEED (register form: [66|REX] 0f c7 /6
// or /7).
type Rdrand struct {
	Reg  int // destination: 0 rax, 1 rcx, ... 15 r15
	Size int // operand bytes: 2, 4 or 8
	Len  int // instruction length
}

// DecodeRdrand decodes an RDRAND/RDSEED at the start of b.
func DecodeRdrand(b []byte) (Rdrand, bool) {
	d := Rdrand{Size: 4}
	i := 0
	rexB := 0
	for ; i < len(b) && i < 4; i++ {
		switch c := b[i]; {
		case c == 0x66:
			d.Size = 2
			continue
		case c&0xf0 == 0x40:
			if c&8 != 0 {
				d.Size = 8
			}
			rexB = int(c & 1)
			continue
		}
		break
	}
	if i+3 > len(b) || b[i] != 0x0f || b[i+1] != 0xc7 {
		return d, false
	}
	modrm := b[i+2]
	if modrm>>6 != 3 || (modrm>>3)&7 < 6 {
		return d, false
	}
	d.Reg = int(modrm&7) | rexB<<3
	d.Len = i + 3
	return d, true
}

// Emulate makes regs what the instruction at regs.Rip leaves when it
// returns v successfully: the destination register (a 32-bit write clears
// the upper half, a 16-bit one keeps it), CF set, OF SF ZF AF PF clear,
// rip past it.
func (d Rdrand) Emulate(regs *ptrace.Regs, v uint64) {
	r := gpr(regs, d.Reg)
	switch d.Size {
	case 2:
		*r = *r&^0xffff | v&0xffff
	case 4:
		*r = v & 0xffffffff
	default:
		*r = v
	}
	const cf, pf, af, zf, sf, of = 0x1, 0x4, 0x10, 0x40, 0x80, 0x800
	regs.Eflags = regs.Eflags&^(cf|pf|af|zf|sf|of) | cf
	regs.Rip += uint64(d.Len)
}

// gpr returns the general register with x86 number n.
func gpr(r *ptrace.Regs, n int) *uint64 {
	return [...]*uint64{&r.Rax, &r.Rcx, &r.Rdx, &r.Rbx, &r.Rsp, &r.Rbp, &r.Rsi, &r.Rdi,
		&r.R8, &r.R9, &r.R10, &r.R11, &r.R12, &r.R13, &r.R14, &r.R15}[n]
}

// Traps are the int3s rewind put in place of RDRAND/RDSEED instructions in
// one address space: each address, and the byte the int3 replaced.
type Traps map[uint64]byte

// Set puts an int3 at addr in task tid's memory.
func (tr Traps) Set(tid int, addr uint64) error {
	var b [1]byte
	if err := ptrace.ReadMem(tid, addr, b[:]); err != nil {
		return err
	}
	if err := ptrace.WriteMem(tid, addr, []byte{arch.Int3}); err != nil {
		return err
	}
	tr[addr] = b[0]
	return nil
}

// At returns the trap a task stopped by SIGTRAP at rip hit, if any, and the
// instruction it stands for.
func (tr Traps) At(tid int, rip uint64) (uint64, Rdrand, bool) {
	orig, ok := tr[rip-1]
	if !ok {
		return 0, Rdrand{}, false
	}
	var b [8]byte
	if err := ptrace.ReadMem(tid, rip-1, b[:]); err != nil || b[0] != arch.Int3 {
		return 0, Rdrand{}, false
	}
	b[0] = orig
	d, ok := DecodeRdrand(b[:])
	return rip - 1, d, ok
}

// Hide puts the replaced bytes back into buf, read from addr: what the
// program's code holds.
func (tr Traps) Hide(addr uint64, buf []byte) {
	for a, orig := range tr {
		if a >= addr && a < addr+uint64(len(buf)) {
			buf[a-addr] = orig
		}
	}
}

// Clone copies the table for a forked address space.
func (tr Traps) Clone() Traps {
	c := make(Traps, len(tr))
	for a, b := range tr {
		c[a] = b
	}
	return c
}
