package replay

import (
	"fmt"
	"strconv"

	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/seccomp"
	"github.com/rewind-dbg/rewind/internal/syscalls"
	"github.com/rewind-dbg/rewind/internal/trace"
	"github.com/rewind-dbg/rewind/internal/tracee"
	"golang.org/x/sys/unix"
)

func (r *replayer) syscallEntry(t *rtask, ev *trace.Event) error {
	name := syscalls.Name(int(ev.Nr))
	var st ptrace.Stop
	var err error
	if t.atEntry {
		// Already stopped here: its tracer (a recorded task) held it at
		// this entry (an earlier event) and may have changed its registers.
		t.atEntry = false
		st = ptrace.Stop{Tid: t.tid, Status: unix.WaitStatus(uint32(unix.SIGTRAP|0x80)<<8 | 0x7f)}
	} else if st, err = r.advance(t); err != nil {
		return err
	}
	var regs ptrace.Regs
	if err := ptrace.GetRegs(t.tid, &regs); err != nil {
		return err
	}
	// A call into the vsyscall page stops at replay's filter instead.
	vsyscall := st.Kind() == ptrace.SeccompStop && seccomp.InVsyscallPage(regs.Rip)
	if st.Kind() != ptrace.SyscallStop && !vsyscall {
		return r.diverge(fmt.Sprintf("expected syscall %s, got %v", name, st))
	}
	if err := r.checkRegs(&regs, &ev.Regs, "at entry to "+name); err != nil {
		return err
	}
	if ev.Flags&trace.FlagHeld != 0 {
		t.atEntry = true // held for its tracer; the call itself comes later
		return nil
	}
	t.entry = regs
	t.execDone = false
	t.vsyscall = vsyscall
	r.syscallStop(t, ev.Nr, false)
	if r.quit {
		return ErrQuit
	}
	if ev.Flags&trace.FlagRefused != 0 {
		return nil
	}
	if err := r.futexEntry(t, int(ev.Nr)); err != nil {
		return err
	}
	if ev.Nr == unix.SYS_EXECVE || ev.Nr == unix.SYS_EXECVEAT {
		// Run a successful execve now, not at its exec event: a vfork
		// parent may be waiting for it in the kernel, and its exit event
		// can come first.
		tid := ev.Tid
		execEv, err := r.rd.Find(
			func(e *trace.Event) bool { return e.Tid == tid && e.Kind == trace.KindExec },
			func(e *trace.Event) bool { return e.Tid == tid && e.Kind == trace.KindSyscallExit })
		if err != nil {
			return r.diverge(fmt.Sprintf("cannot tell whether execve succeeded: %v", err))
		}
		if execEv == nil {
			return nil // it failed when recorded: emulate the failure
		}
		return r.exec(t, execEv)
	}
	ent := syscalls.Lookup(int(ev.Nr))
	switch {
	case ent.Rule == syscalls.Execute || ent.Rule == syscalls.ExecuteKeepResult:
	case ent.Rule == syscalls.Special && ent.Flags&syscalls.RunAtEntry != 0:
	default:
		return nil
	}
	// Run it for real: back up over the syscall instruction and re-enter.
	arch.BackUpOverSyscall(&regs, regs.Orig_rax)
	if err := ptrace.SetRegs(t.tid, &regs); err != nil {
		return err
	}
	// Never a task replay does not trace (a crafted trace could ask).
	if t.restoreArgs, err = tracee.StripUntraced(t.tid, int(ev.Nr), &regs); err != nil {
		return err
	}
	t.launched = int(ev.Nr)
	if err := tracee.Enter(t.tid); err != nil {
		return r.diverge(fmt.Sprintf("re-entering %s: %v", name, err))
	}
	t.inKernel = true
	if err := r.resumeAs(ptrace.Syscall, t.tid, 0); err != nil {
		return err
	}
	if ent.Rule == syscalls.Execute || ent.Rule == syscalls.ExecuteKeepResult {
		// Complete it now, not at its exit event: its change to the
		// address space must be in place for the other tasks' events that
		// come before that, as it was when recorded (another thread's
		// mmap can get the range this munmap frees before this call's
		// exit event). None of these calls blocks.
		ret, err := r.collect(t)
		if err != nil {
			return err
		}
		t.inKernel, t.done, t.ret = true, true, ret
		return nil
	}
	if ent.Flags&syscalls.EndsTask != 0 {
		// Let the task through its exit stop now, as the recorder did: a
		// vfork parent is released only when the child's memory is.
		st, err := r.wait(t.tid)
		if err != nil {
			return err
		}
		if st.Kind() != ptrace.EventStop || st.Event() != unix.PTRACE_EVENT_EXIT {
			return r.diverge(fmt.Sprintf("%s: unexpected %v", name, st))
		}
		return r.resumeAs(ptrace.Cont, t.tid, 0)
	}
	return nil
}

