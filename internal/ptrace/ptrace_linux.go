// Package ptrace is rewind's thin, typed layer over ptrace(2) and wait4(2)
// for x86-64 Linux.
//
// Precondition (the kernel's, not ours): every ptrace request for a tracee
// must come from the OS thread that attached it. Go moves goroutines between
// threads, so all tracing runs inside Run, which locks one goroutine to one
// OS thread for the whole session; nothing else may call into this package.
package ptrace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/rewind-dbg/rewind/internal/arch"
	"golang.org/x/sys/unix"
)

// Regs is the general-purpose register file as ptrace presents it.
type Regs = arch.Regs

// Run calls f on a goroutine locked to a fresh OS thread and returns its
// result. The thread is never unlocked, so it dies with the goroutine and
// no other goroutine can inherit its tracer identity.
func Run(f func() error) error {
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer func() {
			if r := recover(); r != nil {
				ch <- fmt.Errorf("internal error in tracer thread: %v\n%s", r, debug.Stack())
			}
		}()
		ch <- f()
	}()
	return <-ch
}

// Ptrace options rewind always sets.
const Options = unix.PTRACE_O_TRACESYSGOOD | unix.PTRACE_O_TRACESECCOMP |
	unix.PTRACE_O_TRACECLONE | unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACEVFORK |
	unix.PTRACE_O_TRACEEXEC | unix.PTRACE_O_TRACEEXIT | unix.PTRACE_O_EXITKILL

const (
	reqSysemu     = 31
	reqGetSiginfo = 0x4202
	reqSetSiginfo = 0x4203
)

// Error is a failed ptrace request, naming the request and the task.
type Error struct {
	Op  string
	Tid int
	Err error
}

func (e *Error) Error() string { return fmt.Sprintf("ptrace %s on task %d: %v", e.Op, e.Tid, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

func wrap(op string, tid int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Tid: tid, Err: err}
}

// IsGone reports whether err means the task no longer exists (it was killed
// or exited between two requests).
func IsGone(err error) bool { return errors.Is(err, unix.ESRCH) }

// ErrExited reports memory access to a task whose address space is gone
// (it exited, or is exiting, after it stopped). It satisfies IsGone.
var ErrExited = fmt.Errorf("task has exited: %w", unix.ESRCH)

func SetOptions(tid, opts int) error {
	return wrap("SETOPTIONS", tid, unix.PtraceSetOptions(tid, opts))
}
func Cont(tid, sig int) error { return wrap("CONT", tid, unix.PtraceCont(tid, sig)) }

// Detach lets tid go, delivering sig.
func Detach(tid, sig int) error {
	return wrap("DETACH", tid, rawPtrace(unix.PTRACE_DETACH, tid, 0, uintptr(sig)))
}

// Seize attaches to tid with PTRACE_SEIZE and opts.
func Seize(tid, opts int) error {
	return wrap("SEIZE", tid, rawPtrace(unix.PTRACE_SEIZE, tid, 0, uintptr(opts)))
}

// Interrupt stops a seized tid where it is (PTRACE_EVENT_STOP); a
// syscall it is blocked in returns to be restarted.
func Interrupt(tid int) error {
	return wrap("INTERRUPT", tid, rawPtrace(unix.PTRACE_INTERRUPT, tid, 0, 0))
}

// Listen leaves tid in its job-control stop, as if untraced, until SIGCONT
// (it then traps again with PTRACE_EVENT_STOP).
func Listen(tid int) error       { return wrap("LISTEN", tid, rawPtrace(unix.PTRACE_LISTEN, tid, 0, 0)) }
func Syscall(tid, sig int) error { return wrap("SYSCALL", tid, unix.PtraceSyscall(tid, sig)) }

// Sysemu resumes tid until its next syscall entry, which the kernel then
// skips: replay supplies the result.
func Sysemu(tid, sig int) error {
	return wrap("SYSEMU", tid, rawPtrace(reqSysemu, tid, 0, uintptr(sig)))
}

func GetRegs(tid int, r *Regs) error { return wrap("GETREGS", tid, unix.PtraceGetRegs(tid, r)) }
func SetRegs(tid int, r *Regs) error { return wrap("SETREGS", tid, unix.PtraceSetRegs(tid, r)) }

// EventMsg returns PTRACE_GETEVENTMSG (new tid, exit status, ...).
func EventMsg(tid int) (uint64, error) {
	m, err := unix.PtraceGetEventMsg(tid)
	return uint64(m), wrap("GETEVENTMSG", tid, err)
}

// Siginfo is the kernel's siginfo_t (see arch).
type Siginfo = arch.Siginfo

// Stop is a decoded wait status.
type Stop struct {
	Tid    int
	Status unix.WaitStatus
}

// waitNoThread is __WNOTHREAD: wait only for children and tracees of the
// calling thread (the tracer), never for other children of rewind's
// process, such as the gdb it started.
const waitNoThread = 0x20000000

// Wait waits for a state change of tid (-1: any tracee, including new clones).
func Wait(tid int) (Stop, error) { return wait(tid, unix.WALL|waitNoThread) }

// WaitStopped waits for tid, an untraced child, to stop or end.
func WaitStopped(tid int) (Stop, error) { return wait(tid, unix.WALL|unix.WUNTRACED|waitNoThread) }

func wait(tid, flags int) (Stop, error) {
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(tid, &ws, flags, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return Stop{}, fmt.Errorf("wait4(%d): %w", tid, err)
		}
		return Stop{Tid: got, Status: ws}, nil
	}
}

