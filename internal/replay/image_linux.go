package replay

import (
	"fmt"
	"os"

	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/seccomp"
	"github.com/rewind-dbg/rewind/internal/syscalls"
	"github.com/rewind-dbg/rewind/internal/trace"
	"github.com/rewind-dbg/rewind/internal/tracee"
	"golang.org/x/sys/unix"
)

func (r *replayer) spawn(ev *trace.Event) error {
	h := r.rd.Header
	lim := unix.Rlimit{Cur: h.StackLimit[0], Max: h.StackLimit[1]}
	if lim.Cur != 0 {
		// The stack limit places the mmap area: a different one moves
		// every mapping, and replay diverges at the first that moved.
		if err := unix.Setrlimit(unix.RLIMIT_STACK, &lim); err != nil {
			fmt.Fprintf(r.opt.Stderr, "rewind: warning: cannot set the recorded stack limit (%s): %v; replay is likely to diverge (raise the hard limit: ulimit -Hs)\n",
				rlimString(lim), err)
		}
	}
	// A replayed crash must not write a core file: replay touches nothing.
	unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	dir := h.Cwd
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		dir = "/"
	}
	fd := null.Fd()
	cpu := h.CPUIndex
	var avail unix.CPUSet
	if unix.SchedGetaffinity(0, &avail) == nil && !avail.IsSet(cpu) {
		fmt.Fprintf(r.opt.Stderr, "rewind: warning: the recording ran on CPU %d, which this replay may not use; a program that reads cpuid may diverge\n", cpu)
		cpu = tracee.AnyCPU()
	}
	exe, err := r.rd.Regular(ev.Path)
	if err != nil {
		return err
	}
	pid, err := tracee.Spawn(exe, h.Argv, h.Env, dir, []uintptr{fd, fd, fd}, cpu)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	t := &rtask{rec: ev.Tid, tid: pid, pid: ev.Tid, launched: -1}
	r.tasks[ev.Tid] = t
	// Every task of the tree inherits the filter that stops vsyscalls.
	if err := tracee.Do(pid, func(rem *tracee.Remote) error { return seccomp.Install(rem, seccomp.Replay()) }); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	return r.rebuild(t, ev)
}

// rebuild makes a freshly exec'd task's image identical to the recorded one:
// the kernel mapped the program and its interpreter from this machine's
// files, so every mapping is replaced with the trace's copy at the recorded
// address, writable memory gets its recorded contents and the registers
// their recorded values.
func (r *replayer) rebuild(t *rtask, ev *trace.Event) error {
	// The vDSO, where remote syscalls go, moves with the new image.
	site, err := tracee.SyscallSite(t.tid)
	if err != nil {
		return err
	}
	t.site = site
	rem, err := tracee.NewRemote(t.tid, t.site)
	if err != nil {
		return err
	}
	if err := tracee.SetTSCTrap(rem); err != nil {
		return err
	}
	vmas, err := tracee.ReadMaps(t.tid)
	if err != nil {
		return err
	}
	var stack tracee.VMA
	for _, v := range vmas {
		if v.Special() {
			continue
		}
		if v.Path == "[stack]" {
			stack = v
			continue
		}
		if _, err := rem.Check("munmap", unix.SYS_MUNMAP, v.Start, v.End-v.Start); err != nil {
			return err
		}
	}
	for _, m := range ev.Maps {
		if m.Name == "[stack]" {
			continue
		}
		if err := r.mapRegion(rem, m); err != nil {
			return err
		}
	}
	if err := rem.Close(); err != nil {
		return err
	}
	for _, w := range ev.Mem {
		addr, data := w.Addr, w.Data
		if stack.End != 0 && addr < stack.Start && addr+uint64(len(data)) > stack.Start {
			// The recorded stack area reaches lower than this one; the part
			// below is unused stack, and the kernel grows it on demand.
			data = data[stack.Start-addr:]
			addr = stack.Start
		}
		if err := ptrace.WriteMem(t.tid, addr, data); err != nil {
			return fmt.Errorf("restore %d bytes at %#x of task %d: %w", len(data), addr, t.tid, err)
		}
	}
	r.traps[t.pid] = tracee.Traps{}
	if err := r.setTraps(t, ev); err != nil {
		return err
	}
	if err := tracee.PatchVDSO(t.tid); err != nil {
		fmt.Fprintf(r.opt.Stderr, "rewind: warning: %v; a program calling its vDSO will diverge\n", err)
	}
	regs := ev.Regs
	if err := ptrace.SetRegs(t.tid, &regs); err != nil {
		return err
	}
	t.sharesDebugMem = false // a new image of its own
	r.exeOf[t.pid] = r.rd.File(ev.Path)
	if err := r.readAuxv(t, ev); err != nil {
		fmt.Fprintf(r.opt.Stderr, "rewind: warning: %v; a debugger will not see the auxv\n", err)
	}
	if t.pid == r.debugPid {
		r.breakpoints = map[uint64]byte{} // the image they were in is gone
	}
	r.followExec(t, ev)
	return nil
}

