package record

import (
	"encoding/binary"
	"time"

	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/syscalls"
	"github.com/rewind-dbg/rewind/internal/trace"
	"golang.org/x/sys/unix"
)

// vsyscall records a call into the legacy vsyscall page (gettimeofday, time
// or getcpu at a fixed address, from old static binaries). The kernel
// emulates it without a syscall instruction, so there is no syscall-exit
// stop; it does run seccomp, which stops the recorder here with rip in the
// page. The recorder answers the call itself and tells the kernel to skip
// its emulation (orig_rax -1): the kernel then returns to the caller with
// rax. The call is recorded as a syscall entry and exit, which replay
// finds through its own filter (seccomp.Replay).
func (r *recorder) vsyscall(t *task) error {
	regs := t.entry
	nr := syscalls.Nr(regs.Orig_rax)
	entry := &trace.Event{Kind: trace.KindSyscallEntry, Tid: int32(t.tid), Nr: int32(nr), Regs: regs}
	exit := &trace.Event{Kind: trace.KindSyscallExit, Tid: int32(t.tid), Nr: int32(nr)}
	put := func(addr uint64, b []byte) {
		if addr == 0 {
			return
		}
		if err := ptrace.WriteMem(t.tid, addr, b); err != nil {
			exit.Ret = -int64(unix.EFAULT)
			return
		}
		exit.Mem = append(exit.Mem, trace.MemWrite{Addr: addr, Data: b})
	}
	now := time.Now()
	switch nr {
	case unix.SYS_GETTIMEOFDAY:
		tv := binary.LittleEndian.AppendUint64(nil, uint64(now.Unix()))
		put(regs.Rdi, binary.LittleEndian.AppendUint64(tv, uint64(now.Nanosecond()/1000)))
		put(regs.Rsi, make([]byte, 8)) // struct timezone: the kernel's is zero
	case unix.SYS_TIME:
		exit.Ret = now.Unix()
		put(regs.Rdi, binary.LittleEndian.AppendUint64(nil, uint64(exit.Ret)))
	case unix.SYS_GETCPU:
		put(regs.Rdi, binary.LittleEndian.AppendUint32(nil, uint32(r.cpu)))
		put(regs.Rsi, make([]byte, 4)) // node
	default:
		exit.Ret = -int64(unix.ENOSYS)
	}
	if err := r.append(entry); err != nil {
		return err
	}
	if err := r.append(exit); err != nil {
		return err
	}
	regs.Rax = uint64(exit.Ret)
	regs.Orig_rax = ^uint64(0)
	if err := ptrace.SetRegs(t.tid, &regs); err != nil {
		return r.gone(t, err)
	}
	t.resumeRegs = ptrace.Regs{} // the kernel moves it to the caller
	return r.gone(t, ptrace.Cont(t.tid, 0))
}
