package record

import (
	"fmt"
	"math"
	"os"

	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/seccomp"
	"github.com/rewind-dbg/rewind/internal/syscalls"
	"github.com/rewind-dbg/rewind/internal/trace"
	"github.com/rewind-dbg/rewind/internal/tracee"
	"golang.org/x/sys/unix"
)

func (r *recorder) syscallEntry(t *task) error {
	if err := ptrace.GetRegs(t.tid, &t.entry); err != nil {
		return r.gone(t, err)
	}
	if seccomp.InVsyscallPage(t.entry.Rip) {
		return r.vsyscall(t)
	}
	if held, err := r.tracedSyscallEntry(t, &t.entry); held || err != nil {
		return err
	}
	nr := syscalls.Nr(t.entry.Orig_rax)
	ent := syscalls.Lookup(nr)
	ev := &trace.Event{Kind: trace.KindSyscallEntry, Tid: int32(t.tid), Nr: int32(nr), Regs: t.entry}
	t.skip = nil
	if t.strict || len(t.filters) > 0 {
		// The program's own filters decide first, as the kernel's would.
		if killed, err := r.ownFilters(t, nr); killed || err != nil {
			return err
		}
	}
	a := arch.SyscallArgs(&t.entry)
	switch {
	case t.skip != nil:
	case nr == unix.SYS_PTRACE:
		if err := r.ptraceCall(t, a); err != nil {
			return err
		}
	case nr == unix.SYS_WAIT4 || nr == unix.SYS_WAITID:
		if err := r.waitCall(t, nr, a); err != nil {
			return r.gone(t, err)
		}
	case ent.Rule == syscalls.Unsupported:
		if !ent.Quiet {
			r.warn("sys:"+ent.Name, "%s is not supported (%s); it fails with ENOSYS under rewind", ent.Name, ent.Note)
		}
		t.refuse(unix.ENOSYS)
	case r.ownSeccompCall(t, nr, a):
	case ent.Refuse != nil:
		if errno, why := ent.Refuse(a); why != "" {
			r.warn("refuse:"+why, "%s", why)
			t.refuse(unix.Errno(errno))
		}
	case nr == unix.SYS_MMAP:
		if errno, why := mmapRefuse(t.tid, a); why != "" {
			r.warn("refuse:"+why, "%s", why)
			t.refuse(unix.Errno(errno))
		}
	case ent.OutInTarget && r.tasks[int(int32(a[0]))] == nil:
		r.warn("outside:"+ent.Name, "%s into process %d, which is not recorded, is not supported: rewind cannot record what it changes there; it fails with EPERM", ent.Name, int32(a[0]))
		t.refuse(unix.EPERM)
	}
	if t.skip != nil {
		ev.Flags |= trace.FlagRefused
		if t.skip.ret < 0 {
			ev.Values[0] = uint64(-t.skip.ret)
		}
		regs := t.entry
		regs.Orig_rax = ^uint64(0) // the kernel skips syscall -1
		if err := ptrace.SetRegs(t.tid, &regs); err != nil {
			return r.gone(t, err)
		}
	}
	if t.skip == nil {
		r.signals.notice(t, nr, a)
		restore, err := tracee.StripUntraced(t.tid, nr, &t.entry)
		if err != nil {
			return r.gone(t, err)
		}
		t.restoreArgs = restore
	}
	if nr == unix.SYS_FUTEX && t.skip == nil {
		if err := tracee.MarkPIWaiter(t.tid, arch.SyscallArgs(&t.entry), int32(t.tid)); err != nil {
			return r.gone(t, err)
		}
	}
	if (nr == unix.SYS_EXECVE || nr == unix.SYS_EXECVEAT) && t.skip == nil {
		r.execing[t.pid] = true
	}
	if nr == unix.SYS_SHMDT && t.skip == nil {
		t.detaching = shmDetaching(t.tid, t.entry.Rdi)
	}
	if err := r.append(ev); err != nil {
		return err
	}
	t.state = stInSyscall
	if syscalls.Lookup(nr).Flags&syscalls.EndsTask == 0 {
		r.release(t)
	}
	if nr == unix.SYS_EXIT_GROUP {
		r.doom(t)
	}
	// An exiting task keeps the token until it is gone: the kernel clears
	// its CLONE_CHILD_CLEARTID word on the way out, and a joining thread
	// must see that at the same point in replay.
	return r.gone(t, ptrace.Syscall(t.tid, 0))
}

