package tracee

import (
	"fmt"
	"math/rand/v2"
	"syscall"

	"github.com/rewind-dbg/rewind/internal/ptrace"
	"golang.org/x/sys/unix"
)

// addrNoRandomize is the personality flag that turns off ASLR (linux/personality.h).
const addrNoRandomize = 0x0040000

// Spawn starts argv under ptrace with address-space randomisation off and
// returns the pid, stopped after its execve before its first instruction,
// bound to one CPU. It must run on the tracer thread: the child inherits
// that thread's personality and tracer.
//
// The task is attached with PTRACE_SEIZE (and so are all the tasks it
// creates), which is what lets a tracer keep a task in a job-control stop
// (PTRACE_LISTEN) and interrupt it (PTRACE_INTERRUPT). Go starts a child
// with PTRACE_TRACEME only, so Spawn detaches from the exec stop leaving
// SIGSTOP pending, seizes the stopped task, and continues its process
// again; the SIGCONT is then suppressed at its delivery, before the program
// runs an instruction.
func Spawn(path string, argv, env []string, dir string, files []uintptr, cpu int) (int, error) {
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return 0, fmt.Errorf("bind tracee to CPU %d: %w", cpu, err)
	}
	old, _, _ := unix.RawSyscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
	if _, _, e := unix.RawSyscall(unix.SYS_PERSONALITY, old|addrNoRandomize, 0, 0); e != 0 {
		return 0, fmt.Errorf("turn off address-space randomisation: %w", e)
	}
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{
		Dir: dir, Env: env, Files: files,
		Sys: &syscall.SysProcAttr{Ptrace: true},
	})
	if err != nil {
		return 0, fmt.Errorf("start %s: %w", path, err)
	}
	if err := seize(pid); err != nil {
		unix.Kill(pid, unix.SIGKILL)
		return 0, fmt.Errorf("start %s: %w", path, err)
	}
	return pid, nil
}

func seize(pid int) error {
	st, err := ptrace.Wait(pid)
	if err != nil {
		return err
	}
	if st.Kind() != ptrace.SignalStop || st.Signal() != int(unix.SIGTRAP) {
		return fmt.Errorf("expected the exec stop, got %v", st)
	}
	if err := ptrace.Detach(pid, int(unix.SIGSTOP)); err != nil {
		return err
	}
	if st, err = ptrace.WaitStopped(pid); err != nil {
		return err
	}
	if !st.Status.Stopped() || st.Status.StopSignal() != unix.SIGSTOP {
		return fmt.Errorf("expected a stop after detaching, got %v", st)
	}
	if err := ptrace.Seize(pid, ptrace.Options); err != nil {
		return err
	}
	if err := unix.Kill(pid, unix.SIGCONT); err != nil {
		return err
	}
	// The seized task traps (the group stop, then the SIGCONT wake-up)
	// before it can deliver the pending SIGCONT; that delivery stop is
	// where it is left, before any instruction of the program.
	for {
		if st, err = ptrace.Wait(pid); err != nil {
			return err
		}
		switch {
		case st.Kind() == ptrace.SignalStop && st.Signal() == int(unix.SIGCONT):
			return nil
		case st.Kind() == ptrace.EventStop && st.Event() == unix.PTRACE_EVENT_STOP:
			if err := ptrace.Cont(pid, 0); err != nil {
				return err
			}
		default:
			return fmt.Errorf("expected the seized task to stop for SIGCONT, got %v", st)
		}
	}
}

// AnyCPU picks one of the CPUs this process may run on at random, so that
// concurrent recordings (a parallel test run) spread over the machine.
func AnyCPU() int {
	var set unix.CPUSet
	var cpus []int
	if unix.SchedGetaffinity(0, &set) == nil {
		for i := 0; i < 1024; i++ {
			if set.IsSet(i) {
				cpus = append(cpus, i)
			}
		}
	}
	if len(cpus) == 0 {
		return 0
	}
	return cpus[rand.IntN(len(cpus))]
}

// SetTSCTrap makes rdtsc/rdtscp in the task raise SIGSEGV so that their
// values can be recorded and replayed.
func SetTSCTrap(rem *Remote) error {
	_, err := rem.Check("prctl(PR_SET_TSC)", unix.SYS_PRCTL, unix.PR_SET_TSC, unix.PR_TSC_SIGSEGV)
	return err
}
