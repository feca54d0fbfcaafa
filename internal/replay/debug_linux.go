package replay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
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
	// Exited reports that the debugged process ended (after the last
	// stop); Quit ends the replay there.
	Exited(s *Session, status unix.WaitStatus) Resume
}

// StopReason says why a task stopped for the debugger.
type StopReason int

const (
	StopStart      StopReason = iota // before the first instruction, or at the -g event
	StopBreakpoint                   // a software breakpoint of the debugger's
	StopStep                         // a single step finished
	StopWatch                        // a hardware watchpoint triggered (Session.Watch)
	StopSignal                       // a signal is about to be delivered (Session.Signal)
	StopSyscall                      // a caught syscall enters or returns (Session.Syscall)
	StopInterrupt                    // the debugger asked for a stop (Session.Interrupt)
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
	// Watch is the watched address that triggered (StopWatch); Signal and
	// Siginfo the signal being delivered (StopSignal).
	Watch   uint64
	Signal  int
	Siginfo [128]byte
	// Syscall is the caught syscall's number, SyscallReturn whether it is
	// returning (StopSyscall).
	Syscall       int
	SyscallReturn bool
}

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

// WatchKind is a hardware watchpoint's trigger.
type WatchKind int

const (
	WatchWrite  WatchKind = 1 // DR7 R/W bits 01
	WatchAccess WatchKind = 3 // 11: read or write (x86 has no read-only)
)

// watchpoint is one debug register in use.
type watchpoint struct {
	addr uint64
	size int
	kind WatchKind
}

// SetWatchpoint arms a hardware watchpoint on size (1, 2, 4 or 8) aligned
// bytes at addr in every thread of the debugged process.
func (s *Session) SetWatchpoint(addr uint64, size int, kind WatchKind) error {
	if size != 1 && size != 2 && size != 4 && size != 8 || addr%uint64(size) != 0 {
		return fmt.Errorf("watchpoint of %d bytes at %#x: x86 watches 1, 2, 4 or 8 aligned bytes", size, addr)
	}
	for i, w := range s.r.watch {
		if w == nil {
			s.r.watch[i] = &watchpoint{addr, size, kind}
			s.r.watchGen++
			return nil
		}
	}
	return errors.New("all 4 debug registers are in use")
}

// ClearWatchpoint disarms the watchpoint at addr.
func (s *Session) ClearWatchpoint(addr uint64, kind WatchKind) error {
	for i, w := range s.r.watch {
		if w != nil && w.addr == addr && w.kind == kind {
			s.r.watch[i] = nil
			s.r.watchGen++
		}
	}
	return nil
}

// armWatchpoints loads the debug registers of task t from the debugger's
// watchpoints, if they changed since t was last armed. Debug registers are
// per thread and can be written only while the thread is stopped, so each
// task is armed just before it is resumed (see resume), never while a
// sibling runs.
func (r *replayer) armWatchpoints(t *rtask) error {
	if t.pid != r.debugPid || t.watchGen == r.watchGen {
		return nil
	}
	var dr7 uint64
	lens := map[int]uint64{1: 0, 2: 1, 4: 3, 8: 2}
	for i, w := range r.watch {
		if w != nil {
			dr7 |= 1<<(2*i) | uint64(w.kind)<<(16+4*i) | lens[w.size]<<(18+4*i)
			if err := ptrace.SetDebugReg(t.tid, i, w.addr); err != nil {
				return err
			}
		}
	}
	if err := ptrace.SetDebugReg(t.tid, 7, dr7); err != nil {
		return err
	}
	t.watchGen = r.watchGen
	return nil
}