// result returns the result of the syscall t runs for real: collected at
// its entry event, or waited for now.
func (r *replayer) result(t *rtask) (int64, error) {
	if t.done {
		t.inKernel, t.done = false, false
		return t.ret, nil
	}
	return r.collect(t)
}

// collect waits for the exit stop of a syscall that runs for real, handling
// the task's other stops on the way.
func (r *replayer) collect(t *rtask) (int64, error) {
	for {
		st, err := r.wait(t.tid)
		if err != nil {
			return 0, err
		}
		switch st.Kind() {
		case ptrace.SyscallStop:
			t.inKernel = false
			t.launched = -1
			var regs ptrace.Regs
			if err := ptrace.GetRegs(t.tid, &regs); err != nil {
				return 0, err
			}
			return int64(regs.Rax), nil
		case ptrace.EventStop:
			if err := r.resumeAs(ptrace.Syscall, t.tid, 0); err != nil {
				return 0, err
			}
		default:
			return 0, r.diverge(fmt.Sprintf("waiting for %s to return: unexpected %v", syscalls.Name(syscalls.Nr(t.entry.Orig_rax)), st))
		}
	}
}

func (r *replayer) syscallExit(t *rtask, ev *trace.Event) error {
	name := syscalls.Name(int(ev.Nr))
	if t.inKernel {
		got, err := r.result(t)
		if err != nil {
			return err
		}
		if f := t.restoreArgs; f != nil {
			t.restoreArgs = nil
			if err := f(t.tid); err != nil {
				return err
			}
		}
		ent := syscalls.Lookup(int(ev.Nr))
		if got != ev.Ret && ent.Rule != syscalls.ExecuteKeepResult && ent.Flags&syscalls.NewTask == 0 {
			return r.diverge(fmt.Sprintf("%s returned %d in replay, %d when recorded", name, got, ev.Ret))
		}
	}
	if ev.Nr == unix.SYS_MMAP && ev.Ret >= 0 && !t.execDone {
		if err := r.mmap(t, ev); err != nil {
			return err
		}
	}
	if (ev.Nr == unix.SYS_SHMAT && ev.Ret >= 0) || (ev.Nr == unix.SYS_SHMDT && ev.Ret == 0) {
		if err := r.shm(t, ev); err != nil {
			return err
		}
	}
	if err := r.setrlimit(t, ev); err != nil {
		return err
	}
	if err := r.writeMem(t, ev, name); err != nil {
		return err
	}
	var regs ptrace.Regs
	if err := ptrace.GetRegs(t.tid, &regs); err != nil {
		return err
	}
	regs.Rax = uint64(ev.Ret)
	if t.vsyscall {
		// Skip the kernel's emulation: it returns to the caller with rax.
		regs.Orig_rax = ^uint64(0)
		t.vsyscall = false
	}
	r.restart(t, ev, &regs)
	if err := ptrace.SetRegs(t.tid, &regs); err != nil {
		return err
	}
	t.lastNr, t.lastRet = ev.Nr, ev.Ret
	if ev.Echo != 0 {
		if err := r.echo(t, ev); err != nil {
			return err
		}
	}
	r.syscallStop(t, ev.Nr, true)
	if r.quit {
		return ErrQuit
	}
	return nil
}

