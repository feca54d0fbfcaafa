// Package tracee holds what rewind knows how to do to a stopped task beyond
// raw ptrace: run a syscall inside it (rr calls these remote syscalls), read
// its address-space layout, and walk its initial stack. Every function here
// must run on the tracer thread (see package ptrace) with the task stopped.
package tracee

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"golang.org/x/sys/unix"
)

// VMA is one line of /proc/PID/maps.
type VMA struct {
	Start, End uint64
	Perms      string // "r-xp"
	Offset     uint64
	Dev        uint64 // major:minor of the mapped file's device, as unix.Mkdev
	Inode      uint64
	Path       string
}

// Prot converts the permission letters to PROT_* bits.
func (v VMA) Prot() uint32 {
	var p uint32
	if v.Perms[0] == 'r' {
		p |= unix.PROT_READ
	}
	if v.Perms[1] == 'w' {
		p |= unix.PROT_WRITE
	}
	if v.Perms[2] == 'x' {
		p |= unix.PROT_EXEC
	}
	return p
}

// Shared reports a MAP_SHARED mapping.
func (v VMA) Shared() bool { return v.Perms[3] == 's' }

// Special reports kernel-provided areas that rewind neither saves nor rebuilds.
func (v VMA) Special() bool {
	switch v.Path {
	case "[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]", "[uprobes]":
		return true
	}
	return false
}

// ReadMaps parses /proc/PID/maps.
func ReadMaps(pid int) ([]VMA, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, fmt.Errorf("read address space of task %d: %w", pid, err)
	}
	vmas, err := ParseMaps(b)
	if err != nil {
		return nil, fmt.Errorf("address space of task %d: %w", pid, err)
	}
	return vmas, nil
}

// ParseMaps parses the text of a /proc/PID/maps file. Each line is
// "start-end perms offset major:minor inode", then, after padding, the
// path to the end of the line: a path may hold spaces (as may a named
// anonymous mapping, "[anon:glibc: malloc]"), and the kernel appends
// " (deleted)" to a file unlinked since. A line that does not have this
// shape is an error, not a mapping silently skipped.
func ParseMaps(b []byte) ([]VMA, error) {
	var out []VMA
	for n, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		v, err := parseMapsLine(line)
		if err != nil {
			return nil, fmt.Errorf("maps line %d %q: %w", n+1, line, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func parseMapsLine(line string) (VMA, error) {
	var v VMA
	rest := line
	field := func() string {
		rest = strings.TrimLeft(rest, " ")
		f, r, _ := strings.Cut(rest, " ")
		rest = r
		return f
	}
	start, end, ok := strings.Cut(field(), "-")
	if !ok {
		return v, fmt.Errorf("no address range")
	}
	var err error
	if v.Start, err = strconv.ParseUint(start, 16, 64); err != nil {
		return v, err
	}
	if v.End, err = strconv.ParseUint(end, 16, 64); err != nil {
		return v, err
	}
	if v.Perms = field(); len(v.Perms) != 4 {
		return v, fmt.Errorf("permissions %q", v.Perms)
	}
	if v.Offset, err = strconv.ParseUint(field(), 16, 64); err != nil {
		return v, err
	}
	maj, mnr, ok := strings.Cut(field(), ":")
	if !ok {
		return v, fmt.Errorf("no device")
	}
	ma, err := strconv.ParseUint(maj, 16, 32)
	if err != nil {
		return v, err
	}
	mi, err := strconv.ParseUint(mnr, 16, 32)
	if err != nil {
		return v, err
	}
	v.Dev = unix.Mkdev(uint32(ma), uint32(mi))
	if v.Inode, err = strconv.ParseUint(field(), 10, 64); err != nil {
		return v, err
	}
	v.Path = strings.TrimLeft(rest, " ")
	return v, nil
}

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
// vDSO) and restores the task afterwards.
func Do(tid int, f func(*Remote) error) error {
	site, err := SyscallSite(tid)
	if err != nil {
		return err
	}
	rem, err := NewRemote(tid, site)
	if err != nil {
		return err
	}
	if err := f(rem); err != nil {
		return err
	}
	return rem.Close()
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

// HideVDSO rewrites the AT_SYSINFO_EHDR entry of the initial stack's auxv
// to AT_IGNORE, so that libc and the Go runtime fall back to real syscalls
// for clock_gettime and friends, which rewind records. rsp must point at
// argc (the state right after execve).
func HideVDSO(pid int, rsp uint64) error {
	word := func(addr uint64) (uint64, error) { return ptrace.ReadWord(pid, addr) }
	is, err := arch.ReadInitialStack(rsp, word)
	if err != nil {
		return fmt.Errorf("read initial stack of task %d: %w", pid, err)
	}
	p, ok := is.AuxvEntry(arch.AtSysinfoEhdr, word)
	if !ok {
		return nil
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], arch.AtIgnore)
	return ptrace.WriteMem(pid, p, b[:])
}

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
