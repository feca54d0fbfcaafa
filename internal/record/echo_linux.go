package record

import (
	"fmt"
	"os"

	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/syscalls"
	"github.com/rewind-dbg/rewind/internal/trace"
	"golang.org/x/sys/unix"
)

type fileID struct{ dev, ino uint64 }

func statID(path string) (fileID, bool) {
	var st unix.Stat_t
	if unix.Stat(path, &st) != nil {
		return fileID{}, false
	}
	return fileID{st.Dev, st.Ino}, true
}

// echoCopied handles the syscalls that send data to a descriptor from
// another one (sendfile, copy_file_range, splice, tee): if the data went to
// the recorder's stdout or stderr, replay must re-emit it, and it is not in
// the task's memory, so the recorder reads it from the source file.
// From a pipe it is gone: a warning says replay will not show it.
func (r *recorder) echoCopied(t *task, ev *trace.Event, a [6]uint64) {
	inFd, outFd, offPtr := int(int32(a[1])), int(int32(a[0])), a[2] // sendfile(out, in, *off, n)
	switch ev.Nr {
	case unix.SYS_COPY_FILE_RANGE, unix.SYS_SPLICE: // (in, *off_in, out, *off_out, n)
		inFd, outFd, offPtr = int(int32(a[0])), int(int32(a[2])), a[1]
	case unix.SYS_TEE: // (in, out, n)
		inFd, outFd, offPtr = int(int32(a[0])), int(int32(a[1])), 0
	}
	if ev.Echo = r.echoTarget(t.tid, outFd); ev.Echo == 0 {
		return
	}
	// The source's offset after the call, less what was copied.
	var end int64 = -1
	if offPtr != 0 {
		if v, err := ptrace.ReadWord(t.tid, offPtr); err == nil {
			end = int64(v)
		}
	} else if pos, err := fdPos(t.tid, inFd); err == nil && ev.Nr != unix.SYS_TEE {
		end = pos
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/fd/%d", t.tid, inFd))
	var st unix.Stat_t
	if err == nil && unix.Fstat(int(f.Fd()), &st) == nil && isRegular(&st) && end >= ev.Ret {
		data := make([]byte, ev.Ret)
		if n, _ := f.ReadAt(data, end-ev.Ret); n == len(data) {
			ev.Echoed = data
		}
	}
	if f != nil {
		f.Close()
	}
	if ev.Echoed == nil {
		ev.Echo = 0
		r.warn("echo:"+syscalls.Name(int(ev.Nr)), "output sent to the terminal with %s from a pipe or socket is not re-emitted by replay -a", syscalls.Name(int(ev.Nr)))
	}
}

// echoTarget says whether fd of the task is the recorder's stdout (1) or
// stderr (2), so that replay re-emits what was written there.
func (r *recorder) echoTarget(tid, fd int) uint8 {
	// The same open file description as the recorder's stdout or stderr
	// (kcmp): a file the program opened itself, even the same /dev/null
	// the user sent rewind's output to, is not an echo.
	// Where rewind's stdout and stderr are one file (2>&1), the program's
	// fd 2 is its stderr and anything else its stdout.
	self := os.Getpid()
	order := []int{1, 2}
	if fd == 2 {
		order = []int{2, 1}
	}
	for _, out := range order {
		if same, err := sameOpenFile(self, out, tid, fd); err == nil {
			if same {
				return uint8(out)
			}
			continue
		}
		// No kcmp (CONFIG_KCMP off): compare the files themselves.
		if id, ok := statID(fmt.Sprintf("/proc/%d/fd/%d", tid, fd)); ok && id == r.outID[out] {
			return uint8(out)
		}
	}
	return 0
}

// sameOpenFile reports whether fd1 of process pid1 and fd2 of task tid2
// are one open file description (kcmp KCMP_FILE).
func sameOpenFile(pid1, fd1, tid2, fd2 int) (bool, error) {
	const kcmpFile = 0
	r, _, e := unix.Syscall6(unix.SYS_KCMP, uintptr(pid1), uintptr(tid2), kcmpFile, uintptr(fd1), uintptr(fd2), 0)
	if e != 0 {
		if e == unix.EBADF {
			return false, nil
		}
		return false, e
	}
	return r == 0, nil
}
