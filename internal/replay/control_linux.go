package replay

import (
	"fmt"

	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/seccomp"
	"github.com/rewind-dbg/rewind/internal/syscalls"
	"github.com/rewind-dbg/rewind/internal/target"
	"github.com/rewind-dbg/rewind/internal/trace"
	"golang.org/x/sys/unix"
)

// advance resumes t until its next stop (a syscall entry, which SYSEMU skips,
// or a signal) and returns that stop.
//
// Signals the kernel raises because replay really ran something (SIGCHLD
// when a replayed child exits) are discarded: the recorded ones are injected
// at their recorded points. Faults raised by the program's own instructions
// are returned, since replay reproduces those itself.
func (r *replayer) advance(t *rtask) (ptrace.Stop, error) {
	for {
		st, err := r.advance1(t)
		if err != nil || st.Kind() != ptrace.SyscallStop {
			return st, err
		}
		var regs ptrace.Regs
		if err := ptrace.GetRegs(t.tid, &regs); err != nil {
			return st, err
		}
		if !syscalls.FailedByFilter(regs.Orig_rax) {
			return st, nil
		}
		// The recording's seccomp filter failed this call with ENOSYS
		// without a stop; SYSEMU stops for it. Fail it the same way.
		enosys := int64(unix.ENOSYS)
		regs.Rax = uint64(-enosys)
		if err := ptrace.SetRegs(t.tid, &regs); err != nil {
			return st, err
		}
	}
}

func (r *replayer) advance1(t *rtask) (ptrace.Stop, error) {
	if r.opt.Debugger != nil && !r.detached && t.pid == r.debugPid {
		return r.debugAdvance(t)
	}
	for {
		sig := t.resumeSig
		t.resumeSig = 0
		if err := r.resumeAs(ptrace.Sysemu, t.tid, sig); err != nil {
			return ptrace.Stop{}, err
		}
		st, err := r.wait(t.tid)
		if err == nil && t.sharesDebugMem && st.Kind() == ptrace.SignalStop && st.Signal() == int(unix.SIGTRAP) {
			if stepped, err := r.passBreakpoint(t); stepped || err != nil {
				if err != nil {
					return st, err
				}
				continue
			}
		}
		if err != nil || st.Kind() != ptrace.SignalStop || isSyncFault(t.tid, st.Signal()) {
			return st, err
		}
	}
}

// isSyncFault reports whether the signal tid is stopped for was raised by
// the instruction it executed (kernel-generated fault codes).
func isSyncFault(tid, sig int) bool {
	if !arch.FaultSignal(sig) {
		return false
	}
	si, err := ptrace.GetSiginfo(tid)
	return err != nil || arch.SyncFault(&si)
}

// wait returns the next stop of tid, first from those an exec put aside.
//
// Replay's seccomp filter traps every syscall a tracee really makes (see
// seccomp.Replay): the one replay started for it (launched) goes on; any
// other is refused with an error, so no tracee runs a syscall replay did
// not decide to run. A vsyscall stop is returned to the caller.
func (r *replayer) wait(tid int) (ptrace.Stop, error) {
	for {
		var st ptrace.Stop
		var err error
		if q := r.stashed[tid]; len(q) > 0 {
			r.stashed[tid] = q[1:]
			st = q[0]
		} else if st, err = r.waitOnce(tid); err != nil {
			return st, err
		}
		if r.intr.isInterruptStop(st) {
			if r.intr.running == tid {
				return st, nil // the debugger's Ctrl-C, for waitRunning
			}
			// It landed after the task had stopped for something else,
			// and trapped on the task's next resume: resume it the same
			// way again. The debugger gets its stop at the next chance.
			op := r.intr.lastOp[tid]
			if op == nil {
				return st, fmt.Errorf("task %d: an interrupt stop before it was ever resumed", tid)
			}
			if err := r.resumeAs(op, tid, 0); err != nil {
				return st, err
			}
			continue
		}
		if st.Kind() != ptrace.SeccompStop {
			return st, nil
		}
		var regs ptrace.Regs
		if err := ptrace.GetRegs(tid, &regs); err != nil {
			return st, err
		}
		if seccomp.InVsyscallPage(regs.Rip) {
			return st, nil
		}
		if err := r.allowReal(tid, regs.Orig_rax); err != nil {
			return st, err
		}
		if err := r.resumeAs(ptrace.Syscall, tid, 0); err != nil {
			return st, err
		}
	}
}

// allowReal checks that the syscall nr task tid is about to run for real is
// the one replay started for it.
func (r *replayer) allowReal(tid int, nr uint64) error {
	for _, t := range r.tasks {
		if t.tid == tid && t.launched == syscalls.Nr(nr) && t.launched >= 0 {
			return nil
		}
	}
	return r.diverge(fmt.Sprintf("task %d tried to run %s, which replay did not start: stopped", tid, syscalls.Name(syscalls.Nr(nr))))
}

