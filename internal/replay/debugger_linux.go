package replay

import (
	"errors"
	"fmt"

	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/target"
)

// ErrQuit ends a replay whose debugger quit; Replay returns no error for it.
var ErrQuit = errors.New("the debugger ended the replay")

// Session is the debugger's view of the stopped replay: the replay
// engine's target.Target.
type Session struct {
	r   *replayer
	cur *rtask
}

var _ target.Target = (*Session)(nil)

// CatchSyscalls makes syscalls stop for the debugger: all of them, the
// listed numbers, or (off) none.
func (s *Session) CatchSyscalls(on, all bool, nrs []int) {
	s.r.catchAll, s.r.catch = false, nil
	if !on {
		return
	}
	s.r.catchAll = all
	s.r.catch = map[int]bool{}
	for _, n := range nrs {
		s.r.catch[n] = true
	}
}

// Pid is the recorded pid of the debugged process.
func (s *Session) Pid() int { return int(s.r.debugPid) }

// Tid is the recorded tid of the task that stopped.
func (s *Session) Tid() int { return int(s.cur.rec) }

// Event is the number of the last event replayed ("when", as rr says).
func (s *Session) Event() int { return s.r.rd.Count() }

// Exe is the path of the debugged program's preserved executable.
func (s *Session) Exe() string { return s.r.exeOf[s.r.debugPid] }

// Tasks lists the recorded tids of the debugged process's live threads.
func (s *Session) Tasks() []int {
	var out []int
	for _, t := range s.r.tasks {
		if t.pid == s.r.debugPid {
			out = append(out, int(t.rec))
		}
	}
	return out
}

func (s *Session) task(tid int) (*rtask, error) {
	t := s.r.tasks[int32(tid)]
	if t == nil || t.pid != s.r.debugPid {
		return nil, fmt.Errorf("no thread %d", tid)
	}
	return t, nil
}

// Regs returns a thread's general registers.
func (s *Session) Regs(tid int) (arch.Regs, error) {
	var regs ptrace.Regs
	t, err := s.task(tid)
	if err == nil {
		err = ptrace.GetRegs(t.tid, &regs)
	}
	return regs, err
}

// XState returns a thread's XSAVE area (x87, SSE, AVX, ...), standard format.
func (s *Session) XState(tid int) ([]byte, error) {
	t, err := s.task(tid)
	if err != nil {
		return nil, err
	}
	if xs, err := ptrace.GetXState(t.tid); err == nil {
		return xs, nil
	}
	fx, err := ptrace.GetFPRegs(t.tid) // no XSAVE: the FXSAVE area alone
	return fx[:], err
}

// ReadMem reads the debugged process's memory as the program sees it:
// breakpoints show their original bytes.
func (s *Session) ReadMem(addr uint64, buf []byte) error {
	if err := ptrace.ReadMem(s.cur.tid, addr, buf); err != nil {
		return err
	}
	for a, orig := range s.r.breakpoints {
		if a >= addr && a < addr+uint64(len(buf)) {
			buf[a-addr] = orig
		}
	}
	s.r.traps[s.r.debugPid].Hide(addr, buf)
	return nil
}

// Auxv returns the process's auxiliary vector as the program sees it.
func (s *Session) Auxv() []byte { return s.r.auxvOf[s.r.debugPid] }

// stopFor hands a stop of t to the debugger and returns its answer. Tasks
// of other processes than the debugged one never stop.
func (r *replayer) stopFor(t *rtask, why target.StopReason) target.Resume {
	return r.stopWith(t, target.Stop{Reason: why})
}

func (r *replayer) stopWith(t *rtask, stop target.Stop) target.Resume {
	if r.opt.Debugger == nil || r.detached || t.pid != r.debugPid || r.debugPid == 0 {
		return target.Continue
	}
	r.intr.honoured()
	res := r.opt.Debugger.Stopped(&Session{r: r, cur: t}, stop)
	if res == target.Quit {
		r.quit = true
		return target.Continue
	}
	if res == target.Detach {
		r.detached = true
		r.clearBreakpoints(t)
		return target.Continue
	}
	return res
}

// signalStop shows the debugger a signal about to be delivered to t. The
// recorded signal is delivered whatever the debugger says: replay cannot
// change what happened.
func (r *replayer) signalStop(t *rtask, sig int, si arch.Siginfo) {
	if r.opt.Debugger == nil || r.detached || t.pid != r.debugPid || r.debugPid == 0 {
		return
	}
	if r.stopWith(t, target.Stop{Reason: target.StopSignal, Signal: sig, Siginfo: si}) == target.Step {
		t.stepping = true
	}
}

// syscallStop stops the debugger at a caught syscall of t.
func (r *replayer) syscallStop(t *rtask, nr int32, ret bool) {
	if r.catch == nil || !r.catchAll && !r.catch[int(nr)] {
		return
	}
	if r.stopWith(t, target.Stop{Reason: target.StopSyscall, Syscall: int(nr), SyscallReturn: ret}) == target.Step {
		t.stepping = true
	}
}
