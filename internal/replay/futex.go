package replay

import (
	"encoding/binary"
	"fmt"

	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/tracee"
	"golang.org/x/sys/unix"
)

// The kernel writes a thread's id into futex words on its behalf in two
// places that replay cannot leave to it: replay's tasks have other ids than
// the recorded ones, which the words hold (the program stored them).

const (
	futexWaiters   = tracee.FutexWaiters
	futexOwnerDied = 0x40000000
	futexTidMask   = tracee.FutexTidMask
	// robustListLimit is the kernel's ROBUST_LIST_LIMIT.
	robustListLimit = 2048
)

// robustDeath does what the kernel does with a dying thread's robust futex
// list (exit_robust_list): every lock word on it that the thread still owns
// gets FUTEX_OWNER_DIED, so that the next locker sees EOWNERDEAD. The
// kernel compares the words with its own id for the thread, which in replay
// is not the recorded one, so it would change nothing: replay walks the
// list itself, with the recorded id, while the task's memory is intact
// (before its exit, exit_group or execve runs).
func (r *replayer) robustDeath(t *rtask) error {
	head := t.robustList
	t.robustList = 0
	if head == 0 {
		return nil
	}
	word := func(addr uint64) (uint64, bool) {
		v, err := ptrace.ReadWord(t.tid, addr)
		return v, err == nil
	}
	// struct robust_list_head: list.next, futex_offset, list_op_pending;
	// entry pointers carry the PI flag in bit 0.
	entry, ok := word(head)
	off, ok2 := word(head + 8)
	pending, ok3 := word(head + 16)
	if !ok || !ok2 || !ok3 {
		return nil // the kernel gives up the same way on a bad list
	}
	pending &^= 1
	for i := 0; entry&^1 != head && i < robustListLimit; i++ {
		e := entry &^ 1
		next, ok := word(e)
		if e != pending {
			if err := r.ownerDied(t, e+off); err != nil {
				return err
			}
		}
		if !ok {
			break
		}
		entry = next
	}
	if pending != 0 {
		return r.ownerDied(t, pending+off)
	}
	return nil
}

// ownerDied marks one robust lock word (handle_futex_death).
func (r *replayer) ownerDied(t *rtask, addr uint64) error {
	var b [4]byte
	if ptrace.ReadMem(t.tid, addr, b[:]) != nil {
		return nil
	}
	v := binary.LittleEndian.Uint32(b[:])
	if v&futexTidMask != uint32(t.rec) {
		return nil
	}
	binary.LittleEndian.PutUint32(b[:], v&futexWaiters|futexOwnerDied)
	if err := ptrace.WriteMem(t.tid, addr, b[:]); err != nil {
		return fmt.Errorf("event %d: mark robust futex at %#x of dead task %d: %w", r.rd.Count(), addr, t.rec, err)
	}
	return nil
}

// processDeath runs robustDeath for every task of t's process: the whole
// thread group dies (exit_group, execve, a fatal signal).
func (r *replayer) processDeath(t *rtask) error {
	for _, o := range r.tasks {
		if o.pid == t.pid {
			if err := r.robustDeath(o); err != nil {
				return err
			}
		}
	}
	return nil
}

// futexEntry keeps the futex state replay needs at a syscall's entry (a
// successful execve: see exec).
func (r *replayer) futexEntry(t *rtask, nr int) error {
	switch nr {
	case unix.SYS_FUTEX:
		return tracee.MarkPIWaiter(t.tid, arch.SyscallArgs(&t.entry), t.rec)
	case unix.SYS_SET_ROBUST_LIST:
		t.robustList = t.entry.Rdi
	case unix.SYS_EXIT:
		return r.robustDeath(t)
	case unix.SYS_EXIT_GROUP:
		return r.processDeath(t)
	}
	return nil
}
