package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/rewind-dbg/rewind/internal/record"
	"github.com/rewind-dbg/rewind/internal/replay"
	"github.com/rewind-dbg/rewind/internal/trace"
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

func cmdRecord(args []string) error {
	var dir string
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
		v, ni, ok, err := takeValue(args, i, "-o", "--output-trace-dir")
		if err != nil {
			return err
		}
		if ok {
			dir, i = v, ni
			continue
		}
		return fail(2, "record: unknown option %s", a)
	}
	if i >= len(args) {
		return fail(2, "record: no program given (usage: rewind record [-o DIR] PROG [ARGS...])")
	}
	argv := args[i:]
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
	res, err := record.Record(record.Options{Dir: abs, Argv: argv, Env: os.Environ(), Stderr: os.Stderr, Version: version})
	setLatest(abs)
	if err != nil {
		return err
	}
	if os.Getenv("REWIND_STATS") == "1" {
		// VmHWM, not getrusage: ru_maxrss carries the high-water mark of
		// the process image that exec'd rewind.
		fmt.Fprintf(os.Stderr, "rewind: %d events, recorder peak RSS %s kB\n", res.Events, procStatus("VmHWM"))
	}
	if code := res.ExitCode(); code != 0 {
		return &exitError{code: code}
	}
	return nil
}

func cmdReplay(args []string) error {
	autopilot := false
	var dir string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-a" || a == "--autopilot":
			autopilot = true
		case strings.HasPrefix(a, "-"):
			return fail(2, "replay: unknown option %s", a)
		case dir == "":
			dir = a
		default:
			return fail(2, "replay: unexpected argument %s", a)
		}
	}
	if !autopilot {
		fmt.Fprintln(os.Stderr, "rewind: note: the debugger server is not built yet; replaying without a debugger (as 'replay -a')")
	}
	dir, err := resolveTrace(dir)
	if err != nil {
		return err
	}
	res, err := replay.Replay(replay.Options{Dir: dir, Stdout: os.Stdout, Stderr: os.Stderr})
	if err != nil {
		if errors.Is(err, trace.ErrIncomplete) {
			return fail(1, "%s: %v", dir, err)
		}
		return fail(1, "%v", err)
	}
	st := res.Status
	if st.Signaled() {
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
				if st, ok := info.Sys().(*unix.Stat_t); ok {
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

// procStatus returns a field of /proc/self/status without its unit.
func procStatus(key string) string {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			return strings.TrimSuffix(strings.TrimSpace(v), " kB")
		}
	}
	return "?"
}
