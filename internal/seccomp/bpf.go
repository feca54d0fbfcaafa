package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/rewind-dbg/rewind/internal/arch"
)

// A program's own seccomp filters are not installed in the kernel under
// rewind (rewind's own filter traps every syscall; the kernel would also
// apply the program's to the syscalls rewind injects, and could not tell
// rewind what they decided). The recorder keeps them and runs them itself,
// with this interpreter, at each syscall of a task that has them.

// Data is struct seccomp_data, what a filter sees of a syscall.
type Data struct {
	Nr   int32
	Arch uint32
	IP   uint64
	Args [6]uint64
}

// word returns the 32-bit word at a seccomp_data offset (4-aligned).
func (d *Data) word(off uint32) (uint32, bool) {
	var b [64]byte
	binary.LittleEndian.PutUint32(b[0:], uint32(d.Nr))
	binary.LittleEndian.PutUint32(b[4:], d.Arch)
	binary.LittleEndian.PutUint64(b[8:], d.IP)
	for i, a := range d.Args {
		binary.LittleEndian.PutUint64(b[16+8*i:], a)
	}
	if off%4 != 0 || off+4 > uint32(len(b)) {
		return 0, false
	}
	return binary.LittleEndian.Uint32(b[off:]), true
}

// X86Data describes an x86-64 syscall.
func X86Data(nr int, ip uint64, args [6]uint64) Data {
	return Data{Nr: int32(nr), Arch: arch.AuditArch, IP: ip, Args: args}
}

// Classic BPF instruction classes and fields (linux/bpf_common.h).
const (
	clsLD, clsLDX, clsST, clsSTX, clsALU, clsJMP, clsRET, clsMISC = 0, 1, 2, 3, 4, 5, 6, 7

	modeIMM, modeABS, modeMEM, modeLEN = 0x00, 0x20, 0x60, 0x80

	aluADD, aluSUB, aluMUL, aluDIV, aluOR, aluAND, aluLSH, aluRSH, aluNEG, aluMOD, aluXOR = 0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0

	jmpJA, jmpJEQ, jmpJGT, jmpJGE, jmpJSET = 0x00, 0x10, 0x20, 0x30, 0x40

	srcK, srcX = 0x00, 0x08
	retA       = 0x10
	miscTAX    = 0x00
	miscTXA    = 0x80
	sizeW      = 0x00

	maxInsns = 4096 // BPF_MAXINSNS
	memWords = 16   // BPF_MEMWORDS
)

// ErrInvalid is a filter the kernel would refuse (EINVAL).
var ErrInvalid = errors.New("invalid seccomp filter")

// Check validates p as the kernel's seccomp checker does: known
// instructions only, loads of seccomp_data at aligned offsets, jumps that
// stay in the program and land forward, and a return at the end.
func Check(p Program) error {
	if len(p) == 0 || len(p) > maxInsns {
		return fmt.Errorf("%w: %d instructions", ErrInvalid, len(p))
	}
	for pc, in := range p {
		cls := in.Code & 7
		bad := false
		switch cls {
		case clsLD, clsLDX:
			switch mode := in.Code & 0xe0; {
			case mode == modeABS && cls == clsLD:
				bad = in.Code&0x18 != sizeW || in.K%4 != 0 || in.K >= 64
			case mode == modeIMM, mode == modeLEN:
			case mode == modeMEM:
				bad = in.K >= memWords
			default:
				bad = true
			}
		case clsST, clsSTX:
			bad = in.K >= memWords
		case clsALU:
			op := in.Code & 0xf0
			bad = op > aluXOR || (op == aluDIV || op == aluMOD) && in.Code&srcX == 0 && in.K == 0
		case clsJMP:
			op := in.Code & 0xf0
			if op == jmpJA {
				bad = uint64(pc)+1+uint64(in.K) >= uint64(len(p))
			} else {
				bad = op > jmpJSET || pc+1+int(in.Jt) >= len(p) || pc+1+int(in.Jf) >= len(p)
			}
		case clsRET:
		case clsMISC:
			bad = in.Code&0xf8 != miscTAX && in.Code&0xf8 != miscTXA
		}
		if bad {
			return fmt.Errorf("%w: instruction %d (code %#x)", ErrInvalid, pc, in.Code)
		}
	}
	if p[len(p)-1].Code&7 != clsRET {
		return fmt.Errorf("%w: does not end in a return", ErrInvalid)
	}
	return nil
}

