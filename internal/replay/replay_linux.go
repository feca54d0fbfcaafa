// Package replay re-executes a recorded program under ptrace and feeds it the
// trace: syscalls are skipped with PTRACE_SYSEMU and their recorded results
// and memory writes applied, except those that shape the address space or
// the task tree, which run for real (mapped files come from the trace's own
// copies). Tasks run one at a time in the recorded order. At every event the
// registers are compared with the recorded ones; any difference stops replay
// with a Divergence naming the event and the registers.
package replay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rewind-dbg/rewind/internal/machine"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/seccomp"
	"github.com/rewind-dbg/rewind/internal/syscalls"
	"github.com/rewind-dbg/rewind/internal/trace"
	"github.com/rewind-dbg/rewind/internal/tracee"
	"golang.org/x/sys/unix"
)

// Options configure a replay.
type Options struct {
	Dir    string
	Stdout io.Writer // where the program's recorded stdout is re-emitted
	Stderr io.Writer // its stderr, and rewind's warnings
	// Debugger, if set, is called whenever the debugged process (the first
	// one recorded) stops: at the start (or at event Goto), at breakpoints
	// and after single steps.
	Debugger Debugger
	Goto     int
	// Follow chooses the process the debugger follows: "" for the first
	// one, a recorded pid, or a program name (the first process to exec it).
	Follow string
}

// Result is how the replayed program ended.
type Result struct {
	Status  unix.WaitStatus
	Events  int
	Program string // argv[0] of the recording
}

// Divergence is a replay that no longer matches its recording.
type Divergence struct {
	Event int
	Tid   int32
	What  string
	Diffs []string
}

func (d *Divergence) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "replay diverged at event %d (task %d): %s", d.Event, d.Tid, d.What)
	for _, s := range d.Diffs {
		fmt.Fprintf(&b, "\n    %s", s)
	}
	return b.String()
}

// debug, set by REWIND_DEBUG_REPLAY=1, logs every event as it is replayed.
var debug = os.Getenv("REWIND_DEBUG_REPLAY") == "1"

type rtask struct {
	rec       int32 // tid in the recording
	pid       int32 // recorded pid of its process
	tid       int   // tid in this replay
	resumeSig int
	entry     ptrace.Regs // registers at the current syscall entry
	// inKernel: the task was resumed into a syscall that runs for real and
	// its exit stop has not been collected.
	inKernel bool
	execDone bool // the current syscall was an execve already completed
	vsyscall bool // the current syscall is a vsyscall (seccomp stop)
	atEntry  bool // held at a syscall entry for a tracer inside the recording
	// sharesDebugMem: a vfork or CLONE_VM child of the debugged process,
	// whose memory holds the debugger's breakpoints (until it execs).
	sharesDebugMem bool
	// launched is the syscall replay is running for real in the task (-1:
	// none): the only one its seccomp filter's stop may let through.
	launched int
	site     uint64 // a syscall instruction in the task's vDSO
	// stepping: the debugger asked for a single step; stepDone: a step
	// ended at a syscall, to be reported once the syscall is replayed.
	stepping, stepDone bool
	// restoreArgs puts back the clone arguments replay changed
	// (tracee.StripUntraced) once the call is done.
	restoreArgs func(tid int) error
	// robustList is the robust futex list head the task registered.
	robustList uint64
	// watchGen is the replayer's watchGen when this task's debug registers
	// were last loaded.
	watchGen int
	lastNr   int32 // the last syscall and its recorded result
	lastRet  int64
}

type replayer struct {
	echoFailed bool // emit could not write: warned once
	intr       interrupts
	opt        Options
	rd         *trace.Reader
	ev         *trace.Event
	tasks      map[int32]*rtask
	res        Result
	// leader is the recorded tid of the first task: its end is the program's.
	leader int32
	// killedAsync: replay ended a task that an outside signal killed.
	killedAsync bool
	// stops that arrived for other tasks while replay waited for any task
	// (during an exec that kills threads), kept for their own waits.
	stashed map[int][]ptrace.Stop
	// Debugger state: software breakpoints (address -> original byte) in
	// the debugged process, the auxv and executable it reports.
	debugPid    int32 // recorded pid of the process the debugger follows (0: not yet)
	startAtExec bool  // the followed process stops first at its exec
	exeOf       map[int32]string
	auxvOf      map[int32][]byte
	breakpoints map[uint64]byte
	watch       [4]*watchpoint
	watchGen    int          // bumped on every watchpoint change
	catch       map[int]bool // caught syscalls (nil: none)
	objects     objects      // working copies of shared objects
	// traps are the RDRAND/RDSEED traps of each process (recorded pid).
	traps    map[int32]tracee.Traps
	catchAll bool
	detached bool
	quit     bool
	exited   bool
}

