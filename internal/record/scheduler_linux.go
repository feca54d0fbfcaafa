package record

import (
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"golang.org/x/sys/unix"
)

// next takes the task to run next off the ready queue, if the token is
// free: the first one whose process is not in execve. A successful execve
// kills the other threads of its process, so they must not run (and leave
// events replay could not follow) between its entry and its end.
func (r *recorder) next() *task {
	if r.cur != nil {
		return nil
	}
	for i, t := range r.ready {
		if !r.execing[t.pid] {
			r.ready = append(r.ready[:i], r.ready[i+1:]...)
			return t
		}
	}
	return nil
}

// grant gives t the run token: its pending syscall exit becomes an event
// (this is the moment replay applies the results) and it resumes user code.
func (r *recorder) grant(t *task) error {
	r.cur = t
	t.state = stRunning
	if err := t.restoreCallArgs(); err != nil { // a new task, see StripUntraced
		return r.gone(t, err)
	}
	if t.exit != nil {
		if t.outputsDue {
			// Read what the call wrote now, not at its exit stop: other
			// tasks ran since, and the kernel may have changed the same
			// memory for them (a thread's exit clears the tid word its
			// creator's clone stored). Replay writes these bytes here.
			t.outputsDue = false
			if err := r.outputs(t, t.exit); err != nil {
				if unix.Tgkill(t.pid, t.tid, 0) == unix.ESRCH {
					return nil // killed meanwhile: it never runs again
				}
				return err // ErrExited: see vanished
			}
		}
		if err := r.append(t.exit); err != nil {
			return err
		}
		t.exit = nil
	}
	if t.atSignalStop {
		t.atSignalStop = false
		sig := t.resumeSig
		t.resumeSig = 0
		return r.resumeHeldSignal(t, sig)
	}
	if err := ptrace.GetRegs(t.tid, &t.resumeRegs); err != nil {
		return r.gone(t, err)
	}
	sig := t.resumeSig
	t.resumeSig = 0
	if sig == 0 && len(t.pending) > 0 {
		// Deliver a deferred signal now, at a point replay can find: the
		// kernel queues it on resume and stops again before user code runs.
		si := t.pending[0]
		t.pending = t.pending[1:]
		t.injecting = &si
		sig = si.Signo()
	}
	return r.gone(t, ptrace.Cont(t.tid, sig))
}

func (r *recorder) release(t *task) {
	if r.cur == t {
		r.cur = nil
	}
}

func (r *recorder) makeReady(t *task) {
	if t.dying {
		t.exit = nil
		return
	}
	if t.emu != nil && t.emu.pending != 0 {
		// Its tracer attached or interrupted it while it was in a syscall.
		status := t.emu.pending
		t.emu.pending = 0
		r.hold(t, holdReady, status)
		return
	}
	t.state = stReady
	r.ready = append(r.ready, t)
}

func (r *recorder) dropReady(t *task) {
	for i, x := range r.ready {
		if x == t {
			r.ready = append(r.ready[:i], r.ready[i+1:]...)
			return
		}
	}
}
