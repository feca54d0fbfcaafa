package record

import (
	"crypto/rand"
	"encoding/binary"
	"path/filepath"

	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/trace"
	"github.com/rewind-dbg/rewind/internal/tracee"
	"golang.org/x/sys/unix"
)

// checkRdrand looks for RDRAND/RDSEED in an executable file mapping m that
// task t's event ev made: each certain one gets an int3 in place of its
// first byte (listed in ev.Traps for replay to do the same); others are
// named in a warning.
func (r *recorder) checkRdrand(t *task, m trace.Mapping, ev *trace.Event) {
	if m.Prot&unix.PROT_EXEC == 0 || m.File == "" {
		return
	}
	for _, s := range r.rdrand.scan(filepath.Join(r.files.dir, m.File), m.Name, m.Offset, m.End-m.Start) {
		if s.certain && !trace.SharedMap(m.Flags) && s.off >= m.Offset && s.off < m.Offset+(m.End-m.Start) {
			addr := m.Start + s.off - m.Offset
			if r.trapsOf(t.pid).Set(t.tid, addr) == nil {
				ev.Traps = append(ev.Traps, addr)
				continue
			}
		}
		r.warn("rdrand:"+s.what, "%s: the CPU's random numbers cannot be recorded here; replay diverges if it runs", s.what)
	}
}

// trapsOf is the trap table of process pid's address space.
func (r *recorder) trapsOf(pid int) tracee.Traps {
	tr := r.traps[pid]
	if tr == nil {
		tr = tracee.Traps{}
		r.traps[pid] = tr
	}
	return tr
}

// rdrandTrap emulates the RDRAND/RDSEED whose trap stopped t (at site,
// decoded as d): a random value from the recorder's own source, recorded.
func (r *recorder) rdrandTrap(t *task, regs *ptrace.Regs, site uint64, d tracee.Rdrand) error {
	var b [8]byte
	rand.Read(b[:])
	v := binary.LittleEndian.Uint64(b[:])
	ev := &trace.Event{Kind: trace.KindRdrand, Tid: int32(t.tid), Regs: *regs, Values: [3]uint64{v}}
	if err := r.append(ev); err != nil {
		return err
	}
	regs.Rip = site
	d.Emulate(regs, v)
	if err := ptrace.SetRegs(t.tid, regs); err != nil {
		return r.gone(t, err)
	}
	t.resumeRegs = *regs
	return r.gone(t, ptrace.Cont(t.tid, 0))
}