// mapRegion maps one recorded area at its recorded address: a file area
// from the trace's copy (privately: replay never writes a file), else
// anonymous memory.
func (r *replayer) mapRegion(rem *tracee.Remote, m trace.Mapping) error {
	length := m.End - m.Start
	flags := uint64(m.Flags)&^(unix.MAP_SHARED|unix.MAP_SHARED_VALIDATE|unix.MAP_GROWSDOWN) | unix.MAP_PRIVATE | unix.MAP_FIXED
	if m.File == "" {
		if trace.SharedMap(m.Flags) {
			flags = flags&^unix.MAP_PRIVATE | unix.MAP_SHARED
		}
		_, err := rem.Check("mmap", unix.SYS_MMAP, m.Start, length, uint64(m.Prot), flags|unix.MAP_ANONYMOUS, ^uint64(0), 0)
		return err
	}
	// A shared object is mapped from its working copy, shared if it was,
	// and so is a private mapping of it (it sees the object's changes on
	// pages it has not written, as when recorded).
	file, err := r.rd.Regular(m.File)
	if err != nil {
		return err
	}
	mode := unix.O_RDONLY
	wc, ok, err := r.objects.path(r.rd, m.File, trace.SharedMap(m.Flags))
	if err != nil {
		return err
	}
	if ok {
		file, mode = wc, unix.O_RDWR
		if trace.SharedMap(m.Flags) {
			flags = flags&^unix.MAP_PRIVATE | unix.MAP_SHARED
		}
	}
	path, err := rem.ScratchString(0, file)
	if err != nil {
		return err
	}
	fd, err := rem.Check("open "+m.Name, unix.SYS_OPENAT, uint64(0xffffffffffffff9c), path, uint64(mode|unix.O_CLOEXEC|unix.O_NOFOLLOW))
	if err != nil {
		return err
	}
	_, err = rem.Check("mmap "+m.Name, unix.SYS_MMAP, m.Start, length, uint64(m.Prot), flags&^unix.MAP_ANONYMOUS, fd, m.Offset)
	rem.Syscall(unix.SYS_CLOSE, fd)
	return err
}

// mmap makes the recorded mapping at the recorded address.
func (r *replayer) mmap(t *rtask, ev *trace.Event) error {
	a := t.entry
	m := trace.Mapping{Start: uint64(ev.Ret), End: uint64(ev.Ret) + (a.Rsi+4095)&^4095,
		Prot: uint32(a.Rdx), Flags: uint32(a.R10), Offset: a.R9}
	if len(ev.Maps) > 0 {
		m = ev.Maps[0]
	}
	rem, err := tracee.NewRemote(t.tid, t.site)
	if err != nil {
		return err
	}
	if err := r.mapRegion(rem, m); err != nil {
		return r.diverge(fmt.Sprintf("cannot remake mapping at %#x: %v", m.Start, err))
	}
	if err := rem.Close(); err != nil {
		return err
	}
	return r.setTraps(t, ev)
}

// setTraps puts the int3s the recorder put in place of RDRAND/RDSEED
// instructions in the mappings ev made.
func (r *replayer) setTraps(t *rtask, ev *trace.Event) error {
	tr := r.traps[t.pid]
	if tr == nil {
		tr = tracee.Traps{}
		r.traps[t.pid] = tr
	}
	for _, a := range ev.Traps {
		if err := tr.Set(t.tid, a); err != nil {
			return r.diverge(fmt.Sprintf("cannot trap the RDRAND at %#x: %v", a, err))
		}
	}
	return nil
}

