// Package record is rewind's recorder: it runs a process tree under ptrace
// with a seccomp filter that traps every syscall, lets one task run user code
// at a time, and writes every nondeterministic input (syscall results and the
// memory the kernel wrote, signals, rdtsc values, the initial image) to the
// trace in the order replay must feed it back.
//
// Scheduling: the task that holds the run token executes user code; at each
// syscall entry it gives the token up and enters the kernel, so a task
// blocked in a syscall never holds up the others. A task whose syscall
// returned waits, stopped, for the token; the order in which tasks are
// granted the token is the order of the events, which replay follows.
package record

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/rewind-dbg/rewind/internal/machine"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/seccomp"
	"github.com/rewind-dbg/rewind/internal/trace"
	"github.com/rewind-dbg/rewind/internal/tracee"
	"golang.org/x/sys/unix"
)

// Options configure a recording.
type Options struct {
	Dir     string   // trace directory to create
	Argv    []string // Argv[0] resolved through PATH
	Env     []string
	Stderr  io.Writer // warnings
	Version string
	// Wait: record until every process has ended (rr's --wait), not just
	// the first: by default, processes that outlive it are killed then.
	Wait bool
}

// Result is how the recorded program ended.
type Result struct {
	Status unix.WaitStatus
	Events int
}

// ExitCode is the recorder's exit code: the program's, or 128+signal.
func (r *Result) ExitCode() int {
	if r.Status.Signaled() {
		return 128 + int(r.Status.Signal())
	}
	return r.Status.ExitStatus()
}

type recorder struct {
	opt     Options
	w       *trace.Writer
	files   *fileStore
	tasks   map[int]*task
	ready   []*task
	cur     *task
	leader  int
	result  Result
	outID   [3]fileID // identities of the recorder's stdout (1) and stderr (2)
	warned  map[string]bool
	cpu     int
	watch   watchdog
	rdrand  rdrandScanner
	signals forwarder
	// execing: processes with a thread in execve (see next).
	execing map[int]bool
	// reports are the ends of tracees their tracers have yet to wait for.
	reports map[*task][]*task
	// traps are the RDRAND/RDSEED traps of each process (rdrand_trap.go).
	traps map[int]tracee.Traps
	// objects are the shared objects (shared.go) by file identity.
	objects map[fileID]*sharedObject
}

// Record runs the program and writes the trace. It must not be called
// concurrently; it runs the tracer on its own locked thread.
func Record(opt Options) (*Result, error) {
	path, err := exec.LookPath(opt.Argv[0])
	if err != nil {
		return nil, fmt.Errorf("cannot record %s: %w", opt.Argv[0], err)
	}
	if path, err = filepath.Abs(path); err != nil {
		return nil, err
	}
	cwd, _ := os.Getwd()
	fp := machine.Current()
	var stack unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_STACK, &stack)
	h := &trace.Header{
		Program: filepath.Base(path), Exe: path, Argv: opt.Argv, Env: opt.Env, Cwd: cwd,
		CPU: fp.CPU, CPUFlags: fp.Flags, Kernel: fp.Kernel, Ticks: "syscall-points",
		StackLimit: [2]uint64{stack.Cur, stack.Max}, Recorded: time.Now().UTC(), RecorderV: opt.Version,
		CPUIndex: tracee.AnyCPU(),
	}
	w, err := trace.Create(opt.Dir, h)
	if err != nil {
		return nil, err
	}
	files, err := newFileStore(opt.Dir)
	if err != nil {
		return nil, err
	}
	r := &recorder{opt: opt, w: w, files: files, tasks: map[int]*task{}, warned: map[string]bool{}, cpu: h.CPUIndex,
		objects: map[fileID]*sharedObject{}, execing: map[int]bool{}, traps: map[int]tracee.Traps{},
		reports: map[*task][]*task{}}
	for fd := 1; fd <= 2; fd++ {
		r.outID[fd], _ = statID(fmt.Sprintf("/proc/self/fd/%d", fd))
	}
	err = ptrace.Run(func() error { return r.run(path, cwd) })
	if err != nil {
		w.Abandon()
		return &r.result, err
	}
	if err := w.Close(); err != nil {
		return &r.result, err
	}
	r.result.Events = w.Count()
	return &r.result, nil
}

