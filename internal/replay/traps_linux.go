package replay

import (
	"fmt"

	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/trace"
	"golang.org/x/sys/unix"
)

// rdrand replays a trapped RDRAND/RDSEED with its recorded value.
func (r *replayer) rdrand(t *rtask, ev *trace.Event) error {
	regs, err := r.trapStop(t, ev, unix.SIGTRAP, "RDRAND")
	if err != nil {
		return err
	}
	site, d, ok := r.traps[t.pid].At(t.tid, regs.Rip)
	if !ok {
		return r.diverge(fmt.Sprintf("no RDRAND trap at %#x", regs.Rip-1))
	}
	regs.Rip = site
	d.Emulate(&regs, ev.Values[0])
	return ptrace.SetRegs(t.tid, &regs)
}

func (r *replayer) rdtsc(t *rtask, ev *trace.Event) error {
	regs, err := r.trapStop(t, ev, unix.SIGSEGV, "rdtsc")
	if err != nil {
		return err
	}
	arch.EmulateRdtsc(&regs, ev.Values, ev.Flags&trace.FlagRdtscp != 0)
	return ptrace.SetRegs(t.tid, &regs)
}
