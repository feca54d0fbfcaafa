package arch

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// Regs are a task's general registers: the kernel's struct user_regs_struct,
// as PTRACE_GETREGS fills it.
type Regs = unix.PtraceRegs

// RegsSize is the size of struct user_regs_struct.
const RegsSize = 27 * 8

// regFields lists Regs' fields in struct user_regs_struct order.
func regFields(r *Regs) []*uint64 {
	return []*uint64{&r.R15, &r.R14, &r.R13, &r.R12, &r.Rbp, &r.Rbx, &r.R11, &r.R10, &r.R9, &r.R8,
		&r.Rax, &r.Rcx, &r.Rdx, &r.Rsi, &r.Rdi, &r.Orig_rax, &r.Rip, &r.Cs, &r.Eflags, &r.Rsp,
		&r.Ss, &r.Fs_base, &r.Gs_base, &r.Ds, &r.Es, &r.Fs, &r.Gs}
}

// RegNames names the registers in struct user_regs_struct order.
var RegNames = []string{"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
	"rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp",
	"ss", "fs_base", "gs_base", "ds", "es", "fs", "gs"}

// AppendRegs appends r encoded as struct user_regs_struct (little-endian).
func AppendRegs(b []byte, r *Regs) []byte {
	for _, v := range regFields(r) {
		b = binary.LittleEndian.AppendUint64(b, *v)
	}
	return b
}

// RegsBytes encodes r as struct user_regs_struct.
func RegsBytes(r *Regs) []byte { return AppendRegs(make([]byte, 0, RegsSize), r) }

// RegsFromBytes decodes a struct user_regs_struct of RegsSize bytes.
func RegsFromBytes(r *Regs, b []byte) {
	for i, p := range regFields(r) {
		*p = binary.LittleEndian.Uint64(b[i*8:])
	}
}

// RegValues returns the registers in RegNames order.
func RegValues(r *Regs) []uint64 {
	p := regFields(r)
	v := make([]uint64, len(p))
	for i := range p {
		v[i] = *p[i]
	}
	return v
}

// SyscallArgs returns a syscall's six arguments from the registers at its
// entry, in the x86-64 order (rdi, rsi, rdx, r10, r8, r9).
func SyscallArgs(r *Regs) [6]uint64 {
	return [6]uint64{r.Rdi, r.Rsi, r.Rdx, r.R10, r.R8, r.R9}
}
