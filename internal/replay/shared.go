package replay

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/rewind-dbg/rewind/internal/trace"
)

// Shared objects (see record/shared.go): a file the recorded processes
// mapped MAP_SHARED, or a SysV segment. Replay maps a working copy of the
// trace's file, so that every mapping of the object shares pages as it did
// when recorded, and applies to it the changes the recorded syscalls made
// (trace.FileWrite). The trace's own files are never written: a trace
// replays the same way every time. Working copies live in a private
// temporary directory that the replay removes when it ends.
type objects struct {
	dir   string
	files map[string]*os.File // trace file name -> working copy
}

// path returns the working copy of the trace file name; create makes it
// (from the trace's file) if it does not exist yet. ok is false when it
// does not exist and create is false.
func (o *objects) path(rd *trace.Reader, name string, create bool) (path string, ok bool, err error) {
	if f := o.files[name]; f != nil {
		return f.Name(), true, nil
	}
	if !create {
		return "", false, nil
	}
	if o.dir == "" {
		if o.dir, err = os.MkdirTemp("", "rewind-replay-"); err != nil {
			return "", false, fmt.Errorf("make a directory for shared files: %w", err)
		}
		o.files = map[string]*os.File{}
	}
	orig, err := rd.Regular(name)
	if err != nil {
		return "", false, err
	}
	src, err := os.Open(orig)
	if err != nil {
		return "", false, fmt.Errorf("shared file %s: %w", name, err)
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return "", false, fmt.Errorf("shared file %s: %w", name, err)
	}
	dst, err := os.OpenFile(filepath.Join(o.dir, name), os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	if err != nil {
		return "", false, fmt.Errorf("working copy of shared file %s: %w", name, err)
	}
	if err := copyFile(dst, src, st.Size()); err != nil {
		dst.Close()
		return "", false, fmt.Errorf("working copy of shared file %s: %w", name, err)
	}
	o.files[name] = dst
	return dst.Name(), true, nil
}

// copyFile copies size bytes from src to dst, leaving holes where src has them.
func copyFile(dst, src *os.File, size int64) error {
	buf := make([]byte, 1<<20)
	zero := make([]byte, len(buf))
	for off := int64(0); off < size; {
		n, err := src.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		if n == 0 && err != nil {
			return err
		}
		if string(buf[:n]) != string(zero[:n]) {
			if _, err := dst.WriteAt(buf[:n], off); err != nil {
				return err
			}
		}
		off += int64(n)
	}
	return dst.Truncate(size)
}

// apply makes the changes an event's syscall made to shared files.
func (o *objects) apply(rd *trace.Reader, ws []trace.FileWrite) error {
	for _, w := range ws {
		p, _, err := o.path(rd, w.File, true)
		if err != nil {
			return err
		}
		f := o.files[w.File]
		if len(w.Data) > 0 {
			if _, err := f.WriteAt(w.Data, int64(w.Off)); err != nil {
				return fmt.Errorf("update working copy %s: %w", p, err)
			}
		}
		if w.Size >= 0 {
			if err := f.Truncate(w.Size); err != nil {
				return fmt.Errorf("update working copy %s: %w", p, err)
			}
		}
	}
	return nil
}

// close removes the working copies.
func (o *objects) close() {
	for _, f := range o.files {
		f.Close()
	}
	if o.dir != "" {
		os.RemoveAll(o.dir)
	}
}
