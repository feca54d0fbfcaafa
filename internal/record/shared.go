package record

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/syscalls"
	"github.com/rewind-dbg/rewind/internal/trace"
	"github.com/rewind-dbg/rewind/internal/tracee"
	"golang.org/x/sys/unix"
)

// Shared objects: files that recorded processes map MAP_SHARED, and SysV
// shared memory segments. Several mappings of one of them (in one process,
// or in several recorded processes) must share pages in replay as they did
// when recorded, so the trace holds the object's contents when it was first
// mapped, under one name, and every later mapping of it names that file.
// Replay maps a working copy of it, shared. The kernel also changes such a
// file when a syscall writes or truncates it; replay emulates those
// syscalls, so the recorder logs each change (trace.FileWrite) and replay
// applies it to the working copy. Writes by processes outside the recording
// are not seen (docs/design.md).
type sharedObject struct {
	name string
	f    *os.File // the real file, read for what syscalls wrote; nil for SysV segments
}

// shared returns the object tracked under id, if any.
func (r *recorder) shared(id fileID) *sharedObject { return r.objects[id] }

// fileMapping describes the file mapping an mmap of fd a[4] made at addr:
// a shared object's name if the file is one (or becomes one, mapped
// shared now), else the preserved file.
func (r *recorder) fileMapping(t *task, addr uint64, a [6]uint64) (trace.Mapping, error) {
	length := (a[1] + 4095) &^ 4095
	m := trace.Mapping{Start: addr, End: addr + length, Prot: uint32(a[2]), Flags: uint32(a[3]), Offset: a[5]}
	// The fd the program mapped is still open (the task is stopped at the
	// call's exit); map_files names the mapping itself, but only for a
	// privileged recorder.
	src := fmt.Sprintf("/proc/%d/fd/%d", t.tid, int32(a[4]))
	f, err := os.Open(src)
	if err != nil {
		src = fmt.Sprintf("/proc/%d/map_files/%x-%x", t.tid, addr, addr+length)
		if f, err = os.Open(src); err != nil {
			return m, fmt.Errorf("preserve file mapped at %#x by task %d: %w", addr, t.tid, err)
		}
	}
	defer f.Close()
	m.Name, _ = os.Readlink(src)
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return m, fmt.Errorf("preserve mapped file %s: %w", m.Name, err)
	}
	id := fileID{st.Dev, st.Ino}
	switch obj := r.shared(id); {
	case obj != nil:
		m.File = obj.name
	case trace.SharedMap(uint32(a[3])):
		if m.File, err = r.trackFile(id, f, m.Name, st.Size); err != nil {
			return m, err
		}
	default:
		if m.File, err = r.files.saveFile(f, m.Name); err != nil {
			return m, err
		}
	}
	return m, nil
}

// trackFile makes the file f a shared object: its contents now go into
// the trace, and it is watched for writes from now on.
func (r *recorder) trackFile(id fileID, f *os.File, display string, size int64) (string, error) {
	name, dst := r.files.newName(display)
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("save shared file %s: %w", display, err)
	}
	err = copySparse(out, f, size)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("save shared file %s: %w", display, err)
	}
	// A descriptor of our own, to read later changes: f belongs to the caller.
	own, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
	if err != nil {
		return "", fmt.Errorf("watch shared file %s: %w", display, err)
	}
	r.objects[id] = &sharedObject{name: name, f: own}
	return name, nil
}

// shmAttach describes the SysV segment shmat attached at addr. Its
// contents are saved from memory when it is first attached; they are
// whatever the processes sharing it wrote, and no syscall writes it.
func (r *recorder) shmAttach(t *task, addr uint64) (trace.Mapping, error) {
	v, err := vmaAt(t.tid, addr)
	if err != nil {
		return trace.Mapping{}, fmt.Errorf("shmat in task %d: %w", t.tid, err)
	}
	m := trace.Mapping{Start: v.Start, End: v.End, Prot: v.Prot(), Flags: unix.MAP_SHARED, Name: v.Path}
	id := fileID{v.Dev, v.Inode}
	if obj := r.shared(id); obj != nil {
		m.File = obj.name
		return m, nil
	}
	if m.File, err = r.files.saveMemory(t.tid, v); err != nil {
		return m, err
	}
	r.objects[id] = &sharedObject{name: m.File}
	return m, nil
}

// shmDetaching lists the areas of the segment attached at addr, which
// shmdt is about to remove (called at its entry: at the exit they are gone).
func shmDetaching(tid int, addr uint64) []trace.Mapping {
	maps, err := tracee.ReadMaps(tid)
	if err != nil {
		return nil
	}
	var out []trace.Mapping
	for i, v := range maps {
		if v.Start != addr || v.Inode == 0 {
			continue
		}
		for _, w := range maps[i:] {
			if w.Inode != v.Inode || w.Dev != v.Dev || (len(out) > 0 && w.Start != out[len(out)-1].End) {
				break
			}
			out = append(out, trace.Mapping{Start: w.Start, End: w.End, Name: w.Path})
		}
		break
	}
	return out
}

func vmaAt(tid int, addr uint64) (tracee.VMA, error) {
	maps, err := tracee.ReadMaps(tid)
	if err != nil {
		return tracee.VMA{}, err
	}
	for _, v := range maps {
		if v.Start == addr {
			return v, nil
		}
	}
	return tracee.VMA{}, fmt.Errorf("no mapping at %#x", addr)
}

