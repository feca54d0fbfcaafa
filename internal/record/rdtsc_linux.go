package record

import (
	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/trace"
)

// rdtscLen decodes the instruction at rip: 2 for rdtsc, 3 for rdtscp, else 0.
func (r *recorder) rdtscLen(tid int, rip uint64) (int, bool) {
	var b [3]byte
	if ptrace.ReadMem(tid, rip, b[:]) != nil {
		return 0, false
	}
	return arch.RdtscAt(b[:])
}

func (r *recorder) rdtsc(t *task, regs *ptrace.Regs, n int, isRdtscp bool) error {
	ev := &trace.Event{Kind: trace.KindRdtsc, Tid: int32(t.tid), Regs: *regs}
	var lo, hi, aux uint32
	if isRdtscp {
		lo, hi, aux = rdtscp()
		ev.Flags |= trace.FlagRdtscp
	} else {
		lo, hi = rdtsc()
	}
	ev.Values = [3]uint64{uint64(lo), uint64(hi), uint64(aux)}
	if err := r.append(ev); err != nil {
		return err
	}
	arch.EmulateRdtsc(regs, ev.Values, ev.Flags&trace.FlagRdtscp != 0)
	if err := ptrace.SetRegs(t.tid, regs); err != nil {
		return r.gone(t, err)
	}
	t.resumeRegs = *regs
	return r.gone(t, ptrace.Cont(t.tid, 0))
}
