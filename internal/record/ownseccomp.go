package record

import (
	"encoding/binary"

	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/seccomp"
	"github.com/rewind-dbg/rewind/internal/trace"
	"golang.org/x/sys/unix"
)

// skipped is how a syscall the recorder does not let the kernel run ends:
// its result, the memory it writes, and a signal it raises (a seccomp
// SIGSYS), all recorded; replay emulates the call like any other.
type skipped struct {
	ret    int64
	mem    []trace.MemWrite
	signal *ptrace.Siginfo
	// traceeMem: what the call wrote into another recorded task (tracee),
	// already written (an emulated ptrace POKE).
	tracee    int32
	traceeMem []trace.MemWrite
}

func (t *task) refuse(errno unix.Errno) { t.skip = &skipped{ret: -int64(errno)} }

// A program's own seccomp filters and strict mode, and its PR_SET_TSC, are
// emulated by the recorder rather than installed: rewind's filter already
// traps every syscall, a filter of the program's would also judge the
// syscalls rewind injects, and strict mode cannot coexist with a filter.
// The recorder keeps each task's filters (inherited by the tasks it
// creates, kept across execve) and runs them at each syscall
// (seccomp.Decide); what they decide is done as the kernel would:
//
//	ALLOW, LOG    the call proceeds
//	ERRNO         the call fails with that errno
//	TRAP          the call is skipped, rax keeps the syscall number, and
//	              SIGSYS (SYS_SECCOMP, with the filter's data) is delivered
//	TRACE, USER_NOTIF  no tracer or listener of the program's: ENOSYS
//	KILL_*        the kernel kills the task: rewind installs a one-line
//	              filter with that action in it and lets it make the call
//
// Replay sees only ordinary events: skipped calls, a signal, a task exit.

const (
	seccompModeStrict = 1
	seccompModeFilter = 2
	prGetSeccomp      = 21
	prSetSeccomp      = 22
	prGetTSC          = 25
	prSetTSC          = 26
	prTSCEnable       = 1
	prTSCSigsegv      = 2

	seccompSetModeStrict = 0
	seccompSetModeFilter = 1
	filterFlagTsync      = 1
	filterFlagNewListen  = 8
)

// ownFilters applies the task's own strict mode or filters to syscall nr.
// It sets t.skip when the call must not run, and reports killed when the
// task is being killed (nothing is recorded for the call).
func (r *recorder) ownFilters(t *task, nr int) (killed bool, err error) {
	regs := &t.entry
	if t.strict {
		switch nr {
		case unix.SYS_READ, unix.SYS_WRITE, unix.SYS_EXIT, unix.SYS_RT_SIGRETURN:
			return false, nil
		}
		// Strict mode kills with SIGKILL.
		unix.Tgkill(t.pid, t.tid, unix.SIGKILL)
		return true, nil
	}
	d := seccomp.X86Data(nr, regs.Rip, arch.SyscallArgs(regs))
	ret := seccomp.Decide(t.filters, &d)
	data := ret & 0xffff
	switch ret & 0xffff0000 {
	case seccomp.ActAllow, seccomp.ActLog:
	case seccomp.ActErrno:
		t.skip = &skipped{ret: -int64(min(data, 4095))}
	case seccomp.ActTrace, seccomp.ActUserNotif:
		t.refuse(unix.ENOSYS)
	case seccomp.ActTrap:
		si := arch.NewSiginfo(int(unix.SIGSYS), int(data), arch.SysSeccomp)
		si.SetSyscall(regs.Rip, int(nr), d.Arch)
		// The kernel rolls the call back: rax is the syscall number again.
		t.skip = &skipped{ret: int64(regs.Orig_rax), signal: &si}
	default: // KILL_THREAD, KILL_PROCESS, and unknown actions (KILL_PROCESS)
		action := ret & 0xffff0000
		if action != seccomp.ActKillThread {
			action = seccomp.ActKillProcess
		}
		return true, r.seccompKill(t, action)
	}
	return false, nil
}

// seccompKill has the kernel kill t with SIGSYS at the syscall it is
// stopped in, as the program's filter decided (action KILL_THREAD or
// KILL_PROCESS): a filter of that one action is installed in t, and the
// call is made again.
func (r *recorder) seccompKill(t *task, action uint32) error {
	if err := seccomp.Kill(t.tid, action); err != nil {
		return r.gone(t, err)
	}
	return nil
}