func (r *recorder) syscallExit(t *task) error {
	if t.state != stInSyscall {
		return fmt.Errorf("task %d: syscall-exit stop while not in a syscall (state %d)", t.tid, t.state)
	}
	var regs ptrace.Regs
	if err := ptrace.GetRegs(t.tid, &regs); err != nil {
		return r.gone(t, err)
	}
	nr := syscalls.Nr(t.entry.Orig_rax)
	ret := int64(regs.Rax)
	if nr == unix.SYS_EXECVE || nr == unix.SYS_EXECVEAT {
		delete(r.execing, t.pid) // it failed, or the exec event came first
	}
	if err := t.restoreCallArgs(); err != nil {
		return r.gone(t, err)
	}
	if t.waiting != nil {
		if _, err := r.finishWait(t, &regs, ret); err != nil {
			return r.gone(t, err)
		}
	}
	ev := &trace.Event{Kind: trace.KindSyscallExit, Tid: int32(t.tid), Nr: int32(nr), Ret: ret}
	if sk := t.skip; sk != nil {
		ev.Ret = sk.ret
		regs.Rax = uint64(sk.ret)
		regs.Orig_rax = t.entry.Orig_rax
		if err := ptrace.SetRegs(t.tid, &regs); err != nil {
			return r.gone(t, err)
		}
		for _, w := range sk.mem {
			if err := ptrace.WriteMem(t.tid, w.Addr, w.Data); err != nil {
				return r.gone(t, err)
			}
		}
		ev.Mem = sk.mem
		if sk.traceeMem != nil {
			ev.Mem, ev.MemTid = sk.traceeMem, sk.tracee
		}
		if sk.signal != nil {
			t.pending = append([]ptrace.Siginfo{*sk.signal}, t.pending...)
		}
	} else {
		t.outputsDue = true
	}
	t.exit = ev
	if held, err := r.tracedSyscallExit(t, ev); held || err != nil {
		return err
	}
	r.makeReady(t)
	return nil
}

// outputs fills in what a completed syscall wrote into the task's memory
// and what it means for replay (echoed output, a file mapping).
func (r *recorder) outputs(t *task, ev *trace.Event) error {
	ent := syscalls.Lookup(int(ev.Nr))
	a := arch.SyscallArgs(&t.entry)
	// A call that failed with EFAULT may have written part of its output
	// before the bad page (a pipe read into a buffer running into
	// PROT_NONE): the readable part of every output is recorded.
	efault := ev.Ret == -int64(unix.EFAULT) && !ent.OutOnError
	if ent.Out != nil && (ev.Ret >= 0 || ent.OutOnError || efault) {
		c := &syscalls.Call{Nr: int(ev.Nr), Args: a, Ret: ev.Ret, Mem: tracee.Memory(t.tid)}
		from := t.tid
		if ent.OutInTarget {
			from = int(int32(a[0]))
			ev.MemTid = int32(from)
		}
		if efault {
			c.Ret = math.MaxInt32 // as much as the arguments allow
		}
		regions, err := ent.Out(c)
		if err != nil && !efault {
			return fmt.Errorf("event %d: task %d: %s outputs: %w", r.w.Count()+1, t.tid, ent.Name, err)
		}
		for _, reg := range regions {
			if reg.Len <= 0 || reg.Addr == 0 {
				continue
			}
			if !efault && reg.Len > dataChunk {
				// A huge output (a read of gigabytes) goes out in chunks
				// of its own events, ahead of the exit event: the
				// recorder never holds it whole, and no event outgrows a
				// trace block.
				var err error
				if reg, err = r.appendChunks(t, from, reg, ev.MemTid); err != nil {
					return fmt.Errorf("event %d: task %d: read %s output: %w", r.w.Count()+1, t.tid, ent.Name, err)
				}
			}
			buf := make([]byte, reg.Len)
			if efault {
				if buf = readablePrefix(from, reg.Addr, buf); len(buf) == 0 {
					continue
				}
			} else if err := ptrace.ReadMem(from, reg.Addr, buf); err != nil {
				return fmt.Errorf("event %d: task %d: read %s output: %w", r.w.Count()+1, t.tid, ent.Name, err)
			}
			ev.Mem = append(ev.Mem, trace.MemWrite{Addr: reg.Addr, Data: buf})
		}
	}
	switch {
	case ent.Flags&syscalls.EchoesBuffer != 0:
		if ev.Ret > 0 {
			ev.Echo = r.echoTarget(t.tid, int(a[0]))
		}
	case ent.Flags&syscalls.EchoesCopy != 0:
		if ev.Ret > 0 {
			r.echoCopied(t, ev, a)
		}
	}
	switch ev.Nr {
	case unix.SYS_MMAP:
		if ev.Ret >= 0 && a[3]&unix.MAP_ANONYMOUS == 0 && !mapsDevZero(t.tid, a) {
			m, err := r.fileMapping(t, uint64(ev.Ret), a)
			if err != nil {
				return err
			}
			ev.Maps = []trace.Mapping{m}
			r.checkRdrand(t, m, ev)
		}
	case unix.SYS_SHMAT:
		if ev.Ret >= 0 {
			m, err := r.shmAttach(t, uint64(ev.Ret))
			if err != nil {
				return err
			}
			ev.Maps = []trace.Mapping{m}
		}
	case unix.SYS_SHMDT:
		if ev.Ret == 0 {
			ev.Maps = t.detaching
		}
	}
	return r.fileWrites(t, ev)
}