// trapStop runs t to the fault an emulated instruction (what) raises, sig,
// and checks the registers there against ev's.
func (r *replayer) trapStop(t *rtask, ev *trace.Event, sig unix.Signal, what string) (ptrace.Regs, error) {
	var regs ptrace.Regs
	st, err := r.advance(t)
	if err != nil {
		return regs, err
	}
	if st.Kind() != ptrace.SignalStop || st.Signal() != int(sig) {
		return regs, r.diverge(fmt.Sprintf("expected %s, got %v", what, st))
	}
	if err := ptrace.GetRegs(t.tid, &regs); err != nil {
		return regs, err
	}
	return regs, r.checkRegs(&regs, &ev.Regs, "at "+what)
}

// debugAdvance is advance under a debugger: it runs t to its next stop the
// event needs, stopping on the way at breakpoints and after single steps.
func (r *replayer) debugAdvance(t *rtask) (ptrace.Stop, error) {
	for {
		step := t.stepping
		if t.stepDone {
			// A step that ended in a syscall finishes once the syscall has
			// been replayed: that is now.
			t.stepDone = false
			step = r.stopFor(t, target.StopStep) == target.Step
		} else if r.intr.pending() {
			// A Ctrl-C that found the task stopped for an event.
			step = r.stopFor(t, target.StopInterrupt) == target.Step
		}
		if r.quit {
			return ptrace.Stop{}, ErrQuit
		}
		t.stepping = false
		st, err := r.resume(t, step)
		if err != nil {
			return st, err
		}
		if st.Kind() == ptrace.SyscallStop {
			t.stepDone = step
			return st, nil
		}
		if interruptTrap(st) {
			t.stepping = r.stopFor(t, target.StopInterrupt) == target.Step
			if r.quit {
				return st, ErrQuit
			}
			continue
		}
		if st.Kind() != ptrace.SignalStop || st.Signal() != int(unix.SIGTRAP) {
			return st, nil
		}
		var regs ptrace.Regs
		if err := ptrace.GetRegs(t.tid, &regs); err != nil {
			return st, err
		}
		if addr, ok := r.watchHit(t); ok {
			t.stepping = r.stopWith(t, target.Stop{Reason: target.StopWatch, Watch: addr}) == target.Step
			if r.quit {
				return st, ErrQuit
			}
			continue
		}
		if _, ok := r.breakpoints[regs.Rip-1]; ok && !step {
			regs.Rip--
			if err := ptrace.SetRegs(t.tid, &regs); err != nil {
				return st, err
			}
			t.stepping = r.stopFor(t, target.StopBreakpoint) == target.Step
			if r.quit {
				return st, ErrQuit
			}
			continue
		}
		if step {
			t.stepping = r.stopFor(t, target.StopStep) == target.Step
			if r.quit {
				return st, ErrQuit
			}
			continue
		}
		return st, nil // the program's own SIGTRAP
	}
}

// resume runs t until its next stop, or one instruction. A breakpoint at
// the current instruction is stepped over with its original byte back.
func (r *replayer) resume(t *rtask, step bool) (ptrace.Stop, error) {
	if err := r.armWatchpoints(t); err != nil {
		return ptrace.Stop{}, err
	}
	for {
		var regs ptrace.Regs
		if err := ptrace.GetRegs(t.tid, &regs); err != nil {
			return ptrace.Stop{}, err
		}
		orig, atBreak := r.breakpoints[regs.Rip]
		sig := t.resumeSig
		t.resumeSig = 0
		if atBreak || step {
			if atBreak {
				if err := pokeBreakpoint(t.tid, regs.Rip, orig); err != nil {
					return ptrace.Stop{}, err
				}
			}
			err := r.resumeAs(ptrace.SysemuStep, t.tid, sig)
			var st ptrace.Stop
			if err == nil {
				st, err = r.wait(t.tid)
			}
			if atBreak && err == nil {
				err = pokeBreakpoint(t.tid, regs.Rip, arch.Int3)
			}
			if err != nil || step || st.Kind() != ptrace.SignalStop || st.Signal() != int(unix.SIGTRAP) {
				return st, err
			}
			continue // stepped off the breakpoint: now run
		}
		if err := r.resumeAs(ptrace.Sysemu, t.tid, sig); err != nil {
			return ptrace.Stop{}, err
		}
		st, err := r.waitRunning(t)
		if err != nil || st.Kind() != ptrace.SignalStop || st.Signal() == int(unix.SIGTRAP) || isSyncFault(t.tid, st.Signal()) {
			return st, err
		}
		// A signal replay's own children raised: discarded (see advance).
	}
}
