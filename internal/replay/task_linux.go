package replay

import (
	"encoding/binary"
	"fmt"

	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/seccomp"
	"github.com/rewind-dbg/rewind/internal/syscalls"
	"github.com/rewind-dbg/rewind/internal/target"
	"github.com/rewind-dbg/rewind/internal/trace"
	"github.com/rewind-dbg/rewind/internal/tracee"
	"golang.org/x/sys/unix"
)

func (r *replayer) newTask(t *rtask, ev *trace.Event) error {
	if !t.inKernel {
		return r.diverge("new task while its parent is not in clone")
	}
	st, err := r.wait(t.tid)
	if err != nil {
		return err
	}
	if st.Kind() != ptrace.EventStop {
		return r.diverge(fmt.Sprintf("expected a clone event, got %v", st))
	}
	msg, err := ptrace.EventMsg(t.tid)
	if err != nil {
		return err
	}
	child := &rtask{rec: int32(ev.Ret), tid: int(msg), site: t.site, pid: t.pid, launched: -1}
	if ev.Flags&trace.FlagNewProcess != 0 {
		child.pid = child.rec
		// Its code has the parent's traps: in the same pages (vfork,
		// CLONE_VM) or a copy.
		a, _ := syscalls.DecodeClone(syscalls.Nr(t.entry.Orig_rax), arch.SyscallArgs(&t.entry), tracee.Memory(t.tid))
		sharesMemory := syscalls.Nr(t.entry.Orig_rax) == unix.SYS_VFORK || a.Flags&syscalls.CloneVM != 0
		if sharesMemory {
			r.traps[child.pid] = r.traps[t.pid]
		} else {
			r.traps[child.pid] = r.traps[t.pid].Clone()
		}
		r.exeOf[child.pid], r.auxvOf[child.pid] = r.exeOf[t.pid], r.auxvOf[t.pid]
		// A child forked by the debugged process has copies of the
		// debugger's breakpoints, which it must not hit: they are taken
		// out of its copy. A vfork or CLONE_VM child shares the parent's
		// pages, where they must stay; other processes have none.
		if t.pid == r.debugPid && !sharesMemory {
			for a, orig := range r.breakpoints {
				if err := pokeBreakpoint(child.tid, a, orig); err != nil {
					return fmt.Errorf("take breakpoints out of forked task %d: %w", child.rec, err)
				}
			}
		}
		child.sharesDebugMem = sharesMemory && (t.pid == r.debugPid || t.sharesDebugMem)
	}
	if st, err = r.wait(child.tid); err != nil {
		return err
	}
	if st.Kind() != ptrace.EventStop || st.Event() != unix.PTRACE_EVENT_STOP {
		return r.diverge(fmt.Sprintf("new task %d: expected its first stop, got %v", child.tid, st))
	}
	r.tasks[child.rec] = child
	if err := r.storeCloneTid(t, child); err != nil {
		return err
	}
	if f := t.restoreArgs; f != nil {
		if err := f(child.tid); err != nil {
			return err
		}
	}
	if child.pid == child.rec {
		r.followFork(child)
	}
	if r.quit {
		return ErrQuit
	}
	return r.resumeAs(ptrace.Syscall, t.tid, 0)
}

// storeCloneTid makes the ids the kernel stored when replay's clone ran for
// real the recorded ones: the kernel wrote this replay's tid of the child
// (in the parent for CLONE_PARENT_SETTID, in the child for
// CLONE_CHILD_SETTID) and either task may read it before the parent's
// syscall-exit event would restore the recorded value. A new thread reading
// its own id from there (glibc's pthread struct) must see the recorded one.
func (r *replayer) storeCloneTid(parent, child *rtask) error {
	a, err := syscalls.DecodeClone(syscalls.Nr(parent.entry.Orig_rax), arch.SyscallArgs(&parent.entry), tracee.Memory(parent.tid))
	if err != nil {
		return r.diverge(err.Error())
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(child.rec))
	if a.Flags&syscalls.CloneParentSetTid != 0 && a.ParentTid != 0 {
		if err := ptrace.WriteMem(parent.tid, a.ParentTid, b[:]); err != nil {
			return fmt.Errorf("event %d: store the new task's id at %#x: %w", r.rd.Count(), a.ParentTid, err)
		}
	}
	if a.Flags&syscalls.CloneChildSetTid != 0 && a.ChildTid != 0 {
		if err := ptrace.WriteMem(child.tid, a.ChildTid, b[:]); err != nil {
			return fmt.Errorf("event %d: store the new task's id at %#x: %w", r.rd.Count(), a.ChildTid, err)
		}
	}
	return nil
}

