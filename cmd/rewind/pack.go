package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rewind-dbg/rewind/internal/trace"
	"golang.org/x/sys/unix"
)

// cmdPack makes a trace self-contained like 'rr pack': the files the
// recorder hard-linked (system libraries and executables) become private
// copies, so the trace survives upgrades of those files in place and can be
// moved to another file system or machine.
func cmdPack(args []string) error {
	if len(args) > 1 {
		return fail(2, "pack: usage: rewind pack [DIR]")
	}
	dir, err := resolveTrace(strings.Join(args, ""))
	if err != nil {
		return err
	}
	if _, err := trace.ReadHeader(dir); err != nil {
		return fail(1, "%v", err)
	}
	// Never follow a files/ that leads elsewhere: pack writes there.
	var fst unix.Stat_t
	if err := unix.Lstat(filepath.Join(dir, trace.FilesDir), &fst); err != nil || fst.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fail(1, "pack %s: %s is not a directory", dir, trace.FilesDir)
	}
	files, err := os.ReadDir(filepath.Join(dir, trace.FilesDir))
	if err != nil {
		return fail(1, "pack %s: %v", dir, err)
	}
	var n int
	var bytes int64
	for _, e := range files {
		path := filepath.Join(dir, trace.FilesDir, e.Name())
		var st unix.Stat_t
		if !trace.ValidFileName(e.Name()) {
			continue
		}
		if err := unix.Lstat(path, &st); err != nil || st.Nlink <= 1 || st.Mode&unix.S_IFMT != unix.S_IFREG {
			continue
		}
		if err := copyOver(path, os.FileMode(st.Mode&0o777)); err != nil {
			return fail(1, "pack %s: %v", dir, err)
		}
		n++
		bytes += st.Size
	}
	fmt.Printf("packed %s: %d shared files copied (%s)\n", dir, n, humanSize(bytes))
	return nil
}

// copyOver replaces path (a hard link) with a private copy of its contents.
func copyOver(path string, mode os.FileMode) error {
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := path + ".pack"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(tmp)
		return err
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
