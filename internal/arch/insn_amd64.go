package arch

// Instructions rewind decodes in a tracee or plants in one.
var (
	SyscallInsn = []byte{0x0f, 0x05} // syscall
	RdtscInsn   = []byte{0x0f, 0x31} // rdtsc
	RdtscpInsn  = []byte{0x0f, 0x01, 0xf9}
)

const (
	// SyscallInsnLen is the length of syscall: at a syscall stop, rip is
	// just past it, so rip - SyscallInsnLen re-executes the syscall.
	SyscallInsnLen = 2
	// Int3 is the one-byte breakpoint; after it traps, rip is past it.
	Int3 = 0xcc
)

// BackUpOverSyscall makes a task stopped at a syscall (entry or exit) run
// the syscall instruction again, as syscall nr, when resumed: how the
// kernel restarts a syscall, and how replay re-enters one to run it.
func BackUpOverSyscall(r *Regs, nr uint64) {
	r.Rip -= SyscallInsnLen
	r.Rax = nr
}

// RdtscAt decodes the instruction in b (at least 3 bytes from rip): the
// length of an rdtsc (2) or rdtscp (3), or 0.
func RdtscAt(b []byte) (n int, rdtscp bool) {
	switch {
	case len(b) >= 2 && b[0] == RdtscInsn[0] && b[1] == RdtscInsn[1]:
		return 2, false
	case len(b) >= 3 && b[0] == RdtscpInsn[0] && b[1] == RdtscpInsn[1] && b[2] == RdtscpInsn[2]:
		return 3, true
	}
	return 0, false
}

// EmulateRdtsc completes an rdtsc (or rdtscp) at regs.Rip with the given
// values (eax, edx, and ecx for rdtscp) and steps past it.
func EmulateRdtsc(r *Regs, values [3]uint64, rdtscp bool) {
	r.Rax = values[0]
	r.Rdx = values[1]
	r.Rip += 2
	if rdtscp {
		r.Rcx = values[2]
		r.Rip++
	}
}
