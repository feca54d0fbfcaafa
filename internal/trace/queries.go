package trace

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
)

// Queries the command line asks of a whole trace, before or instead of a
// replay.

// CountEvents reads a whole trace and returns its number of events, or the
// error that stops it (a corrupt block). An incomplete trace counts up to
// its last complete block.
func CountEvents(dir string) (int, error) {
	rd, err := Open(dir)
	if err != nil {
		return 0, err
	}
	defer rd.Close()
	for {
		if _, err := rd.Next(); err == io.EOF || errors.Is(err, ErrIncomplete) {
			return rd.Count(), nil
		} else if err != nil {
			return 0, err
		}
	}
}

// Executable returns the path of the preserved executable a debugger
// following process follow ("" for the first, a pid or a program name, as
// replay's Options.Follow) should load symbols from, or an error if no
// recorded process matches.
func Executable(dir, follow string) (string, error) {
	rd, err := Open(dir)
	if err != nil {
		return "", err
	}
	defer rd.Close()
	first := ""
	for {
		ev, err := rd.Next()
		if err != nil && err != io.EOF && !errors.Is(err, ErrIncomplete) {
			return "", err // a corrupt trace says so, as replay -a does
		}
		if err != nil {
			if first != "" && follow == "" {
				return first, nil
			}
			return "", fmt.Errorf("no recorded process matches %q (see 'rewind ps')", follow)
		}
		if ev.Kind != KindExec {
			if ev.Kind == KindNewTask && fmt.Sprint(ev.Ret) == follow && first != "" {
				// Followed from its fork; its own exec, if any, comes later.
				if e := rd.NextExec(int32(ev.Ret)); e != nil {
					return filepath.Abs(rd.File(e.Path))
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
		if follow != "" && filepath.Base(ev.Argv0()) == follow {
			return path, nil
		}
	}
}

// NextExec looks ahead (as Find) for process pid's next exec before the
// process ends; nil if there is none.
func (r *Reader) NextExec(pid int32) *Event {
	e, _ := r.Find(func(e *Event) bool { return e.Tid == pid && e.Kind == KindExec },
		func(e *Event) bool { return e.Tid == pid && e.Kind == KindTaskExit })
	return e
}

// Argv0 is the program name an exec event recorded, or "".
func (e *Event) Argv0() string {
	if argv := e.Argv(); len(argv) > 0 {
		return argv[0]
	}
	return ""
}
