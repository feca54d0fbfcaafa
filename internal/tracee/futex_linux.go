package tracee

import (
	"encoding/binary"

	"github.com/rewind-dbg/rewind/internal/ptrace"
)

// Futex lock word bits (linux/futex.h).
const (
	FutexWaiters = 0x80000000
	FutexTidMask = 0x3fffffff
)

// MarkPIWaiter does at the entry of FUTEX_LOCK_PI (or LOCK_PI2) what the
// kernel does first: it sets FUTEX_WAITERS in a lock word another thread
// owns, so that the owner's unlock goes through the kernel. The kernel does
// it at some moment while other threads run, a race the owner may observe;
// the recorder does it at the call's entry, before any other task runs, and
// replay at the same point, so both see the bit at the same instruction.
// The kernel's own update then changes nothing. self is the caller's
// (recorded) id; args are the call's arguments.
func MarkPIWaiter(tid int, args [6]uint64, self int32) error {
	const (
		lockPI  = 6
		lockPI2 = 13
	)
	if op := uint32(args[1]) &^ (128 | 256); op != lockPI && op != lockPI2 {
		return nil
	}
	var b [4]byte
	if ptrace.ReadMem(tid, args[0], b[:]) != nil {
		return nil // the kernel fails the call with EFAULT
	}
	v := binary.LittleEndian.Uint32(b[:])
	if owner := v & FutexTidMask; owner == 0 || owner == uint32(self) || v&FutexWaiters != 0 {
		return nil
	}
	binary.LittleEndian.PutUint32(b[:], v|FutexWaiters)
	return ptrace.WriteMem(tid, args[0], b[:])
}