// Replay runs the whole trace without a debugger.
func Replay(opt Options) (*Result, error) {
	// Paths of preserved files are handed to the tracee, which runs in the
	// recorded working directory: they must be absolute.
	dir, err := filepath.Abs(opt.Dir)
	if err != nil {
		return nil, err
	}
	rd, err := trace.Open(dir)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	fp := machine.Fingerprint{CPU: rd.Header.CPU, Flags: rd.Header.CPUFlags}
	if d := fp.Mismatch(machine.Current()); d != "" {
		fmt.Fprintf(opt.Stderr, "rewind: warning: this machine differs from the recording one (%s); a program that checks CPU features may diverge\n", d)
	}
	r := &replayer{opt: opt, rd: rd, tasks: map[int32]*rtask{}, breakpoints: map[uint64]byte{}, stashed: map[int][]ptrace.Stop{},
		exeOf: map[int32]string{}, auxvOf: map[int32][]byte{}, traps: map[int32]tracee.Traps{}, intr: newInterrupts()}
	err = ptrace.Run(func() error {
		err := r.run()
		for _, t := range r.tasks {
			unix.Kill(t.tid, unix.SIGKILL)
		}
		r.objects.close()
		return err
	})
	r.res.Events = rd.Count()
	if len(rd.Header.Argv) > 0 {
		r.res.Program = rd.Header.Argv[0]
	}
	if errors.Is(err, ErrQuit) {
		err = nil
	}
	return &r.res, err
}

func (r *replayer) diverge(what string, diffs ...string) error {
	return &Divergence{Event: r.rd.Count(), Tid: r.ev.Tid, What: what, Diffs: diffs}
}

func (r *replayer) run() error {
	first, err := r.rd.Next()
	if err != nil {
		return err
	}
	r.ev = first
	if first.Kind != trace.KindExec {
		return r.diverge("trace does not start with an exec event")
	}
	r.leader = first.Tid
	if r.opt.Follow == "" || r.opt.Follow == fmt.Sprint(first.Tid) {
		r.debugPid = first.Tid
	}
	if err := r.spawn(first); err != nil {
		return err
	}
	if lt := r.tasks[r.debugPid]; lt != nil && r.opt.Goto <= 1 {
		lt.stepping = r.stopFor(lt, StopStart) == Step
	}
	if r.quit {
		return ErrQuit
	}
	for {
		ev, err := r.rd.Next()
		if err == io.EOF {
			r.debuggerExit(unix.WaitStatus(0))
			return nil
		}
		if err != nil {
			return err
		}
		r.ev = ev
		if lt := r.tasks[r.debugPid]; lt != nil && r.rd.Count() == r.opt.Goto {
			lt.stepping = r.stopFor(lt, StopStart) == Step
			if r.quit {
				return ErrQuit
			}
		}
		if debug {
			fmt.Fprintf(r.opt.Stderr, "rewind: replay event %d task %d %v %s\n", r.rd.Count(), ev.Tid, ev.Kind, syscalls.Name(int(ev.Nr)))
		}
		if err := r.step(ev); err != nil {
			return err
		}
	}
}

func (r *replayer) spawn(ev *trace.Event) error {
	h := r.rd.Header
	lim := unix.Rlimit{Cur: h.StackLimit[0], Max: h.StackLimit[1]}
	if lim.Cur != 0 {
		// The stack limit places the mmap area: a different one moves
		// every mapping, and replay diverges at the first that moved.
		if err := unix.Setrlimit(unix.RLIMIT_STACK, &lim); err != nil {
			fmt.Fprintf(r.opt.Stderr, "rewind: warning: cannot set the recorded stack limit (%s): %v; replay is likely to diverge (raise the hard limit: ulimit -Hs)\n",
				rlimString(lim), err)
		}
	}
	// A replayed crash must not write a core file: replay touches nothing.
	unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	dir := h.Cwd
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		dir = "/"
	}
	fd := null.Fd()
	cpu := h.CPUIndex
	var avail unix.CPUSet
	if unix.SchedGetaffinity(0, &avail) == nil && !avail.IsSet(cpu) {
		fmt.Fprintf(r.opt.Stderr, "rewind: warning: the recording ran on CPU %d, which this replay may not use; a program that reads cpuid may diverge\n", cpu)
		cpu = tracee.AnyCPU()
	}
	exe, err := r.rd.Regular(ev.Path)
	if err != nil {
		return err
	}
	pid, err := tracee.Spawn(exe, h.Argv, h.Env, dir, []uintptr{fd, fd, fd}, cpu)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	t := &rtask{rec: ev.Tid, tid: pid, pid: ev.Tid, launched: -1}
	r.tasks[ev.Tid] = t
	// Every task of the tree inherits the filter that stops vsyscalls.
	if err := tracee.Do(pid, func(rem *tracee.Remote) error { return seccomp.Install(rem, seccomp.Replay()) }); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	return r.rebuild(t, ev)
}

