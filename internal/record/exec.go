package record

import (
	"fmt"
	"strings"

	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/trace"
	"github.com/rewind-dbg/rewind/internal/tracee"
	"golang.org/x/sys/unix"
)

// recordExec captures a task's new image right after execve: it hides the
// vDSO from the program, then records the registers, every mapping (with the
// mapped files preserved) and the contents of every writable mapping. This
// is everything replay needs to make its own exec of the program identical.
func (r *recorder) recordExec(t *task) error {
	var regs ptrace.Regs
	if err := ptrace.GetRegs(t.tid, &regs); err != nil {
		return err
	}
	if err := tracee.HideVDSO(t.tid, regs.Rsp); err != nil {
		return err
	}
	exe, err := r.files.save(fmt.Sprintf("/proc/%d/exe", t.tid), "exe")
	if err != nil {
		return err
	}
	vmas, err := tracee.ReadMaps(t.tid)
	if err != nil {
		return err
	}
	ev := &trace.Event{Kind: trace.KindExec, Tid: int32(t.tid), Regs: regs, Path: exe}
	for _, v := range vmas {
		if v.Special() {
			continue
		}
		m := trace.Mapping{Start: v.Start, End: v.End, Prot: v.Prot(), Offset: v.Offset, Name: v.Path,
			Flags: unix.MAP_PRIVATE}
		if v.Shared() {
			m.Flags = unix.MAP_SHARED
		}
		if v.Inode != 0 && strings.HasPrefix(v.Path, "/") {
			src := fmt.Sprintf("/proc/%d/map_files/%x-%x", t.tid, v.Start, v.End)
			if m.File, err = r.files.save(src, v.Path); err != nil {
				return err
			}
		} else {
			m.Flags |= unix.MAP_ANONYMOUS
			if v.Path == "[stack]" {
				m.Flags |= unix.MAP_GROWSDOWN
			}
		}
		r.checkRdrand(m)
		ev.Maps = append(ev.Maps, m)
		if v.Prot()&unix.PROT_WRITE != 0 {
			buf := make([]byte, v.End-v.Start)
			if err := ptrace.ReadMem(t.tid, v.Start, buf); err != nil {
				return fmt.Errorf("task %d: save initial contents of %s: %w", t.tid, v.Path, err)
			}
			ev.Mem = append(ev.Mem, trace.MemWrite{Addr: v.Start, Data: buf})
		}
	}
	return r.append(ev)
}