// dataChunk is the most bytes of output one event carries.
const dataChunk = 16 << 20

// appendChunks writes all but the last chunk of region reg of task from's
// memory as data events of task t (memTid: the task whose memory it is, if
// not t), and returns the rest.
func (r *recorder) appendChunks(t *task, from int, reg syscalls.Region, memTid int32) (syscalls.Region, error) {
	buf := make([]byte, dataChunk)
	for reg.Len > dataChunk {
		if err := ptrace.ReadMem(from, reg.Addr, buf); err != nil {
			return reg, err
		}
		ev := &trace.Event{Kind: trace.KindData, Tid: int32(t.tid), MemTid: memTid,
			Mem: []trace.MemWrite{{Addr: reg.Addr, Data: buf}}}
		if err := r.append(ev); err != nil {
			return reg, err
		}
		reg.Addr += dataChunk
		reg.Len -= dataChunk
	}
	return reg, nil
}

// readablePrefix fills buf from addr page by page and returns the part
// that could be read.
func readablePrefix(tid int, addr uint64, buf []byte) []byte {
	n := 0
	for n < len(buf) {
		end := min(len(buf), n+int(4096-(addr+uint64(n))%4096))
		if ptrace.ReadMem(tid, addr+uint64(n), buf[n:end]) != nil {
			break
		}
		n = end
	}
	return buf[:n]
}

// mmapRefuse refuses mappings of devices other than /dev/zero: their
// contents are the device's, which rewind can neither save nor rebuild.
func mmapRefuse(tid int, a [6]uint64) (int, string) {
	if a[3]&unix.MAP_ANONYMOUS != 0 {
		return 0, ""
	}
	var st unix.Stat_t
	link := fmt.Sprintf("/proc/%d/fd/%d", tid, int32(a[4]))
	if unix.Stat(link, &st) != nil || isRegular(&st) || isDevZero(&st) {
		return 0, "" // the kernel judges a bad fd
	}
	name, _ := os.Readlink(link)
	return int(unix.ENODEV), fmt.Sprintf("mmap of %s is not supported: rewind records mapped regular files and /dev/zero only", name)
}

// mapsDevZero reports an mmap of /dev/zero, which is anonymous memory
// (replay makes it so: the mmap event carries no file).
func mapsDevZero(tid int, a [6]uint64) bool {
	var st unix.Stat_t
	return unix.Stat(fmt.Sprintf("/proc/%d/fd/%d", tid, int32(a[4])), &st) == nil && isDevZero(&st)
}

func isRegular(st *unix.Stat_t) bool { return st.Mode&unix.S_IFMT == unix.S_IFREG }

// isDevZero: a mapping of /dev/zero is anonymous memory.
func isDevZero(st *unix.Stat_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && unix.Major(st.Rdev) == 1 && unix.Minor(st.Rdev) == 5
}

// i386Syscall refuses a 32-bit syscall (int 0x80) from a 64-bit task:
// rewind does not describe the i386 table. The filter trapped it without
// running it; it fails with ENOSYS, recorded as a refused syscall, which
// replay finds with SYSEMU like any other.
func (r *recorder) i386Syscall(t *task, regs *ptrace.Regs) error {
	nr := syscalls.Nr(regs.Orig_rax)
	r.warn(fmt.Sprintf("i386:%d", nr), "32-bit syscall %d (int 0x80) is not supported; it fails with ENOSYS under rewind", nr)
	enosys := int64(unix.ENOSYS)
	regs.Rax = uint64(-enosys) // what a syscall-entry stop shows
	entry := &trace.Event{Kind: trace.KindSyscallEntry, Tid: int32(t.tid), Nr: int32(nr), Regs: *regs,
		Flags: trace.FlagRefused | trace.FlagI386, Values: [3]uint64{uint64(unix.ENOSYS)}}
	exit := &trace.Event{Kind: trace.KindSyscallExit, Tid: int32(t.tid), Nr: int32(nr), Ret: -enosys, Flags: trace.FlagI386}
	if err := r.append(entry); err != nil {
		return err
	}
	if err := r.append(exit); err != nil {
		return err
	}
	if err := ptrace.SetRegs(t.tid, regs); err != nil {
		return r.gone(t, err)
	}
	t.resumeRegs = *regs
	return r.gone(t, ptrace.Cont(t.tid, 0))
}
