package record

import (
	"fmt"
	"strings"

	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/trace"
	"github.com/rewind-dbg/rewind/internal/tracee"
	"golang.org/x/sys/unix"
)

// recordExec captures a task's new image right after execve: it makes the
// vDSO's functions syscalls, then records the registers, every mapping (with the
// mapped files preserved) and the contents of every writable mapping. This
// is everything replay needs to make its own exec of the program identical.
//
// former is the tid the exec'ing thread had before (the same as t.tid unless
// a thread other than the main one exec'd).
func (r *recorder) recordExec(t *task, former int) error {
	var regs ptrace.Regs
	if err := ptrace.GetRegs(t.tid, &regs); err != nil {
		return err
	}
	if err := tracee.PatchVDSO(t.tid); err != nil {
		// A vDSO rewind cannot patch is hidden from the program instead:
		// libc and Go then make real syscalls.
		r.warn("vdso:"+err.Error(), "%v; hiding the vDSO from the program", err)
		if err := tracee.HideVDSO(t.tid, regs.Rsp); err != nil {
			return err
		}
	}
	exe, err := r.files.save(fmt.Sprintf("/proc/%d/exe", t.tid), "exe")
	if err != nil {
		return err
	}
	vmas, err := tracee.ReadMaps(t.tid)
	if err != nil {
		return err
	}
	ev := &trace.Event{Kind: trace.KindExec, Tid: int32(former), Ret: int64(t.tid), Regs: regs, Path: exe}
	r.traps[t.pid] = tracee.Traps{} // a new address space
	var stack tracee.VMA
	for _, v := range vmas {
		if v.Path == "[stack]" {
			stack = v
		}
		if v.Special() {
			continue
		}
		m := trace.Mapping{Start: v.Start, End: v.End, Prot: v.Prot(), Offset: v.Offset, Name: v.Path,
			Flags: unix.MAP_PRIVATE}
		if v.Shared() {
			m.Flags = unix.MAP_SHARED
		}
		if v.Inode != 0 && strings.HasPrefix(v.Path, "/") {
			if m.File, err = r.files.saveMapping(t.tid, v); err != nil {
				return err
			}
		} else {
			m.Flags |= unix.MAP_ANONYMOUS
			if v.Path == "[stack]" {
				m.Flags |= unix.MAP_GROWSDOWN
			}
		}
		r.checkRdrand(t, m, ev)
		ev.Maps = append(ev.Maps, m)
		if v.Prot()&unix.PROT_WRITE != 0 {
			// Replay keeps its own stack area (remaps everything else), so
			// the stack is saved whole.
			mem, err := snapshot(t.tid, v, m.Flags&unix.MAP_ANONYMOUS != 0 && v.Path != "[stack]")
			if err != nil {
				return fmt.Errorf("task %d: save initial contents of %s: %w", t.tid, v.Path, err)
			}
			ev.Mem = append(ev.Mem, mem...)
		}
	}
	// A large image goes out partly in data events after the exec event,
	// so that no event outgrows a trace block. The stack stays in the
	// exec event: replay adjusts its extent while rebuilding.
	var spill []trace.MemWrite
	keep, size := ev.Mem[:0:0], 0
	for _, w := range ev.Mem {
		if size+len(w.Data) > dataChunk && (w.Addr < stack.Start || w.Addr >= stack.End) {
			spill = append(spill, w)
			continue
		}
		size += len(w.Data)
		keep = append(keep, w)
	}
	ev.Mem = keep
	if err := r.append(ev); err != nil {
		return err
	}
	for len(spill) > 0 {
		d := &trace.Event{Kind: trace.KindData, Tid: int32(t.tid)}
		for n := 0; len(spill) > 0 && (n == 0 || n+len(spill[0].Data) <= dataChunk); spill = spill[1:] {
			n += len(spill[0].Data)
			d.Mem = append(d.Mem, spill[0])
		}
		if err := r.append(d); err != nil {
			return err
		}
	}
	return nil
}

// snapshotChunk is the unit in which writable memory is saved at exec.
const snapshotChunk = 1 << 20

// snapshot reads a writable mapping's contents. Where replay maps fresh
// anonymous memory (skipZero), it is zero wherever nothing was written, so
// all-zero chunks are left out: a Go program's bss can be tens of MiB.
func snapshot(tid int, v tracee.VMA, skipZero bool) ([]trace.MemWrite, error) {
	var out []trace.MemWrite
	for addr := v.Start; addr < v.End; addr += snapshotChunk {
		buf := make([]byte, min(snapshotChunk, v.End-addr))
		if err := ptrace.ReadMem(tid, addr, buf); err != nil {
			return nil, err
		}
		if skipZero && allZero(buf) {
			continue
		}
		out = append(out, trace.MemWrite{Addr: addr, Data: buf})
	}
	return out, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
