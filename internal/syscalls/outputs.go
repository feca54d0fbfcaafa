// Output rules: small constructors for Outputs, shared by the table. Each
// turns a completed call's arguments (and, for rules that follow pointers,
// tracee memory read through Call.Mem) into the regions the kernel wrote.
//
// Covering a little more than the kernel wrote is harmless (the recorder
// saves what the memory holds at syscall exit); covering less is a silent
// replay bug, so when in doubt these rules cover the caller's whole buffer.

package syscalls

import (
	"encoding/binary"
	"fmt"
)

// Errno values the rules test for (x86-64 Linux).
const (
	errEINTR     = 4
	errEFAULT    = 14
	errEINVAL    = 22
	errENOTTY    = 25
	errEOVERFLOW = 75
)

// Kernel-internal restart codes a tracer sees (negated) in rax at the exit
// of a syscall a signal interrupted: the kernel restarts the call on the
// way back to user space unless a handler runs (for ERESTARTSYS, one
// without SA_RESTART), ERESTART_RESTARTBLOCK through restart_syscall.
const (
	ErrRestartSys     = 512
	ErrRestartNoIntr  = 513
	ErrRestartNoHand  = 514
	ErrRestartBlock   = 516
	SysRestartSyscall = 219 // restart_syscall
)

const (
	pageSize = 4096
	// sockaddrMax is sizeof(struct sockaddr_storage): the kernel never
	// copies a longer address, whatever length it reports.
	sockaddrMax = 128
	// maxRegion rejects lengths no successful syscall can produce, so a
	// bad rule fails loudly instead of asking the recorder for terabytes.
	maxRegion = 1 << 32
	// uioMaxIOV is UIO_MAXIOV: the kernel refuses longer iovec arrays.
	uioMaxIOV = 1024
)

// interrupted reports whether ret says a signal cut the call short; some
// calls (nanosleep, poll, select) still write outputs then.
func interrupted(ret int64) bool {
	switch -ret {
	case errEINTR, ErrRestartSys, ErrRestartNoIntr, ErrRestartNoHand, ErrRestartBlock:
		return true
	}
	return false
}

// span is one region of n bytes at addr; nothing when addr or n is 0.
func span(addr, n uint64) ([]Region, error) {
	if addr == 0 || n == 0 {
		return nil, nil
	}
	if n > maxRegion {
		return nil, fmt.Errorf("implausible output length %d at %#x", n, addr)
	}
	return []Region{{Addr: addr, Len: int(n)}}, nil
}

// retLen is the call's result as a byte count (0 when negative).
func retLen(c *Call) uint64 {
	if c.Ret < 0 {
		return 0
	}
	return uint64(c.Ret)
}

// fixed: n bytes at the pointer in arg (a struct the kernel fills).
func fixed(arg, n int) Outputs {
	return func(c *Call) ([]Region, error) { return span(c.Args[arg], uint64(n)) }
}

// retUpTo: Ret bytes at the pointer in arg, but never more than the buffer
// length in lenArg. Some calls return a size larger than what they copied
// (recv with MSG_TRUNC, getxattr probing with size 0).
func retUpTo(arg, lenArg int) Outputs {
	return func(c *Call) ([]Region, error) {
		return span(c.Args[arg], min(retLen(c), c.Args[lenArg]))
	}
}

// retTimes: Ret elements of size bytes at the pointer in arg.
func retTimes(arg, size int) Outputs {
	return func(c *Call) ([]Region, error) { return span(c.Args[arg], retLen(c)*uint64(size)) }
}

// argBytes: as many bytes as the length in lenArg, at the pointer in ptrArg.
func argBytes(ptrArg, lenArg int) Outputs {
	return func(c *Call) ([]Region, error) { return span(c.Args[ptrArg], c.Args[lenArg]) }
}

// argTimes: as many elements of size bytes as the count in cntArg.
func argTimes(ptrArg, cntArg, size int) Outputs {
	return func(c *Call) ([]Region, error) {
		n := c.Args[cntArg]
		if n > maxRegion/uint64(size) {
			return nil, fmt.Errorf("implausible element count %d", n)
		}
		return span(c.Args[ptrArg], n*uint64(size))
	}
}

// all combines rules; nil rules are skipped.
func all(outs ...Outputs) Outputs {
	return func(c *Call) ([]Region, error) {
		var rs []Region
		for _, o := range outs {
			if o == nil {
				continue
			}
			r, err := o(c)
			if err != nil {
				return nil, err
			}
			rs = append(rs, r...)
		}
		return rs, nil
	}
}