// rebuild makes a freshly exec'd task's image identical to the recorded one:
// the kernel mapped the program and its interpreter from this machine's
// files, so every mapping is replaced with the trace's copy at the recorded
// address, writable memory gets its recorded contents and the registers
// their recorded values.
func (r *replayer) rebuild(t *rtask, ev *trace.Event) error {
	// The vDSO, where remote syscalls go, moves with the new image.
	site, err := tracee.SyscallSite(t.tid)
	if err != nil {
		return err
	}
	t.site = site
	rem, err := tracee.NewRemote(t.tid, t.site)
	if err != nil {
		return err
	}
	if err := tracee.SetTSCTrap(rem); err != nil {
		return err
	}
	vmas, err := tracee.ReadMaps(t.tid)
	if err != nil {
		return err
	}
	var stack tracee.VMA
	for _, v := range vmas {
		if v.Special() {
			continue
		}
		if v.Path == "[stack]" {
			stack = v
			continue
		}
		if _, err := rem.Check("munmap", unix.SYS_MUNMAP, v.Start, v.End-v.Start); err != nil {
			return err
		}
	}
	for _, m := range ev.Maps {
		if m.Name == "[stack]" {
			continue
		}
		if err := r.mapRegion(rem, m); err != nil {
			return err
		}
	}
	if err := rem.Close(); err != nil {
		return err
	}
	for _, w := range ev.Mem {
		addr, data := w.Addr, w.Data
		if stack.End != 0 && addr < stack.Start && addr+uint64(len(data)) > stack.Start {
			// The recorded stack area reaches lower than this one; the part
			// below is unused stack, and the kernel grows it on demand.
			data = data[stack.Start-addr:]
			addr = stack.Start
		}
		if err := ptrace.WriteMem(t.tid, addr, data); err != nil {
			return fmt.Errorf("restore %d bytes at %#x of task %d: %w", len(data), addr, t.tid, err)
		}
	}
	r.traps[t.pid] = tracee.Traps{}
	if err := r.setTraps(t, ev); err != nil {
		return err
	}
	if err := tracee.PatchVDSO(t.tid); err != nil {
		fmt.Fprintf(r.opt.Stderr, "rewind: warning: %v; a program calling its vDSO will diverge\n", err)
	}
	regs := ev.Regs
	if err := ptrace.SetRegs(t.tid, &regs); err != nil {
		return err
	}
	t.sharesDebugMem = false // a new image of its own
	r.exeOf[t.pid] = r.rd.File(ev.Path)
	r.readAuxv(t, ev)
	if t.pid == r.debugPid {
		r.breakpoints = map[uint64]byte{} // the image they were in is gone
	}
	r.followExec(t, ev)
	return nil
}

// mapRegion maps one recorded area at its recorded address: a file area
// from the trace's copy (privately: replay never writes a file), else
// anonymous memory.
func (r *replayer) mapRegion(rem *tracee.Remote, m trace.Mapping) error {
	length := m.End - m.Start
	flags := uint64(m.Flags)&^(unix.MAP_SHARED|unix.MAP_SHARED_VALIDATE|unix.MAP_GROWSDOWN) | unix.MAP_PRIVATE | unix.MAP_FIXED
	if m.File == "" {
		if trace.SharedMap(m.Flags) {
			flags = flags&^unix.MAP_PRIVATE | unix.MAP_SHARED
		}
		_, err := rem.Check("mmap", unix.SYS_MMAP, m.Start, length, uint64(m.Prot), flags|unix.MAP_ANONYMOUS, ^uint64(0), 0)
		return err
	}
	// A shared object is mapped from its working copy, shared if it was,
	// and so is a private mapping of it (it sees the object's changes on
	// pages it has not written, as when recorded).
	file, err := r.rd.Regular(m.File)
	if err != nil {
		return err
	}
	mode := unix.O_RDONLY
	wc, ok, err := r.objects.path(r.rd, m.File, trace.SharedMap(m.Flags))
	if err != nil {
		return err
	}
	if ok {
		file, mode = wc, unix.O_RDWR
		if trace.SharedMap(m.Flags) {
			flags = flags&^unix.MAP_PRIVATE | unix.MAP_SHARED
		}
	}
	path, err := rem.ScratchString(0, file)
	if err != nil {
		return err
	}
	fd, err := rem.Check("open "+m.Name, unix.SYS_OPENAT, uint64(0xffffffffffffff9c), path, uint64(mode|unix.O_CLOEXEC|unix.O_NOFOLLOW))
	if err != nil {
		return err
	}
	_, err = rem.Check("mmap "+m.Name, unix.SYS_MMAP, m.Start, length, uint64(m.Prot), flags&^unix.MAP_ANONYMOUS, fd, m.Offset)
	rem.Syscall(unix.SYS_CLOSE, fd)
	return err
}