// Run runs a checked program on d and returns its action (SECCOMP_RET_*).
func (p Program) Run(d *Data) uint32 {
	var a, x uint32
	var mem [memWords]uint32
	for pc := 0; pc < len(p); pc++ {
		in := p[pc]
		src := in.K
		if in.Code&srcX != 0 {
			src = x
		}
		switch in.Code & 7 {
		case clsLD, clsLDX:
			var v uint32
			switch in.Code & 0xe0 {
			case modeABS:
				v, _ = d.word(in.K)
			case modeIMM:
				v = in.K
			case modeLEN:
				v = 64 // sizeof(struct seccomp_data)
			case modeMEM:
				v = mem[in.K]
			}
			if in.Code&7 == clsLD {
				a = v
			} else {
				x = v
			}
		case clsST:
			mem[in.K] = a
		case clsSTX:
			mem[in.K] = x
		case clsALU:
			switch in.Code & 0xf0 {
			case aluADD:
				a += src
			case aluSUB:
				a -= src
			case aluMUL:
				a *= src
			case aluDIV:
				if src == 0 {
					return 0 // the kernel's BPF returns 0 (KILL) on division by zero
				}
				a /= src
			case aluMOD:
				if src == 0 {
					return 0
				}
				a %= src
			case aluOR:
				a |= src
			case aluAND:
				a &= src
			case aluXOR:
				a ^= src
			case aluLSH:
				a <<= src & 31
			case aluRSH:
				a >>= src & 31
			case aluNEG:
				a = -a
			}
		case clsJMP:
			var taken bool
			switch in.Code & 0xf0 {
			case jmpJA:
				pc += int(in.K)
				continue
			case jmpJEQ:
				taken = a == src
			case jmpJGT:
				taken = a > src
			case jmpJGE:
				taken = a >= src
			case jmpJSET:
				taken = a&src != 0
			}
			if taken {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case clsRET:
			if in.Code&0x18 == retA {
				return a
			}
			return in.K
		case clsMISC:
			if in.Code&0xf8 == miscTXA {
				a = x
			} else {
				x = a
			}
		}
	}
	return 0
}

// Decode reads a struct sock_filter array.
func Decode(b []byte) Program {
	p := make(Program, len(b)/8)
	for i := range p {
		p[i] = Insn{Code: binary.LittleEndian.Uint16(b[8*i:]), Jt: b[8*i+2], Jf: b[8*i+3], K: binary.LittleEndian.Uint32(b[8*i+4:])}
	}
	return p
}

// Action values (the high 16 bits; SECCOMP_RET_ACTION_FULL).
const (
	ActKillProcess = 0x80000000
	ActKillThread  = 0x00000000
	ActTrap        = 0x00030000
	ActErrno       = 0x00050000
	ActUserNotif   = 0x7fc00000
	ActTrace       = 0x7ff00000
	ActLog         = 0x7ffc0000
	ActAllow       = 0x7fff0000
)

// Decide runs a task's filters, newest first, as the kernel does: the
// action with the highest precedence (the lowest value, KILL_PROCESS
// highest) wins, and among equal actions the newest filter's.
func Decide(filters []Program, d *Data) uint32 {
	ret := uint32(ActAllow)
	for i := len(filters) - 1; i >= 0; i-- {
		cur := filters[i].Run(d)
		if precedence(cur) < precedence(ret) {
			ret = cur
		}
	}
	return ret
}

// precedence orders actions: KILL_PROCESS (0x80000000 as a signed value is
// the lowest) first.
func precedence(ret uint32) int32 { return int32(ret & 0xffff0000) }
