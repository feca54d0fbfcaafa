// Command rewind records a Linux x86-64 process tree and replays it exactly.
// It accepts rr's command-line spellings, so tools that drive rr can drive it.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

const version = "0.1.0"

// rrVersion is the rr release whose interfaces rewind follows.
const rrVersion = "5.9.0"

const usage = `rewind - record and replay Linux x86-64 programs

Usage:
  rewind record [-o DIR] PROG [ARGS...]   record PROG (found in PATH) into a new trace
  rewind replay -a [DIR]                  replay a trace without a debugger (default: latest)
  rewind dump [DIR]                       print a trace's events, one per line
  rewind ps [DIR]                         list the recorded processes: pid, parent, exit status, command
  rewind pack [DIR]                       copy the system files a trace hard-links, making it self-contained
  rewind ls                               list the traces in the trace root, newest last
  rewind --version                        print the version
  rewind help                             this text

rr spellings are accepted: record --output-trace-dir DIR, replay --autopilot,
'rewind PROG ARGS' records, 'rewind DIR' replays.

Traces live in $REWIND_TRACE_DIR, else $_RR_TRACE_DIR, else
${XDG_DATA_HOME:-~/.local/share}/rewind; 'latest-trace' names the newest.
`

func main() {
	os.Exit(run(os.Args[1:]))
}

// exitError carries an exit code and a message for the user.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func fail(code int, format string, args ...any) error {
	return &exitError{code, fmt.Sprintf(format, args...)}
}

func run(args []string) int {
	err := dispatch(args)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(os.Stderr, "rewind: "+ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "rewind: "+err.Error())
	return 1
}

func dispatch(args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return fail(2, "")
	}
	switch args[0] {
	case "record":
		return cmdRecord(args[1:])
	case "replay":
		return cmdReplay(args[1:])
	case "dump":
		return cmdDump(args[1:])
	case "ls":
		return cmdLs(args[1:])
	case "ps":
		return cmdPs(args[1:])
	case "pack":
		return cmdPack(args[1:])
	case "--version", "-V", "version":
		if filepath.Base(os.Args[0]) == "rr" {
			// Called through an 'rr' link by a tool that drives rr (delve
			// checks the version to pick rr's command style).
			fmt.Printf("rr version %s (rewind %s)\n", rrVersion, version)
			return nil
		}
		fmt.Printf("rewind version %s\n", version)
		return nil
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	if strings.HasPrefix(args[0], "-") {
		return fail(2, "unknown option %s (see 'rewind help')", args[0])
	}
	// rr: 'rr DIR' replays, 'rr PROG' records.
	if st, err := os.Stat(args[0]); err == nil && st.IsDir() {
		if _, err := os.Stat(filepath.Join(args[0], "header.json")); err == nil {
			return cmdReplay(args)
		}
	}
	return cmdRecord(args)
}
