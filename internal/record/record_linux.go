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
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/rewind-dbg/rewind/internal/machine"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/seccomp"
	"github.com/rewind-dbg/rewind/internal/syscalls"
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

type fileID struct{ dev, ino uint64 }

func statID(path string) (fileID, bool) {
	var st unix.Stat_t
	if unix.Stat(path, &st) != nil {
		return fileID{}, false
	}
	return fileID{st.Dev, st.Ino}, true
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

func (t *task) restoreCallArgs() error {
	f := t.restoreArgs
	t.restoreArgs = nil
	if f == nil {
		return nil
	}
	return f(t.tid)
}

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

func (r *recorder) syscallEntry(t *task) error {
	if err := ptrace.GetRegs(t.tid, &t.entry); err != nil {
		return r.gone(t, err)
	}
	if seccomp.InVsyscallPage(t.entry.Rip) {
		return r.vsyscall(t)
	}
	if held, err := r.tracedSyscallEntry(t, &t.entry); held || err != nil {
		return err
	}
	nr := syscalls.Nr(t.entry.Orig_rax)
	ent := syscalls.Lookup(nr)
	ev := &trace.Event{Kind: trace.KindSyscallEntry, Tid: int32(t.tid), Nr: int32(nr), Regs: t.entry}
	t.skip = nil
	if t.strict || len(t.filters) > 0 {
		// The program's own filters decide first, as the kernel's would.
		if killed, err := r.ownFilters(t, nr); killed || err != nil {
			return err
		}
	}
	a := tracee.SyscallArgs(&t.entry)
	switch {
	case t.skip != nil:
	case nr == unix.SYS_PTRACE:
		if err := r.ptraceCall(t, a); err != nil {
			return err
		}
	case nr == unix.SYS_WAIT4 || nr == unix.SYS_WAITID:
		if err := r.waitCall(t, nr, a); err != nil {
			return r.gone(t, err)
		}
	case ent.Rule == syscalls.Unsupported:
		if !ent.Quiet {
			r.warn("sys:"+ent.Name, "%s is not supported (%s); it fails with ENOSYS under rewind", ent.Name, ent.Note)
		}
		t.refuse(unix.ENOSYS)
	case r.ownSeccompCall(t, nr, a):
	case ent.Refuse != nil:
		if errno, why := ent.Refuse(a); why != "" {
			r.warn("refuse:"+why, "%s", why)
			t.refuse(unix.Errno(errno))
		}
	case nr == unix.SYS_MMAP:
		if errno, why := mmapRefuse(t.tid, a); why != "" {
			r.warn("refuse:"+why, "%s", why)
			t.refuse(unix.Errno(errno))
		}
	case ent.OutInTarget && r.tasks[int(int32(a[0]))] == nil:
		r.warn("outside:"+ent.Name, "%s into process %d, which is not recorded, is not supported: rewind cannot record what it changes there; it fails with EPERM", ent.Name, int32(a[0]))
		t.refuse(unix.EPERM)
	}
	if t.skip != nil {
		ev.Flags |= trace.FlagRefused
		if t.skip.ret < 0 {
			ev.Values[0] = uint64(-t.skip.ret)
		}
		regs := t.entry
		regs.Orig_rax = ^uint64(0) // the kernel skips syscall -1
		if err := ptrace.SetRegs(t.tid, &regs); err != nil {
			return r.gone(t, err)
		}
	}
	if t.skip == nil {
		r.signals.notice(t, nr, a)
		restore, err := tracee.StripUntraced(t.tid, nr, &t.entry)
		if err != nil {
			return r.gone(t, err)
		}
		t.restoreArgs = restore
	}
	if nr == unix.SYS_FUTEX && t.skip == nil {
		if err := tracee.MarkPIWaiter(t.tid, tracee.SyscallArgs(&t.entry), int32(t.tid)); err != nil {
			return r.gone(t, err)
		}
	}
	if (nr == unix.SYS_EXECVE || nr == unix.SYS_EXECVEAT) && t.skip == nil {
		r.execing[t.pid] = true
	}
	if nr == unix.SYS_SHMDT && t.skip == nil {
		t.detaching = shmDetaching(t.tid, t.entry.Rdi)
	}
	if err := r.append(ev); err != nil {
		return err
	}
	t.state = stInSyscall
	if nr != unix.SYS_EXIT && nr != unix.SYS_EXIT_GROUP {
		r.release(t)
	}
	if nr == unix.SYS_EXIT_GROUP {
		r.doom(t)
	}
	// An exiting task keeps the token until it is gone: the kernel clears
	// its CLONE_CHILD_CLEARTID word on the way out, and a joining thread
	// must see that at the same point in replay.
	return r.gone(t, ptrace.Syscall(t.tid, 0))
}

func (r *recorder) syscallExit(t *task) error {
	if t.state != stInSyscall {
		return fmt.Errorf("task %d: syscall-exit stop while not in a syscall (state %d)", t.tid, t.state)
	}
	var regs ptrace.Regs
	if err := ptrace.GetRegs(t.tid, &regs); err != nil {
		return r.gone(t, err)
	}
	nr := syscalls.Nr(t.entry.Orig_rax)
	ret := int64(regs.Rax)
	if nr == unix.SYS_EXECVE || nr == unix.SYS_EXECVEAT {
		delete(r.execing, t.pid) // it failed, or the exec event came first
	}
	if err := t.restoreCallArgs(); err != nil {
		return r.gone(t, err)
	}
	if t.waiting != nil {
		if _, err := r.finishWait(t, &regs, ret); err != nil {
			return r.gone(t, err)
		}
	}
	ev := &trace.Event{Kind: trace.KindSyscallExit, Tid: int32(t.tid), Nr: int32(nr), Ret: ret}
	if sk := t.skip; sk != nil {
		ev.Ret = sk.ret
		regs.Rax = uint64(sk.ret)
		regs.Orig_rax = t.entry.Orig_rax
		if err := ptrace.SetRegs(t.tid, &regs); err != nil {
			return r.gone(t, err)
		}
		for _, w := range sk.mem {
			if err := ptrace.WriteMem(t.tid, w.Addr, w.Data); err != nil {
				return r.gone(t, err)
			}
		}
		ev.Mem = sk.mem
		if sk.traceeMem != nil {
			ev.Mem, ev.MemTid = sk.traceeMem, sk.tracee
		}
		if sk.signal != nil {
			t.pending = append([]ptrace.Siginfo{*sk.signal}, t.pending...)
		}
	} else {
		t.outputsDue = true
	}
	t.exit = ev
	if held, err := r.tracedSyscallExit(t, ev); held || err != nil {
		return err
	}
	r.makeReady(t)
	return nil
}

// outputs fills in what a completed syscall wrote into the task's memory
// and what it means for replay (echoed output, a file mapping).
func (r *recorder) outputs(t *task, ev *trace.Event) error {
	ent := syscalls.Lookup(int(ev.Nr))
	a := tracee.SyscallArgs(&t.entry)
	// A call that failed with EFAULT may have written part of its output
	// before the bad page (a pipe read into a buffer running into
	// PROT_NONE): the readable part of every output is recorded.
	efault := ev.Ret == -int64(unix.EFAULT) && !ent.OutOnError
	if ent.Out != nil && (ev.Ret >= 0 || ent.OutOnError || efault) {
		c := &syscalls.Call{Nr: int(ev.Nr), Args: a, Ret: ev.Ret, Mem: tracee.Memory(t.tid)}
		from := t.tid
		if ent.OutInTarget {
			from = int(int32(a[0]))
			ev.MemTid = int32(from)
		}
		if efault {
			c.Ret = math.MaxInt32 // as much as the arguments allow
		}
		regions, err := ent.Out(c)
		if err != nil && !efault {
			return fmt.Errorf("event %d: task %d: %s outputs: %w", r.w.Count()+1, t.tid, ent.Name, err)
		}
		for _, reg := range regions {
			if reg.Len <= 0 || reg.Addr == 0 {
				continue
			}
			if !efault && reg.Len > dataChunk {
				// A huge output (a read of gigabytes) goes out in chunks
				// of its own events, ahead of the exit event: the
				// recorder never holds it whole, and no event outgrows a
				// trace block.
				var err error
				if reg, err = r.appendChunks(t, from, reg, ev.MemTid); err != nil {
					return fmt.Errorf("event %d: task %d: read %s output: %w", r.w.Count()+1, t.tid, ent.Name, err)
				}
			}
			buf := make([]byte, reg.Len)
			if efault {
				if buf = readablePrefix(from, reg.Addr, buf); len(buf) == 0 {
					continue
				}
			} else if err := ptrace.ReadMem(from, reg.Addr, buf); err != nil {
				return fmt.Errorf("event %d: task %d: read %s output: %w", r.w.Count()+1, t.tid, ent.Name, err)
			}
			ev.Mem = append(ev.Mem, trace.MemWrite{Addr: reg.Addr, Data: buf})
		}
	}
	switch ev.Nr {
	case unix.SYS_WRITE, unix.SYS_WRITEV, unix.SYS_PWRITE64, unix.SYS_PWRITEV, unix.SYS_PWRITEV2,
		unix.SYS_SENDTO, unix.SYS_SENDMSG:
		if ev.Ret > 0 {
			ev.Echo = r.echoTarget(t.tid, int(a[0]))
		}
	case unix.SYS_SENDFILE, unix.SYS_COPY_FILE_RANGE, unix.SYS_SPLICE, unix.SYS_TEE:
		if ev.Ret > 0 {
			r.echoCopied(t, ev, a)
		}
	case unix.SYS_MMAP:
		if ev.Ret >= 0 && a[3]&unix.MAP_ANONYMOUS == 0 && !mapsDevZero(t.tid, a) {
			m, err := r.fileMapping(t, uint64(ev.Ret), a)
			if err != nil {
				return err
			}
			ev.Maps = []trace.Mapping{m}
			r.checkRdrand(t, m, ev)
		}
	case unix.SYS_SHMAT:
		if ev.Ret >= 0 {
			m, err := r.shmAttach(t, uint64(ev.Ret))
			if err != nil {
				return err
			}
			ev.Maps = []trace.Mapping{m}
		}
	case unix.SYS_SHMDT:
		if ev.Ret == 0 {
			ev.Maps = t.detaching
		}
	}
	return r.fileWrites(t, ev)
}

// dataChunk is the most bytes of output one event carries.
const dataChunk = 16 << 20

// appendChunks writes all but the last chunk of region reg of task from's
// memory as data events of task t (memTid: the task whose memory it is, if
// not t), and returns the rest.
func (r *recorder) appendChunks(t *task, from int, reg syscalls.Region, memTid int32) (syscalls.Region, error) {
	buf := make([]byte, dataChunk)
	for reg.Len > dataChunk {
		if err := ptrace.ReadMem(from, reg.Addr, buf); err != nil {
			return reg, err
		}
		ev := &trace.Event{Kind: trace.KindData, Tid: int32(t.tid), MemTid: memTid,
			Mem: []trace.MemWrite{{Addr: reg.Addr, Data: buf}}}
		if err := r.append(ev); err != nil {
			return reg, err
		}
		reg.Addr += dataChunk
		reg.Len -= dataChunk
	}
	return reg, nil
}

// readablePrefix fills buf from addr page by page and returns the part
// that could be read.
func readablePrefix(tid int, addr uint64, buf []byte) []byte {
	n := 0
	for n < len(buf) {
		end := min(len(buf), n+int(4096-(addr+uint64(n))%4096))
		if ptrace.ReadMem(tid, addr+uint64(n), buf[n:end]) != nil {
			break
		}
		n = end
	}
	return buf[:n]
}

// echoCopied handles the syscalls that send data to a descriptor from
// another one (sendfile, copy_file_range, splice, tee): if the data went to
// the recorder's stdout or stderr, replay must re-emit it, and it is not in
// the task's memory, so the recorder reads it from the source file.
// From a pipe it is gone: a warning says replay will not show it.
func (r *recorder) echoCopied(t *task, ev *trace.Event, a [6]uint64) {
	inFd, outFd, offPtr := int(int32(a[1])), int(int32(a[0])), a[2] // sendfile(out, in, *off, n)
	switch ev.Nr {
	case unix.SYS_COPY_FILE_RANGE, unix.SYS_SPLICE: // (in, *off_in, out, *off_out, n)
		inFd, outFd, offPtr = int(int32(a[0])), int(int32(a[2])), a[1]
	case unix.SYS_TEE: // (in, out, n)
		inFd, outFd, offPtr = int(int32(a[0])), int(int32(a[1])), 0
	}
	if ev.Echo = r.echoTarget(t.tid, outFd); ev.Echo == 0 {
		return
	}
	// The source's offset after the call, less what was copied.
	var end int64 = -1
	if offPtr != 0 {
		var b [8]byte
		if ptrace.ReadMem(t.tid, offPtr, b[:]) == nil {
			end = int64(le64(b[:]))
		}
	} else if pos, err := fdPos(t.tid, inFd); err == nil && ev.Nr != unix.SYS_TEE {
		end = pos
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/fd/%d", t.tid, inFd))
	var st unix.Stat_t
	if err == nil && unix.Fstat(int(f.Fd()), &st) == nil && isRegular(&st) && end >= ev.Ret {
		data := make([]byte, ev.Ret)
		if n, _ := f.ReadAt(data, end-ev.Ret); n == len(data) {
			ev.Echoed = data
		}
	}
	if f != nil {
		f.Close()
	}
	if ev.Echoed == nil {
		ev.Echo = 0
		r.warn("echo:"+syscalls.Name(int(ev.Nr)), "output sent to the terminal with %s from a pipe or socket is not re-emitted by replay -a", syscalls.Name(int(ev.Nr)))
	}
}

// echoTarget says whether fd of the task is the recorder's stdout (1) or
// stderr (2), so that replay re-emits what was written there.
func (r *recorder) echoTarget(tid, fd int) uint8 {
	// The same open file description as the recorder's stdout or stderr
	// (kcmp): a file the program opened itself, even the same /dev/null
	// the user sent rewind's output to, is not an echo.
	// Where rewind's stdout and stderr are one file (2>&1), the program's
	// fd 2 is its stderr and anything else its stdout.
	self := os.Getpid()
	order := []int{1, 2}
	if fd == 2 {
		order = []int{2, 1}
	}
	for _, out := range order {
		if same, err := sameOpenFile(self, out, tid, fd); err == nil {
			if same {
				return uint8(out)
			}
			continue
		}
		// No kcmp (CONFIG_KCMP off): compare the files themselves.
		if id, ok := statID(fmt.Sprintf("/proc/%d/fd/%d", tid, fd)); ok && id == r.outID[out] {
			return uint8(out)
		}
	}
	return 0
}

// sameOpenFile reports whether fd1 of process pid1 and fd2 of task tid2
// are one open file description (kcmp KCMP_FILE).
func sameOpenFile(pid1, fd1, tid2, fd2 int) (bool, error) {
	const kcmpFile = 0
	r, _, e := unix.Syscall6(unix.SYS_KCMP, uintptr(pid1), uintptr(tid2), kcmpFile, uintptr(fd1), uintptr(fd2), 0)
	if e != 0 {
		if e == unix.EBADF {
			return false, nil
		}
		return false, e
	}
	return r == 0, nil
}

// mmapRefuse refuses mappings of devices other than /dev/zero: their
// contents are the device's, which rewind can neither save nor rebuild.
func mmapRefuse(tid int, a [6]uint64) (int, string) {
	if a[3]&unix.MAP_ANONYMOUS != 0 {
		return 0, ""
	}
	var st unix.Stat_t
	link := fmt.Sprintf("/proc/%d/fd/%d", tid, int32(a[4]))
	if unix.Stat(link, &st) != nil || isRegular(&st) || isDevZero(&st) {
		return 0, "" // the kernel judges a bad fd
	}
	name, _ := os.Readlink(link)
	return int(unix.ENODEV), fmt.Sprintf("mmap of %s is not supported: rewind records mapped regular files and /dev/zero only", name)
}

// mapsDevZero reports an mmap of /dev/zero, which is anonymous memory
// (replay makes it so: the mmap event carries no file).
func mapsDevZero(tid int, a [6]uint64) bool {
	var st unix.Stat_t
	return unix.Stat(fmt.Sprintf("/proc/%d/fd/%d", tid, int32(a[4])), &st) == nil && isDevZero(&st)
}

func isRegular(st *unix.Stat_t) bool { return st.Mode&unix.S_IFMT == unix.S_IFREG }

// isDevZero: a mapping of /dev/zero is anonymous memory.
func isDevZero(st *unix.Stat_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && unix.Major(st.Rdev) == 1 && unix.Minor(st.Rdev) == 5
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
			a, _ := syscalls.DecodeClone(syscalls.Nr(t.entry.Orig_rax), tracee.SyscallArgs(&t.entry), tracee.Memory(t.tid))
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

func (r *recorder) dropReady(t *task) {
	for i, x := range r.ready {
		if x == t {
			r.ready = append(r.ready[:i], r.ready[i+1:]...)
			return
		}
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

// signal handles a signal-delivery-stop.
func (r *recorder) signal(t *task, sig int) error {
	si, err := ptrace.GetSiginfo(t.tid)
	if err != nil {
		return r.gone(t, err)
	}
	var regs ptrace.Regs
	if err := ptrace.GetRegs(t.tid, &regs); err != nil {
		return r.gone(t, err)
	}
	if t.injecting != nil && sig == t.injecting.Signo() {
		si = *t.injecting
		t.injecting = nil
		if err := ptrace.SetSiginfo(t.tid, &si); err != nil {
			return r.gone(t, err)
		}
		return r.deliver(t, &regs, &si, 0)
	}
	if sig == int(unix.SIGTRAP) {
		if site, d, ok := r.trapsOf(t.pid).At(t.tid, regs.Rip); ok {
			return r.rdrandTrap(t, &regs, site, d)
		}
	}
	if sig == int(unix.SIGSYS) && si.Code() == sysSeccomp && si.Errno() == seccomp.TrapI386 {
		return r.i386Syscall(t, &regs)
	}
	if sig == int(unix.SIGSEGV) && si.Code() == 0x80 { // SI_KERNEL: a #GP, maybe rdtsc
		if n, isRdtscp := r.rdtscLen(t.tid, regs.Rip); n > 0 && !t.tscSigsegv {
			return r.rdtsc(t, &regs, n, isRdtscp)
		} else if n > 0 {
			// The program asked for this SIGSEGV itself (PR_SET_TSC).
			return r.deliver(t, &regs, &si, trace.FlagSyncSignal)
		}
	}
	if si.Code() > 0 && isFault(sig) {
		return r.deliver(t, &regs, &si, trace.FlagSyncSignal)
	}
	if regs == t.resumeRegs {
		// No user instruction ran since the last deterministic point.
		return r.deliver(t, &regs, &si, 0)
	}
	if fatalByDefault(t.tid, sig) {
		// It kills the process wherever it lands, and nothing the program
		// does after its last syscall is visible: deliver it now (a spinning
		// program still dies of SIGTERM). Replay kills at the task-exit event.
		return r.gone(t, ptrace.Cont(t.tid, sig))
	}
	// Arrived at an arbitrary instruction: defer to the next syscall exit,
	// which replay can find without counting instructions.
	t.pending = append(t.pending, si)
	return r.gone(t, ptrace.Cont(t.tid, 0))
}

const sysSeccomp = 1 // si_code of a seccomp SIGSYS

// i386Syscall refuses a 32-bit syscall (int 0x80) from a 64-bit task:
// rewind does not describe the i386 table. The filter trapped it without
// running it; it fails with ENOSYS, recorded as a refused syscall, which
// replay finds with SYSEMU like any other.
func (r *recorder) i386Syscall(t *task, regs *ptrace.Regs) error {
	nr := syscalls.Nr(regs.Orig_rax)
	r.warn(fmt.Sprintf("i386:%d", nr), "32-bit syscall %d (int 0x80) is not supported; it fails with ENOSYS under rewind", nr)
	enosys := int64(unix.ENOSYS)
	regs.Rax = uint64(-enosys) // what a syscall-entry stop shows
	entry := &trace.Event{Kind: trace.KindSyscallEntry, Tid: int32(t.tid), Nr: int32(nr), Regs: *regs,
		Flags: trace.FlagRefused | trace.FlagI386, Values: [3]uint64{uint64(unix.ENOSYS)}}
	exit := &trace.Event{Kind: trace.KindSyscallExit, Tid: int32(t.tid), Nr: int32(nr), Ret: -enosys, Flags: trace.FlagI386}
	if err := r.append(entry); err != nil {
		return err
	}
	if err := r.append(exit); err != nil {
		return err
	}
	if err := ptrace.SetRegs(t.tid, regs); err != nil {
		return r.gone(t, err)
	}
	t.resumeRegs = *regs
	return r.gone(t, ptrace.Cont(t.tid, 0))
}

// fatalByDefault reports whether sig would terminate tid's process: its
// default action terminates and the process neither catches, ignores nor
// blocks it.
func fatalByDefault(tid, sig int) bool {
	switch unix.Signal(sig) {
	case unix.SIGCHLD, unix.SIGURG, unix.SIGWINCH, unix.SIGCONT,
		unix.SIGSTOP, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU:
		return false
	}
	st, err := tracee.ReadStatus(tid)
	return err == nil && st.DefaultAction(sig)
}

// stopsByDefault reports whether delivering sig to tid now stops its
// process (job control): SIGSTOP always, the terminal stop signals unless
// caught or ignored.
func stopsByDefault(tid, sig int) bool {
	switch unix.Signal(sig) {
	case unix.SIGSTOP:
		return true
	case unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU:
		st, err := tracee.ReadStatus(tid)
		return err == nil && st.DefaultAction(sig)
	}
	return false
}

// tgid reads a task's thread-group id from /proc.
func tgid(tid int) int {
	st, _ := tracee.ReadStatus(tid)
	return st.Tgid
}

func isFault(sig int) bool {
	switch unix.Signal(sig) {
	case unix.SIGSEGV, unix.SIGBUS, unix.SIGILL, unix.SIGFPE, unix.SIGTRAP:
		return true
	}
	return false
}

func (r *recorder) deliver(t *task, regs *ptrace.Regs, si *ptrace.Siginfo, flags uint32) error {
	if t.emu != nil {
		t.atSignalStop = true
		return r.tracedSignal(t, regs, si, flags)
	}
	if stopsByDefault(t.tid, si.Signo()) {
		flags |= trace.FlagJobStop
	}
	ev := &trace.Event{Kind: trace.KindSignal, Tid: int32(t.tid), Regs: *regs, Siginfo: *si, Flags: flags}
	if err := r.append(ev); err != nil {
		return err
	}
	return r.gone(t, ptrace.Cont(t.tid, si.Signo()))
}

// rdtscLen decodes the instruction at rip: 2 for rdtsc, 3 for rdtscp, else 0.
func (r *recorder) rdtscLen(tid int, rip uint64) (int, bool) {
	var b [3]byte
	if ptrace.ReadMem(tid, rip, b[:]) != nil {
		return 0, false
	}
	if b[0] == 0x0f && b[1] == 0x31 {
		return 2, false
	}
	if b[0] == 0x0f && b[1] == 0x01 && b[2] == 0xf9 {
		return 3, true
	}
	return 0, false
}

func (r *recorder) rdtsc(t *task, regs *ptrace.Regs, n int, isRdtscp bool) error {
	ev := &trace.Event{Kind: trace.KindRdtsc, Tid: int32(t.tid), Regs: *regs}
	var lo, hi, aux uint32
	if isRdtscp {
		lo, hi, aux = rdtscp()
		ev.Flags |= trace.FlagRdtscp
	} else {
		lo, hi = rdtsc()
	}
	ev.Values = [3]uint64{uint64(lo), uint64(hi), uint64(aux)}
	if err := r.append(ev); err != nil {
		return err
	}
	tracee.EmulateRdtsc(regs, ev.Values, ev.Flags&trace.FlagRdtscp != 0)
	if err := ptrace.SetRegs(t.tid, regs); err != nil {
		return r.gone(t, err)
	}
	t.resumeRegs = *regs
	return r.gone(t, ptrace.Cont(t.tid, 0))
}

// debugRecord, set by REWIND_DEBUG_RECORD=1, logs every stop the recorder handles.
var debugRecord = os.Getenv("REWIND_DEBUG_RECORD") == "1"
