// Package seccomp builds the classic-BPF seccomp filters rewind installs in
// its tracees and installs them by remote syscalls.
//
// Record installs Record: every x86-64 syscall traps to the tracer
// (SECCOMP_RET_TRACE), other ABIs raise SIGSYS so that the recorder can
// refuse them by name. Replay runs tracees under PTRACE_SYSEMU, which stops
// at every syscall before seccomp runs, so it needs a filter only for what
// SYSEMU does not see: calls into the legacy vsyscall page, which the kernel
// emulates without a syscall instruction, and any syscall a task would
// really run (Replay).
package seccomp

import (
	"encoding/binary"
	"fmt"

	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/syscalls"
	"github.com/rewind-dbg/rewind/internal/tracee"
	"golang.org/x/sys/unix"
)

// Filter actions (SECCOMP_RET_*), and the data rewind's actions carry.
const (
	RetAllow = 0x7fff0000
	RetTrace = 0x7ff00000
	RetErrno = 0x00050000
	RetTrap  = 0x00030000

	// TrapI386 is the SECCOMP_RET_DATA of Record's SIGSYS for 32-bit
	// syscalls; the kernel puts it in the signal's si_errno.
	TrapI386 = 0x386
)

// seccomp_data offsets.
const (
	offNr   = 0
	offArch = 4
	offIPLo = 8
	offIPHi = 12
)

// BPF opcodes used here.
const (
	ldAbsW = 0x20 // BPF_LD|BPF_W|BPF_ABS
	jeqK   = 0x15 // BPF_JMP|BPF_JEQ|BPF_K
	jgeK   = 0x35 // BPF_JMP|BPF_JGE|BPF_K
	andK   = 0x54 // BPF_ALU|BPF_AND|BPF_K
	retK   = 0x06 // BPF_RET|BPF_K
)

// Insn is one classic BPF instruction (struct sock_filter).
type Insn struct {
	Code   uint16
	Jt, Jf uint8
	K      uint32
}

// Program is a filter as the kernel takes it.
type Program []Insn

// Bytes encodes the program as an array of struct sock_filter.
func (p Program) Bytes() []byte {
	b := make([]byte, 0, 8*len(p))
	for _, i := range p {
		b = binary.LittleEndian.AppendUint16(b, i.Code)
		b = append(b, i.Jt, i.Jf)
		b = binary.LittleEndian.AppendUint32(b, i.K)
	}
	return b
}

// Record traps every x86-64 syscall to the tracer, raises SIGSYS for other
// ABIs (int 0x80) and fails numbers at or above the x32 bit, and -1, with
// ENOSYS without a stop (syscalls.FailedByFilter).
func Record() Program {
	return Program{
		{ldAbsW, 0, 0, offArch},
		{jeqK, 1, 0, arch.AuditArch},
		{retK, 0, 0, RetTrap | TrapI386},
		{ldAbsW, 0, 0, offNr},
		{jgeK, 0, 1, syscalls.X32Bit},
		{retK, 0, 0, RetErrno | uint32(unix.ENOSYS)},
		{retK, 0, 0, RetTrace},
	}
}

// VsyscallPage is where the legacy vsyscall page is mapped.
const VsyscallPage = 0xffffffffff600000

// Replay traps every syscall a replayed task really makes to the replayer.
// Emulated syscalls never get here (PTRACE_SYSEMU skips them before
// seccomp runs), so what stops is a call replay itself runs (a real mmap,
// clone, exit, a remote syscall), which the replayer lets go, a vsyscall,
// which it emulates, or anything else, which it refuses. It is the second
// wall between a replayed trace and the world: a task that escaped the
// tracer (a crafted CLONE_UNTRACED) would have no tracer, and a filter's
// trace action without one fails every syscall with ENOSYS.
func Replay() Program {
	return Program{{retK, 0, 0, RetTrace}}
}

// InVsyscallPage reports whether rip is in the vsyscall page: a seccomp stop
// there is the kernel emulating a vsyscall.
func InVsyscallPage(rip uint64) bool { return rip&^0xfff == VsyscallPage }

// Install sets no_new_privs (an unprivileged task may install a filter only
// then) and installs p in the task, by remote syscalls.
func Install(rem *tracee.Remote, p Program) error {
	if _, err := rem.Check("prctl(PR_SET_NO_NEW_PRIVS)", unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	fptr, err := rem.Scratch(64, p.Bytes())
	if err != nil {
		return err
	}
	var fprog [16]byte // struct sock_fprog: u16 len, pad, pointer
	binary.LittleEndian.PutUint16(fprog[0:], uint16(len(p)))
	binary.LittleEndian.PutUint64(fprog[8:], fptr)
	pptr, err := rem.Scratch(0, fprog[:])
	if err != nil {
		return err
	}
	_, err = rem.Check("seccomp(SET_MODE_FILTER)", unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, pptr)
	return err
}

// Kill has the kernel kill task tid with SIGSYS as a seccomp filter
// returning action (KILL_THREAD: the thread; KILL_PROCESS: its process)
// would: tid, stopped at a syscall's entry or any other stop, gets a filter
// of that one action and is sent through a syscall. The kernel's own kill
// gives the exit status, core dump and thread-only death exactly.
func Kill(tid int, action uint32) error {
	var regs ptrace.Regs
	if err := ptrace.GetRegs(tid, &regs); err != nil {
		return err
	}
	regs.Orig_rax = ^uint64(0) // skip a syscall it is stopped in
	if err := ptrace.SetRegs(tid, &regs); err != nil {
		return err
	}
	site, err := tracee.SyscallSite(tid)
	if err != nil {
		return err
	}
	rem, err := tracee.NewRemote(tid, site)
	if err != nil {
		return err
	}
	if err := Install(rem, Program{{retK, 0, 0, action}}); err != nil {
		return fmt.Errorf("install a killing filter in task %d: %w", tid, err)
	}
	if err := rem.Close(); err != nil {
		return err
	}
	regs.Rip = site
	regs.Rax = unix.SYS_GETPID
	if err := ptrace.SetRegs(tid, &regs); err != nil {
		return err
	}
	return ptrace.Cont(tid, 0)
}