// fileWrites logs what a completed syscall changed in shared objects: the
// bytes it wrote and the size it left. Only calls on a descriptor (or
// path) of a tracked file cost anything beyond a map lookup.
func (r *recorder) fileWrites(t *task, ev *trace.Event) error {
	if len(r.objects) == 0 || ev.Ret < 0 {
		return nil
	}
	a := arch.SyscallArgs(&t.entry)
	fd := int32(a[0])
	var off int64 = -1 // -1: the range ends at the descriptor's position
	n := ev.Ret
	switch ev.Nr {
	case unix.SYS_WRITE, unix.SYS_WRITEV:
	case unix.SYS_PWRITE64, unix.SYS_PWRITEV:
		off = int64(a[3])
	case unix.SYS_PWRITEV2:
		if int64(a[3]) != -1 {
			off = int64(a[3])
		}
	case unix.SYS_SENDFILE:
	case unix.SYS_COPY_FILE_RANGE, unix.SYS_SPLICE:
		fd = int32(a[2])
		if a[3] != 0 {
			v, err := ptrace.ReadWord(t.tid, a[3])
			if err != nil {
				return nil
			}
			off = int64(v) - n // the kernel advanced *off_out
		}
	case unix.SYS_FTRUNCATE, unix.SYS_FALLOCATE:
		n = 0
		if ev.Nr == unix.SYS_FALLOCATE {
			off, n = int64(a[2]), int64(a[3])
		}
	case unix.SYS_OPEN, unix.SYS_OPENAT, unix.SYS_CREAT, unix.SYS_OPENAT2:
		fd, n = int32(ev.Ret), 0 // O_TRUNC empties it
	case unix.SYS_TRUNCATE:
		return r.truncated(t, a[0], ev)
	default:
		return nil
	}
	id, ok := statID(fmt.Sprintf("/proc/%d/fd/%d", t.tid, fd))
	if !ok {
		return nil
	}
	obj := r.shared(id)
	if obj == nil || obj.f == nil {
		return nil
	}
	if off < 0 && n > 0 {
		pos, err := fdPos(t.tid, int(fd))
		if err != nil {
			return fmt.Errorf("task %d: %s on shared file %s: %w", t.tid, syscalls.Name(int(ev.Nr)), obj.name, err)
		}
		off = pos - n
	}
	return r.logFileWrite(t, obj, ev, off, n)
}

// truncated logs truncate(path) of a shared file.
func (r *recorder) truncated(t *task, pathPtr uint64, ev *trace.Event) error {
	path, err := readString(t.tid, pathPtr)
	if err != nil {
		return nil
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(fmt.Sprintf("/proc/%d/cwd", t.tid), path)
	}
	id, ok := statID(path)
	if obj := r.shared(id); ok && obj != nil && obj.f != nil {
		return r.logFileWrite(t, obj, ev, 0, 0)
	}
	return nil
}

// logFileWrite adds to ev the file's bytes in [off, off+n) as they are now
// and its size.
func (r *recorder) logFileWrite(t *task, obj *sharedObject, ev *trace.Event, off, n int64) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(obj.f.Fd()), &st); err != nil {
		return fmt.Errorf("shared file %s: %w", obj.name, err)
	}
	off = max(off, 0)
	if n > 0 && off < st.Size {
		n = min(n, st.Size-off)
	} else {
		n = 0
	}
	// A huge write goes out in chunks of their own events first.
	for n > dataChunk {
		fw := trace.FileWrite{File: obj.name, Off: uint64(off), Data: make([]byte, dataChunk), Size: -1}
		if k, err := obj.f.ReadAt(fw.Data, off); err != nil && k < len(fw.Data) {
			return fmt.Errorf("read shared file %s at %d: %w", obj.name, off, err)
		}
		if err := r.append(&trace.Event{Kind: trace.KindData, Tid: int32(t.tid), Files: []trace.FileWrite{fw}}); err != nil {
			return err
		}
		off += dataChunk
		n -= dataChunk
	}
	fw := trace.FileWrite{File: obj.name, Off: uint64(off), Size: st.Size}
	if n > 0 {
		fw.Data = make([]byte, n)
		k, err := obj.f.ReadAt(fw.Data, off)
		if err != nil && k < len(fw.Data) {
			return fmt.Errorf("read shared file %s at %d: %w", obj.name, off, err)
		}
	}
	ev.Files = append(ev.Files, fw)
	return nil
}

// fdPos reads a descriptor's file position from /proc/PID/fdinfo.
func fdPos(tid, fd int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%d", tid, fd))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte("pos:")); ok {
			return strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
		}
	}
	return 0, fmt.Errorf("no position in fdinfo of fd %d", fd)
}

// readString reads a NUL-terminated string (up to PATH_MAX) from tracee memory.
func readString(tid int, addr uint64) (string, error) {
	var out []byte
	for len(out) < 4096 {
		at := addr + uint64(len(out))
		buf := make([]byte, 4096-at%4096) // never past the page: the next may be unmapped
		if err := ptrace.ReadMem(tid, at, buf); err != nil {
			return "", err
		}
		if i := bytes.IndexByte(buf, 0); i >= 0 {
			return string(append(out, buf[:i]...)), nil
		}
		out = append(out, buf...)
	}
	return "", fmt.Errorf("string at %#x too long", addr)
}
