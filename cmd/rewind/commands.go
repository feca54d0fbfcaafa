package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/rewind-dbg/rewind/internal/gdbserver"
	"github.com/rewind-dbg/rewind/internal/record"
	"github.com/rewind-dbg/rewind/internal/replay"
	"github.com/rewind-dbg/rewind/internal/trace"
	"github.com/rewind-dbg/rewind/internal/tracee"
	"golang.org/x/sys/unix"
)

// takeValue handles "-o DIR", "-oDIR", "--opt DIR" and "--opt=DIR".
func takeValue(args []string, i int, short, long string) (string, int, bool, error) {
	a := args[i]
	switch {
	case a == short || a == long:
		if i+1 >= len(args) {
			return "", i, true, fail(2, "%s needs a value", a)
		}
		return args[i+1], i + 1, true, nil
	case long != "" && strings.HasPrefix(a, long+"="):
		return a[len(long)+1:], i, true, nil
	case short != "" && strings.HasPrefix(a, short) && len(a) > len(short) && !strings.HasPrefix(a, "--"):
		return a[len(short):], i, true, nil
	}
	return "", i, false, nil
}

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

// errHelp is a -h or --help among a command's options (after option
// values, which helpRequested cannot tell apart).
var errHelp = errors.New("help requested")

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

func cmdDump(args []string) error {
	if len(args) > 1 {
		return fail(2, "dump: usage: rewind dump [DIR]")
	}
	dir, err := resolveTrace(strings.Join(args, ""))
	if err != nil {
		return err
	}
	rd, err := trace.Open(dir)
	if err != nil {
		return fail(1, "%v", err)
	}
	defer rd.Close()
	h := rd.Header
	w := newBufWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintf(w, "# %s: %s, recorded %s on %s (kernel %s), format version %d\n",
		dir, strings.Join(h.Argv, " "), h.Recorded.Format("2006-01-02 15:04:05 UTC"), h.CPU, h.Kernel, h.Version)
	for {
		ev, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			w.Flush()
			return fail(1, "%v", err)
		}
		fmt.Fprintf(w, "%d %d %s\n", rd.Count(), ev.Tid, describe(ev))
	}
}

func cmdLs(args []string) error {
	if len(args) > 0 {
		return fail(2, "ls takes no arguments")
	}
	root := traceRoot()
	entries, err := os.ReadDir(root)
	if err != nil && !os.IsNotExist(err) {
		return fail(1, "list %s: %v", root, err)
	}
	type row struct {
		name, prog string
		mod        int64
		size       int64
	}
	var rows []row
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		h, err := trace.ReadHeader(dir)
		if err != nil {
			continue
		}
		info, _ := e.Info()
		rows = append(rows, row{e.Name(), strings.Join(h.Argv, " "), info.ModTime().UnixNano(), dirSize(dir)})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].mod < rows[j].mod })
	tw := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSIZE\tPROGRAM")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.name, humanSize(r.size), r.prog)
	}
	return tw.Flush()
}

// dirSize adds up the blocks a trace really uses (hard-linked files count
// once per trace, as du does).
func dirSize(dir string) int64 {
	var total int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				if st, ok := info.Sys().(*syscall.Stat_t); ok {
					total += st.Blocks * 512
				}
			}
		}
		return nil
	})
	return total
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fG", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fM", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fK", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}
