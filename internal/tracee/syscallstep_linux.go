package tracee

import (
	"fmt"

	"github.com/rewind-dbg/rewind/internal/ptrace"
)

// EnterAndLeave resumes a task whose registers point at a syscall
// instruction, through the syscall's entry, until its exit stop.
func EnterAndLeave(tid int) error {
	entered := false
	for {
		op, err := nextSyscallStop(tid)
		if err != nil {
			return err
		}
		if op == ptrace.OpEntry {
			entered = true
		} else if op == ptrace.OpExit && entered {
			return nil
		}
	}
}

// Enter resumes a task whose registers point at a syscall instruction until
// the syscall's entry stop.
func Enter(tid int) error {
	for {
		op, err := nextSyscallStop(tid)
		if err != nil || op == ptrace.OpEntry {
			return err
		}
	}
}

// nextSyscallStop resumes tid with PTRACE_SYSCALL to its next syscall stop
// and says whether it is an entry or an exit. Passed over on the way: a
// stale exit report of a syscall that SYSEMU skipped, seccomp stops (the
// recorder's filter traps the syscalls it runs itself), and signals the
// kernel sent meanwhile (SIGCHLD from a child replay really ran), which are
// dropped: the recorded ones are injected at their points.
func nextSyscallStop(tid int) (int, error) {
	for {
		if err := ptrace.Syscall(tid, 0); err != nil {
			return 0, err
		}
		st, err := ptrace.Wait(tid)
		if err != nil {
			return 0, err
		}
		switch st.Kind() {
		case ptrace.SeccompStop, ptrace.SignalStop:
			continue
		case ptrace.SyscallStop:
			return ptrace.SyscallOp(tid)
		}
		return 0, fmt.Errorf("task %d: unexpected %v in a syscall", tid, st)
	}
}
