// Package syscalls is rewind's x86-64 Linux syscall table: for every syscall
// number, how it is recorded (which memory the kernel writes into the tracee)
// and how it is replayed (emulated from the trace, or executed for real
// because it shapes the address space or kernel-held task state).
//
// The table is deliberately explicit: every number the kernel defines has an
// entry (a test enforces it), so a syscall rewind does not understand is
// refused loudly, by name, instead of being recorded wrongly.
package syscalls

import "fmt"

// Rule says how a syscall is treated in replay.
type Rule uint8

const (
	// Emulate: replay skips the syscall and feeds the recorded result and
	// the recorded memory writes. Most syscalls are like this.
	Emulate Rule = iota
	// Execute: replay runs the syscall for real (it changes the address
	// space or kernel state that later execution depends on); its result
	// must equal the recorded one, else replay diverges.
	Execute
	// ExecuteKeepResult: replay runs the syscall for real but its result
	// legitimately differs (it names a thread id); the recorded result is
	// what the tracee sees.
	ExecuteKeepResult
	// Special: record and replay handle it with dedicated code (mmap of a
	// file, execve, clone, exit...). The entry still describes its outputs.
	Special
	// Unsupported: the recorder makes the syscall fail with ENOSYS and warns
	// once, naming it; programs normally fall back (as they do on older
	// kernels). Replay feeds the same ENOSYS.
	Unsupported
)

func (r Rule) String() string {
	switch r {
	case Emulate:
		return "emulate"
	case Execute:
		return "execute"
	case ExecuteKeepResult:
		return "execute-keep-result"
	case Special:
		return "special"
	case Unsupported:
		return "unsupported"
	}
	return fmt.Sprintf("Rule(%d)", uint8(r))
}

// MemReader reads tracee memory; output rules that follow pointers (iovec
// arrays, socklen_t in/out parameters, msghdr) use it at syscall exit.
type MemReader interface {
	ReadMem(addr uint64, buf []byte) error
}

// Call is one syscall as seen at its exit: number, arguments and result.
type Call struct {
	Nr   int
	Args [6]uint64
	Ret  int64
	Mem  MemReader
}

// Region is a range of tracee memory the kernel may have written.
type Region struct {
	Addr uint64
	Len  int
}

// Outputs computes the regions a completed syscall wrote. It is called only
// when the syscall succeeded (Ret >= 0) unless the entry sets OutOnError.
type Outputs func(c *Call) ([]Region, error)

// Flag marks what record and replay must do beyond the Rule.
type Flag uint16

const (
	// RunAtEntry: replay starts this Special syscall for real at its entry
	// event (clone, exit, rt_sigreturn); the others run at their exit event
	// (mmap, where the address is known) or their exec event (execve).
	RunAtEntry Flag = 1 << iota
	// NewTask: creates a task; its result names the child, so it differs
	// between record and replay.
	NewTask
	// EndsTask: ends the thread or the whole process; no exit stop follows.
	EndsTask
	// EchoesBuffer: writes the bytes of a user buffer (or iovec array) to
	// an fd; `replay -a` re-emits them when the fd was the terminal.
	EchoesBuffer
	// EchoesCopy: copies between two fds in the kernel (sendfile, splice);
	// the recorder saves the copied bytes when the output is echoed.
	EchoesCopy
)

// Entry describes one syscall number.
type Entry struct {
	Name  string
	Rule  Rule
	Flags Flag
	// Out lists what the kernel writes into tracee memory; nil means nothing.
	Out Outputs
	// OutOnError: compute Out even when the syscall failed.
	OutOnError bool
	// OutInTarget: the Out regions are in the memory of the process whose
	// pid is the first argument (process_vm_writev), which must be a
	// recorded one.
	OutInTarget bool
	// Refuse, when set, is consulted at syscall entry during recording: a
	// non-empty reason means the recorder skips the call, makes it fail with
	// -errno and warns with the reason (an ioctl whose outputs are unknown).
	Refuse func(args [6]uint64) (errno int, reason string)
	// Quiet: refuse an Unsupported syscall without a warning, because
	// libraries probe it and fall back as designed (glibc and rseq).
	Quiet bool
	// Note says why an entry is unsupported or special (shown to users).
	Note string
}

// Lookup returns the table entry for nr; callers must not modify it. Numbers outside the table (never
// defined by the kernel) get an Unsupported entry named "syscall_N".
func Lookup(nr int) *Entry {
	if nr >= 0 && nr < len(table) && table[nr].Name != "" {
		return &table[nr]
	}
	return &Entry{Name: fmt.Sprintf("syscall_%d", nr), Rule: Unsupported, Note: "not a known x86-64 syscall number"}
}

// Name returns the syscall's name, or "syscall_N".
func Name(nr int) string { return Lookup(nr).Name }

// X32Bit marks x32-ABI syscall numbers. rewind's seccomp filter fails every
// number whose low 32 bits are at or above it (the x32 ABI, and -1) with
// ENOSYS without stopping the tracer: the recording has no event for them.
const X32Bit = 0x40000000

// FailedByFilter reports whether the filter fails syscall nr (orig_rax)
// without a stop.
func FailedByFilter(nr uint64) bool { return uint32(nr) >= X32Bit }

// Nr is the syscall number the kernel acts on for a given orig_rax: its low
// 32 bits, as a signed int (the entry code ignores the upper half).
func Nr(origRax uint64) int { return int(int32(origRax)) }
