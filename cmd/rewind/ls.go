package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/rewind-dbg/rewind/internal/trace"
)

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
