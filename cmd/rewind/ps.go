package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/rewind-dbg/rewind/internal/trace"
	"golang.org/x/sys/unix"
)

// process is one process of a recorded tree, for 'rewind ps'.
type process struct {
	pid, ppid int32
	exit      string
	cmd       string
}

func cmdPs(args []string) error {
	if len(args) > 1 {
		return fail(2, "ps: usage: rewind ps [DIR]")
	}
	dir, err := resolveTrace(strings.Join(args, ""))
	if err != nil {
		return err
	}
	procs, err := processes(dir)
	if err != nil {
		return fail(1, "%v", err)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 8, 1, '\t', 0)
	fmt.Fprintln(tw, "PID\tPPID\tEXIT\tCMD")
	for _, p := range procs {
		ppid := "--"
		if p.ppid != 0 {
			ppid = fmt.Sprint(p.ppid)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", p.pid, ppid, p.exit, p.cmd)
	}
	return tw.Flush()
}

// processes lists the recorded processes in creation order, as rr ps does:
// pid, parent, exit status (or the killing signal as a negative number) and
// the command line of the last exec.
func processes(dir string) ([]*process, error) {
	rd, err := trace.Open(dir)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	var list []*process
	byPid := map[int32]*process{}
	tgid := map[int32]int32{} // task -> its process
	for {
		ev, err := rd.Next()
		if err == io.EOF || err == trace.ErrIncomplete {
			break
		}
		if err != nil {
			return nil, err
		}
		switch ev.Kind {
		case trace.KindExec:
			p := byPid[tgid[ev.Tid]]
			if p == nil {
				p = &process{pid: ev.Tid, exit: "-"}
				byPid[ev.Tid], tgid[ev.Tid] = p, ev.Tid
				list = append(list, p)
			}
			p.cmd = commandLine(ev.Argv())
		case trace.KindNewTask:
			child := int32(ev.Ret)
			if ev.Flags&trace.FlagNewProcess == 0 {
				tgid[child] = tgid[ev.Tid]
				continue
			}
			parent := byPid[tgid[ev.Tid]]
			const forked = "(forked without exec)"
			p := &process{pid: child, ppid: tgid[ev.Tid], exit: "-", cmd: forked}
			if parent != nil && parent.cmd != "" {
				p.cmd = forked + " " + strings.TrimPrefix(parent.cmd, forked+" ")
			}
			byPid[child], tgid[child] = p, child
			list = append(list, p)
		case trace.KindTaskExit:
			if p := byPid[ev.Tid]; p != nil {
				ws := unix.WaitStatus(ev.Ret)
				if ws.Signaled() {
					p.exit = fmt.Sprint(-int(ws.Signal()))
				} else {
					p.exit = fmt.Sprint(ws.ExitStatus())
				}
			}
		}
	}
	return list, nil
}

// commandLine joins argv for a one-line table: control characters in the
// arguments (a script passed with -c) are shown escaped, as Go quotes them.
func commandLine(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if strings.IndexFunc(a, unicode.IsControl) >= 0 {
			a = strconv.Quote(a)
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}
