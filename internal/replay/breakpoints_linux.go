package replay

import (
	"errors"
	"fmt"

	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/ptrace"
)

// passBreakpoint takes a task that shares the debugged process's memory
// (a vfork child) past a debugger breakpoint it hit: the original byte
// back for one step, then the breakpoint again. It reports whether the
// SIGTRAP was such a breakpoint.
func (r *replayer) passBreakpoint(t *rtask) (bool, error) {
	var regs ptrace.Regs
	if err := ptrace.GetRegs(t.tid, &regs); err != nil {
		return false, err
	}
	orig, ok := r.breakpoints[regs.Rip-1]
	if !ok {
		return false, nil
	}
	regs.Rip--
	if err := ptrace.SetRegs(t.tid, &regs); err != nil {
		return true, err
	}
	if err := pokeBreakpoint(t.tid, regs.Rip, orig); err != nil {
		return true, err
	}
	err := r.resumeAs(ptrace.SysemuStep, t.tid, 0)
	if err == nil {
		var st ptrace.Stop
		if st, err = r.wait(t.tid); err == nil && st.Kind() == ptrace.SyscallStop {
			// The instruction was a syscall: leave the task at its entry
			// for the caller, as an ordinary stop.
			r.stashed[t.tid] = append([]ptrace.Stop{st}, r.stashed[t.tid]...)
		}
	}
	if err != nil {
		return true, err
	}
	return true, pokeBreakpoint(t.tid, regs.Rip, arch.Int3)
}

// SetWatchpoint arms a hardware watchpoint on size (1, 2, 4 or 8) aligned
// bytes at addr in every thread of the debugged process.
func (s *Session) SetWatchpoint(addr uint64, size int, kind arch.WatchKind) error {
	if !arch.WatchSizeOK(addr, size) {
		return fmt.Errorf("watchpoint of %d bytes at %#x: x86 watches 1, 2, 4 or 8 aligned bytes", size, addr)
	}
	for i, w := range s.r.watch {
		if w == nil {
			s.r.watch[i] = &arch.Watch{Addr: addr, Size: size, Kind: kind}
			s.r.watchGen++
			return nil
		}
	}
	return errors.New("all 4 debug registers are in use")
}

// ClearWatchpoint disarms the watchpoint at addr.
func (s *Session) ClearWatchpoint(addr uint64, kind arch.WatchKind) error {
	for i, w := range s.r.watch {
		if w != nil && w.Addr == addr && w.Kind == kind {
			s.r.watch[i] = nil
			s.r.watchGen++
		}
	}
	return nil
}

// armWatchpoints loads the debug registers of task t from the debugger's
// watchpoints, if they changed since t was last armed. Debug registers are
// per thread and can be written only while the thread is stopped, so each
// task is armed just before it is resumed (see resume), never while a
// sibling runs.
func (r *replayer) armWatchpoints(t *rtask) error {
	if t.pid != r.debugPid || t.watchGen == r.watchGen {
		return nil
	}
	for i, w := range r.watch {
		if w != nil {
			if err := ptrace.SetDebugReg(t.tid, i, w.Addr); err != nil {
				return err
			}
		}
	}
	if err := ptrace.SetDebugReg(t.tid, arch.DR7, arch.EncodeDR7(r.watch)); err != nil {
		return err
	}
	t.watchGen = r.watchGen
	return nil
}

// watchHit returns the address of the watchpoint that stopped t, if any,
// and clears the debug status register.
func (r *replayer) watchHit(t *rtask) (uint64, bool) {
	dr6, err := ptrace.DebugReg(t.tid, arch.DR6)
	if err != nil {
		return 0, false
	}
	ptrace.SetDebugReg(t.tid, arch.DR6, 0)
	for i, w := range r.watch {
		if w != nil && arch.DR6Hit(dr6, i) {
			return w.Addr, true
		}
	}
	return 0, false
}

// SetBreakpoint inserts a software breakpoint (int3) at addr.
func (s *Session) SetBreakpoint(addr uint64) error {
	if _, ok := s.r.breakpoints[addr]; ok {
		return nil
	}
	var b [1]byte
	if err := ptrace.ReadMem(s.cur.tid, addr, b[:]); err != nil {
		return err
	}
	if err := pokeBreakpoint(s.cur.tid, addr, arch.Int3); err != nil {
		return err
	}
	s.r.breakpoints[addr] = b[0]
	return nil
}

// ClearBreakpoint removes the breakpoint at addr.
func (s *Session) ClearBreakpoint(addr uint64) error {
	orig, ok := s.r.breakpoints[addr]
	if !ok {
		return nil
	}
	delete(s.r.breakpoints, addr)
	return pokeBreakpoint(s.cur.tid, addr, orig)
}

// pokeBreakpoint writes one byte of a debugger breakpoint (int3, or the
// original byte back). A write that fails would leave the program running
// different code than was recorded, so it is an error, never ignored.
func pokeBreakpoint(tid int, addr uint64, b byte) error {
	if err := ptrace.WriteMem(tid, addr, []byte{b}); err != nil {
		return fmt.Errorf("write breakpoint byte at %#x in task %d: %w", addr, tid, err)
	}
	return nil
}

func (r *replayer) clearBreakpoints(t *rtask) {
	for a, orig := range r.breakpoints {
		if err := pokeBreakpoint(t.tid, a, orig); err != nil && !ptrace.IsGone(err) {
			fmt.Fprintf(r.opt.Stderr, "rewind: warning: detaching: %v\n", err)
		}
	}
	r.breakpoints = map[uint64]byte{}
}
