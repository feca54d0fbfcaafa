package arch

import "golang.org/x/sys/unix"

// UcSigmaskOffset is where uc_sigmask sits from the stack pointer at a
// signal handler's first instruction: the return address, then struct
// ucontext's uc_flags, uc_link, uc_stack (24 bytes) and uc_mcontext (256).
const UcSigmaskOffset = 8 + 8 + 8 + 24 + 256

// FaultSignal says whether sig is one an instruction raises when it faults
// (it may also be sent; si_code tells which: see SyncFault).
func FaultSignal(sig int) bool {
	switch unix.Signal(sig) {
	case unix.SIGSEGV, unix.SIGBUS, unix.SIGILL, unix.SIGFPE, unix.SIGTRAP:
		return true
	}
	return false
}

// SyncFault says whether a fault signal with this siginfo was raised by
// the instruction the task executed: the kernel's own si_code values are
// positive, those of a sender (SI_USER, SI_TKILL, SI_QUEUE) are not.
func SyncFault(si *Siginfo) bool { return FaultSignal(si.Signo()) && si.Code() > 0 }
