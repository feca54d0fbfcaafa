// Package pagetrack finds the pages of a traced process that were written
// since it last looked, by the program or by the kernel. It is the
// written-page half of the state an asynchronous event will be matched on
// (docs/async-events.md): a userfaultfd in write-protect async mode marks a
// page written at its first write, without a fault handler, and the
// PAGEMAP_SCAN ioctl (Linux 6.7) reports the marked pages and protects them
// again in one page-table walk.
//
// The tracee creates the userfaultfd (one injected syscall, with
// UFFD_USER_MODE_ONLY, which needs no privilege) and the tracer takes a copy
// of it with pidfd_getfd and closes the tracee's: the program never sees an
// extra descriptor, and the ioctls act on the tracee's address space
// wherever they are made. A Tracker must be created on the tracer thread
// (package ptrace) with the task stopped; its other methods need neither.
package pagetrack

import (
	"errors"
	"fmt"
	"os"

	"github.com/rewind-dbg/rewind/internal/tracee"
	"golang.org/x/sys/unix"
)

// Kernel ABI the x/sys package does not carry (include/uapi/linux/
// userfaultfd.h and fs.h).
const (
	uffdUserModeOnly         = 1
	uffdAPI                  = 0xaa
	uffdFeatureWPUnpopulated = 1 << 13
	uffdFeatureWPAsync       = 1 << 15
	uffdRegisterModeWP       = 1 << 1
	uffdWriteprotectModeWP   = 1 << 0

	pageIsWritten      = 1 << 1
	pmScanWPMatching   = 1 << 0
	pmScanCheckWPAsync = 1 << 1
)

// ErrUnsupported wraps the kernel's refusal of a feature tracking needs.
var ErrUnsupported = errors.New("written-page tracking is not supported by this kernel")

// Range is [Start, End) of written pages.
type Range struct{ Start, End uint64 }

// Tracker tracks one address space.
type Tracker struct {
	pid     int
	uffd    int      // the tracer's copy of the tracee's userfaultfd
	pagemap *os.File // /proc/PID/pagemap, for PAGEMAP_SCAN
	// regions receives PAGEMAP_SCAN's answers. The kernel gets its address
	// as an integer, so it must not be on a goroutine stack, which moves.
	regions []pageRegion
}

// Start begins tracking the address space of stopped task tid of process
// pid. No range is tracked until Track.
func Start(pid, tid int) (*Tracker, error) {
	t := &Tracker{pid: pid, uffd: -1, regions: make([]pageRegion, 512)}
	// One remote session: create the descriptor in the tracee, copy it
	// here, close it there.
	err := tracee.Do(tid, func(r *tracee.Remote) error {
		fd, err := r.Check("userfaultfd", unix.SYS_USERFAULTFD, unix.O_CLOEXEC|unix.O_NONBLOCK|uffdUserModeOnly)
		if err != nil {
			return err
		}
		pidfd, err := unix.PidfdOpen(pid, 0)
		if err == nil {
			t.uffd, err = unix.PidfdGetfd(pidfd, int(fd), 0)
			unix.Close(pidfd)
		}
		if _, cerr := r.Check("close", unix.SYS_CLOSE, fd); err == nil {
			err = cerr
		}
		return err
	})
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("take a userfaultfd of task %d: %w", tid, err)
	}
	if err := uffdAPIWPAsync(t.uffd); err != nil {
		t.Close()
		return nil, err
	}
	if t.pagemap, err = os.Open(fmt.Sprintf("/proc/%d/pagemap", pid)); err != nil {
		t.Close()
		return nil, fmt.Errorf("open pagemap of process %d: %w", pid, err)
	}
	return t, nil
}

// Track registers [start, end) (page-aligned, one or more whole mappings)
// and write-protects it, so that only later writes count.
func (t *Tracker) Track(start, end uint64) error {
	if err := uffdRegisterWP(t.uffd, start, end); err != nil {
		return fmt.Errorf("register %#x-%#x of process %d: %w", start, end, t.pid, err)
	}
	// A newly registered range reads as written until first protected.
	if err := uffdWriteprotect(t.uffd, start, end); err != nil {
		return fmt.Errorf("write-protect %#x-%#x of process %d: %w", start, end, t.pid, err)
	}
	return nil
}

// Written returns the pages of [start, end) written since Track or the
// last Written over them, and protects them again.
func (t *Tracker) Written(start, end uint64) ([]Range, error) {
	var out []Range
	buf := t.regions
	for start < end {
		n, walkEnd, err := pagemapScan(t.pagemap, start, end, buf)
		if err != nil {
			return out, fmt.Errorf("scan %#x-%#x of process %d: %w", start, end, t.pid, err)
		}
		for _, r := range buf[:n] {
			out = append(out, Range{r.start, r.end})
		}
		// Fewer regions than room: the walk is complete (walk_end can
		// read short after a walk that returned everything).
		if n < len(buf) || walkEnd <= start {
			break
		}
		start = walkEnd
	}
	return out, nil
}

// Close stops tracking (the protection goes with the last descriptor).
func (t *Tracker) Close() error {
	if t.pagemap != nil {
		t.pagemap.Close()
	}
	if t.uffd >= 0 {
		return unix.Close(t.uffd)
	}
	return nil
}
