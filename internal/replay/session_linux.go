// Package replay re-executes a recorded program under ptrace and feeds it the
// trace: syscalls are skipped with PTRACE_SYSEMU and their recorded results
// and memory writes applied, except those that shape the address space or
// the task tree, which run for real (mapped files come from the trace's own
// copies). Tasks run one at a time in the recorded order. At every event the
// registers are compared with the recorded ones; any difference stops replay
// with a Divergence naming the event and the registers.
package replay

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/machine"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/syscalls"
	"github.com/rewind-dbg/rewind/internal/target"
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
	Debugger target.Debugger
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
	// its exit event has not been replayed; done: its exit stop was
	// collected already, with result ret.
	inKernel bool
	done     bool
	ret      int64
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
	// echoBuf holds output being re-emitted (echo).
	echoBuf []byte
	// Debugger state: software breakpoints (address -> original byte) in
	// the debugged process, the auxv and executable it reports.
	debugPid    int32 // recorded pid of the process the debugger follows (0: not yet)
	startAtExec bool  // the followed process stops first at its exec
	exeOf       map[int32]string
	auxvOf      map[int32][]byte
	breakpoints map[uint64]byte
	watch       [4]*arch.Watch
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
		lt.stepping = r.stopFor(lt, target.StopStart) == target.Step
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
			lt.stepping = r.stopFor(lt, target.StopStart) == target.Step
			if r.quit {
				return ErrQuit
			}
		}
		if debug {
			fmt.Fprintf(r.opt.Stderr, "rewind: replay event %d task %d %v %s\n", r.rd.Count(), ev.Tid, ev.Kind, syscalls.Name(int(ev.Nr)))
		}
		if err := r.step(ev); err != nil {
			var d *Divergence
			if errors.As(err, &d) || errors.Is(err, ErrQuit) {
				return err
			}
			// A tracer-level failure (a task gone, a ptrace request
			// refused) says where in the trace it happened.
			return fmt.Errorf("replaying event %d (%v of task %d): %w", r.rd.Count(), ev.Kind, ev.Tid, err)
		}
	}
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

func (r *replayer) checkRegs(got, want *ptrace.Regs, what string) error {
	if *got == *want {
		return nil
	}
	g, w := arch.RegValues(got), arch.RegValues(want)
	var diffs []string
	for i := range g {
		if g[i] != w[i] {
			diffs = append(diffs, fmt.Sprintf("%-8s replay %#x, recorded %#x", arch.RegNames[i], g[i], w[i]))
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