// setup prepares a freshly exec'd first task: no new privileges, rdtsc
// trapping, and the seccomp filter, all installed from inside the task by
// remote syscalls before it runs a single instruction of its own.
func setup(pid int) error {
	return tracee.Do(pid, func(rem *tracee.Remote) error {
		if err := tracee.SetTSCTrap(rem); err != nil {
			return err
		}
		return seccomp.Install(rem, seccomp.Record())
	})
}

func (r *recorder) warn(key, format string, args ...any) {
	if r.warned[key] {
		return
	}
	r.warned[key] = true
	fmt.Fprintf(r.opt.Stderr, "rewind: warning: "+format+"\n", args...)
}

func (r *recorder) append(e *trace.Event) error {
	_, err := r.w.Append(e)
	return err
}

func (r *recorder) run(path, cwd string) error {
	pid, err := tracee.Spawn(path, r.opt.Argv, r.opt.Env, cwd, []uintptr{0, 1, 2}, r.cpu)
	if err != nil {
		return err
	}
	r.leader = pid
	stopSignals := r.signals.forward(pid)
	defer stopSignals()
	stopWatch := r.watch.start(r.opt.Stderr)
	defer stopWatch()
	if err := setup(pid); err != nil {
		unix.Kill(pid, unix.SIGKILL)
		return fmt.Errorf("prepare %s for recording: %w", path, err)
	}
	t := &task{tid: pid, pid: pid, state: stReady}
	r.tasks[pid] = t
	if err := r.recordExec(t, pid); err != nil {
		unix.Kill(pid, unix.SIGKILL)
		return err
	}
	r.ready = append(r.ready, t)
	for len(r.tasks) > 0 {
		if next := r.next(); next != nil {
			if err := r.grant(next); err != nil && !r.vanished(next, err) {
				return err
			}
		}
		r.watch.set(r.cur, len(r.ready))
		st, err := ptrace.Wait(-1)
		if err != nil {
			if errors.Is(err, unix.ECHILD) {
				return fmt.Errorf("lost all tracees while %d were still known", len(r.tasks))
			}
			return err
		}
		if err := r.handle(st); err != nil && !r.vanished(r.tasks[st.Tid], err) {
			unix.Kill(r.leader, unix.SIGKILL)
			return err
		}
	}
	return nil
}

// vanished says whether err only means that t's memory went away while the
// recorder looked at it (killed from outside, by the OOM killer, or by a
// sibling's exec): t never runs again, and its death is reported next.
func (r *recorder) vanished(t *task, err error) bool {
	if t == nil || !errors.Is(err, ptrace.ErrExited) {
		return false
	}
	if debugRecord {
		fmt.Fprintf(r.opt.Stderr, "rewind: record: task %d vanished: %v\n", t.tid, err)
	}
	t.exit = nil
	r.release(t)
	r.dropReady(t)
	return true
}

// gone tolerates a task that vanished (killed by a group exit) between stops.
func (r *recorder) gone(t *task, err error) error {
	if err != nil && ptrace.IsGone(err) {
		return nil
	}
	return err
}

func (r *recorder) handle(st ptrace.Stop) error {
	if debugRecord {
		var regs ptrace.Regs
		ptrace.GetRegs(st.Tid, &regs)
		fmt.Fprintf(r.opt.Stderr, "rewind: record: %v (sig %d) rip %#x rax %#x orig %#x\n", st, st.Signal(), regs.Rip, regs.Rax, regs.Orig_rax)
	}
	t := r.tasks[st.Tid]
	if t == nil {
		// A new task can report its first stop before its parent's clone event.
		t = &task{tid: st.Tid, state: stNew}
		r.tasks[st.Tid] = t
	}
	switch st.Kind() {
	case ptrace.Exited, ptrace.Killed:
		return r.taskExited(t, st)
	case ptrace.SeccompStop:
		return r.syscallEntry(t)
	case ptrace.SyscallStop:
		return r.syscallExit(t)
	case ptrace.EventStop:
		return r.event(t, st)
	case ptrace.SignalStop:
		return r.signal(t, st.Signal())
	}
	return fmt.Errorf("task %d: unexpected stop %v", t.tid, st)
}

// debugRecord, set by REWIND_DEBUG_RECORD=1, logs every stop the recorder handles.
var debugRecord = os.Getenv("REWIND_DEBUG_RECORD") == "1"
