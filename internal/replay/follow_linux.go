package replay

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/rewind-dbg/rewind/internal/trace"
)

// Executable returns the path of the preserved executable a debugger
// following process follow ("" for the first, a pid or a program name, as
// Options.Follow) should load symbols from, or an error if no recorded
// process matches.
func Executable(dir, follow string) (string, error) {
	rd, err := trace.Open(dir)
	if err != nil {
		return "", err
	}
	defer rd.Close()
	first := ""
	for {
		ev, err := rd.Next()
		if err != nil && err != io.EOF && !errors.Is(err, trace.ErrIncomplete) {
			return "", err // a corrupt trace says so, as replay -a does
		}
		if err != nil {
			if first != "" && follow == "" {
				return first, nil
			}
			return "", fmt.Errorf("no recorded process matches %q (see 'rewind ps')", follow)
		}
		if ev.Kind != trace.KindExec {
			if ev.Kind == trace.KindNewTask && fmt.Sprint(ev.Ret) == follow && first != "" {
				// Followed from its fork; its own exec, if any, comes later.
				if exe := execOf(rd, int32(ev.Ret)); exe != "" {
					return exe, nil
				}
				return first, nil
			}
			continue
		}
		path, err := filepath.Abs(rd.File(ev.Path))
		if err != nil {
			return "", err
		}
		if first == "" {
			first = path
			if follow == "" || follow == fmt.Sprint(ev.Tid) {
				return path, nil
			}
		}
		if follow != "" && filepath.Base(argv0(ev)) == follow {
			return path, nil
		}
	}
}

// execOf finds the executable of pid's next exec before it ends.
func execOf(rd *trace.Reader, pid int32) string {
	e, _ := rd.Find(func(e *trace.Event) bool { return e.Tid == pid && e.Kind == trace.KindExec },
		func(e *trace.Event) bool { return e.Tid == pid && e.Kind == trace.KindTaskExit })
	if e == nil {
		return ""
	}
	p, _ := filepath.Abs(rd.File(e.Path))
	return p
}

// followFork starts following a new process if it is the one asked for by
// pid: at its exec if it execs before it ends, else now.
func (r *replayer) followFork(child *rtask) {
	if r.debugPid != 0 || r.opt.Follow != fmt.Sprint(child.rec) {
		return
	}
	r.debugPid = child.rec
	pid := child.rec
	execs, _ := r.rd.Find(func(e *trace.Event) bool { return e.Tid == pid && e.Kind == trace.KindExec },
		func(e *trace.Event) bool { return e.Tid == pid && e.Kind == trace.KindTaskExit })
	if execs != nil {
		r.startAtExec = true
		return
	}
	child.stepping = r.stopFor(child, StopStart) == Step
}

// followExec starts following the process that just exec'd, if it was
// chosen by pid (and waited for its exec) or by program name.
func (r *replayer) followExec(t *rtask, ev *trace.Event) {
	switch {
	case r.startAtExec && t.pid == r.debugPid:
		r.startAtExec = false
	case r.debugPid == 0 && r.opt.Follow != "" && filepath.Base(argv0(ev)) == r.opt.Follow:
		r.debugPid = t.pid
	default:
		return
	}
	t.stepping = r.stopFor(t, StopStart) == Step
}

// argv0 is the program name an exec event recorded.
func argv0(ev *trace.Event) string {
	if argv := ev.Argv(); len(argv) > 0 {
		return argv[0]
	}
	return ""
}
