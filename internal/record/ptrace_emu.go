package record

import (
	"encoding/binary"
	"fmt"

	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/trace"
	"golang.org/x/sys/unix"
)

// ptrace among recorded tasks. rewind is the tracer of every recorded task
// and a task has one tracer, so a recorded program that traces (a debugger,
// LeakSanitizer's stop-the-world, a sandbox) is given an emulated ptrace,
// as rr does: the kernel never sees its ptrace calls.
//
//   - A tracee (emuTrace) stops for its tracer at a signal, at an attach or
//     interrupt, and at its exit (PTRACE_O_TRACEEXIT): the recorder holds it
//     in its own ptrace stop (state stTraced, it gets no token) and reports
//     the stop to the tracer's wait.
//   - The tracer's wait4/waitid is answered by the recorder when an emulated
//     stop is due; otherwise the call runs for real (its real children) or,
//     when only emulated tracees can answer it, is parked in a real pause()
//     that the recorder interrupts (PTRACE_INTERRUPT) when one stops.
//   - Requests read and write the tracee's registers and memory for real.
//     Writes are recorded as effects on the tracee (memory writes named by
//     the tracer's syscall-exit event, register sets as "regs" events), so
//     replay, which emulates the ptrace calls, makes them too.
//   - A signal the tracee stopped for is recorded when it stops (flag held:
//     replay brings the tracee to the same stop and holds it too) and, if the
//     tracer lets it through, when it resumes (flag resume).
//
//   - Syscall stops (PTRACE_SYSCALL): the tracee is held at its syscall's
//     entry (recorded as a held syscall entry, to which replay brings it)
//     and exit (after the exit event, so that a register change the tracer
//     makes there comes after the result in replay too).
//
// Not emulated (refused with EIO and a warning naming the request): single
// steps and syscall emulation (PTRACE_SINGLESTEP, SYSEMU), PTRACE_LISTEN,
// and the options that auto-attach new tasks (TRACECLONE, TRACEFORK...).

// emuTrace is a task traced by another recorded task.
type emuTrace struct {
	tracer *task
	seized bool
	opts   uint64

	// The stop the tracee is held in, if held.
	held     holdKind
	status   int  // its wait status
	reported bool // a wait of the tracer has returned it
	siginfo  ptrace.Siginfo
	eventMsg uint64
	// pending: a stop (attach, interrupt) to enter when the tracee next
	// stops in a syscall exit; its wait status.
	pending int
	// syscallStops: resumed with PTRACE_SYSCALL, it stops at its next
	// syscall entry or exit; entryReleased: the entry it is at was
	// reported and let go.
	syscallStops, entryReleased bool
}

type holdKind int

const (
	notHeld         holdKind = iota
	holdSignal               // at a signal-delivery stop: the tracer decides the signal's fate
	holdReady                // at a syscall-exit stop (attach, interrupt)
	holdExit                 // at PTRACE_EVENT_EXIT (PTRACE_O_TRACEEXIT)
	holdEntry                // at a syscall entry (seccomp stop), resumed with PTRACE_SYSCALL
	holdSyscallExit          // at a syscall exit, resumed with PTRACE_SYSCALL
)

// ptrace(2) requests.
const (
	ptTraceme        = 0
	ptPeektext       = 1
	ptPeekdata       = 2
	ptPeekuser       = 3
	ptPoketext       = 4
	ptPokedata       = 5
	ptPokeuser       = 6
	ptCont           = 7
	ptKill           = 8
	ptGetregs        = 12
	ptSetregs        = 13
	ptGetfpregs      = 14
	ptAttach         = 16
	ptDetach         = 17
	ptSyscall        = 24
	ptSetoptions     = 0x4200
	ptGeteventmsg    = 0x4201
	ptGetsiginfo     = 0x4202
	ptSetsiginfo     = 0x4203
	ptGetregset      = 0x4204
	ptSetregset      = 0x4205
	ptSeize          = 0x4206
	ptInterrupt      = 0x4207
	ptGetSyscallInfo = 0x420e

	optTraceSysGood = 0x01
	optTraceExit    = 0x40
	optExitKill     = 1 << 20
	optsEmulated    = optTraceSysGood | optTraceExit | optExitKill

	eventExit = 6
	eventStop = 128

	ntPrstatus  = 1
	ntPrfpreg   = 2
	ntX86Xstate = 0x202

	regsSize     = 27 * 8
	debugRegOff  = 848
	userAreaSize = 928
)

