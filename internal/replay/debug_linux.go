package replay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/trace"
	"golang.org/x/sys/unix"
)

// Debugger is what the replay engine calls when a task of the debugged
// process stops for the debugger (breakpoint, finished step, start): it
// answers the debugger's requests through the Session and returns how to go
// on. All calls happen on the tracer thread.
type Debugger interface {
	Stopped(s *Session, why StopReason) Resume
	// Exited reports that the debugged process ended (after the last stop).
	Exited(s *Session, status unix.WaitStatus)
}

// StopReason says why a task stopped for the debugger.
type StopReason int

const (
	StopStart      StopReason = iota // before the first instruction, or at the -g event
	StopBreakpoint                   // a software breakpoint of the debugger's
	StopStep                         // a single step finished
)

// Resume is the debugger's answer to a stop.
type Resume int

const (
	Continue Resume = iota // run until the next breakpoint
	Step                   // run the stopped task one instruction
	Detach                 // no more stops: replay to the end
	Quit                   // end the replay now (the debugger went away)
)

// ErrQuit ends a replay whose debugger quit; Replay returns no error for it.
var ErrQuit = errors.New("the debugger ended the replay")

// Session is the debugger's view of the stopped replay.
type Session struct {
	r   *replayer
	cur *rtask
}

// Pid is the recorded pid of the debugged process.
func (s *Session) Pid() int { return int(s.r.leader) }

// Tid is the recorded tid of the task that stopped.
func (s *Session) Tid() int { return int(s.cur.rec) }

// Event is the number of the last event replayed ("when", as rr says).
func (s *Session) Event() int { return s.r.rd.Count() }

// Exe is the path of the debugged program's preserved executable.
func (s *Session) Exe() string { return s.r.exe }

// Tasks lists the recorded tids of the debugged process's live threads.
func (s *Session) Tasks() []int {
	var out []int
	for _, t := range s.r.tasks {
		if t.pid == s.r.leader {
			out = append(out, int(t.rec))
		}
	}
	return out
}

func (s *Session) task(tid int) (*rtask, error) {
	t := s.r.tasks[int32(tid)]
	if t == nil || t.pid != s.r.leader {
		return nil, fmt.Errorf("no thread %d", tid)
	}
	return t, nil
}

// Regs returns a thread's general registers.
func (s *Session) Regs(tid int) (ptrace.Regs, error) {
	var regs ptrace.Regs
	t, err := s.task(tid)
	if err == nil {
		err = ptrace.GetRegs(t.tid, &regs)
	}
	return regs, err
}

// FPRegs returns a thread's FXSAVE area (x87, SSE).
func (s *Session) FPRegs(tid int) ([512]byte, error) {
	t, err := s.task(tid)
	if err != nil {
		return [512]byte{}, err
	}
	return ptrace.GetFPRegs(t.tid)
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
	return nil
}

// Auxv returns the process's auxiliary vector as the program sees it.
func (s *Session) Auxv() []byte { return s.r.auxv }

// SetBreakpoint inserts a software breakpoint (int3) at addr.
func (s *Session) SetBreakpoint(addr uint64) error {
	if _, ok := s.r.breakpoints[addr]; ok {
		return nil
	}
	var b [1]byte
	if err := ptrace.ReadMem(s.cur.tid, addr, b[:]); err != nil {
		return err
	}
	if err := ptrace.WriteMem(s.cur.tid, addr, []byte{0xcc}); err != nil {
		return err
	}
	s.r.breakpoints[addr] = b[0]
	return nil
}

// ClearBreakpoint removes the breakpoint at addr.
func (s *Session) ClearBreakpoint(addr uint64) error {
	orig, ok := s.r.breakpoints[addr]
	if !ok {
		return nil
	}
	delete(s.r.breakpoints, addr)
	return ptrace.WriteMem(s.cur.tid, addr, []byte{orig})
}

// stopFor hands a stop of t to the debugger and returns its answer. Tasks
// of other processes than the debugged one never stop.
func (r *replayer) stopFor(t *rtask, why StopReason) Resume {
	if r.opt.Debugger == nil || r.detached || t.pid != r.leader {
		return Continue
	}
	res := r.opt.Debugger.Stopped(&Session{r: r, cur: t}, why)
	if res == Quit {
		r.quit = true
		return Continue
	}
	if res == Detach {
		r.detached = true
		r.clearBreakpoints(t)
		return Continue
	}
	return res
}

func (r *replayer) clearBreakpoints(t *rtask) {
	for a, orig := range r.breakpoints {
		ptrace.WriteMem(t.tid, a, []byte{orig})
	}
	r.breakpoints = map[uint64]byte{}
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
			step = r.stopFor(t, StopStep) == Step
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
		if st.Kind() != ptrace.SignalStop || st.Signal() != int(unix.SIGTRAP) {
			return st, nil
		}
		var regs ptrace.Regs
		if err := ptrace.GetRegs(t.tid, &regs); err != nil {
			return st, err
		}
		if _, ok := r.breakpoints[regs.Rip-1]; ok && !step {
			regs.Rip--
			if err := ptrace.SetRegs(t.tid, &regs); err != nil {
				return st, err
			}
			t.stepping = r.stopFor(t, StopBreakpoint) == Step
			if r.quit {
				return st, ErrQuit
			}
			continue
		}
		if step {
			t.stepping = r.stopFor(t, StopStep) == Step
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
				ptrace.WriteMem(t.tid, regs.Rip, []byte{orig})
			}
			err := ptrace.SysemuStep(t.tid, sig)
			var st ptrace.Stop
			if err == nil {
				st, err = ptrace.Wait(t.tid)
			}
			if atBreak {
				ptrace.WriteMem(t.tid, regs.Rip, []byte{0xcc})
			}
			if err != nil || step || st.Kind() != ptrace.SignalStop || st.Signal() != int(unix.SIGTRAP) {
				return st, err
			}
			continue // stepped off the breakpoint: now run
		}
		if err := ptrace.Sysemu(t.tid, sig); err != nil {
			return ptrace.Stop{}, err
		}
		st, err := ptrace.Wait(t.tid)
		if err != nil || st.Kind() != ptrace.SignalStop || st.Signal() == int(unix.SIGTRAP) || isSyncFault(t.tid, st.Signal()) {
			return st, err
		}
		// A signal replay's own children raised: discarded (see advance).
	}
}

// readAuxv saves the auxv from the initial stack, as the program sees it.
func (r *replayer) readAuxv(t *rtask, ev *trace.Event) {
	word := func(addr uint64) uint64 {
		var b [8]byte
		ptrace.ReadMem(t.tid, addr, b[:])
		return binary.LittleEndian.Uint64(b[:])
	}
	p := ev.Regs.Rsp
	p += 8 + (word(p)+1)*8
	for i := 0; i < 1<<16 && word(p) != 0; i++ {
		p += 8
	}
	p += 8
	start := p
	for i := 0; i < 256 && word(p) != 0; i++ {
		p += 16
	}
	r.auxv = make([]byte, p+16-start)
	ptrace.ReadMem(t.tid, start, r.auxv)
}

// Executable returns the path of a trace's preserved first executable: the
// file a debugger should load symbols from.
func Executable(dir string) (string, error) {
	rd, err := trace.Open(dir)
	if err != nil {
		return "", err
	}
	defer rd.Close()
	ev, err := rd.Next()
	if err != nil {
		return "", err
	}
	if ev.Kind != trace.KindExec {
		return "", fmt.Errorf("trace %s does not start with an exec", dir)
	}
	abs, err := filepath.Abs(rd.File(ev.Path))
	return abs, err
}
