package ptrace

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

func rawPtrace(req, tid int, addr, data uintptr) error {
	_, _, e := unix.Syscall6(unix.SYS_PTRACE, uintptr(req), uintptr(tid), addr, data, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// GetSiginfo reads the siginfo of the signal tid is stopped for.
func GetSiginfo(tid int) (Siginfo, error) {
	var si Siginfo
	err := rawPtrace(reqGetSiginfo, tid, 0, uintptr(unsafe.Pointer(&si[0])))
	return si, wrap("GETSIGINFO", tid, err)
}

// SetSiginfo replaces the siginfo of the signal tid is stopped for.
func SetSiginfo(tid int, si *Siginfo) error {
	return wrap("SETSIGINFO", tid, rawPtrace(reqSetSiginfo, tid, 0, uintptr(unsafe.Pointer(&si[0]))))
}

// ReadMem reads tracee memory with process_vm_readv, falling back to
// /proc/PID/mem for pages the tracee cannot read itself.
func ReadMem(pid int, addr uint64, buf []byte) error {
	if len(buf) == 0 {
		return nil
	}
	local := []unix.Iovec{{Base: &buf[0], Len: uint64(len(buf))}}
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(buf)}}
	n, err := unix.ProcessVMReadv(pid, local, remote, 0)
	if err == nil && n == len(buf) {
		return nil
	}
	return procMem(pid, addr, buf, false)
}

// WriteMem writes tracee memory: with process_vm_writev where the tracee
// could write it itself (no file to open), else through /proc/PID/mem,
// which (like ptrace POKE) may write read-only pages such as program text.
func WriteMem(pid int, addr uint64, buf []byte) error {
	if len(buf) == 0 {
		return nil
	}
	local := []unix.Iovec{{Base: &buf[0], Len: uint64(len(buf))}}
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(buf)}}
	if n, err := unix.ProcessVMWritev(pid, local, remote, 0); err == nil && n == len(buf) {
		return nil
	}
	return procMem(pid, addr, buf, true)
}

func procMem(pid int, addr uint64, buf []byte, write bool) error {
	mode := unix.O_RDONLY
	if write {
		mode = unix.O_RDWR
	}
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/mem", pid), mode|unix.O_CLOEXEC, 0)
	if err == unix.ENOENT || err == unix.ESRCH {
		return fmt.Errorf("open memory of task %d: %w", pid, ErrExited)
	}
	if err != nil {
		return fmt.Errorf("open memory of task %d: %w", pid, err)
	}
	defer unix.Close(fd)
	for done := 0; done < len(buf); {
		var n int
		if write {
			n, err = unix.Pwrite(fd, buf[done:], int64(addr)+int64(done))
		} else {
			n, err = unix.Pread(fd, buf[done:], int64(addr)+int64(done))
		}
		if err != nil {
			return fmt.Errorf("access %d bytes at %#x in task %d: %w", len(buf)-done, addr+uint64(done), pid, err)
		}
		if n == 0 {
			// The kernel answers 0, not EIO, once the address space is
			// gone: the task exited (or is exiting) since it stopped.
			return fmt.Errorf("access %d bytes at %#x in task %d: %w", len(buf)-done, addr+uint64(done), pid, ErrExited)
		}
		done += n
	}
	return nil
}

// Syscall stop kinds reported by PTRACE_GET_SYSCALL_INFO.
const (
	OpNone    = 0
	OpEntry   = 1
	OpExit    = 2
	OpSeccomp = 3
)

const reqGetSyscallInfo = 0x420e

// SyscallOp says whether tid is stopped at a syscall entry or exit. After a
// SYSEMU stop the kernel may report an exit for the skipped syscall when the
// task is next resumed with PTRACE_SYSCALL, so the two cannot be told apart
// by counting stops.
func SyscallOp(tid int) (int, error) {
	var info [88]byte
	err := rawPtrace(reqGetSyscallInfo, tid, uintptr(len(info)), uintptr(unsafe.Pointer(&info[0])))
	return int(info[0]), wrap("GET_SYSCALL_INFO", tid, err)
}

// SingleStepSignal delivers sig and stops at the first instruction of its
// handler (the kernel reports a SIGTRAP there).
func SingleStepSignal(tid, sig int) error {
	return wrap("SINGLESTEP", tid, rawPtrace(unix.PTRACE_SINGLESTEP, tid, 0, uintptr(sig)))
}

const reqSysemuSingleStep = 32

// SysemuStep single-steps tid; a syscall instruction stops at its entry
// and is skipped, as with Sysemu.
func SysemuStep(tid, sig int) error {
	return wrap("SYSEMU_SINGLESTEP", tid, rawPtrace(reqSysemuSingleStep, tid, 0, uintptr(sig)))
}

// GetFPRegs returns the task's FXSAVE area (x87, MXCSR, XMM registers).
func GetFPRegs(tid int) ([512]byte, error) {
	var fx [512]byte
	err := rawPtrace(unix.PTRACE_GETFPREGS, tid, 0, uintptr(unsafe.Pointer(&fx[0])))
	return fx, wrap("GETFPREGS", tid, err)
}

// debugRegOffset is offsetof(struct user, u_debugreg) on x86-64.
const debugRegOffset = 848

// SetDebugReg writes debug register n (0-3 addresses, 6 status, 7 control).
func SetDebugReg(tid, n int, v uint64) error {
	return wrap("POKEUSER", tid, rawPtrace(unix.PTRACE_POKEUSR, tid, uintptr(debugRegOffset+8*n), uintptr(v)))
}

// DebugReg reads debug register n.
func DebugReg(tid, n int) (uint64, error) {
	var v uint64
	err := rawPtrace(unix.PTRACE_PEEKUSR, tid, uintptr(debugRegOffset+8*n), uintptr(unsafe.Pointer(&v)))
	return v, wrap("PEEKUSER", tid, err)
}

const ntX86XState = 0x202

// GetXState returns the task's XSAVE area in standard format (the FXSAVE
// part, the XSAVE header at 512, AVX upper halves at 576, ...).
func GetXState(tid int) ([]byte, error) {
	buf := make([]byte, 16384)
	iov := unix.Iovec{Base: &buf[0], Len: uint64(len(buf))}
	err := rawPtrace(unix.PTRACE_GETREGSET, tid, ntX86XState, uintptr(unsafe.Pointer(&iov)))
	if err != nil {
		return nil, wrap("GETREGSET(NT_X86_XSTATE)", tid, err)
	}
	return buf[:iov.Len], nil
}
