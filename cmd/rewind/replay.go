package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rewind-dbg/rewind/internal/gdbserver"
	"github.com/rewind-dbg/rewind/internal/replay"
	"github.com/rewind-dbg/rewind/internal/trace"
)

// shellQuote single-quotes a for a POSIX shell: the launch line is meant to
// be pasted into one, and the path comes from the trace directory's name.
// (The trace's own file names are plain: trace.ValidFileName.)
func shellQuote(a string) string {
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}

// replayArg is what 'rewind replay' needs to find dir: nothing for the
// newest trace in the trace root.
func replayArg(dir string) string {
	if filepath.Dir(dir) == filepath.Clean(traceRoot()) {
		return ""
	}
	return " " + dir
}

// replayFlags are replay's parsed arguments.
type replayFlags struct {
	autopilot bool
	port      int // -1: launch gdb
	gotoEvent int
	follow    string
	dir       string
	dbgArgs   []string
}

func parseReplay(args []string) (replayFlags, error) {
	f := replayFlags{port: -1}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			f.dbgArgs = args[i+1:]
			break
		}
		if a == "-a" || a == "--autopilot" {
			f.autopilot = true
			continue
		}
		if a == "-h" || a == "--help" {
			return f, errHelp
		}
		if v, ni, ok, err := takeValue(args, i, "-s", "--dbgport"); err != nil {
			return f, err
		} else if ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 65535 {
				return f, fail(2, "replay: bad port %q", v)
			}
			f.port, i = n, ni
			continue
		}
		if v, ni, ok, err := takeValue(args, i, "-p", "--onprocess"); err != nil {
			return f, err
		} else if ok {
			f.follow, i = v, ni
			continue
		}
		if v, ni, ok, err := takeValue(args, i, "-g", "--goto"); err != nil {
			return f, err
		} else if ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return f, fail(2, "replay: bad event number %q", v)
			}
			f.gotoEvent, i = n, ni
			continue
		}
		switch {
		case strings.HasPrefix(a, "-"):
			return f, fail(2, "replay: unknown option %s", a)
		case f.dir == "":
			f.dir = a
		default:
			return f, fail(2, "replay: unexpected argument %s", a)
		}
	}
	return f, nil
}

func cmdReplay(args []string) error {
	f, err := parseReplay(args)
	if errors.Is(err, errHelp) {
		fmt.Print(commandUsage["replay"])
		return nil
	}
	if err != nil {
		return err
	}
	autopilot, port, gotoEvent, follow, dir, dbgArgs := f.autopilot, f.port, f.gotoEvent, f.follow, f.dir, f.dbgArgs
	dir, err = resolveTrace(dir)
	if err != nil {
		return err
	}
	if gotoEvent > 0 {
		n, err := trace.CountEvents(dir)
		if err != nil {
			return fail(1, "%v", err)
		}
		if gotoEvent > n {
			return fail(1, "replay: -g %d: the trace has %d events (see 'rewind dump')", gotoEvent, n)
		}
	}
	opt := replay.Options{Dir: dir, Stdout: os.Stdout, Stderr: os.Stderr, Goto: gotoEvent, Follow: follow}
	var gdb *exec.Cmd
	var srv *gdbserver.Server
	if !autopilot {
		srv, err = gdbserver.Listen(max(port, 0), os.Stderr)
		if err != nil {
			return fail(1, "%v", err)
		}
		defer srv.Close()
		opt.Debugger = srv
		exe, err := trace.Executable(dir, follow)
		if err != nil {
			return fail(1, "%v", err)
		}
		launch := []string{"gdb", "-l", "10000", "-ex", "set sysroot /", "-ex",
			fmt.Sprintf("target extended-remote 127.0.0.1:%d", srv.Port()), exe}
		if port >= 0 {
			// rr's exact words: delve parses this line.
			quoted := make([]string, len(launch))
			for i, a := range launch {
				quoted[i] = shellQuote(a)
			}
			fmt.Fprintf(os.Stderr, "Launch debugger with\n  %s\n", strings.Join(quoted, " "))
		} else {
			gdb = exec.Command(launch[0], append(launch[1:len(launch)-1], append(dbgArgs, exe)...)...)
			gdb.Stdin, gdb.Stdout, gdb.Stderr = os.Stdin, os.Stdout, os.Stderr
			// Ctrl-C at the terminal reaches gdb and rewind both: it is
			// gdb's, which interrupts the replay through the protocol.
			// Caught, not ignored, so that gdb does not inherit it ignored.
			intr := make(chan os.Signal, 1)
			signal.Notify(intr, os.Interrupt)
			defer signal.Stop(intr)
			if err := gdb.Start(); err != nil {
				return fail(1, "cannot start gdb (use -s PORT to attach a debugger yourself): %v", err)
			}
		}
	}
	res, err := replay.Replay(opt)
	if srv != nil && srv.Err() != nil && err == nil {
		err = fmt.Errorf("debug server: %w", srv.Err())
	}
	if gdb != nil {
		// The replay ends when gdb goes away; gdb's status is ours.
		if werr := gdb.Wait(); werr != nil && err == nil {
			var ee *exec.ExitError
			if errors.As(werr, &ee) {
				return &exitError{code: ee.ExitCode()}
			}
		}
	}
	if err != nil {
		if errors.Is(err, trace.ErrIncomplete) {
			return fail(1, "%s: %v", dir, err)
		}
		return fail(1, "%v", err)
	}
	if !autopilot {
		return nil
	}
	st := res.Status
	if st.Signaled() {
		reportSignal(res.Program, st)
		return &exitError{code: 128 + int(st.Signal())}
	}
	if st.ExitStatus() != 0 {
		return &exitError{code: st.ExitStatus()}
	}
	return nil
}
