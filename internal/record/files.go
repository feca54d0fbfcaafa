package record

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rewind-dbg/rewind/internal/trace"
	"golang.org/x/sys/unix"
)

// fileStore preserves every executable and mapped file in the trace's
// files/ directory, once per file identity, so that replay never reads the
// originals (which may change or vanish).
type fileStore struct {
	dir   string
	dev   uint64
	names map[fileKey]string
	n     int
}

type fileKey struct {
	dev, ino uint64
	size     int64
	mtime    int64
}

func newFileStore(traceDir string) (*fileStore, error) {
	var st unix.Stat_t
	dir := filepath.Join(traceDir, trace.FilesDir)
	if err := unix.Stat(dir, &st); err != nil {
		return nil, fmt.Errorf("stat trace file store: %w", err)
	}
	return &fileStore{dir: dir, dev: st.Dev, names: map[fileKey]string{}}, nil
}

// linkable reports whether a file may be hard-linked instead of copied:
// system directories are updated by package managers through rename, so an
// inode there does not change underneath the trace.
func linkable(path string) bool {
	for _, p := range []string{"/usr/", "/lib/", "/lib64/", "/bin/", "/sbin/", "/opt/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// save preserves the file that src (a path, or a /proc magic link such as
// /proc/PID/exe or /proc/PID/map_files/A-B) refers to and returns its name
// in the store.
func (s *fileStore) save(src, display string) (string, error) {
	f, err := os.Open(src)
	if err != nil {
		return "", fmt.Errorf("preserve mapped file %s: %w", display, err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return "", fmt.Errorf("preserve mapped file %s: %w", display, err)
	}
	key := fileKey{st.Dev, st.Ino, st.Size, st.Mtim.Nano()}
	if name, ok := s.names[key]; ok {
		return name, nil
	}
	s.n++
	name := fmt.Sprintf("%d-%s", s.n, sanitize(filepath.Base(display)))
	dst := filepath.Join(s.dir, name)
	if target, err := os.Readlink(src); err == nil && filepath.IsAbs(target) {
		display = target
	} else if filepath.IsAbs(src) {
		display = src
	}
	if st.Dev == s.dev && linkable(display) {
		var lst unix.Stat_t
		if unix.Stat(display, &lst) == nil && lst.Ino == st.Ino && lst.Dev == st.Dev && os.Link(display, dst) == nil {
			s.names[key] = name
			return name, nil
		}
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o700)
	if err != nil {
		return "", fmt.Errorf("preserve mapped file %s: %w", display, err)
	}
	if _, err := io.Copy(out, f); err != nil {
		out.Close()
		return "", fmt.Errorf("copy mapped file %s into trace: %w", display, err)
	}
	if err := out.Close(); err != nil {
		return "", fmt.Errorf("copy mapped file %s into trace: %w", display, err)
	}
	s.names[key] = name
	return name, nil
}

func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '/' || r < ' ' {
			return '_'
		}
		return r
	}, s)
	if s == "" || s == "." || s == ".." {
		s = "file"
	}
	return s
}
