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
  rewind record [-o DIR] [-w] PROG [ARGS...]
                                  record PROG (found in PATH) into a new trace
  rewind replay [DIR] [-- GDB-ARGS...]
                                  replay a trace under gdb (default: the latest)
  rewind replay -s PORT [DIR]     replay serving a debugger on 127.0.0.1:PORT (0: any)
  rewind replay -a [DIR]          replay without a debugger, re-emitting the output
  rewind dump [DIR]               print a trace's events, one per line
  rewind ps [DIR]                 list the recorded processes
  rewind pack [DIR]               make a trace self-contained
  rewind ls                       list the traces in the trace root, newest last
  rewind --version                print the version
  rewind help [COMMAND]           this text, or a command's

rr spellings are accepted: record --output-trace-dir DIR, replay --autopilot,
--dbgport, --onprocess, 'rewind PROG ARGS' records, 'rewind DIR' replays.

Traces live in $REWIND_TRACE_DIR, else $_RR_TRACE_DIR, else
${XDG_DATA_HOME:-~/.local/share}/rewind; 'latest-trace' names the newest.
`

// commandUsage is each command's --help.
var commandUsage = map[string]string{
	"record": `Usage: rewind record [-o DIR] [-w] PROG [ARGS...]

Runs PROG under recording; its stdin, stdout and stderr pass through and
rewind exits with its status (128+N if signal N killed it).
  -o, --output-trace-dir DIR   write the trace to DIR (default: a new
                               directory in the trace root, and latest-trace)
  -w, --wait                   record until every process ends, not just the
                               first (processes that outlive it are killed)
  --print-trace-dir=FD         write the trace directory to file descriptor FD
`,
	"replay": `Usage: rewind replay [-a] [-s PORT] [-g EVENT] [-p PID|PROG] [DIR] [-- GDB-ARGS...]

Replays DIR (default: the latest trace). Without -a or -s, starts gdb on it.
  -a, --autopilot          no debugger: re-emit the program's output and exit
                           with its recorded status (1 on divergence)
  -s, --dbgport PORT       only serve the debugger protocol on 127.0.0.1:PORT
                           (0: any free port) and print rr's 'Launch debugger
                           with' line
  -g, --goto EVENT         stop first at event EVENT (see 'rewind dump')
  -p, --onprocess PID|PROG debug that recorded process (see 'rewind ps')
  -- GDB-ARGS              passed to gdb
`,
	"dump": `Usage: rewind dump [DIR]

Prints the trace's events, one per line: event number, task, what happened.
`,
	"ps": `Usage: rewind ps [DIR]

Lists the recorded processes: pid, parent pid, exit status, command line.
`,
	"pack": `Usage: rewind pack [DIR]

Replaces the trace's hard links to system files by copies, so that the trace
survives their upgrade and can be moved to another machine.
`,
	"ls": `Usage: rewind ls

Lists the traces in the trace root, newest last, with size and command line.
`,
}

// helpRequested reports whether a command's arguments ask for its usage
// (before any program or trace argument: 'rewind record prog --help' is
// prog's).
func helpRequested(args []string) bool {
	for _, a := range args {
		switch {
		case a == "-h" || a == "--help":
			return true
		case a == "--" || !strings.HasPrefix(a, "-"):
			return false
		}
	}
	return false
}

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
	if u, ok := commandUsage[args[0]]; ok && helpRequested(args[1:]) {
		fmt.Print(u)
		return nil
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
		if len(args) > 1 && commandUsage[args[1]] != "" {
			fmt.Print(commandUsage[args[1]])
			return nil
		}
		fmt.Print(usage)
		return nil
	}
	if strings.HasPrefix(args[0], "-") {
		return fail(2, "unknown option %s (see 'rewind help')", args[0])
	}
	if isTrace(args[0]) {
		return cmdReplay(args)
	}
	return cmdRecord(args)
}

// isTrace tells rr's two short forms apart: 'rr DIR' replays a trace
// directory (one with a header), 'rr PROG' records anything else, even a
// directory that happens to share the name.
func isTrace(arg string) bool {
	st, err := os.Stat(arg)
	if err != nil || !st.IsDir() {
		return false
	}
	_, err = os.Stat(filepath.Join(arg, "header.json"))
	return err == nil
}
