package replay

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/trace"
	"golang.org/x/sys/unix"
)

// emit writes echoed output. The replay goes on if that fails (the output
// is a courtesy; the program's own view is unaffected), but says so once.
func (r *replayer) emit(out io.Writer, b []byte) {
	if r.echoFailed {
		return
	}
	if _, err := out.Write(b); err != nil {
		r.echoFailed = true
		fmt.Fprintf(r.opt.Stderr, "rewind: warning: re-emitting the program's output failed: %v; the rest is not shown\n", err)
	}
}

// echo re-emits what the program wrote to the recorder's stdout or stderr,
// reading it from the replayed program's own memory.
func (r *replayer) echo(t *rtask, ev *trace.Event) error {
	out := r.opt.Stdout
	if ev.Echo == 2 {
		out = r.opt.Stderr
	}
	if ev.Echoed != nil {
		r.emit(out, ev.Echoed)
		return nil
	}
	var bufs [][2]uint64
	iov, cnt := t.entry.Rsi, t.entry.Rdx
	switch ev.Nr {
	case unix.SYS_WRITE, unix.SYS_PWRITE64, unix.SYS_SENDTO:
		bufs = append(bufs, [2]uint64{t.entry.Rsi, uint64(ev.Ret)})
		cnt = 0
	case unix.SYS_SENDMSG: // struct msghdr: msg_iov at 16, msg_iovlen at 24
		var hdr [32]byte
		if err := ptrace.ReadMem(t.tid, t.entry.Rsi, hdr[:]); err != nil {
			return err
		}
		iov, cnt = binary.LittleEndian.Uint64(hdr[16:]), binary.LittleEndian.Uint64(hdr[24:])
	}
	cnt = min(cnt, 1024) // UIO_MAXIOV: the count comes from the trace
	if cnt > 0 {
		vec := make([]byte, 16*cnt)
		if err := ptrace.ReadMem(t.tid, iov, vec); err != nil {
			return err
		}
		left := uint64(ev.Ret)
		for i := uint64(0); i < cnt && left > 0; i++ {
			base, n := binary.LittleEndian.Uint64(vec[16*i:]), binary.LittleEndian.Uint64(vec[16*i+8:])
			n = min(n, left)
			bufs = append(bufs, [2]uint64{base, n})
			left -= n
		}
	}
	total := uint64(0)
	for _, b := range bufs {
		total += b[1]
	}
	// One buffer, kept: a program making a million small writes must not
	// cost a fresh megabyte each.
	if n := min(total, 1<<20); uint64(cap(r.echoBuf)) < n {
		r.echoBuf = make([]byte, n)
	}
	data := r.echoBuf[:cap(r.echoBuf)]
	for _, b := range bufs {
		for addr, left := b[0], b[1]; left > 0; {
			chunk := data[:min(left, uint64(len(data)))]
			if err := ptrace.ReadMem(t.tid, addr, chunk); err != nil {
				return err
			}
			r.emit(out, chunk)
			addr += uint64(len(chunk))
			left -= uint64(len(chunk))
		}
	}
	return nil
}
