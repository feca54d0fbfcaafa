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
		addr := regs.Rdi
		flags, rerr := ptrace.ReadWord(tid, addr)
		if addr == 0 || rerr != nil {
			return nil, nil // the kernel fails it
		}
		if flags&cloneUntraced == 0 {
			return nil, nil
		}
		if err := ptrace.WriteMem(tid, addr, binary.LittleEndian.AppendUint64(nil, flags&^cloneUntraced)); err != nil {
			return nil, err
		}
		return func(tid int) error {
			return ptrace.WriteMem(tid, addr, binary.LittleEndian.AppendUint64(nil, flags))
		}, nil
	}
	return nil, nil
}