// stopStatus is the wait status of a ptrace stop for signal sig (and
// ptrace event ev).
func stopStatus(sig, ev int) int { return (sig|ev<<8)<<8 | 0x7f }

// tracees returns the tasks t traces.
func (r *recorder) tracees(t *task) []*task {
	var out []*task
	for _, u := range r.tasks {
		if u.emu != nil && u.emu.tracer == t {
			out = append(out, u)
		}
	}
	return out
}

// ptraceCall emulates t's ptrace(req, pid, addr, data), setting t.skip.
func (r *recorder) ptraceCall(t *task, a [6]uint64) error {
	req, pid, addr, data := a[0], int(int32(a[1])), a[2], a[3]
	fail := func(e unix.Errno) error { t.refuse(e); return nil }
	ok := func(mem ...trace.MemWrite) error { t.skip = &skipped{mem: mem}; return nil }
	if req == ptTraceme {
		parent := r.tasks[t.ppid]
		if t.emu != nil || parent == nil {
			return fail(unix.EPERM) // already traced, or the parent is rewind
		}
		t.emu = &emuTrace{tracer: parent}
		return ok()
	}
	u := r.tasks[pid]
	if u == nil {
		return fail(unix.ESRCH)
	}
	switch req {
	case ptAttach, ptSeize:
		if u.emu != nil || u.pid == t.pid {
			return fail(unix.EPERM)
		}
		if req == ptSeize && (addr != 0 || data&^optsEmulated != 0) {
			return r.unsupportedOptions(t, data)
		}
		u.emu = &emuTrace{tracer: t, seized: req == ptSeize, opts: data}
		if req == ptAttach {
			ok()
			return r.stopTracee(u, stopStatus(int(unix.SIGSTOP), 0))
		}
		return ok()
	}
	if u.emu == nil || u.emu.tracer != t {
		return fail(unix.ESRCH)
	}
	e := u.emu
	switch req {
	case ptInterrupt:
		if !e.seized {
			return fail(unix.EIO)
		}
		if e.held == notHeld {
			ok()
			return r.stopTracee(u, stopStatus(int(unix.SIGTRAP), eventStop))
		}
		return ok()
	case ptKill:
		unix.Tgkill(u.pid, u.tid, unix.SIGKILL)
		return ok()
	}
	if e.held == notHeld {
		return fail(unix.ESRCH) // not stopped for its tracer
	}
	switch req {
	case ptCont, ptDetach, ptSyscall:
		if data >= 65 {
			return fail(unix.EIO)
		}
		e.syscallStops = req == ptSyscall
		if req == ptDetach {
			u.emu = nil
		}
		ok()
		return r.resumeTracee(u, e, int(data))
	case ptPeektext, ptPeekdata:
		var b [8]byte
		if ptrace.ReadMem(u.tid, addr, b[:]) != nil {
			return fail(unix.EIO)
		}
		return r.output(t, data, b[:])
	case ptPoketext, ptPokedata:
		b := binary.LittleEndian.AppendUint64(nil, data)
		if ptrace.WriteMem(u.tid, addr, b) != nil {
			return fail(unix.EIO)
		}
		t.skip = &skipped{tracee: int32(u.tid), traceeMem: []trace.MemWrite{{Addr: addr, Data: b}}}
		return nil
	case ptPeekuser:
		v, err := peekUser(u, addr)
		if err != 0 {
			return fail(err)
		}
		return r.output(t, data, binary.LittleEndian.AppendUint64(nil, v))
	case ptPokeuser:
		if addr%8 != 0 || addr >= regsSize {
			r.warn("ptrace-pokeuser", "ptrace POKEUSER beyond the general registers (offset %#x) is not supported by rewind's ptrace emulation; it fails with EIO", addr)
			return fail(unix.EIO)
		}
		var regs ptrace.Regs
		if err := ptrace.GetRegs(u.tid, &regs); err != nil {
			return fail(unix.ESRCH)
		}
		b := arch.RegsBytes(&regs)
		binary.LittleEndian.PutUint64(b[addr:], data)
		return r.setTraceeRegs(t, u, b)
	case ptGetregs:
		var regs ptrace.Regs
		if err := ptrace.GetRegs(u.tid, &regs); err != nil {
			return fail(unix.ESRCH)
		}
		return r.output(t, data, arch.RegsBytes(&regs))
	case ptSetregs:
		b := make([]byte, regsSize)
		if ptrace.ReadMem(t.tid, data, b) != nil {
			return fail(unix.EFAULT)
		}
		return r.setTraceeRegs(t, u, b)
	case ptGetfpregs:
		fx, err := ptrace.GetFPRegs(u.tid)
		if err != nil {
			return fail(unix.ESRCH)
		}
		return r.output(t, data, fx[:])
	case ptGetregset:
		return r.getRegset(t, u, addr, data)
	case ptSetregset:
		if addr != ntPrstatus {
			r.warn(fmt.Sprintf("ptrace-setregset-%#x", addr), "ptrace SETREGSET of register set %#x is not supported by rewind's ptrace emulation; it fails with EIO", addr)
			return fail(unix.EIO)
		}
		var iov [16]byte
		if ptrace.ReadMem(t.tid, data, iov[:]) != nil {
			return fail(unix.EFAULT)
		}
		if binary.LittleEndian.Uint64(iov[8:]) < regsSize {
			return fail(unix.EINVAL)
		}
		b := make([]byte, regsSize)
		if ptrace.ReadMem(t.tid, binary.LittleEndian.Uint64(iov[:]), b) != nil {
			return fail(unix.EFAULT)
		}
		return r.setTraceeRegs(t, u, b)
	case ptGetsiginfo:
		if e.held != holdSignal {
			return fail(unix.EINVAL)
		}
		return r.output(t, data, e.siginfo[:])
	case ptSetsiginfo:
		if e.held != holdSignal {
			return fail(unix.EINVAL)
		}
		if ptrace.ReadMem(t.tid, data, e.siginfo[:]) != nil {
			return fail(unix.EFAULT)
		}
		return ok()
	case ptGeteventmsg:
		return r.output(t, data, binary.LittleEndian.AppendUint64(nil, e.eventMsg))
	case ptSetoptions:
		if data&^optsEmulated != 0 {
			return r.unsupportedOptions(t, data)
		}
		e.opts = data
		return ok()
	case ptGetSyscallInfo:
		var regs ptrace.Regs
		if err := ptrace.GetRegs(u.tid, &regs); err != nil {
			return fail(unix.ESRCH)
		}
		info := syscallInfo(e.held, &regs)
		n := min(addr, uint64(len(info)))
		t.skip = &skipped{ret: int64(len(info))}
		if n > 0 {
			var probe = make([]byte, n)
			if ptrace.ReadMem(t.tid, data, probe) != nil {
				return fail(unix.EFAULT)
			}
			t.skip.mem = []trace.MemWrite{{Addr: data, Data: info[:n]}}
		}
		return nil
	}
	name := fmt.Sprintf("request %#x", req)
	switch req {
	case 9:
		name = "PTRACE_SINGLESTEP"
	case 31, 32:
		name = "PTRACE_SYSEMU"
	case 0x4208:
		name = "PTRACE_LISTEN"
	}
	r.warn("ptrace:"+name, "ptrace %s is not supported by rewind's ptrace emulation (tracers inside the recording get attach, seize, interrupt, signal and syscall stops, registers, memory, continue and detach); it fails with EIO", name)
	return fail(unix.EIO)
}

