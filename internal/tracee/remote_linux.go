package tracee

import (
	"bytes"
	"fmt"

	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"golang.org/x/sys/unix"
)

// Memory reads a stopped task's memory (syscalls.MemReader).
type Memory int

func (m Memory) ReadMem(addr uint64, buf []byte) error { return ptrace.ReadMem(int(m), addr, buf) }

// SyscallSite finds a syscall instruction (0f 05) in the task's vDSO, which
// stays mapped at the same address for the life of the image (ASLR is off
// under rewind). Remote syscalls jump there, so they work even while the
// rest of the image is being unmapped and rebuilt.
func SyscallSite(pid int) (uint64, error) {
	maps, err := ReadMaps(pid)
	if err != nil {
		return 0, err
	}
	for _, v := range maps {
		if v.Path != "[vdso]" {
			continue
		}
		buf := make([]byte, v.End-v.Start)
		if err := ptrace.ReadMem(pid, v.Start, buf); err != nil {
			return 0, fmt.Errorf("read vDSO of task %d: %w", pid, err)
		}
		if i := bytes.Index(buf, arch.SyscallInsn); i >= 0 {
			return v.Start + uint64(i), nil
		}
	}
	return 0, fmt.Errorf("task %d has no vDSO with a syscall instruction; rewind needs one for remote syscalls", pid)
}

// Remote runs syscalls inside a stopped task by pointing it at a syscall
// instruction and single-stepping through the syscall-entry and -exit stops.
type Remote struct {
	Tid  int
	Site uint64
	save ptrace.Regs
	// scratch is memory below the stack pointer used for arguments.
	scratch     uint64
	scratchSave []byte
}

const scratchSize = 8192

// NewRemote saves the task's registers and a scratch area below its stack
// pointer; Close restores both.
func NewRemote(tid int, site uint64) (*Remote, error) {
	r := &Remote{Tid: tid, Site: site}
	if err := ptrace.GetRegs(tid, &r.save); err != nil {
		return nil, err
	}
	r.scratch = (r.save.Rsp - 256 - scratchSize) &^ 15
	r.scratchSave = make([]byte, scratchSize)
	if err := ptrace.ReadMem(tid, r.scratch, r.scratchSave); err != nil {
		return nil, fmt.Errorf("save scratch memory of task %d: %w", tid, err)
	}
	return r, nil
}

// Do runs f with a Remote for task tid (its syscall site found in its
// vDSO) and restores the task afterwards, whether f succeeded or not.
func Do(tid int, f func(*Remote) error) error {
	site, err := SyscallSite(tid)
	if err != nil {
		return err
	}
	rem, err := NewRemote(tid, site)
	if err != nil {
		return err
	}
	err = f(rem)
	// Restore the task even when f failed: its caller may go on with it.
	if cerr := rem.Close(); err == nil {
		err = cerr
	}
	return err
}

// Scratch copies data into the scratch area at offset off and returns its address.
func (r *Remote) Scratch(off int, data []byte) (uint64, error) {
	if off+len(data) > scratchSize {
		return 0, fmt.Errorf("remote syscall argument too large (%d bytes)", len(data))
	}
	return r.scratch + uint64(off), ptrace.WriteMem(r.Tid, r.scratch+uint64(off), data)
}

// ScratchString copies a NUL-terminated string into the scratch area.
func (r *Remote) ScratchString(off int, s string) (uint64, error) {
	return r.Scratch(off, append([]byte(s), 0))
}

// Syscall runs one syscall in the task and returns its raw result.
func (r *Remote) Syscall(nr int, args ...uint64) (int64, error) {
	regs := r.save
	regs.Rip = r.Site
	regs.Rax = uint64(nr)
	regs.Orig_rax = ^uint64(0)
	a := [6]*uint64{&regs.Rdi, &regs.Rsi, &regs.Rdx, &regs.R10, &regs.R8, &regs.R9}
	for i, v := range args {
		*a[i] = v
	}
	if err := ptrace.SetRegs(r.Tid, &regs); err != nil {
		return 0, err
	}
	if err := EnterAndLeave(r.Tid); err != nil {
		return 0, fmt.Errorf("remote syscall %d: %w", nr, err)
	}
	if err := ptrace.GetRegs(r.Tid, &regs); err != nil {
		return 0, err
	}
	return int64(regs.Rax), nil
}

// Check runs a syscall and turns a negative result into an error.
func (r *Remote) Check(name string, nr int, args ...uint64) (uint64, error) {
	ret, err := r.Syscall(nr, args...)
	if err != nil {
		return 0, err
	}
	if ret < 0 && ret > -4096 {
		return 0, fmt.Errorf("remote %s in task %d: %w", name, r.Tid, unix.Errno(-ret))
	}
	return uint64(ret), nil
}

// Close restores the scratch memory and registers.
func (r *Remote) Close() error {
	if err := ptrace.WriteMem(r.Tid, r.scratch, r.scratchSave); err != nil {
		return err
	}
	return ptrace.SetRegs(r.Tid, &r.save)
}
