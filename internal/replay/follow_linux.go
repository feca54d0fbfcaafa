package replay

import (
	"fmt"
	"path/filepath"

	"github.com/rewind-dbg/rewind/internal/target"
	"github.com/rewind-dbg/rewind/internal/trace"
)

// followFork starts following a new process if it is the one asked for by
// pid: at its exec if it execs before it ends, else now.
func (r *replayer) followFork(child *rtask) {
	if r.debugPid != 0 || r.opt.Follow != fmt.Sprint(child.rec) {
		return
	}
	r.debugPid = child.rec
	pid := child.rec
	if r.rd.NextExec(pid) != nil {
		r.startAtExec = true
		return
	}
	child.stepping = r.stopFor(child, target.StopStart) == target.Step
}

// followExec starts following the process that just exec'd, if it was
// chosen by pid (and waited for its exec) or by program name.
func (r *replayer) followExec(t *rtask, ev *trace.Event) {
	switch {
	case r.startAtExec && t.pid == r.debugPid:
		r.startAtExec = false
	case r.debugPid == 0 && r.opt.Follow != "" && filepath.Base(ev.Argv0()) == r.opt.Follow:
		r.debugPid = t.pid
	default:
		return
	}
	t.stepping = r.stopFor(t, target.StopStart) == target.Step
}