func (r *recorder) unsupportedOptions(t *task, opts uint64) error {
	r.warn(fmt.Sprintf("ptrace-opts-%#x", opts&^optsEmulated), "ptrace options %#x are not supported by rewind's ptrace emulation (only TRACESYSGOOD, TRACEEXIT and EXITKILL); the call fails with EIO", opts&^optsEmulated)
	t.refuse(unix.EIO)
	return nil
}

// output makes t's emulated call succeed, writing b at addr of its memory.
func (r *recorder) output(t *task, addr uint64, b []byte) error {
	probe := make([]byte, len(b))
	if ptrace.ReadMem(t.tid, addr, probe) != nil {
		t.refuse(unix.EFAULT)
		return nil
	}
	t.skip = &skipped{mem: []trace.MemWrite{{Addr: addr, Data: b}}}
	return nil
}

// setTraceeRegs sets u's general registers to b (user_regs_struct) for its
// tracer t, and records it for replay.
func (r *recorder) setTraceeRegs(t, u *task, b []byte) error {
	var regs ptrace.Regs
	arch.RegsFromBytes(&regs, b)
	if err := ptrace.SetRegs(u.tid, &regs); err != nil {
		t.refuse(unix.EIO)
		return nil
	}
	t.skip = &skipped{}
	return r.append(&trace.Event{Kind: trace.KindRegs, Tid: int32(u.tid), Regs: regs})
}

