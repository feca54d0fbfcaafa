package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rewind-dbg/rewind/internal/trace"
)

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
