package replay

import (
	"encoding/binary"
	"fmt"

	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/trace"
	"github.com/rewind-dbg/rewind/internal/tracee"
	"golang.org/x/sys/unix"
)

func (r *replayer) signal(t *rtask, ev *trace.Event) error {
	sig := ev.Siginfo.Signo()
	var st ptrace.Stop
	var err error
	var restore uint64
	var ok bool
	if ev.Flags&trace.FlagResume != 0 {
		// The task is held at a signal-delivery stop (an earlier held
		// signal) and its tracer lets it go with this signal.
		return r.resumeHeld(t, ev, sig)
	}
	if ev.Flags&trace.FlagSyncSignal != 0 {
		st, err = r.advance(t)
	} else {
		if restore, ok, err = r.underTempMask(t); err != nil {
			return err
		}
		// Send it, then resume the task from where it stopped (a syscall,
		// or the delivery of a signal before this one, which goes first):
		// the kernel stops it to deliver this one before any user
		// instruction runs, as when recorded.
		if _, _, e := unix.RawSyscall(unix.SYS_TKILL, uintptr(t.tid), uintptr(sig), 0); e != 0 {
			return fmt.Errorf("event %d: send %v to task %d: %w", r.rd.Count(), unix.Signal(sig), t.tid, e)
		}
		prev := t.resumeSig
		t.resumeSig = 0
		for err == nil {
			if err = r.resumeAs(ptrace.Sysemu, t.tid, prev); err == nil {
				st, err = r.wait(t.tid)
			}
			// A seized task traps once for a SIGCONT sent to it.
			if st.Kind() != ptrace.EventStop || st.Event() != unix.PTRACE_EVENT_STOP {
				break
			}
			prev = 0
		}
	}
	if err != nil {
		return err
	}
	if st.Kind() != ptrace.SignalStop || st.Signal() != sig {
		return r.diverge(fmt.Sprintf("expected signal %v, got %v", unix.Signal(sig), st))
	}
	var regs ptrace.Regs
	if err := ptrace.GetRegs(t.tid, &regs); err != nil {
		return err
	}
	if err := r.checkRegs(&regs, &ev.Regs, "at signal "+unix.SignalName(unix.Signal(sig))); err != nil {
		return err
	}
	si := ev.Siginfo
	if err := ptrace.SetSiginfo(t.tid, &si); err != nil {
		return err
	}
	if ev.Flags&trace.FlagHeld != 0 {
		return nil // its tracer (a recorded task) decides, in a later event
	}
	if ok {
		return r.deliverRestoring(t, sig, restore)
	}
	r.signalStop(t, sig, ev.Siginfo)
	if r.quit {
		return ErrQuit
	}
	if ev.Flags&trace.FlagJobStop == 0 {
		t.resumeSig = sig
	}
	return nil
}

// resumeHeld lets a task held at a signal-delivery stop go with sig, as its
// tracer inside the recording did.
func (r *replayer) resumeHeld(t *rtask, ev *trace.Event, sig int) error {
	var regs ptrace.Regs
	if err := ptrace.GetRegs(t.tid, &regs); err != nil {
		return err
	}
	if err := r.checkRegs(&regs, &ev.Regs, "resuming with "+unix.SignalName(unix.Signal(sig))); err != nil {
		return err
	}
	si := ev.Siginfo
	if err := ptrace.SetSiginfo(t.tid, &si); err != nil {
		return err
	}
	t.resumeSig = sig
	return nil
}

// setRegs replays a tracer's register write into a stopped task.
func (r *replayer) setRegs(t *rtask, ev *trace.Event) error {
	regs := ev.Regs
	return ptrace.SetRegs(t.tid, &regs)
}

// tempMaskPtr returns where the last syscall's temporary signal mask is,
// for the syscalls that install one while they wait (0 if none).
func tempMaskPtr(t *rtask) uint64 {
	a := &t.entry
	switch t.lastNr {
	case unix.SYS_RT_SIGSUSPEND:
		return a.Rdi
	case unix.SYS_PPOLL:
		return a.R10
	case unix.SYS_EPOLL_PWAIT, unix.SYS_EPOLL_PWAIT2:
		return a.R8
	case unix.SYS_PSELECT6:
		if a.R9 != 0 {
			if v, err := ptrace.ReadWord(t.tid, a.R9); err == nil {
				return v
			}
		}
	}
	return 0
}

// underTempMask prepares delivery of a signal that, when recorded, arrived
// while a syscall's temporary mask was in force (sigsuspend, pselect6,
// ppoll, epoll_pwait): replay skipped that syscall, so it installs the
// temporary mask itself, and returns the mask to restore after the handler.
func (r *replayer) underTempMask(t *rtask) (restore uint64, ok bool, err error) {
	ptr := tempMaskPtr(t)
	if ptr == 0 || t.lastRet >= 0 {
		return 0, false, nil
	}
	var mask [8]byte
	if err := ptrace.ReadMem(t.tid, ptr, mask[:]); err != nil {
		return 0, false, err
	}
	rem, err := tracee.NewRemote(t.tid, t.site)
	if err != nil {
		return 0, false, err
	}
	newp, err := rem.Scratch(0, mask[:])
	if err != nil {
		return 0, false, err
	}
	oldp := newp + 8
	if _, err := rem.Check("rt_sigprocmask", unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, newp, oldp, 8); err != nil {
		return 0, false, err
	}
	old, err := ptrace.ReadWord(t.tid, oldp)
	if err != nil {
		return 0, false, err
	}
	return old, true, rem.Close()
}

// deliverRestoring delivers the pending signal by single-stepping into its
// handler, then writes the mask to restore into the handler frame, as the
// kernel does for a signal that interrupted a temporary-mask syscall.
func (r *replayer) deliverRestoring(t *rtask, sig int, restore uint64) error {
	if err := ptrace.SingleStepSignal(t.tid, sig); err != nil {
		return err
	}
	st, err := r.wait(t.tid)
	if err != nil {
		return err
	}
	if st.Kind() != ptrace.SignalStop || st.Signal() != int(unix.SIGTRAP) {
		// Default action without a handler (the task may be gone).
		return r.diverge(fmt.Sprintf("delivering %v under a temporary mask: unexpected %v", unix.Signal(sig), st))
	}
	var regs ptrace.Regs
	if err := ptrace.GetRegs(t.tid, &regs); err != nil {
		return err
	}
	return ptrace.WriteMem(t.tid, regs.Rsp+arch.UcSigmaskOffset, binary.LittleEndian.AppendUint64(nil, restore))
}