// getRegset answers PTRACE_GETREGSET: the set's bytes, as many as the iovec
// at data has room for, and the iovec's length updated.
func (r *recorder) getRegset(t, u *task, set, data uint64) error {
	var b []byte
	switch set {
	case ntPrstatus:
		var regs ptrace.Regs
		if err := ptrace.GetRegs(u.tid, &regs); err != nil {
			t.refuse(unix.ESRCH)
			return nil
		}
		b = arch.RegsBytes(&regs)
	case ntPrfpreg:
		fx, err := ptrace.GetFPRegs(u.tid)
		if err != nil {
			t.refuse(unix.ESRCH)
			return nil
		}
		b = fx[:]
	case ntX86Xstate:
		xs, err := ptrace.GetXState(u.tid)
		if err != nil {
			t.refuse(unix.EINVAL)
			return nil
		}
		b = xs
	default:
		t.refuse(unix.EINVAL)
		return nil
	}
	var iov [16]byte
	if ptrace.ReadMem(t.tid, data, iov[:]) != nil {
		t.refuse(unix.EFAULT)
		return nil
	}
	base, n := binary.LittleEndian.Uint64(iov[:]), binary.LittleEndian.Uint64(iov[8:])
	b = b[:min(uint64(len(b)), n)]
	t.skip = &skipped{mem: []trace.MemWrite{
		{Addr: base, Data: b},
		{Addr: data + 8, Data: binary.LittleEndian.AppendUint64(nil, uint64(len(b)))},
	}}
	return nil
}

// peekUser reads a word of u's struct user: a general register or a debug
// register.
func peekUser(u *task, off uint64) (uint64, unix.Errno) {
	switch {
	case off%8 != 0 || off >= userAreaSize:
		return 0, unix.EIO
	case off < regsSize:
		var regs ptrace.Regs
		if err := ptrace.GetRegs(u.tid, &regs); err != nil {
			return 0, unix.ESRCH
		}
		return binary.LittleEndian.Uint64(arch.RegsBytes(&regs)[off:]), 0
	case off >= debugRegOff && off < debugRegOff+64:
		v, err := ptrace.DebugReg(u.tid, int(off-debugRegOff)/8)
		if err != nil {
			return 0, unix.EIO
		}
		return v, 0
	}
	return 0, 0 // the rest of struct user reads as zero here
}

// syscallInfo is struct ptrace_syscall_info for a tracee held at kind of
// stop with registers regs, as long as the kernel would return it.
func syscallInfo(kind holdKind, regs *ptrace.Regs) []byte {
	le := binary.LittleEndian
	info := make([]byte, 24, 80)
	le.PutUint32(info[4:], arch.AuditArch)
	le.PutUint64(info[8:], regs.Rip)
	le.PutUint64(info[16:], regs.Rsp)
	switch kind {
	case holdEntry:
		info[0] = 1 // PTRACE_SYSCALL_INFO_ENTRY
		info = le.AppendUint64(info, regs.Orig_rax)
		for _, a := range [6]uint64{regs.Rdi, regs.Rsi, regs.Rdx, regs.R10, regs.R8, regs.R9} {
			info = le.AppendUint64(info, a)
		}
	case holdSyscallExit:
		info[0] = 2 // PTRACE_SYSCALL_INFO_EXIT
		info = le.AppendUint64(info, regs.Rax)
		isErr := byte(0)
		if v := int64(regs.Rax); v < 0 && v >= -4095 {
			isErr = 1
		}
		info = append(info, isErr)
	}
	return info
}

// syscallStopStatus is the wait status of a syscall stop of a tracee.
func syscallStopStatus(e *emuTrace) int {
	sig := int(unix.SIGTRAP)
	if e.opts&optTraceSysGood != 0 {
		sig |= 0x80
	}
	return stopStatus(sig, 0)
}