func (r *replayer) task(ev *trace.Event) (*rtask, error) {
	t := r.tasks[ev.Tid]
	if t == nil && ev.Kind == trace.KindExec {
		t = r.tasks[int32(ev.Ret)] // a non-main thread exec'd and took the main tid
	}
	if t == nil {
		return nil, r.diverge(fmt.Sprintf("%v event for a task this replay does not know", ev.Kind))
	}
	return t, nil
}

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

// passBreakpoint takes a task that shares the debugged process's memory
// (a vfork child) past a debugger breakpoint it hit: the original byte
// back for one step, then the breakpoint again. It reports whether the
// SIGTRAP was such a breakpoint.
func (r *replayer) passBreakpoint(t *rtask) (bool, error) {
	var regs ptrace.Regs
	if err := ptrace.GetRegs(t.tid, &regs); err != nil {
		return false, err
	}
	orig, ok := r.breakpoints[regs.Rip-1]
	if !ok {
		return false, nil
	}
	regs.Rip--
	if err := ptrace.SetRegs(t.tid, &regs); err != nil {
		return true, err
	}
	if err := pokeBreakpoint(t.tid, regs.Rip, orig); err != nil {
		return true, err
	}
	err := r.resumeAs(ptrace.SysemuStep, t.tid, 0)
	if err == nil {
		var st ptrace.Stop
		if st, err = r.wait(t.tid); err == nil && st.Kind() == ptrace.SyscallStop {
			// The instruction was a syscall: leave the task at its entry
			// for the caller, as an ordinary stop.
			r.stashed[t.tid] = append([]ptrace.Stop{st}, r.stashed[t.tid]...)
		}
	}
	if err != nil {
		return true, err
	}
	return true, pokeBreakpoint(t.tid, regs.Rip, int3)
}

// isSyncFault reports whether the signal tid is stopped for was raised by
// the instruction it executed (kernel-generated fault codes).
func isSyncFault(tid, sig int) bool {
	switch unix.Signal(sig) {
	case unix.SIGSEGV, unix.SIGBUS, unix.SIGILL, unix.SIGFPE, unix.SIGTRAP:
	default:
		return false
	}
	si, err := ptrace.GetSiginfo(tid)
	return err != nil || si.Code() > 0
}

func (r *replayer) checkRegs(got, want *ptrace.Regs, what string) error {
	if *got == *want {
		return nil
	}
	g, w := trace.RegValues(got), trace.RegValues(want)
	var diffs []string
	for i := range g {
		if g[i] != w[i] {
			diffs = append(diffs, fmt.Sprintf("%-8s replay %#x, recorded %#x", trace.RegNames[i], g[i], w[i]))
		}
	}
	return r.diverge(what+": registers differ", diffs...)
}

