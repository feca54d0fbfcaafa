package record

import (
	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/seccomp"
	"github.com/rewind-dbg/rewind/internal/trace"
	"github.com/rewind-dbg/rewind/internal/tracee"
	"golang.org/x/sys/unix"
)

// signal handles a signal-delivery-stop.
func (r *recorder) signal(t *task, sig int) error {
	si, err := ptrace.GetSiginfo(t.tid)
	if err != nil {
		return r.gone(t, err)
	}
	var regs ptrace.Regs
	if err := ptrace.GetRegs(t.tid, &regs); err != nil {
		return r.gone(t, err)
	}
	if t.injecting != nil && sig == t.injecting.Signo() {
		si = *t.injecting
		t.injecting = nil
		if err := ptrace.SetSiginfo(t.tid, &si); err != nil {
			return r.gone(t, err)
		}
		return r.deliver(t, &regs, &si, 0)
	}
	if sig == int(unix.SIGTRAP) {
		if site, d, ok := r.trapsOf(t.pid).At(t.tid, regs.Rip); ok {
			return r.rdrandTrap(t, &regs, site, d)
		}
	}
	if sig == int(unix.SIGSYS) && si.Code() == arch.SysSeccomp && si.Errno() == seccomp.TrapI386 {
		return r.i386Syscall(t, &regs)
	}
	if sig == int(unix.SIGSEGV) && si.Code() == 0x80 { // SI_KERNEL: a #GP, maybe rdtsc
		if n, isRdtscp := r.rdtscLen(t.tid, regs.Rip); n > 0 && !t.tscSigsegv {
			return r.rdtsc(t, &regs, n, isRdtscp)
		} else if n > 0 {
			// The program asked for this SIGSEGV itself (PR_SET_TSC).
			return r.deliver(t, &regs, &si, trace.FlagSyncSignal)
		}
	}
	if arch.SyncFault(&si) {
		return r.deliver(t, &regs, &si, trace.FlagSyncSignal)
	}
	if regs == t.resumeRegs {
		// No user instruction ran since the last deterministic point.
		return r.deliver(t, &regs, &si, 0)
	}
	if fatalByDefault(t.tid, sig) {
		// It kills the process wherever it lands, and nothing the program
		// does after its last syscall is visible: deliver it now (a spinning
		// program still dies of SIGTERM). Replay kills at the task-exit event.
		return r.gone(t, ptrace.Cont(t.tid, sig))
	}
	// Arrived at an arbitrary instruction: defer to the next syscall exit,
	// which replay can find without counting instructions.
	t.pending = append(t.pending, si)
	return r.gone(t, ptrace.Cont(t.tid, 0))
}

// fatalByDefault reports whether sig would terminate tid's process: its
// default action terminates and the process neither catches, ignores nor
// blocks it.
func fatalByDefault(tid, sig int) bool {
	switch unix.Signal(sig) {
	case unix.SIGCHLD, unix.SIGURG, unix.SIGWINCH, unix.SIGCONT,
		unix.SIGSTOP, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU:
		return false
	}
	st, err := tracee.ReadStatus(tid)
	return err == nil && st.DefaultAction(sig)
}

// stopsByDefault reports whether delivering sig to tid now stops its
// process (job control): SIGSTOP always, the terminal stop signals unless
// caught or ignored.
func stopsByDefault(tid, sig int) bool {
	switch unix.Signal(sig) {
	case unix.SIGSTOP:
		return true
	case unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU:
		st, err := tracee.ReadStatus(tid)
		return err == nil && st.DefaultAction(sig)
	}
	return false
}

func (r *recorder) deliver(t *task, regs *ptrace.Regs, si *ptrace.Siginfo, flags uint32) error {
	if t.emu != nil {
		t.atSignalStop = true
		return r.tracedSignal(t, regs, si, flags)
	}
	if stopsByDefault(t.tid, si.Signo()) {
		flags |= trace.FlagJobStop
	}
	ev := &trace.Event{Kind: trace.KindSignal, Tid: int32(t.tid), Regs: *regs, Siginfo: *si, Flags: flags}
	if err := r.append(ev); err != nil {
		return err
	}
	return r.gone(t, ptrace.Cont(t.tid, si.Signo()))
}