// tracedSyscallEntry holds u at the entry of the syscall it is stopped at
// (its registers regs) if its tracer asked for syscall stops; reports
// whether it did. The stop is recorded as a syscall entry with flag held,
// so that replay brings u to the same stop before its tracer looks at or
// changes its registers there.
func (r *recorder) tracedSyscallEntry(u *task, regs *ptrace.Regs) (bool, error) {
	e := u.emu
	if e == nil || !e.syscallStops {
		return false, nil
	}
	if e.entryReleased {
		e.entryReleased = false
		return false, nil
	}
	ev := &trace.Event{Kind: trace.KindSyscallEntry, Tid: int32(u.tid), Nr: int32(int32(regs.Orig_rax)), Regs: *regs, Flags: trace.FlagHeld}
	if err := r.append(ev); err != nil {
		return true, err
	}
	r.hold(u, holdEntry, syscallStopStatus(e))
	return true, nil
}

// tracedSyscallExit holds u at the exit of its syscall (event ev) if its
// tracer asked for syscall stops; reports whether it did. The exit event is
// recorded now, before anything the tracer changes in u.
func (r *recorder) tracedSyscallExit(u *task, ev *trace.Event) (bool, error) {
	e := u.emu
	if e == nil || !e.syscallStops || u.dying {
		return false, nil
	}
	if u.outputsDue {
		u.outputsDue = false
		if err := r.outputs(u, ev); err != nil {
			return true, err
		}
	}
	if err := r.append(ev); err != nil {
		return true, err
	}
	u.exit = nil
	r.hold(u, holdSyscallExit, syscallStopStatus(e))
	return true, nil
}

// stopTracee makes u stop for its tracer with the given wait status: at
// once if it is waiting in a syscall-exit stop, else when its syscall
// returns (a blocked syscall is interrupted, as the kernel's own attach
// interrupts it).
func (r *recorder) stopTracee(u *task, status int) error {
	switch u.state {
	case stReady, stNew:
		r.dropReady(u)
		r.hold(u, holdReady, status)
	case stInSyscall:
		u.emu.pending = status
		if err := ptrace.Interrupt(u.tid); err != nil && !ptrace.IsGone(err) {
			return err
		}
	default:
		u.emu.pending = status
	}
	return nil
}

// hold keeps u stopped for its tracer and tells the tracer.
func (r *recorder) hold(u *task, kind holdKind, status int) {
	u.emu.held, u.emu.status, u.emu.reported = kind, status, false
	r.release(u)
	u.state = stTraced
	r.wakeTracer(u.emu.tracer)
}

// wakeTracer interrupts the tracer's wait, if it is in one in the kernel,
// so that it returns the stop (see finishWait).
func (r *recorder) wakeTracer(t *task) {
	if t.waiting != nil && t.state == stInSyscall {
		ptrace.Interrupt(t.tid)
	}
}

// resumeTracee lets u go on from its held stop, with sig (0: none).
func (r *recorder) resumeTracee(u *task, e *emuTrace, sig int) error {
	kind := e.held
	e.held = notHeld
	switch kind {
	case holdSignal:
		// Replay resumes it the same way; the signal, if any, is delivered
		// from the stop it is held in.
		u.resumeSig = sig
		if sig != 0 {
			si := e.siginfo
			if si.Signo() != sig {
				si = ptrace.Siginfo{}
				binary.LittleEndian.PutUint32(si[0:], uint32(sig))
			}
			u.heldSiginfo = &si
		}
		r.makeReady(u)
	case holdReady:
		if sig != 0 {
			var si ptrace.Siginfo
			binary.LittleEndian.PutUint32(si[0:], uint32(sig))
			u.pending = append(u.pending, si)
		}
		r.makeReady(u)
	case holdExit:
		u.state = stExiting
		return r.gone(u, ptrace.Cont(u.tid, 0))
	case holdEntry:
		// On with the syscall it is stopped at the entry of, as the
		// tracer left its registers.
		e.entryReleased = true
		u.state = stRunning
		return r.syscallEntry(u)
	case holdSyscallExit:
		r.makeReady(u)
	}
	return nil
}