func (r *replayer) step(ev *trace.Event) error {
	t, err := r.task(ev)
	if err != nil {
		return err
	}
	switch ev.Kind {
	case trace.KindSyscallEntry:
		return r.syscallEntry(t, ev)
	case trace.KindSyscallExit:
		return r.syscallExit(t, ev)
	case trace.KindNewTask:
		return r.newTask(t, ev)
	case trace.KindExec:
		if !t.execDone {
			return r.diverge("exec event for a task that did not execve")
		}
		return nil
	case trace.KindSignal:
		return r.signal(t, ev)
	case trace.KindRdtsc:
		return r.rdtsc(t, ev)
	case trace.KindRdrand:
		return r.rdrand(t, ev)
	case trace.KindRegs:
		return r.setRegs(t, ev)
	case trace.KindData:
		return r.writeMem(t, ev, "data")
	case trace.KindTaskExit:
		return r.taskExit(t, ev)
	}
	return r.diverge(fmt.Sprintf("unexpected event kind %v", ev.Kind))
}

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
	case ent.Rule == syscalls.Special && executedAtEntry(int(ev.Nr)):
	default:
		return nil
	}
	// Run it for real: back up over the syscall instruction and re-enter.
	regs.Rip -= 2
	regs.Rax = regs.Orig_rax
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
	if ev.Nr == unix.SYS_EXIT || ev.Nr == unix.SYS_EXIT_GROUP {
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

// executedAtEntry lists the special syscalls replay starts for real at their
// entry event; mmap is made at its exit (when the address is known) and
// execve at its exec event.
func executedAtEntry(nr int) bool {
	switch nr {
	case unix.SYS_CLONE, unix.SYS_CLONE3, unix.SYS_FORK, unix.SYS_VFORK,
		unix.SYS_EXIT, unix.SYS_EXIT_GROUP, unix.SYS_RT_SIGRETURN:
		return true
	}
	return false
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
		got, err := r.collect(t)
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
		if got != ev.Ret && ent.Rule != syscalls.ExecuteKeepResult && !isCloneFamily(int(ev.Nr)) {
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

// Kernel-internal results of an interrupted syscall: the kernel restarts it
// on the way back to user space unless a handler runs.
const (
	errRestartSys     = 512
	errRestartNoIntr  = 513
	errRestartNoHand  = 514
	errRestartBlock   = 516
	sysRestartSyscall = 219
)

// restart does what the kernel did when recorded: a syscall interrupted
// by a signal that another thread took (or that needed no handler) was
// restarted. When replay injects a signal here instead, the kernel does it.
func (r *replayer) restart(t *rtask, ev *trace.Event, regs *ptrace.Regs) {
	switch -ev.Ret {
	case errRestartSys, errRestartNoIntr, errRestartNoHand, errRestartBlock:
	default:
		return
	}
	tid := ev.Tid
	next, _ := r.rd.Find(func(e *trace.Event) bool { return e.Tid == tid }, func(*trace.Event) bool { return false })
	if next != nil && next.Kind == trace.KindSignal {
		return
	}
	regs.Rip -= 2
	if -ev.Ret == errRestartBlock {
		regs.Rax = sysRestartSyscall
	} else {
		regs.Rax = t.entry.Orig_rax
	}
}

func isCloneFamily(nr int) bool {
	return nr == unix.SYS_CLONE || nr == unix.SYS_CLONE3 || nr == unix.SYS_FORK || nr == unix.SYS_VFORK
}

// mmap makes the recorded mapping at the recorded address.
func (r *replayer) mmap(t *rtask, ev *trace.Event) error {
	a := t.entry
	m := trace.Mapping{Start: uint64(ev.Ret), End: uint64(ev.Ret) + (a.Rsi+4095)&^4095,
		Prot: uint32(a.Rdx), Flags: uint32(a.R10), Offset: a.R9}
	if len(ev.Maps) > 0 {
		m = ev.Maps[0]
	}
	rem, err := tracee.NewRemote(t.tid, t.site)
	if err != nil {
		return err
	}
	if err := r.mapRegion(rem, m); err != nil {
		return r.diverge(fmt.Sprintf("cannot remake mapping at %#x: %v", m.Start, err))
	}
	if err := rem.Close(); err != nil {
		return err
	}
	return r.setTraps(t, ev)
}

// setTraps puts the int3s the recorder put in place of RDRAND/RDSEED
// instructions in the mappings ev made.
func (r *replayer) setTraps(t *rtask, ev *trace.Event) error {
	tr := r.traps[t.pid]
	if tr == nil {
		tr = tracee.Traps{}
		r.traps[t.pid] = tr
	}
	for _, a := range ev.Traps {
		if err := tr.Set(t.tid, a); err != nil {
			return r.diverge(fmt.Sprintf("cannot trap the RDRAND at %#x: %v", a, err))
		}
	}
	return nil
}

// rdrand replays a trapped RDRAND/RDSEED with its recorded value.
func (r *replayer) rdrand(t *rtask, ev *trace.Event) error {
	regs, err := r.trapStop(t, ev, unix.SIGTRAP, "RDRAND")
	if err != nil {
		return err
	}
	site, d, ok := r.traps[t.pid].At(t.tid, regs.Rip)
	if !ok {
		return r.diverge(fmt.Sprintf("no RDRAND trap at %#x", regs.Rip-1))
	}
	regs.Rip = site
	d.Emulate(&regs, ev.Values[0])
	return ptrace.SetRegs(t.tid, &regs)
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
	a := tracee.SyscallArgs(&t.entry)
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

// emit writes echoed output. The replay goes on if that fails (the output
// is a courtesy; the program's own view is unaffected), but says so once.
func (r *replayer) emit(out io.Writer, b []byte) {
	if r.echoFailed {
		return
	}
	if _, err := out.Write(b); err != nil {
		r.echoFailed = true
		fmt.Fprintf(r.opt.Stderr, "rewind: warning: re-emitting the program's output failed: %v; the rest is not shown\n", err)
	}
}

// echo re-emits what the program wrote to the recorder's stdout or stderr,
// reading it from the replayed program's own memory.
func (r *replayer) echo(t *rtask, ev *trace.Event) error {
	out := r.opt.Stdout
	if ev.Echo == 2 {
		out = r.opt.Stderr
	}
	if ev.Echoed != nil {
		r.emit(out, ev.Echoed)
		return nil
	}
	var bufs [][2]uint64
	iov, cnt := t.entry.Rsi, t.entry.Rdx
	switch ev.Nr {
	case unix.SYS_WRITE, unix.SYS_PWRITE64, unix.SYS_SENDTO:
		bufs = append(bufs, [2]uint64{t.entry.Rsi, uint64(ev.Ret)})
		cnt = 0
	case unix.SYS_SENDMSG: // struct msghdr: msg_iov at 16, msg_iovlen at 24
		var hdr [32]byte
		if err := ptrace.ReadMem(t.tid, t.entry.Rsi, hdr[:]); err != nil {
			return err
		}
		iov, cnt = le64(hdr[16:]), le64(hdr[24:])
	}
	cnt = min(cnt, 1024) // UIO_MAXIOV: the count comes from the trace
	if cnt > 0 {
		vec := make([]byte, 16*cnt)
		if err := ptrace.ReadMem(t.tid, iov, vec); err != nil {
			return err
		}
		left := uint64(ev.Ret)
		for i := uint64(0); i < cnt && left > 0; i++ {
			base, n := le64(vec[16*i:]), le64(vec[16*i+8:])
			n = min(n, left)
			bufs = append(bufs, [2]uint64{base, n})
			left -= n
		}
	}
	data := make([]byte, 1<<20)
	for _, b := range bufs {
		for addr, left := b[0], b[1]; left > 0; {
			chunk := data[:min(left, uint64(len(data)))]
			if err := ptrace.ReadMem(t.tid, addr, chunk); err != nil {
				return err
			}
			r.emit(out, chunk)
			addr += uint64(len(chunk))
			left -= uint64(len(chunk))
		}
	}
	return nil
}

func le64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

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
		a, _ := syscalls.DecodeClone(syscalls.Nr(t.entry.Orig_rax), tracee.SyscallArgs(&t.entry), tracee.Memory(t.tid))
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
	a, err := syscalls.DecodeClone(syscalls.Nr(parent.entry.Orig_rax), tracee.SyscallArgs(&parent.entry), tracee.Memory(parent.tid))
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

// exec runs the recorded execve for real, on the trace's copy of the new
// program, then rebuilds the image as recorded.
func (r *replayer) exec(t *rtask, ev *trace.Event) error {
	if err := r.processDeath(t); err != nil { // execve releases robust futexes
		return err
	}
	regs := t.entry
	rem, err := tracee.NewRemote(t.tid, t.site)
	if err != nil {
		return err
	}
	exe, err := r.rd.Regular(ev.Path)
	if err != nil {
		return err
	}
	path, err := rem.ScratchString(0, exe)
	if err != nil {
		return err
	}
	if syscalls.Nr(regs.Orig_rax) == unix.SYS_EXECVEAT {
		regs.Rsi, regs.Rdx = regs.Rdx, regs.R10
	}
	regs.Rip -= 2
	regs.Rax = unix.SYS_EXECVE
	regs.Orig_rax = unix.SYS_EXECVE
	regs.Rdi = path
	if err := ptrace.SetRegs(t.tid, &regs); err != nil {
		return err
	}
	// The kernel kills the process's other threads and, if this is not the
	// main thread, gives this one the main thread's tid: the exec is
	// reported there, and the dying threads must be reaped meanwhile.
	main := t
	if int32(ev.Ret) != ev.Tid {
		if main = r.tasks[int32(ev.Ret)]; main == nil {
			return r.diverge(fmt.Sprintf("execve: main thread %d unknown", ev.Ret))
		}
	}
	if err := r.resumeAs(ptrace.Syscall, t.tid, 0); err != nil {
		return err
	}
	for sawExec := false; ; {
		st, err := ptrace.Wait(-1)
		if err != nil {
			return err
		}
		switch {
		case st.Tid == t.tid && st.Kind() == ptrace.SyscallStop && !sawExec:
			// entering execve (or the stale exit report of the SYSEMU stop)
		case st.Tid == t.tid && st.Kind() == ptrace.SeccompStop && !sawExec:
			// replay's filter: the execve replay runs (anything else stops)
			var regs ptrace.Regs
			if err := ptrace.GetRegs(t.tid, &regs); err != nil {
				return err
			}
			if syscalls.Nr(regs.Orig_rax) != unix.SYS_EXECVE {
				return r.diverge(fmt.Sprintf("task %d tried to run %s instead of execve", t.tid, syscalls.Name(syscalls.Nr(regs.Orig_rax))))
			}
		case st.Tid == main.tid && st.Kind() == ptrace.EventStop && st.Event() == unix.PTRACE_EVENT_EXEC:
			sawExec = true
		case st.Tid == main.tid && st.Kind() == ptrace.SyscallStop && sawExec:
			if main != t {
				delete(r.tasks, t.rec)
				t.tid, t.rec = main.tid, main.rec
				r.tasks[t.rec] = t
			}
			t.execDone = true
			return r.rebuild(t, ev)
		case st.Kind() == ptrace.EventStop && st.Event() == unix.PTRACE_EVENT_EXIT:
			if err := r.resumeAs(ptrace.Cont, st.Tid, 0); err != nil && !ptrace.IsGone(err) {
				return err
			}
			continue
		default:
			r.stashed[st.Tid] = append(r.stashed[st.Tid], st)
			continue
		}
		if err := r.resumeAs(ptrace.Syscall, st.Tid, 0); err != nil {
			return err
		}
	}
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

func (r *replayer) signal(t *rtask, ev *trace.Event) error {
	sig := int(int32(ev.Siginfo[0]) | int32(ev.Siginfo[1])<<8)
	var st ptrace.Stop
	var err error
	var restore uint64
	var ok bool
	if ev.Flags&trace.FlagResume != 0 {
		// The task is held at a signal-delivery stop (an earlier held
		// signal) and its tracer lets it go with this signal.
		return r.resumeHeld(t, ev, sig)
	}
	if ev.Flags&trace.FlagSyncSignal != 0 {
		st, err = r.advance(t)
	} else {
		if restore, ok, err = r.underTempMask(t); err != nil {
			return err
		}
		// Send it, then resume the task from where it stopped (a syscall,
		// or the delivery of a signal before this one, which goes first):
		// the kernel stops it to deliver this one before any user
		// instruction runs, as when recorded.
		if _, _, e := unix.RawSyscall(unix.SYS_TKILL, uintptr(t.tid), uintptr(sig), 0); e != 0 {
			return fmt.Errorf("event %d: send %v to task %d: %w", r.rd.Count(), unix.Signal(sig), t.tid, e)
		}
		prev := t.resumeSig
		t.resumeSig = 0
		for err == nil {
			if err = r.resumeAs(ptrace.Sysemu, t.tid, prev); err == nil {
				st, err = r.wait(t.tid)
			}
			// A seized task traps once for a SIGCONT sent to it.
			if st.Kind() != ptrace.EventStop || st.Event() != unix.PTRACE_EVENT_STOP {
				break
			}
			prev = 0
		}
	}
	if err != nil {
		return err
	}
	if st.Kind() != ptrace.SignalStop || st.Signal() != sig {
		return r.diverge(fmt.Sprintf("expected signal %v, got %v", unix.Signal(sig), st))
	}
	var regs ptrace.Regs
	if err := ptrace.GetRegs(t.tid, &regs); err != nil {
		return err
	}
	if err := r.checkRegs(&regs, &ev.Regs, "at signal "+unix.SignalName(unix.Signal(sig))); err != nil {
		return err
	}
	si := ptrace.Siginfo(ev.Siginfo)
	if err := ptrace.SetSiginfo(t.tid, &si); err != nil {
		return err
	}
	if ev.Flags&trace.FlagHeld != 0 {
		return nil // its tracer (a recorded task) decides, in a later event
	}
	if ok {
		return r.deliverRestoring(t, sig, restore)
	}
	r.signalStop(t, sig, ev.Siginfo)
	if r.quit {
		return ErrQuit
	}
	if ev.Flags&trace.FlagJobStop == 0 {
		t.resumeSig = sig
	}
	return nil
}

// resumeHeld lets a task held at a signal-delivery stop go with sig, as its
// tracer inside the recording did.
func (r *replayer) resumeHeld(t *rtask, ev *trace.Event, sig int) error {
	var regs ptrace.Regs
	if err := ptrace.GetRegs(t.tid, &regs); err != nil {
		return err
	}
	if err := r.checkRegs(&regs, &ev.Regs, "resuming with "+unix.SignalName(unix.Signal(sig))); err != nil {
		return err
	}
	si := ptrace.Siginfo(ev.Siginfo)
	if err := ptrace.SetSiginfo(t.tid, &si); err != nil {
		return err
	}
	t.resumeSig = sig
	return nil
}

// setRegs replays a tracer's register write into a stopped task.
func (r *replayer) setRegs(t *rtask, ev *trace.Event) error {
	regs := ev.Regs
	return ptrace.SetRegs(t.tid, &regs)
}

// tempMaskPtr returns where the last syscall's temporary signal mask is,
// for the syscalls that install one while they wait (0 if none).
func tempMaskPtr(t *rtask) uint64 {
	a := &t.entry
	switch t.lastNr {
	case unix.SYS_RT_SIGSUSPEND:
		return a.Rdi
	case unix.SYS_PPOLL:
		return a.R10
	case unix.SYS_EPOLL_PWAIT, unix.SYS_EPOLL_PWAIT2:
		return a.R8
	case unix.SYS_PSELECT6:
		if a.R9 != 0 {
			var b [8]byte
			if ptrace.ReadMem(t.tid, a.R9, b[:]) == nil {
				return le64(b[:])
			}
		}
	}
	return 0
}

// underTempMask prepares delivery of a signal that, when recorded, arrived
// while a syscall's temporary mask was in force (sigsuspend, pselect6,
// ppoll, epoll_pwait): replay skipped that syscall, so it installs the
// temporary mask itself, and returns the mask to restore after the handler.
func (r *replayer) underTempMask(t *rtask) (restore uint64, ok bool, err error) {
	ptr := tempMaskPtr(t)
	if ptr == 0 || t.lastRet >= 0 {
		return 0, false, nil
	}
	var mask [8]byte
	if err := ptrace.ReadMem(t.tid, ptr, mask[:]); err != nil {
		return 0, false, err
	}
	rem, err := tracee.NewRemote(t.tid, t.site)
	if err != nil {
		return 0, false, err
	}
	newp, err := rem.Scratch(0, mask[:])
	if err != nil {
		return 0, false, err
	}
	oldp := newp + 8
	if _, err := rem.Check("rt_sigprocmask", unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, newp, oldp, 8); err != nil {
		return 0, false, err
	}
	var old [8]byte
	if err := ptrace.ReadMem(t.tid, oldp, old[:]); err != nil {
		return 0, false, err
	}
	return le64(old[:]), true, rem.Close()
}

// ucSigmaskOffset is where uc_sigmask sits from the stack pointer at a
// handler's first instruction: return address, uc_flags, uc_link, uc_stack
// (24 bytes), uc_mcontext (256 bytes).
const ucSigmaskOffset = 8 + 8 + 8 + 24 + 256

// deliverRestoring delivers the pending signal by single-stepping into its
// handler, then writes the mask to restore into the handler frame, as the
// kernel does for a signal that interrupted a temporary-mask syscall.
func (r *replayer) deliverRestoring(t *rtask, sig int, restore uint64) error {
	if err := ptrace.SingleStepSignal(t.tid, sig); err != nil {
		return err
	}
	st, err := r.wait(t.tid)
	if err != nil {
		return err
	}
	if st.Kind() != ptrace.SignalStop || st.Signal() != int(unix.SIGTRAP) {
		// Default action without a handler (the task may be gone).
		return r.diverge(fmt.Sprintf("delivering %v under a temporary mask: unexpected %v", unix.Signal(sig), st))
	}
	var regs ptrace.Regs
	if err := ptrace.GetRegs(t.tid, &regs); err != nil {
		return err
	}
	var b [8]byte
	for i := range b {
		b[i] = byte(restore >> (8 * i))
	}
	return ptrace.WriteMem(t.tid, regs.Rsp+ucSigmaskOffset, b[:])
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

func (r *replayer) rdtsc(t *rtask, ev *trace.Event) error {
	regs, err := r.trapStop(t, ev, unix.SIGSEGV, "rdtsc")
	if err != nil {
		return err
	}
	tracee.EmulateRdtsc(&regs, ev.Values, ev.Flags&trace.FlagRdtscp != 0)
	return ptrace.SetRegs(t.tid, &regs)
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
	} else if want.Signaled() && t.launched != unix.SYS_EXIT && t.launched != unix.SYS_EXIT_GROUP {
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
	if r.opt.Debugger.Exited(&Session{r: r, cur: &rtask{rec: r.debugPid, pid: r.debugPid}}, status) == Quit {
		r.quit = true
	}
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