// exec runs the recorded execve for real, on the trace's copy of the new
// program, then rebuilds the image as recorded.
func (r *replayer) exec(t *rtask, ev *trace.Event) error {
	if err := r.processDeath(t); err != nil { // execve releases robust futexes
		return err
	}
	regs := t.entry
	rem, err := tracee.NewRemote(t.tid, t.site)
	if err != nil {
		return err
	}
	exe, err := r.rd.Regular(ev.Path)
	if err != nil {
		return err
	}
	path, err := rem.ScratchString(0, exe)
	if err != nil {
		return err
	}
	if syscalls.Nr(regs.Orig_rax) == unix.SYS_EXECVEAT {
		regs.Rsi, regs.Rdx = regs.Rdx, regs.R10
	}
	arch.BackUpOverSyscall(&regs, unix.SYS_EXECVE)
	regs.Orig_rax = unix.SYS_EXECVE
	regs.Rdi = path
	if err := ptrace.SetRegs(t.tid, &regs); err != nil {
		return err
	}
	// The kernel kills the process's other threads and, if this is not the
	// main thread, gives this one the main thread's tid: the exec is
	// reported there, and the dying threads must be reaped meanwhile.
	main := t
	if int32(ev.Ret) != ev.Tid {
		if main = r.tasks[int32(ev.Ret)]; main == nil {
			return r.diverge(fmt.Sprintf("execve: main thread %d unknown", ev.Ret))
		}
	}
	if err := r.resumeAs(ptrace.Syscall, t.tid, 0); err != nil {
		return err
	}
	for sawExec := false; ; {
		st, err := ptrace.Wait(-1)
		if err != nil {
			return err
		}
		switch {
		case st.Tid == t.tid && st.Kind() == ptrace.SyscallStop && !sawExec:
			// entering execve (or the stale exit report of the SYSEMU stop)
		case st.Tid == t.tid && st.Kind() == ptrace.SeccompStop && !sawExec:
			// replay's filter: the execve replay runs (anything else stops)
			var regs ptrace.Regs
			if err := ptrace.GetRegs(t.tid, &regs); err != nil {
				return err
			}
			if syscalls.Nr(regs.Orig_rax) != unix.SYS_EXECVE {
				return r.diverge(fmt.Sprintf("task %d tried to run %s instead of execve", t.tid, syscalls.Name(syscalls.Nr(regs.Orig_rax))))
			}
		case st.Tid == main.tid && st.Kind() == ptrace.EventStop && st.Event() == unix.PTRACE_EVENT_EXEC:
			sawExec = true
		case st.Tid == main.tid && st.Kind() == ptrace.SyscallStop && sawExec:
			if main != t {
				// Stops put aside for the old main thread (the exit report
				// of a syscall it was in, such as the clone that made
				// this thread) are a dead task's, not this one's.
				delete(r.stashed, main.tid)
				delete(r.stashed, t.tid)
				delete(r.tasks, t.rec)
				t.tid, t.rec = main.tid, main.rec
				r.tasks[t.rec] = t
			}
			t.execDone = true
			return r.rebuild(t, ev)
		case st.Kind() == ptrace.EventStop && st.Event() == unix.PTRACE_EVENT_EXIT:
			if err := r.resumeAs(ptrace.Cont, st.Tid, 0); err != nil && !ptrace.IsGone(err) {
				return err
			}
			continue
		default:
			r.stashed[st.Tid] = append(r.stashed[st.Tid], st)
			continue
		}
		if err := r.resumeAs(ptrace.Syscall, st.Tid, 0); err != nil {
			return err
		}
	}
}

// readAuxv saves the auxv from the initial stack, as the program sees it.
func (r *replayer) readAuxv(t *rtask, ev *trace.Event) error {
	is, err := arch.ReadInitialStack(ev.Regs.Rsp, func(addr uint64) (uint64, error) {
		return ptrace.ReadWord(t.tid, addr)
	})
	if err != nil {
		return fmt.Errorf("read initial stack of task %d: %w", t.tid, err)
	}
	auxv := make([]byte, is.AuxvLen)
	if err := ptrace.ReadMem(t.tid, is.Auxv, auxv); err != nil {
		return fmt.Errorf("read auxv of task %d: %w", t.tid, err)
	}
	r.auxvOf[t.pid] = auxv
	return nil
}