// tracedSignal holds u, a tracee of a recorded task, at the delivery stop
// of si (registers regs): its tracer decides what becomes of it. The stop
// is recorded (flag held) so that replay brings u to it too.
func (r *recorder) tracedSignal(u *task, regs *ptrace.Regs, si *ptrace.Siginfo, flags uint32) error {
	ev := &trace.Event{Kind: trace.KindSignal, Tid: int32(u.tid), Regs: *regs, Siginfo: *si, Flags: flags | trace.FlagHeld}
	if err := r.append(ev); err != nil {
		return err
	}
	u.emu.siginfo = *si
	r.hold(u, holdSignal, stopStatus(si.Signo(), 0))
	return nil
}

// resumeHeldSignal resumes u from the signal-delivery stop it was held in,
// delivering the signal its tracer chose (recorded: flag resume).
func (r *recorder) resumeHeldSignal(u *task, sig int) error {
	var regs ptrace.Regs
	if err := ptrace.GetRegs(u.tid, &regs); err != nil {
		return r.gone(u, err)
	}
	u.resumeRegs = regs
	if sig == 0 {
		return r.gone(u, ptrace.Cont(u.tid, 0))
	}
	si := *u.heldSiginfo
	u.heldSiginfo = nil
	if err := ptrace.SetSiginfo(u.tid, &si); err != nil {
		return r.gone(u, err)
	}
	ev := &trace.Event{Kind: trace.KindSignal, Tid: int32(u.tid), Regs: regs, Siginfo: si, Flags: trace.FlagResume}
	if err := r.append(ev); err != nil {
		return err
	}
	return r.gone(u, ptrace.Cont(u.tid, sig))
}

// waitCall handles a wait4/waitid of t, a tracer of recorded tasks: an
// emulated stop that is due is returned at once (t.skip); otherwise the
// call runs for real if a real child of t could answer it, or is parked in
// pause() until a tracee stops.
func (r *recorder) waitCall(t *task, nr int, a [6]uint64) error {
	w := &waitReq{nr: nr, args: a}
	if len(r.tracees(t)) == 0 && len(r.reports[t]) == 0 {
		// A real wait; a tracee it gets meanwhile (PTRACE_TRACEME in a
		// child) interrupts it (wakeTracer).
		t.waiting = w
		return nil
	}
	if u := r.dueStop(t, w); u != nil {
		return r.answerWait(t, w, u)
	}
	if w.options()&unix.WNOHANG != 0 && !r.realChildMatches(t, w) {
		t.skip = &skipped{}
		if nr == unix.SYS_WAITID && a[2] != 0 {
			t.skip.mem = []trace.MemWrite{{Addr: a[2], Data: make([]byte, 128)}}
		}
		return nil
	}
	t.waiting = w
	if !r.realChildMatches(t, w) {
		// Nothing real can answer (the tracee is not its child): park it.
		regs := t.entry
		regs.Orig_rax = unix.SYS_PAUSE
		w.parked = true
		return ptrace.SetRegs(t.tid, &regs)
	}
	return nil
}

// finishWait completes t's wait at its syscall exit (ret: what the kernel
// returned): a tracee's stop that arrived meanwhile is the answer; an
// interrupted call without one is restarted as the program made it.
func (r *recorder) finishWait(t *task, regs *ptrace.Regs, ret int64) (handled bool, err error) {
	w := t.waiting
	t.waiting = nil
	if !isRestart(ret) && !w.parked {
		return false, nil // the real call answered
	}
	if u := r.dueStop(t, w); u != nil {
		return true, r.answerWait(t, w, u)
	}
	// Restarted by the kernel: the wait the program made, seen anew at its
	// entry.
	regs.Orig_rax = uint64(w.nr)
	if err := ptrace.SetRegs(t.tid, regs); err != nil {
		return false, err
	}
	if w.parked && !isRestart(ret) {
		return false, fmt.Errorf("task %d: parked wait returned %d", t.tid, ret)
	}
	return false, nil
}

func isRestart(ret int64) bool { return ret <= -512 && ret >= -516 }

// waitReq is a wait4/waitid call of a tracer.
type waitReq struct {
	nr     int
	args   [6]uint64
	parked bool
}

func (w *waitReq) options() uint64 {
	if w.nr == unix.SYS_WAITID {
		return w.args[3]
	}
	return w.args[2]
}

// matches reports whether the wait could return task u.
func (w *waitReq) matches(u *task) bool {
	if w.nr == unix.SYS_WAITID {
		switch w.args[0] {
		case 0: // P_ALL
			return true
		case 1: // P_PID
			return int(int32(w.args[1])) == u.tid
		}
		return true // P_PGID, P_PIDFD: approximated as any
	}
	pid := int(int32(w.args[0]))
	return pid <= 0 || pid == u.tid || pid == u.pid && u.tid == u.pid
}