// Kind classifies a stop.
type Kind int

const (
	Exited      Kind = iota // the task is gone: WIFEXITED
	Killed                  // the task is gone: WIFSIGNALED
	SyscallStop             // syscall entry or exit (TRACESYSGOOD)
	SeccompStop             // PTRACE_EVENT_SECCOMP: syscall entry under our filter
	EventStop               // another PTRACE_EVENT_* (clone, exec, exit, ...)
	SignalStop              // signal-delivery-stop
)

// Kind returns what kind of stop s is.
func (s Stop) Kind() Kind {
	switch {
	case s.Status.Exited():
		return Exited
	case s.Status.Signaled():
		return Killed
	}
	sig := s.Status.StopSignal()
	if sig == unix.SIGTRAP|0x80 {
		return SyscallStop
	}
	switch s.Event() {
	case unix.PTRACE_EVENT_SECCOMP:
		return SeccompStop
	case 0:
		return SignalStop
	}
	return EventStop
}

// Event returns the PTRACE_EVENT_* number of an EventStop. Most events
// stop with SIGTRAP, but PTRACE_EVENT_STOP of a job-control stop carries
// the stopping signal (x/sys's TrapCause sees only SIGTRAP ones).
func (s Stop) Event() int {
	if !s.Status.Stopped() {
		return 0
	}
	return int(s.Status>>16) & 0xff
}

// Signal returns the signal of a SignalStop or the fatal signal of Killed.
func (s Stop) Signal() int {
	if s.Status.Signaled() {
		return int(s.Status.Signal())
	}
	return int(s.Status.StopSignal())
}

func (s Stop) String() string {
	switch s.Kind() {
	case Exited:
		return fmt.Sprintf("task %d exited with status %d", s.Tid, s.Status.ExitStatus())
	case Killed:
		return fmt.Sprintf("task %d killed by %v", s.Tid, s.Status.Signal())
	case SyscallStop:
		return fmt.Sprintf("task %d syscall stop", s.Tid)
	case SeccompStop:
		return fmt.Sprintf("task %d seccomp stop", s.Tid)
	case EventStop:
		return fmt.Sprintf("task %d ptrace event %d", s.Tid, s.Event())
	}
	return fmt.Sprintf("task %d signal stop %v", s.Tid, s.Status.StopSignal())
}

// WaitFromAnyThread waits for tracee tid from a thread other than its
// tracer, as the kernel allows for a thread of the same process that names
// the tracee (never -1, which could reap rewind's own children).
func WaitFromAnyThread(tid int) (Stop, error) {
	if tid <= 0 {
		return Stop{}, fmt.Errorf("wait from any thread for task %d: a tracee must be named", tid)
	}
	return wait(tid, unix.WALL)
}

// ReadWord reads the 8-byte little-endian word at addr.
func ReadWord(pid int, addr uint64) (uint64, error) {
	var b [8]byte
	err := ReadMem(pid, addr, b[:])
	return binary.LittleEndian.Uint64(b[:]), err
}
