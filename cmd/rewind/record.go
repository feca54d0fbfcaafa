package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rewind-dbg/rewind/internal/record"
	"github.com/rewind-dbg/rewind/internal/trace"
	"github.com/rewind-dbg/rewind/internal/tracee"
	"golang.org/x/sys/unix"
)

// recorded reports whether dir holds at least one event.
func recorded(dir string) bool {
	rd, err := trace.Open(dir)
	if err != nil {
		return false
	}
	defer rd.Close()
	_, err = rd.Next()
	return err == nil
}

// removeContents empties a directory the user named with -o.
func removeContents(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// recordFlags are record's parsed arguments.
type recordFlags struct {
	dir     string
	wait    bool
	printFD int
	argv    []string
}

func parseRecord(args []string) (recordFlags, error) {
	f := recordFlags{printFD: -1}
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if !strings.HasPrefix(a, "-") {
			break
		}
		if a == "-w" || a == "--wait" {
			f.wait = true
			continue
		}
		if a == "-h" || a == "--help" {
			return f, errHelp
		}
		v, ni, ok, err := takeValue(args, i, "-o", "--output-trace-dir")
		if err != nil {
			return f, err
		}
		if ok {
			f.dir, i = v, ni
			continue
		}
		if v, ni, ok, err := takeValue(args, i, "", "--print-trace-dir"); err != nil {
			return f, err
		} else if ok {
			if f.printFD, err = strconv.Atoi(v); err != nil || f.printFD < 0 {
				return f, fail(2, "record: bad file descriptor %q", v)
			}
			i = ni
			continue
		}
		return f, fail(2, "record: unknown option %s", a)
	}
	if i >= len(args) {
		return f, fail(2, "record: no program given (usage: rewind record [-o DIR] [-w] PROG [ARGS...])")
	}
	f.argv = args[i:]
	return f, nil
}

func cmdRecord(args []string) error {
	f, err := parseRecord(args)
	if errors.Is(err, errHelp) {
		fmt.Print(commandUsage["record"])
		return nil
	}
	if err != nil {
		return err
	}
	dir, wait, printFD, argv := f.dir, f.wait, f.printFD, f.argv
	// Nothing is created for a program that cannot be run.
	if _, err := exec.LookPath(argv[0]); err != nil {
		return fail(127, "cannot record %s: %v", argv[0], errors.Unwrap(err))
	}
	created := dir == ""
	if dir == "" {
		var err error
		if dir, err = newTraceDir(argv[0]); err != nil {
			return err
		}
	} else if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fail(1, "record: %s exists and is not empty", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if printFD >= 0 {
		// rr's --print-trace-dir: tools (delve) learn where the trace goes.
		f := os.NewFile(uintptr(printFD), "print-trace-dir")
		if _, err := fmt.Fprintln(f, abs); err != nil {
			return fail(1, "record: --print-trace-dir=%d: %v", printFD, err)
		}
		f.Close()
	}
	// rr's words, and how to replay.
	fmt.Fprintf(os.Stderr, "rewind: Saving execution to trace directory `%s' (replay it with: rewind replay%s).\n", abs, replayArg(abs))
	res, err := record.Record(record.Options{Dir: abs, Argv: argv, Env: os.Environ(), Stderr: os.Stderr, Version: version, Wait: wait})
	if err != nil && (res == nil || res.Events == 0) && !recorded(abs) {
		// Nothing was recorded: leave nothing behind, and latest-trace
		// where it was.
		if created {
			os.RemoveAll(abs)
		} else {
			removeContents(abs)
		}
		return err
	}
	setLatest(abs)
	if err != nil {
		return err
	}
	if os.Getenv("REWIND_STATS") == "1" {
		// VmHWM, not getrusage: ru_maxrss carries the high-water mark of
		// the process image that exec'd rewind.
		rss := "?"
		if st, err := tracee.ReadSelfStatus(); err == nil {
			rss = fmt.Sprint(st.PeakRSSKiB)
		}
		fmt.Fprintf(os.Stderr, "rewind: %d events, recorder peak RSS %s kB\n", res.Events, rss)
	}
	reportSignal(argv[0], res.Status)
	if code := res.ExitCode(); code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// reportSignal says that the program died of a signal (the shell would
// have, had it run without rewind); record and replay say the same.
func reportSignal(prog string, st unix.WaitStatus) {
	if !st.Signaled() {
		return
	}
	core := ""
	if st.CoreDump() {
		core = " (core dumped)"
	}
	fmt.Fprintf(os.Stderr, "rewind: %s was killed by %s%s\n", filepath.Base(prog), unix.SignalName(st.Signal()), core)
}