// onInterrupt runs out only when a signal interrupted the call (the
// remaining-time outputs of nanosleep and friends).
func onInterrupt(out Outputs) Outputs {
	return func(c *Call) ([]Region, error) {
		if !interrupted(c.Ret) {
			return nil, nil
		}
		return out(c)
	}
}

// unlessFault runs out unless the call failed with EFAULT (then the
// pointer itself may be bad and the kernel wrote nothing).
func unlessFault(out Outputs) Outputs {
	return func(c *Call) ([]Region, error) {
		if c.Ret == -errEFAULT {
			return nil, nil
		}
		return out(c)
	}
}

// readMem reads len(buf) bytes of tracee memory, with context on failure.
// (It names the syscall by number: naming it via the table would make an
// initialization cycle.)
func readMem(c *Call, addr uint64, buf []byte) error {
	if c.Mem == nil {
		return fmt.Errorf("syscall %d: no tracee memory reader to follow pointer %#x", c.Nr, addr)
	}
	if err := c.Mem.ReadMem(addr, buf); err != nil {
		return fmt.Errorf("syscall %d: reading tracee memory at %#x: %w", c.Nr, addr, err)
	}
	return nil
}

func readU32(c *Call, addr uint64) (uint32, error) {
	var b [4]byte
	if err := readMem(c, addr, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

func readU64(c *Call, addr uint64) (uint64, error) {
	var b [8]byte
	if err := readMem(c, addr, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// iovecSpread covers n bytes spread over the iovec array (struct iovec:
// base u64, len u64) of cnt entries at iov, in order.
func iovecSpread(c *Call, iov, cnt, n uint64) ([]Region, error) {
	if n == 0 || iov == 0 || cnt == 0 {
		return nil, nil
	}
	cnt = min(cnt, uioMaxIOV)
	buf := make([]byte, cnt*16)
	if err := readMem(c, iov, buf); err != nil {
		return nil, err
	}
	var rs []Region
	for i := uint64(0); i < cnt && n > 0; i++ {
		base := binary.LittleEndian.Uint64(buf[i*16:])
		l := min(binary.LittleEndian.Uint64(buf[i*16+8:]), n)
		r, err := span(base, l)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r...)
		n -= l
	}
	return rs, nil
}

// iovecRet: Ret bytes spread over the iovec array at iovArg (cntArg entries).
func iovecRet(iovArg, cntArg int) Outputs {
	return func(c *Call) ([]Region, error) {
		return iovecSpread(c, c.Args[iovArg], c.Args[cntArg], retLen(c))
	}
}

// lenPrefixed covers the u32 length at lenPtr (an in/out socklen_t) and
// min(that length, limit) bytes at addr. After the call the kernel has
// stored the full length, which may exceed the caller's buffer; limit
// bounds the damage (sockaddr_storage for addresses).
func lenPrefixed(c *Call, addr, lenPtr, limit uint64) ([]Region, error) {
	if lenPtr == 0 {
		return nil, nil
	}
	rs := []Region{{Addr: lenPtr, Len: 4}}
	if addr == 0 {
		return rs, nil
	}
	l, err := readU32(c, lenPtr)
	if err != nil {
		return nil, err
	}
	r, err := span(addr, min(uint64(l), limit))
	if err != nil {
		return nil, err
	}
	return append(rs, r...), nil
}

// socklenOut: a socket address at addrArg whose socklen_t* is lenPtrArg
// (accept, getsockname, recvfrom...).
func socklenOut(addrArg, lenPtrArg int) Outputs {
	return func(c *Call) ([]Region, error) {
		return lenPrefixed(c, c.Args[addrArg], c.Args[lenPtrArg], sockaddrMax)
	}
}

// sockoptOut: getsockopt's optval/optlen. The stored length is what was
// copied for nearly every option, so it is trusted up to maxRegion.
func sockoptOut(valArg, lenPtrArg int) Outputs {
	return func(c *Call) ([]Region, error) {
		return lenPrefixed(c, c.Args[valArg], c.Args[lenPtrArg], maxRegion)
	}
}

// msghdr layout (x86-64 struct msghdr, 56 bytes).
const (
	msghdrSize       = 56
	msgNameOff       = 0
	msgNamelenOff    = 8
	msgIovOff        = 16
	msgIovlenOff     = 24
	msgControlOff    = 32
	msgControllenOff = 40
	mmsghdrSize      = 64 // struct mmsghdr: msghdr + u32 msg_len + padding
	mmsgLenOff       = 56
)

// msghdrOut covers what recvmsg wrote through the msghdr at addr when it
// received n bytes: the header itself (namelen, controllen and flags are
// updated), the peer address, the data and the ancillary data.
func msghdrOut(c *Call, addr, n uint64) ([]Region, error) {
	if addr == 0 {
		return nil, nil
	}
	var h [msghdrSize]byte
	if err := readMem(c, addr, h[:]); err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	rs := []Region{{Addr: addr, Len: msghdrSize}}
	name := le.Uint64(h[msgNameOff:])
	namelen := uint64(le.Uint32(h[msgNamelenOff:]))
	r, err := span(name, min(namelen, sockaddrMax))
	if err != nil {
		return nil, err
	}
	rs = append(rs, r...)
	r, err = iovecSpread(c, le.Uint64(h[msgIovOff:]), le.Uint64(h[msgIovlenOff:]), n)
	if err != nil {
		return nil, err
	}
	rs = append(rs, r...)
	r, err = span(le.Uint64(h[msgControlOff:]), le.Uint64(h[msgControllenOff:]))
	if err != nil {
		return nil, err
	}
	return append(rs, r...), nil
}

// recvmsgOut: recvmsg(fd, msg, flags).
func recvmsgOut(c *Call) ([]Region, error) { return msghdrOut(c, c.Args[1], retLen(c)) }

// recvmmsgOut: recvmmsg(fd, msgvec, vlen, flags, timeout) filled Ret
// entries; each entry's msg_len says how much data it got. The timeout is
// updated only when datagrams were received.
func recvmmsgOut(c *Call) ([]Region, error) {
	var rs []Region
	n := retLen(c)
	for i := uint64(0); i < n; i++ {
		e := c.Args[1] + i*mmsghdrSize
		l, err := readU32(c, e+mmsgLenOff)
		if err != nil {
			return nil, err
		}
		r, err := msghdrOut(c, e, uint64(l))
		if err != nil {
			return nil, err
		}
		// The header cover above is 56 bytes; add msg_len.
		rs = append(append(rs, r...), Region{Addr: e + mmsgLenOff, Len: 4})
	}
	if n > 0 && c.Args[4] != 0 {
		rs = append(rs, Region{Addr: c.Args[4], Len: 16})
	}
	return rs, nil
}

// sendmmsgOut: sendmmsg stores msg_len in each of the Ret entries it sent.
func sendmmsgOut(c *Call) ([]Region, error) {
	var rs []Region
	for i := uint64(0); i < retLen(c); i++ {
		rs = append(rs, Region{Addr: c.Args[1] + i*mmsghdrSize + mmsgLenOff, Len: 4})
	}
	return rs, nil
}

// selectOut: select/pselect6(nfds, readfds, writefds, exceptfds, timeout).
// The fd sets are rewritten on success; the timeout (timeval or timespec,
// both 16 bytes) is updated with the time left even when the call fails or
// is interrupted, so the entry sets OutOnError.
func selectOut(c *Call) ([]Region, error) {
	var rs []Region
	if c.Ret >= 0 {
		nfds := c.Args[0] & 0xffffffff
		if int32(nfds) > 0 {
			setBytes := (nfds + 63) / 64 * 8
			for _, a := range []int{1, 2, 3} {
				r, err := span(c.Args[a], setBytes)
				if err != nil {
					return nil, err
				}
				rs = append(rs, r...)
			}
		}
	}
	if c.Ret != -errEFAULT && c.Args[4] != 0 {
		rs = append(rs, Region{Addr: c.Args[4], Len: 16})
	}
	return rs, nil
}

// pollFds: poll/ppoll store revents in every struct pollfd (8 bytes), also
// when a signal interrupts the wait.
func pollFds(c *Call) ([]Region, error) {
	if c.Ret < 0 && !interrupted(c.Ret) {
		return nil, nil
	}
	return argTimes(0, 1, 8)(c)
}

// cString covers the NUL-terminated string the kernel stored at addr (at
// most max bytes), reading page by page so it never faults past the end.
func cString(c *Call, addr uint64, max uint64) ([]Region, error) {
	if addr == 0 {
		return nil, nil
	}
	var n uint64
	for n < max {
		chunk := min(pageSize-(addr+n)%pageSize, max-n)
		buf := make([]byte, chunk)
		if err := readMem(c, addr+n, buf); err != nil {
			return nil, err
		}
		for i, b := range buf {
			if b == 0 {
				return span(addr, n+uint64(i)+1)
			}
		}
		n += chunk
	}
	return span(addr, max)
}
