package record

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// watchdog notices a task that runs user code for seconds without a syscall
// while others wait for the run token. rewind switches tasks only at
// syscalls, so such a program (a spin-wait on another thread) would hang
// silently; the watchdog names the task instead.
type watchdog struct {
	since   atomic.Int64 // unix nanos when the running task was resumed
	running atomic.Int64 // its tid, 0 if none
	waiting atomic.Int64 // tasks waiting for the token
}

const stallWarning = 3 * time.Second

// set records the scheduler state before the tracer blocks in wait4.
func (w *watchdog) set(cur *task, waiting int) {
	tid := int64(0)
	if cur != nil {
		tid = int64(cur.tid)
	}
	if w.running.Load() != tid {
		w.since.Store(time.Now().UnixNano())
	}
	w.running.Store(tid)
	w.waiting.Store(int64(waiting))
}

func (w *watchdog) start(out io.Writer) func() {
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		warned := int64(0)
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			tid, since := w.running.Load(), w.since.Load()
			if tid == 0 || w.waiting.Load() == 0 || tid == warned {
				continue
			}
			if d := time.Since(time.Unix(0, since)); d >= stallWarning {
				warned = tid
				fmt.Fprintf(out, "rewind: warning: task %d has run for %.0fs without a syscall while %d other task(s) wait; rewind switches tasks only at syscalls (no asynchronous preemption yet), so a program that spins waiting for another thread will not progress\n",
					tid, d.Seconds(), w.waiting.Load())
			}
		}
	}()
	return func() { close(done) }
}
