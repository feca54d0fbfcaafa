package record

import (
	"fmt"
	"path/filepath"

	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/seccomp"
	"github.com/rewind-dbg/rewind/internal/syscalls"
	"github.com/rewind-dbg/rewind/internal/trace"
	"github.com/rewind-dbg/rewind/internal/tracee"
	"golang.org/x/sys/unix"
)

type taskState int

const (
	stNew       taskState = iota // created, initial stop not seen yet
	stReady                      // stopped, waiting for the run token
	stRunning                    // holds the token, executing user code
	stInSyscall                  // released into a syscall
	stExiting                    // PTRACE_EVENT_EXIT seen
	stStopped                    // in a job-control stop (SIGSTOP...), until SIGCONT
	stTraced                     // held in a stop for its tracer, a recorded task (ptrace_emu.go)
)

type task struct {
	tid, pid int
	state    taskState
	entry    ptrace.Regs // registers at the current syscall's entry
	// skip: the recorder does not let the kernel run the current syscall;
	// it ends with this result instead (refused, or emulated).
	skip *skipped
	// The program's own seccomp state (ownseccomp.go), and whether it
	// asked rdtsc to raise SIGSEGV (PR_SET_TSC): per task, inherited.
	filters    []seccomp.Program
	strict     bool
	tscSigsegv bool
	exit       *trace.Event
	// outputsDue: exit's memory outputs are read when the task is granted.
	outputsDue bool
	// resumeRegs are the registers when the task was last given the token:
	// a signal stop with identical registers came before any user instruction.
	resumeRegs ptrace.Regs
	resumeSig  int
	pending    []ptrace.Siginfo // async signals deferred to the next syscall exit
	injecting  *ptrace.Siginfo  // signal being delivered at this exit
	// A new task is started (its first stop seen) and announced (its
	// parent's clone event recorded) in either order; it runs when both.
	started, announced bool
	// dying: another thread called exit_group; the task only exits now.
	dying bool
	// restoreArgs puts back the clone arguments rewind changed (see
	// tracee.StripUntraced), in this task: the caller or the new task.
	restoreArgs func(tid int) error
	// ppid is the process's parent (0: rewind).
	ppid int
	// Emulated ptrace (ptrace_emu.go): emu is set while another recorded
	// task traces this one; waiting is the tracer's wait in progress;
	// heldSiginfo the signal a held tracee is resumed with; exitReport the
	// exit status its tracer is told; atSignalStop: the task is physically
	// at a signal-delivery stop its tracer held it in.
	emu          *emuTrace
	waiting      *waitReq
	heldSiginfo  *ptrace.Siginfo
	exitReport   int
	atSignalStop bool
	// detaching: the areas the current shmdt removes (seen at its entry).
	detaching []trace.Mapping
}

func (t *task) restoreCallArgs() error {
	f := t.restoreArgs
	t.restoreArgs = nil
	if f == nil {
		return nil
	}
	return f(t.tid)
}

func (r *recorder) event(t *task, st ptrace.Stop) error {
	switch st.Event() {
	case unix.PTRACE_EVENT_CLONE, unix.PTRACE_EVENT_FORK, unix.PTRACE_EVENT_VFORK:
		msg, err := ptrace.EventMsg(t.tid)
		if err != nil {
			return r.gone(t, err)
		}
		child := int(msg)
		c := r.tasks[child]
		if c == nil {
			c = &task{tid: child, state: stNew}
			r.tasks[child] = c
		}
		c.pid = child
		c.ppid = t.pid
		c.inherit(t)
		c.restoreArgs = t.restoreArgs
		if st.Event() == unix.PTRACE_EVENT_CLONE && tgid(child) == t.pid {
			c.pid = t.pid // a thread (clone3 hides its flags behind a pointer)
			c.ppid = t.ppid
		}
		if c.pid == child {
			// The new process's code has the parent's traps: in the same
			// pages (vfork, CLONE_VM) or a copy of them.
			a, _ := syscalls.DecodeClone(syscalls.Nr(t.entry.Orig_rax), arch.SyscallArgs(&t.entry), tracee.Memory(t.tid))
			if st.Event() == unix.PTRACE_EVENT_VFORK || a.Flags&syscalls.CloneVM != 0 {
				r.traps[child] = r.trapsOf(t.pid)
			} else {
				r.traps[child] = r.trapsOf(t.pid).Clone()
			}
		}
		nt := &trace.Event{Kind: trace.KindNewTask, Tid: int32(t.tid), Ret: int64(child)}
		if c.pid == child {
			nt.Flags |= trace.FlagNewProcess
		}
		if err := r.append(nt); err != nil {
			return err
		}
		c.announced = true
		if c.started {
			r.makeReady(c)
		}
		return r.gone(t, ptrace.Syscall(t.tid, 0))
	case unix.PTRACE_EVENT_EXEC:
		former, err := ptrace.EventMsg(t.tid)
		if err != nil {
			return r.gone(t, err)
		}
		if int(former) != t.tid {
			// A thread other than the main one exec'd: the kernel killed
			// the others and gave it the main thread's tid. The old main
			// thread is gone without an exit report; the exec event says
			// which thread became the process (Ret).
			ft := r.tasks[int(former)]
			if ft == nil {
				return fmt.Errorf("task %d: exec by unknown task %d", t.tid, former)
			}
			r.release(t)
			r.dropReady(t)
			delete(r.tasks, ft.tid)
			ft.tid = t.tid
			r.tasks[t.tid] = ft
			t = ft
		}
		delete(r.execing, t.pid)
		if err := r.recordExec(t, int(former)); err != nil {
			return err
		}
		return r.gone(t, ptrace.Syscall(t.tid, 0))
	case unix.PTRACE_EVENT_EXIT:
		if status, err := ptrace.EventMsg(t.tid); err == nil && groupFatal(unix.WaitStatus(status)) {
			r.doom(t)
		}
		if r.tracedExit(t) {
			return nil
		}
		t.state = stExiting
		if t.tid == t.pid {
			// A group leader is reaped only after all its threads: keeping
			// the token until then would deadlock.
			r.release(t)
		}
		r.dropReady(t)
		return r.gone(t, ptrace.Cont(t.tid, 0))
	case unix.PTRACE_EVENT_STOP:
		return r.jobStop(t, st.Signal())
	}
	return fmt.Errorf("task %d: unexpected ptrace event %d", t.tid, st.Event())
}

