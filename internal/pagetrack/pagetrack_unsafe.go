package pagetrack

import (
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

type uffdioRange struct{ start, len uint64 }

type uffdioAPI struct{ api, features, ioctls uint64 }

type uffdioRegister struct {
	rng          uffdioRange
	mode, ioctls uint64
}

type uffdioWriteprotect struct {
	rng  uffdioRange
	mode uint64
}

type pageRegion struct{ start, end, categories uint64 }

type pmScanArg struct {
	size, flags, start, end, walkEnd, vec, vecLen, maxPages       uint64
	categoryInverted, categoryMask, categoryAnyofMask, returnMask uint64
}

// ioctl numbers: _IOWR(type, nr, size).
func iowr(typ, nr, size uintptr) uintptr { return 3<<30 | size<<16 | typ<<8 | nr }

var (
	ioUffdAPI          = iowr(uffdAPI, 0x3f, unsafe.Sizeof(uffdioAPI{}))
	ioUffdRegister     = iowr(uffdAPI, 0x00, unsafe.Sizeof(uffdioRegister{}))
	ioUffdWriteprotect = iowr(uffdAPI, 0x06, unsafe.Sizeof(uffdioWriteprotect{}))
	ioPagemapScan      = iowr('f', 16, unsafe.Sizeof(pmScanArg{}))
)

func ioctl(fd int, req uintptr, arg unsafe.Pointer) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
	if e != 0 {
		return e
	}
	return nil
}

func uffdAPIWPAsync(fd int) error {
	a := uffdioAPI{api: uffdAPI, features: uffdFeatureWPAsync | uffdFeatureWPUnpopulated}
	if err := ioctl(fd, ioUffdAPI, unsafe.Pointer(&a)); err != nil {
		return fmt.Errorf("%w: UFFDIO_API with WP_ASYNC: %v", ErrUnsupported, err)
	}
	return nil
}

func uffdRegisterWP(fd int, start, end uint64) error {
	r := uffdioRegister{rng: uffdioRange{start, end - start}, mode: uffdRegisterModeWP}
	return ioctl(fd, ioUffdRegister, unsafe.Pointer(&r))
}

func uffdWriteprotect(fd int, start, end uint64) error {
	w := uffdioWriteprotect{rng: uffdioRange{start, end - start}, mode: uffdWriteprotectModeWP}
	return ioctl(fd, ioUffdWriteprotect, unsafe.Pointer(&w))
}

// pagemapScan reports written pages of [start, end) into buf, protecting
// them again; it returns how many regions it filled and where the walk
// stopped.
func pagemapScan(f *os.File, start, end uint64, buf []pageRegion) (int, uint64, error) {
	a := pmScanArg{
		size: uint64(unsafe.Sizeof(pmScanArg{})), flags: pmScanWPMatching | pmScanCheckWPAsync,
		start: start, end: end, vec: uint64(uintptr(unsafe.Pointer(&buf[0]))), vecLen: uint64(len(buf)),
		categoryMask: pageIsWritten, returnMask: pageIsWritten,
	}
	n, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), ioPagemapScan, uintptr(unsafe.Pointer(&a)))
	runtime.KeepAlive(buf)
	if e == unix.ENOTTY {
		return 0, 0, fmt.Errorf("%w: PAGEMAP_SCAN (Linux 6.7)", ErrUnsupported)
	}
	if e != 0 {
		return 0, 0, e
	}
	return int(n), a.walkEnd, nil
}