// restart does what the kernel did when recorded: a syscall interrupted
// by a signal that another thread took (or that needed no handler) was
// restarted. When replay injects a signal here instead, the kernel does it.
func (r *replayer) restart(t *rtask, ev *trace.Event, regs *ptrace.Regs) {
	switch -ev.Ret {
	case syscalls.ErrRestartSys, syscalls.ErrRestartNoIntr, syscalls.ErrRestartNoHand, syscalls.ErrRestartBlock:
	default:
		return
	}
	tid := ev.Tid
	next, _ := r.rd.Find(func(e *trace.Event) bool { return e.Tid == tid }, func(*trace.Event) bool { return false })
	if next != nil && next.Kind == trace.KindSignal {
		return
	}
	nr := t.entry.Orig_rax
	if -ev.Ret == syscalls.ErrRestartBlock {
		nr = syscalls.SysRestartSyscall
	}
	arch.BackUpOverSyscall(regs, nr)
}

// writeMem writes an event's memory outputs into t (or into the task its
// MemTid names) and applies its changes to shared files; what names the
// writer in errors.
func (r *replayer) writeMem(t *rtask, ev *trace.Event, what string) error {
	if err := r.objects.apply(r.rd, ev.Files); err != nil {
		return err
	}
	into := t.tid
	if ev.MemTid != 0 {
		o := r.tasks[ev.MemTid]
		if o == nil {
			return r.diverge(fmt.Sprintf("%s wrote into task %d, which this replay does not know", what, ev.MemTid))
		}
		into = o.tid
	}
	for _, w := range ev.Mem {
		if err := ptrace.WriteMem(into, w.Addr, w.Data); err != nil {
			return fmt.Errorf("event %d: write %s output: %w", r.rd.Count(), what, err)
		}
	}
	return nil
}

// setrlimit applies a recorded change of the process's own resource limits
// that the kernel acts on in replay too: the stack limit decides where the
// stack stops growing, and the address-space, data and locked-memory limits
// decide whether replay's real mmap, brk and mlock succeed. The call's new
// limit is still in the task's memory: replay makes it again, remotely.
func (r *replayer) setrlimit(t *rtask, ev *trace.Event) error {
	if ev.Ret != 0 {
		return nil
	}
	a := arch.SyscallArgs(&t.entry)
	var res, ptr uint64
	switch ev.Nr {
	case unix.SYS_SETRLIMIT:
		res, ptr = a[0], a[1]
	case unix.SYS_PRLIMIT64:
		if pid := int32(a[0]); pid != 0 && pid != t.pid {
			return nil
		}
		res, ptr = a[1], a[2]
	default:
		return nil
	}
	switch res {
	case unix.RLIMIT_STACK, unix.RLIMIT_AS, unix.RLIMIT_DATA, unix.RLIMIT_MEMLOCK:
	default:
		return nil
	}
	if ptr == 0 {
		return nil
	}
	rem, err := tracee.NewRemote(t.tid, t.site)
	if err != nil {
		return err
	}
	if _, err := rem.Check("prlimit64", unix.SYS_PRLIMIT64, 0, res, ptr, 0); err != nil {
		return r.diverge(fmt.Sprintf("cannot set resource limit %d as recorded: %v", res, err))
	}
	return rem.Close()
}

// shm makes what shmat attached, or removes what shmdt detached: the
// segment is a shared object, mapped from its working copy.
func (r *replayer) shm(t *rtask, ev *trace.Event) error {
	rem, err := tracee.NewRemote(t.tid, t.site)
	if err != nil {
		return err
	}
	for _, m := range ev.Maps {
		if ev.Nr == unix.SYS_SHMAT {
			err = r.mapRegion(rem, m)
		} else {
			_, err = rem.Check("munmap", unix.SYS_MUNMAP, m.Start, m.End-m.Start)
		}
		if err != nil {
			return r.diverge(fmt.Sprintf("%s of %s at %#x: %v", syscalls.Name(int(ev.Nr)), m.Name, m.Start, err))
		}
	}
	return rem.Close()
}

// rlimString writes a resource limit the way ulimit shows it.
func rlimString(l unix.Rlimit) string {
	f := func(v uint64) string {
		if v == unix.RLIM_INFINITY {
			return "unlimited"
		}
		return strconv.FormatUint(v, 10)
	}
	return f(l.Cur) + "/" + f(l.Max)
}
