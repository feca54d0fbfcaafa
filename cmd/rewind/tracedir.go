package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// traceRoot is where traces are created and looked up by default.
func traceRoot() string {
	for _, v := range []string{"REWIND_TRACE_DIR", "_RR_TRACE_DIR"} {
		if d := os.Getenv(v); d != "" {
			return d
		}
	}
	data := os.Getenv("XDG_DATA_HOME")
	if data == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "/tmp"
		}
		data = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(data, "rewind")
}

const latestName = "latest-trace"

// newTraceDir picks <root>/<prog>-<N> with the next free N.
func newTraceDir(prog string) (string, error) {
	root := traceRoot()
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", fmt.Errorf("create trace root %s: %w", root, err)
	}
	base := filepath.Base(prog)
	for n := 0; ; n++ {
		dir := filepath.Join(root, base+"-"+strconv.Itoa(n))
		if err := os.Mkdir(dir, 0o700); err == nil {
			return dir, nil
		} else if !os.IsExist(err) {
			return "", fmt.Errorf("create trace directory %s: %w", dir, err)
		}
	}
}

// setLatest points the root's latest-trace link at dir.
func setLatest(dir string) {
	root := traceRoot()
	if filepath.Dir(dir) != filepath.Clean(root) {
		return
	}
	tmp := filepath.Join(root, "."+latestName+".tmp")
	os.Remove(tmp)
	if os.Symlink(filepath.Base(dir), tmp) == nil {
		os.Rename(tmp, filepath.Join(root, latestName))
	}
}

// resolveTrace turns a command's optional trace argument into a directory.
func resolveTrace(arg string) (string, error) {
	if arg == "" {
		latest := filepath.Join(traceRoot(), latestName)
		dir, err := filepath.EvalSymlinks(latest)
		if err != nil {
			return "", fail(1, "no trace given and no latest trace in %s", traceRoot())
		}
		return dir, nil
	}
	if st, err := os.Stat(arg); err == nil && st.IsDir() {
		return arg, nil
	}
	if !strings.Contains(arg, "/") {
		if dir := filepath.Join(traceRoot(), arg); isDir(dir) {
			return dir, nil
		}
	}
	return "", fail(1, "trace %s: no such trace directory", arg)
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
