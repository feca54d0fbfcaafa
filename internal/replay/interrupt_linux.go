package replay

import (
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"golang.org/x/sys/unix"
)

// interrupts carries a debugger's Ctrl-C (Session.Interrupt, from the
// server's goroutine) to the tracer thread, which alone may stop a task.
//
// While a task runs for the debugger (continue), the tracer waits for it
// in a helper goroutine and selects on that and on the request; a request
// becomes PTRACE_INTERRUPT. That stops the task where it is, unless it
// stopped for something else first: any ptrace stop satisfies the
// interrupt, but one issued just after the task stopped stays pending and
// traps on its next resume, wherever that is. wait passes over such a
// late stop by resuming the task as it was last resumed (lastOp), and the
// debugger gets its stop at the next event instead (due).
type interrupts struct {
	req     chan struct{}
	due     bool                             // a request not yet honoured
	sent    map[int]bool                     // tasks with a PTRACE_INTERRUPT outstanding
	lastOp  map[int]func(tid, sig int) error // each task's last resume
	running int                              // the task waitRunning waits for
}

func newInterrupts() interrupts {
	return interrupts{req: make(chan struct{}, 1), sent: map[int]bool{}, lastOp: map[int]func(int, int) error{}}
}

// Interrupt asks the replay to stop the running task for the debugger, as
// gdb's Ctrl-C does; the debugger then gets a target.StopInterrupt. Unlike the
// other Session methods it may be called from any goroutine, while the
// replay runs.
func (s *Session) Interrupt() {
	select {
	case s.r.intr.req <- struct{}{}:
	default: // one is already on its way
	}
}

// pending reports a request made since the last call, or one not yet
// honoured.
func (in *interrupts) pending() bool {
	select {
	case <-in.req:
		in.due = true
	default:
	}
	return in.due
}

// honoured says the debugger got a stop: a request made meanwhile is
// answered by it, as gdb expects of all-stop mode.
func (in *interrupts) honoured() {
	in.pending()
	in.due = false
}

// interruptTrap says whether st is a PTRACE_INTERRUPT's stop
// (PTRACE_EVENT_STOP with SIGTRAP).
func interruptTrap(st ptrace.Stop) bool {
	return st.Kind() == ptrace.EventStop && st.Event() == unix.PTRACE_EVENT_STOP && st.Signal() == int(unix.SIGTRAP)
}

// isInterruptStop says whether st is the stop a PTRACE_INTERRUPT of ours
// caused, and clears it.
func (in *interrupts) isInterruptStop(st ptrace.Stop) bool {
	if !in.sent[st.Tid] || !interruptTrap(st) {
		return false
	}
	delete(in.sent, st.Tid)
	return true
}

// resumeAs resumes tid with op (ptrace.Sysemu, Syscall, ...) and
// remembers it: see interrupts.
func (r *replayer) resumeAs(op func(tid, sig int) error, tid, sig int) error {
	r.intr.lastOp[tid] = op
	return op(tid, sig)
}

// waitOnce waits for tid's next stop. Only a task running for the debugger
// can be interrupted, so only then does the wait go through a goroutine.
func (r *replayer) waitOnce(tid int) (ptrace.Stop, error) {
	if r.intr.running != tid {
		return ptrace.Wait(tid)
	}
	type result struct {
		st  ptrace.Stop
		err error
	}
	got := make(chan result, 1)
	go func() {
		// Another thread of rewind's may wait for a tracee by its tid.
		st, err := ptrace.WaitFromAnyThread(tid)
		got <- result{st, err}
	}()
	for {
		select {
		case res := <-got:
			return res.st, res.err
		case <-r.intr.req:
			r.intr.due = true
			if !r.intr.sent[tid] {
				if err := ptrace.Interrupt(tid); err == nil {
					r.intr.sent[tid] = true
				}
			}
		}
	}
}

// waitRunning is wait for a task the debugger let run: a Ctrl-C stops it
// with an interrupt stop, which the caller hands to the debugger.
func (r *replayer) waitRunning(t *rtask) (ptrace.Stop, error) {
	if r.opt.Debugger == nil {
		return r.wait(t.tid)
	}
	r.intr.running = t.tid
	defer func() { r.intr.running = 0 }()
	return r.wait(t.tid)
}
