package tracee

import (
	"encoding/binary"

	"github.com/rewind-dbg/rewind/internal/ptrace"
	"golang.org/x/sys/unix"
)

// cloneUntraced is CLONE_UNTRACED: the new task is not traced.
const cloneUntraced = 0x00800000

// StripUntraced clears CLONE_UNTRACED from the clone or clone3 that task
// tid is stopped at the entry of (registers regs): a task rewind does not
// trace would run syscalls rewind neither records nor, in replay, decides.
// It returns what puts the call's arguments back as the program wrote them,
// to apply to the caller and to the new task once the call is done (nil if
// nothing was changed).
func StripUntraced(tid, nr int, regs *ptrace.Regs) (restore func(tid int) error, err error) {
	switch nr {
	case unix.SYS_CLONE:
		if regs.Rdi&cloneUntraced == 0 {
			return nil, nil
		}
		orig := regs.Rdi
		r := *regs
		r.Rdi &^= cloneUntraced
		if err := ptrace.SetRegs(tid, &r); err != nil {
			return nil, err
		}
		return func(tid int) error {
			var r ptrace.Regs
			if err := ptrace.GetRegs(tid, &r); err != nil {
				return err
			}
			r.Rdi = orig
			return ptrace.SetRegs(tid, &r)
		}, nil
	case unix.SYS_CLONE3:
		var b [8]byte
		if regs.Rdi == 0 || ptrace.ReadMem(tid, regs.Rdi, b[:]) != nil {
			return nil, nil // the kernel fails it
		}
		flags := binary.LittleEndian.Uint64(b[:])
		if flags&cloneUntraced == 0 {
			return nil, nil
		}
		addr := regs.Rdi
		binary.LittleEndian.PutUint64(b[:], flags&^cloneUntraced)
		if err := ptrace.WriteMem(tid, addr, b[:]); err != nil {
			return nil, err
		}
		return func(tid int) error {
			binary.LittleEndian.PutUint64(b[:], flags)
			return ptrace.WriteMem(tid, addr, b[:])
		}, nil
	}
	return nil, nil
}