// ownSeccompCall emulates the calls that change a task's own seccomp
// state or its rdtsc trapping, setting t.skip; it reports whether nr with
// args is one of them.
func (r *recorder) ownSeccompCall(t *task, nr int, a [6]uint64) bool {
	switch {
	case nr == unix.SYS_SECCOMP && a[0] == seccompSetModeStrict:
		t.skip = r.setStrict(t, a[1] != 0 || a[2] != 0)
	case nr == unix.SYS_SECCOMP && a[0] == seccompSetModeFilter:
		t.skip = r.addFilter(t, a[1], a[2])
	case nr == unix.SYS_PRCTL && a[0] == prSetSeccomp && a[1] == seccompModeStrict:
		t.skip = r.setStrict(t, false)
	case nr == unix.SYS_PRCTL && a[0] == prSetSeccomp && a[1] == seccompModeFilter:
		t.skip = r.addFilter(t, 0, a[2])
	case nr == unix.SYS_PRCTL && a[0] == prSetSeccomp:
		t.refuse(unix.EINVAL)
	case nr == unix.SYS_PRCTL && a[0] == prGetSeccomp:
		mode := 0
		if len(t.filters) > 0 {
			mode = seccompModeFilter
		}
		t.skip = &skipped{ret: int64(mode)}
	case nr == unix.SYS_PRCTL && a[0] == prSetTSC:
		if a[1] != prTSCEnable && a[1] != prTSCSigsegv {
			t.refuse(unix.EINVAL)
			break
		}
		t.tscSigsegv = a[1] == prTSCSigsegv
		t.skip = &skipped{}
	case nr == unix.SYS_PRCTL && a[0] == prGetTSC:
		mode := uint32(prTSCEnable)
		if t.tscSigsegv {
			mode = prTSCSigsegv
		}
		t.skip = &skipped{}
		var probe [4]byte
		if ptrace.ReadMem(t.tid, a[1], probe[:]) != nil {
			t.refuse(unix.EFAULT)
			break
		}
		t.skip.mem = []trace.MemWrite{{Addr: a[1], Data: binary.LittleEndian.AppendUint32(nil, mode)}}
	default:
		return false
	}
	return true
}

func (r *recorder) setStrict(t *task, badArgs bool) *skipped {
	if badArgs || len(t.filters) > 0 {
		return &skipped{ret: -int64(unix.EINVAL)}
	}
	t.strict = true
	return &skipped{}
}

// addFilter installs a filter of the program's (struct sock_fprog at fprog)
// in t, or in every thread of its process with TSYNC.
func (r *recorder) addFilter(t *task, flags, fprog uint64) *skipped {
	fail := func(e unix.Errno) *skipped { return &skipped{ret: -int64(e)} }
	if flags&filterFlagNewListen != 0 {
		r.warn("seccomp-listener", "seccomp user notification (SECCOMP_FILTER_FLAG_NEW_LISTENER) is not supported; the filter is refused with EINVAL")
		return fail(unix.EINVAL)
	}
	if t.strict {
		return fail(unix.EINVAL)
	}
	var hdr [16]byte
	if ptrace.ReadMem(t.tid, fprog, hdr[:]) != nil {
		return fail(unix.EFAULT)
	}
	n := binary.LittleEndian.Uint16(hdr[0:])
	code := make([]byte, 8*int(n))
	if n == 0 || ptrace.ReadMem(t.tid, binary.LittleEndian.Uint64(hdr[8:]), code) != nil {
		if n == 0 {
			return fail(unix.EINVAL)
		}
		return fail(unix.EFAULT)
	}
	p := seccomp.Decode(code)
	if err := seccomp.Check(p); err != nil {
		r.warn("seccomp-check:"+err.Error(), "the program's seccomp filter was refused with EINVAL: %v", err)
		return fail(unix.EINVAL)
	}
	add := func(o *task) { o.filters = append(o.filters[:len(o.filters):len(o.filters)], p) }
	if flags&filterFlagTsync != 0 {
		for _, o := range r.tasks {
			if o.pid == t.pid && o != t {
				add(o)
			}
		}
	}
	add(t)
	return &skipped{}
}

// inherit gives a new task its creator's seccomp and rdtsc state.
func (c *task) inherit(parent *task) {
	c.filters, c.strict, c.tscSigsegv = parent.filters, parent.strict, parent.tscSigsegv
}