func (r *replayer) taskExit(t *rtask, ev *trace.Event) error {
	want := unix.WaitStatus(ev.Ret)
	if !t.inKernel {
		sig := t.resumeSig
		t.resumeSig = 0
		seccompKill := sig == 0 && want.Signaled() && want.Signal() == unix.SIGSYS
		if seccompKill {
			// A seccomp filter's KILL action (the program's own, which
			// the recorder had the kernel carry out): the kernel kills this
			// thread alone, or its process, the same way again.
			if err := r.robustDeath(t); err != nil {
				return err
			}
			if err := seccomp.Kill(t.tid, seccomp.ActKillThread); err != nil && !ptrace.IsGone(err) {
				return err
			}
		} else if want.Signaled() {
			// The process dies of a signal: its threads' robust futexes
			// are released now, while its memory is intact.
			if err := r.processDeath(t); err != nil {
				return err
			}
		}
		if sig == 0 && want.Signaled() && !seccompKill {
			// Killed by a signal from outside when recorded, possibly
			// between two syscalls (or in another thread that took the
			// process's signal): nothing the program did after its last
			// event is visible, so end it here. SIGKILL, because the
			// recorded signal may be blocked in this thread.
			unix.RawSyscall(unix.SYS_TKILL, uintptr(t.tid), uintptr(unix.SIGKILL), 0)
			r.killedAsync = true
		}
		if !seccompKill {
			if err := r.resumeAs(ptrace.Sysemu, t.tid, sig); err != nil && !ptrace.IsGone(err) {
				return err
			}
		}
	} else if want.Signaled() && syscalls.Lookup(t.launched).Flags&syscalls.EndsTask == 0 {
		// Killed from outside while in a syscall replay runs for real (the
		// recorder kills processes that outlive the first): end it there.
		if err := r.processDeath(t); err != nil {
			return err
		}
		unix.RawSyscall(unix.SYS_TKILL, uintptr(t.tid), uintptr(unix.SIGKILL), 0)
		r.killedAsync = true
	}
	for {
		st, err := r.wait(t.tid)
		if err != nil {
			return err
		}
		switch st.Kind() {
		case ptrace.Exited, ptrace.Killed:
			delete(r.tasks, t.rec)
			if r.killedAsync && want.Signaled() && st.Status.Signaled() && st.Status.Signal() == unix.SIGKILL {
				st.Status = want // ended by replay at the recorded point
			}
			// Replay never dumps core (RLIMIT_CORE is 0): ignore that bit.
			const coreDumped = 0x80
			if st.Status&^coreDumped != want&^coreDumped {
				return r.diverge(fmt.Sprintf("task ended with status %#x in replay, %#x when recorded", uint32(st.Status), uint32(want)))
			}
			if t.rec == r.leader {
				r.res.Status = want // the program's end is its first process's
			}
			if t.rec == r.debugPid {
				r.debuggerExit(want)
				if r.quit {
					return ErrQuit
				}
			}
			return nil
		case ptrace.SignalStop:
			// A task being killed may still stop for a signal on its way out.
			if err := r.resumeAs(ptrace.Sysemu, t.tid, st.Signal()); err != nil && !ptrace.IsGone(err) {
				return err
			}
		case ptrace.SyscallStop:
			// Skipped (SYSEMU): a dying task must not run a real syscall.
			if err := r.resumeAs(ptrace.Sysemu, t.tid, 0); err != nil && !ptrace.IsGone(err) {
				return err
			}
		default:
			if err := r.resumeAs(ptrace.Cont, t.tid, 0); err != nil && !ptrace.IsGone(err) {
				return err
			}
		}
	}
}

// debuggerExit tells the debugger the debugged process ended, once.
func (r *replayer) debuggerExit(status unix.WaitStatus) {
	if r.opt.Debugger == nil || r.detached || r.exited {
		return
	}
	r.exited = true
	if r.opt.Debugger.Exited(&Session{r: r, cur: &rtask{rec: r.debugPid, pid: r.debugPid}}, status) == target.Quit {
		r.quit = true
	}
}