// watchHit returns the address of the watchpoint that stopped t, if any,
// and clears the debug status register.
func (r *replayer) watchHit(t *rtask) (uint64, bool) {
	dr6, err := ptrace.DebugReg(t.tid, 6)
	if err != nil {
		return 0, false
	}
	ptrace.SetDebugReg(t.tid, 6, 0)
	for i, w := range r.watch {
		if w != nil && dr6&(1<<i) != 0 {
			return w.addr, true
		}
	}
	return 0, false
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
func (s *Session) Regs(tid int) (ptrace.Regs, error) {
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

// SetBreakpoint inserts a software breakpoint (int3) at addr.
func (s *Session) SetBreakpoint(addr uint64) error {
	if _, ok := s.r.breakpoints[addr]; ok {
		return nil
	}
	var b [1]byte
	if err := ptrace.ReadMem(s.cur.tid, addr, b[:]); err != nil {
		return err
	}
	if err := pokeBreakpoint(s.cur.tid, addr, int3); err != nil {
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
	return pokeBreakpoint(s.cur.tid, addr, orig)
}

const int3 = 0xcc

// pokeBreakpoint writes one byte of a debugger breakpoint (int3, or the
// original byte back). A write that fails would leave the program running
// different code than was recorded, so it is an error, never ignored.
func pokeBreakpoint(tid int, addr uint64, b byte) error {
	if err := ptrace.WriteMem(tid, addr, []byte{b}); err != nil {
		return fmt.Errorf("write breakpoint byte at %#x in task %d: %w", addr, tid, err)
	}
	return nil
}

// stopFor hands a stop of t to the debugger and returns its answer. Tasks
// of other processes than the debugged one never stop.
func (r *replayer) stopFor(t *rtask, why StopReason) Resume {
	return r.stopWith(&Session{r: r, cur: t}, why)
}

func (r *replayer) stopWith(s *Session, why StopReason) Resume {
	t := s.cur
	if r.opt.Debugger == nil || r.detached || t.pid != r.debugPid || r.debugPid == 0 {
		return Continue
	}
	r.intr.honoured()
	res := r.opt.Debugger.Stopped(s, why)
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
		if err := pokeBreakpoint(t.tid, a, orig); err != nil && !ptrace.IsGone(err) {
			fmt.Fprintf(r.opt.Stderr, "rewind: warning: detaching: %v\n", err)
		}
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
		} else if r.intr.pending() {
			// A Ctrl-C that found the task stopped for an event.
			step = r.stopFor(t, StopInterrupt) == Step
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
			t.stepping = r.stopFor(t, StopInterrupt) == Step
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
			t.stepping = r.stopWith(&Session{r: r, cur: t, Watch: addr}, StopWatch) == Step
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
				err = pokeBreakpoint(t.tid, regs.Rip, int3)
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
	auxv := make([]byte, p+16-start)
	ptrace.ReadMem(t.tid, start, auxv)
	r.auxvOf[t.pid] = auxv
}

// Executable returns the path of the preserved executable a debugger
// following process follow ("" for the first, a pid or a program name, as
// Options.Follow) should load symbols from, or an error if no recorded
// process matches.
func Executable(dir, follow string) (string, error) {
	rd, err := trace.Open(dir)
	if err != nil {
		return "", err
	}
	defer rd.Close()
	first := ""
	for {
		ev, err := rd.Next()
		if err != nil && err != io.EOF && !errors.Is(err, trace.ErrIncomplete) {
			return "", err // a corrupt trace says so, as replay -a does
		}
		if err != nil {
			if first != "" && follow == "" {
				return first, nil
			}
			return "", fmt.Errorf("no recorded process matches %q (see 'rewind ps')", follow)
		}
		if ev.Kind != trace.KindExec {
			if ev.Kind == trace.KindNewTask && fmt.Sprint(ev.Ret) == follow && first != "" {
				// Followed from its fork; its own exec, if any, comes later.
				if exe := execOf(rd, int32(ev.Ret)); exe != "" {
					return exe, nil
				}
				return first, nil
			}
			continue
		}
		path, err := filepath.Abs(rd.File(ev.Path))
		if err != nil {
			return "", err
		}
		if first == "" {
			first = path
			if follow == "" || follow == fmt.Sprint(ev.Tid) {
				return path, nil
			}
		}
		if follow != "" && filepath.Base(argv0(ev)) == follow {
			return path, nil
		}
	}
}

// execOf finds the executable of pid's next exec before it ends.
func execOf(rd *trace.Reader, pid int32) string {
	e, _ := rd.Find(func(e *trace.Event) bool { return e.Tid == pid && e.Kind == trace.KindExec },
		func(e *trace.Event) bool { return e.Tid == pid && e.Kind == trace.KindTaskExit })
	if e == nil {
		return ""
	}
	p, _ := filepath.Abs(rd.File(e.Path))
	return p
}

// signalStop shows the debugger a signal about to be delivered to t. The
// recorded signal is delivered whatever the debugger says: replay cannot
// change what happened.
func (r *replayer) signalStop(t *rtask, sig int, si [128]byte) {
	if r.opt.Debugger == nil || r.detached || t.pid != r.debugPid || r.debugPid == 0 {
		return
	}
	if r.stopWith(&Session{r: r, cur: t, Signal: sig, Siginfo: si}, StopSignal) == Step {
		t.stepping = true
	}
}

// syscallStop stops the debugger at a caught syscall of t.
func (r *replayer) syscallStop(t *rtask, nr int32, ret bool) {
	if r.catch == nil || !r.catchAll && !r.catch[int(nr)] {
		return
	}
	if r.stopWith(&Session{r: r, cur: t, Syscall: int(nr), SyscallReturn: ret}, StopSyscall) == Step {
		t.stepping = true
	}
}

// followFork starts following a new process if it is the one asked for by
// pid: at its exec if it execs before it ends, else now.
func (r *replayer) followFork(child *rtask) {
	if r.debugPid != 0 || r.opt.Follow != fmt.Sprint(child.rec) {
		return
	}
	r.debugPid = child.rec
	pid := child.rec
	execs, _ := r.rd.Find(func(e *trace.Event) bool { return e.Tid == pid && e.Kind == trace.KindExec },
		func(e *trace.Event) bool { return e.Tid == pid && e.Kind == trace.KindTaskExit })
	if execs != nil {
		r.startAtExec = true
		return
	}
	child.stepping = r.stopFor(child, StopStart) == Step
}

// followExec starts following the process that just exec'd, if it was
// chosen by pid (and waited for its exec) or by program name.
func (r *replayer) followExec(t *rtask, ev *trace.Event) {
	switch {
	case r.startAtExec && t.pid == r.debugPid:
		r.startAtExec = false
	case r.debugPid == 0 && r.opt.Follow != "" && filepath.Base(argv0(ev)) == r.opt.Follow:
		r.debugPid = t.pid
	default:
		return
	}
	t.stepping = r.stopFor(t, StopStart) == Step
}

// argv0 is the program name an exec event recorded.
func argv0(ev *trace.Event) string {
	if argv := ev.Argv(); len(argv) > 0 {
		return argv[0]
	}
	return ""
}
