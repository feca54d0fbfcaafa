// Package target is what a debugger front end sees of a program under
// replay, and how it tells the program to go on: threads, registers and
// memory, breakpoints and watchpoints, where in the recording the program
// is, and why it stopped. The gdb remote protocol server is written against
// these interfaces alone; the replay engine implements them, and a reverse
// execution engine will be another implementation behind the same ones.
package target

import (
	"github.com/rewind-dbg/rewind/internal/arch"
	"golang.org/x/sys/unix"
)

// Target is the stopped program. Its methods are called on the replay's
// tracer thread, from within Debugger.Stopped or Exited, except Interrupt.
type Target interface {
	// Pid is the recorded pid of the debugged process; Tid the recorded
	// tid of the task that stopped; Tasks all of the process's tasks.
	Pid() int
	Tid() int
	Tasks() []int
	// Event is the number of the last trace event replayed.
	Event() int
	// Exe is the path of the debugged executable (the trace's copy), and
	// Auxv the auxiliary vector its process started with.
	Exe() string
	Auxv() []byte

	Regs(tid int) (arch.Regs, error)
	// XState is the task's XSAVE area (x87, SSE, AVX state).
	XState(tid int) ([]byte, error)
	// ReadMem reads the process's memory as the program sees it:
	// breakpoints show their original bytes.
	ReadMem(addr uint64, buf []byte) error

	SetBreakpoint(addr uint64) error
	ClearBreakpoint(addr uint64) error
	SetWatchpoint(addr uint64, size int, kind arch.WatchKind) error
	ClearWatchpoint(addr uint64, kind arch.WatchKind) error
	// CatchSyscalls makes syscalls stop the program: all of them, the
	// listed numbers, or (off) none.
	CatchSyscalls(on, all bool, nrs []int)

	// Interrupt asks the running program to stop (a debugger's Ctrl-C);
	// a Stop with StopInterrupt follows. It may be called from any
	// goroutine while the program runs.
	Interrupt()
}

// StopReason says why the program stopped.
type StopReason int

const (
	StopStart      StopReason = iota // before the first instruction, or at the -g event
	StopBreakpoint                   // a software breakpoint of the debugger's
	StopStep                         // a single step finished
	StopWatch                        // a hardware watchpoint triggered (Stop.Watch)
	StopSignal                       // a signal is about to be delivered (Stop.Signal)
	StopSyscall                      // a caught syscall enters or returns (Stop.Syscall)
	StopInterrupt                    // the debugger asked for a stop (Target.Interrupt)
)

// Stop is why the program stopped, with what the reason needs.
type Stop struct {
	Reason StopReason
	// Watch is the watched address that triggered (StopWatch).
	Watch uint64
	// Signal and Siginfo are the signal being delivered (StopSignal).
	Signal  int
	Siginfo arch.Siginfo
	// Syscall is the caught syscall's number; SyscallReturn says whether
	// it is returning (StopSyscall).
	Syscall       int
	SyscallReturn bool
}

// Resume is the debugger's answer to a stop.
type Resume int

const (
	Continue Resume = iota // run until the next stop
	Step                   // run the stopped task one instruction
	Detach                 // no more stops: run to the end
	Quit                   // end now (the debugger went away)
)

// Debugger is told of every stop of the debugged process, answers the
// debugger's requests through the Target, and returns how to go on.
type Debugger interface {
	Stopped(t Target, stop Stop) Resume
	// Exited reports that the debugged process ended (after the last
	// stop); Quit ends the replay there.
	Exited(t Target, status unix.WaitStatus) Resume
}