// killOutliving ends the recording with the first process, as rr does
// without --wait: the processes still running (daemons, orphans) are
// killed, and their ends recorded.
func (r *recorder) killOutliving() {
	pids := map[int]bool{}
	for _, o := range r.tasks {
		pids[o.pid] = true
	}
	if len(pids) == 0 {
		return
	}
	fmt.Fprintf(r.opt.Stderr, "rewind: warning: %d process(es) outlived %s and were killed (record with --wait to let them finish)\n",
		len(pids), filepath.Base(r.opt.Argv[0]))
	for pid := range pids {
		unix.Kill(pid, unix.SIGKILL)
	}
}

// doom marks the other threads of t's process as dying: the kernel is
// killing them (exit_group, or a fatal signal), and those waiting to return
// from a syscall never get back to user space. Their pending syscall exits
// are dropped, as replay, which ends the process at its first thread's
// death, could not replay them.
func (r *recorder) doom(t *task) {
	for _, o := range r.tasks {
		if o.pid == t.pid && o != t && !o.dying {
			o.dying = true
			o.exit = nil
			o.outputsDue = false
			r.dropReady(o)
		}
	}
}

// groupFatal says whether a thread's exit status means its whole process
// dies with it: a signal that kills. SIGSYS is left out, for a seccomp
// filter may kill a single thread with it.
func groupFatal(status unix.WaitStatus) bool {
	return status.Signaled() && status.Signal() != unix.SIGSYS
}

func (r *recorder) taskExited(t *task, st ptrace.Stop) error {
	if groupFatal(st.Status) {
		r.doom(t)
	}
	r.release(t)
	r.dropReady(t)
	r.traceeExited(t, int(st.Status))
	delete(r.tasks, t.tid)
	if t.tid == r.leader {
		r.result.Status = st.Status
		if !r.opt.Wait {
			r.killOutliving()
		}
	}
	return r.append(&trace.Event{Kind: trace.KindTaskExit, Tid: int32(t.tid), Ret: int64(st.Status)})
}

// jobStop handles PTRACE_EVENT_STOP: a new task's first stop, a task
// entering a job-control stop (sig is the stopping signal), or a stopped
// task continued by SIGCONT (sig is SIGTRAP).
func (r *recorder) jobStop(t *task, sig int) error {
	switch {
	case t.state == stNew:
		// The first stop of a new task: it may run only once its
		// parent's clone event has introduced it in the trace.
		t.started = true
		if t.announced {
			r.makeReady(t)
		}
		return nil
	case sig != int(unix.SIGTRAP):
		// The group stop the program asked for: the task stays stopped,
		// as it would untraced, and gives up the token.
		r.release(t)
		r.dropReady(t)
		t.state = stStopped
		return r.gone(t, ptrace.Listen(t.tid))
	case t.state == stStopped:
		// SIGCONT ended the stop; its delivery comes when the task runs.
		r.makeReady(t)
		return nil
	case t.state == stInSyscall:
		// A SIGCONT to its process made it trap on the way out of a
		// syscall: the exit stop is still to come.
		return r.gone(t, ptrace.Syscall(t.tid, 0))
	}
	return r.gone(t, ptrace.Cont(t.tid, 0))
}

// tgid reads a task's thread-group id from /proc.
func tgid(tid int) int {
	st, _ := tracee.ReadStatus(tid)
	return st.Tgid
}