// realChildMatches reports whether a real child of t's process could
// answer w.
func (r *recorder) realChildMatches(t *task, w *waitReq) bool {
	for _, c := range r.tasks {
		if c.ppid == t.pid && c.pid == c.tid && w.matches(c) {
			return true
		}
	}
	return false
}

// dueStop returns a tracee of t whose stop w may report.
func (r *recorder) dueStop(t *task, w *waitReq) *task {
	if rep := r.reports[t]; len(rep) > 0 {
		for _, u := range rep {
			if w.matches(u) {
				return u
			}
		}
	}
	for _, u := range r.tracees(t) {
		if u.emu.held != notHeld && !u.emu.reported && w.matches(u) {
			return u
		}
	}
	return nil
}

// answerWait makes t's wait return u's stop (or exit).
func (r *recorder) answerWait(t *task, w *waitReq, u *task) error {
	status := u.exitReport
	if u.emu != nil && u.emu.held != notHeld {
		status = u.emu.status
		if w.options()&unix.WNOWAIT == 0 {
			u.emu.reported = true
		}
	} else if w.options()&unix.WNOWAIT == 0 {
		r.dropReport(t, u)
	}
	t.skip = &skipped{}
	if w.nr == unix.SYS_WAITID {
		if w.args[2] != 0 {
			code, st := arch.CldTrapped, int(status>>8&0xff)
			if ws := unix.WaitStatus(status); ws.Exited() {
				code, st = arch.CldExited, ws.ExitStatus()
			} else if ws.Signaled() {
				code, st = arch.CldKilled, int(ws.Signal())
			}
			si := arch.NewSiginfo(int(unix.SIGCHLD), 0, code)
			si.SetChild(u.tid, st)
			t.skip.mem = append(t.skip.mem, trace.MemWrite{Addr: w.args[2], Data: si[:]})
		}
		if w.args[4] != 0 {
			t.skip.mem = append(t.skip.mem, trace.MemWrite{Addr: w.args[4], Data: make([]byte, 144)})
		}
		return nil
	}
	t.skip.ret = int64(u.tid)
	if w.args[1] != 0 {
		t.skip.mem = append(t.skip.mem, trace.MemWrite{Addr: w.args[1], Data: binary.LittleEndian.AppendUint32(nil, uint32(status))})
	}
	if w.args[3] != 0 {
		t.skip.mem = append(t.skip.mem, trace.MemWrite{Addr: w.args[3], Data: make([]byte, 144)})
	}
	return nil
}

// traceeExited tells u's tracer, when it is not u's parent (which the
// kernel tells itself), that u ended; a dead tracer's tracees are let go.
func (r *recorder) traceeExited(u *task, status int) {
	if u.emu != nil && u.emu.tracer.pid != u.ppid && r.tasks[u.emu.tracer.tid] != nil {
		t := u.emu.tracer
		u.exitReport = status
		u.emu = nil
		r.reports[t] = append(r.reports[t], u)
		r.wakeTracer(t)
	}
	delete(r.reports, u)
	for _, v := range r.tasks {
		if v.emu != nil && v.emu.tracer == u {
			e := v.emu
			v.emu = nil
			if e.opts&optExitKill != 0 {
				unix.Tgkill(v.pid, v.tid, unix.SIGKILL)
			} else if e.held != notHeld {
				e.tracer = u
				r.resumeTracee(v, e, 0)
			}
		}
	}
}

func (r *recorder) dropReport(t, u *task) {
	rep := r.reports[t]
	for i, x := range rep {
		if x == u {
			r.reports[t] = append(rep[:i], rep[i+1:]...)
			return
		}
	}
}

// tracedExit holds u at its PTRACE_EVENT_EXIT stop if its tracer asked
// (PTRACE_O_TRACEEXIT); reports whether it did.
func (r *recorder) tracedExit(u *task) bool {
	if u.emu == nil || u.emu.opts&optTraceExit == 0 {
		return false
	}
	msg, _ := ptrace.EventMsg(u.tid)
	u.emu.eventMsg = msg
	r.hold(u, holdExit, stopStatus(int(unix.SIGTRAP), eventExit))
	return true
}
