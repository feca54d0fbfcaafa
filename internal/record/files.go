package record

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/trace"
	"github.com/rewind-dbg/rewind/internal/tracee"
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
// /proc/PID/exe or /proc/PID/fd/N) refers to and returns its name in the
// store.
func (s *fileStore) save(src, display string) (string, error) {
	f, err := os.Open(src)
	if err != nil {
		return "", fmt.Errorf("preserve mapped file %s: %w", display, err)
	}
	defer f.Close()
	path := ""
	if target, err := os.Readlink(src); err == nil && filepath.IsAbs(target) {
		path = target
	} else if filepath.IsAbs(src) {
		path = src
	}
	return s.saveFileAs(f, display, path)
}

// saveFile preserves the open file f, whose path is display.
func (s *fileStore) saveFile(f *os.File, display string) (string, error) {
	return s.saveFileAs(f, display, display)
}

// saveFileAs preserves the open file f, naming the copy after display; path
// is where f may be found for a hard link ("" if nowhere).
func (s *fileStore) saveFileAs(f *os.File, display, path string) (string, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return "", fmt.Errorf("preserve mapped file %s: %w", display, err)
	}
	key := fileKey{st.Dev, st.Ino, st.Size, st.Mtim.Nano()}
	if name, ok := s.names[key]; ok {
		return name, nil
	}
	name, dst := s.newName(display)
	if st.Dev == s.dev && linkable(path) {
		var lst unix.Stat_t
		if unix.Stat(path, &lst) == nil && lst.Ino == st.Ino && lst.Dev == st.Dev && os.Link(path, dst) == nil {
			s.names[key] = name
			return name, nil
		}
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o700)
	if err != nil {
		return "", fmt.Errorf("preserve mapped file %s: %w", display, err)
	}
	if err := copySparse(out, f, st.Size); err != nil {
		out.Close()
		return "", fmt.Errorf("copy mapped file %s into trace: %w", display, err)
	}
	if err := out.Close(); err != nil {
		return "", fmt.Errorf("copy mapped file %s into trace: %w", display, err)
	}
	s.names[key] = name
	return name, nil
}

func (s *fileStore) newName(display string) (name, path string) {
	s.n++
	name = fmt.Sprintf("%d-%s", s.n, sanitize(filepath.Base(display)))
	return name, filepath.Join(s.dir, name)
}

// copySparse copies size bytes of src to dst, skipping holes (SEEK_DATA,
// SEEK_HOLE), so that a huge sparse file costs the trace only its data.
func copySparse(dst, src *os.File, size int64) error {
	for off := int64(0); off < size; {
		data, err := unix.Seek(int(src.Fd()), off, unix.SEEK_DATA)
		if err == unix.ENXIO {
			break // only a hole is left
		}
		if err != nil {
			// No SEEK_DATA on this file system: copy it whole.
			_, err = io.Copy(io.NewOffsetWriter(dst, off), io.NewSectionReader(src, off, size-off))
			return err
		}
		hole, err := unix.Seek(int(src.Fd()), data, unix.SEEK_HOLE)
		if err != nil {
			hole = size
		}
		hole = min(hole, size)
		if _, err := io.Copy(io.NewOffsetWriter(dst, data), io.NewSectionReader(src, data, hole-data)); err != nil {
			return err
		}
		off = hole
	}
	return dst.Truncate(size)
}

// saveMapping preserves the file behind a mapping of task tid. The kernel's
// /proc/PID/map_files links name it exactly but need CAP_SYS_ADMIN or
// CAP_CHECKPOINT_RESTORE; without them the path in /proc/PID/maps is used
// when it still names the same file (device and inode). A file that is gone
// (deleted, replaced, or never had a path) is saved from the task's memory:
// the mapped range, as the mapping shows it, at the same file offset.
func (s *fileStore) saveMapping(tid int, v tracee.VMA) (string, error) {
	if f, err := os.Open(fmt.Sprintf("/proc/%d/map_files/%x-%x", tid, v.Start, v.End)); err == nil {
		defer f.Close()
		return s.saveFile(f, v.Path)
	}
	if f, err := os.Open(v.Path); err == nil {
		defer f.Close()
		var st unix.Stat_t
		if unix.Fstat(int(f.Fd()), &st) == nil && st.Ino == v.Inode && st.Dev == v.Dev {
			return s.saveFile(f, v.Path)
		}
	}
	return s.saveMemory(tid, v)
}

// saveMemory writes what a file mapping of task tid shows into a new store
// file, at the mapping's file offset. Pages past the end of the file (which
// fault) end the copy: replay's mapping of the copy faults there too.
func (s *fileStore) saveMemory(tid int, v tracee.VMA) (string, error) {
	name, dst := s.newName(strings.TrimSuffix(v.Path, " (deleted)"))
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o700)
	if err != nil {
		return "", fmt.Errorf("preserve mapped file %s: %w", v.Path, err)
	}
	defer out.Close()
	buf := make([]byte, snapshotChunk)
	for addr := v.Start; addr < v.End; addr += uint64(len(buf)) {
		buf = buf[:min(uint64(len(buf)), v.End-addr)]
		if err := ptrace.ReadMem(tid, addr, buf); err != nil {
			if addr == v.Start {
				return "", fmt.Errorf("preserve mapped file %s from memory: %w", v.Path, err)
			}
			break
		}
		if _, err := out.WriteAt(buf, int64(v.Offset+addr-v.Start)); err != nil {
			return "", fmt.Errorf("preserve mapped file %s from memory: %w", v.Path, err)
		}
	}
	return name, out.Close()
}

// sanitize makes a file's base name a name the trace accepts
// (trace.ValidFileName): every other character becomes '_'.
func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' || r == '+' {
			return r
		}
		return '_'
	}, s)
	if len(s) > 200 {
		s = s[:200]
	}
	if s == "" || s == "." || s == ".." {
		s = "file"
	}
	return s
}
