package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/rewind-dbg/rewind/internal/syscalls"
	"github.com/rewind-dbg/rewind/internal/trace"
	"golang.org/x/sys/unix"
)

func newBufWriter(w io.Writer) *bufio.Writer { return bufio.NewWriterSize(w, 64*1024) }

func syscallName(ev *trace.Event) string {
	if ev.Flags&trace.FlagI386 != 0 {
		return fmt.Sprintf("int80_%d", ev.Nr)
	}
	return syscalls.Name(int(ev.Nr))
}

// describe renders one event for 'rewind dump'.
func describe(ev *trace.Event) string {
	switch ev.Kind {
	case trace.KindSyscallEntry:
		r := &ev.Regs
		s := fmt.Sprintf("syscall-entry %s(%#x, %#x, %#x, %#x, %#x, %#x)", syscallName(ev),
			r.Rdi, r.Rsi, r.Rdx, r.R10, r.R8, r.R9)
		if ev.Flags&trace.FlagRefused != 0 {
			s += fmt.Sprintf(" refused: %s", unix.ErrnoName(unix.Errno(ev.Values[0])))
		}
		return s
	case trace.KindSyscallExit:
		s := fmt.Sprintf("syscall-exit %s = %s", syscallName(ev), result(ev.Ret))
		n := 0
		for _, m := range ev.Mem {
			n += len(m.Data)
		}
		if n > 0 {
			s += fmt.Sprintf(" wrote %d bytes in %d ranges", n, len(ev.Mem))
		}
		for _, m := range ev.Maps {
			s += fmt.Sprintf(" maps %s", m.Name)
		}
		if ev.Echo != 0 {
			s += fmt.Sprintf(" echo fd %d", ev.Echo)
		}
		return s
	case trace.KindData:
		n := 0
		for _, m := range ev.Mem {
			n += len(m.Data)
		}
		for _, f := range ev.Files {
			n += len(f.Data)
		}
		return fmt.Sprintf("data %d bytes", n)
	case trace.KindRegs:
		return fmt.Sprintf("regs set by its tracer: rip %#x", ev.Regs.Rip)
	case trace.KindRdrand:
		return fmt.Sprintf("rdrand = %#x at rip %#x", ev.Values[0], ev.Regs.Rip-1)
	case trace.KindSignal:
		si := ev.Siginfo
		sig := unix.Signal(int32(si[0]) | int32(si[1])<<8)
		kind := "async"
		if ev.Flags&trace.FlagSyncSignal != 0 {
			kind = "sync"
		}
		return fmt.Sprintf("signal %s (%s) at rip %#x", unix.SignalName(sig), kind, ev.Regs.Rip)
	case trace.KindRdtsc:
		name := "rdtsc"
		if ev.Flags&trace.FlagRdtscp != 0 {
			name = "rdtscp"
		}
		return fmt.Sprintf("%s = %#x at rip %#x", name, ev.Values[1]<<32|ev.Values[0], ev.Regs.Rip)
	case trace.KindExec:
		var names []string
		seen := map[string]bool{}
		for _, m := range ev.Maps {
			if m.File != "" && !seen[m.Name] {
				seen[m.Name] = true
				names = append(names, m.Name)
			}
		}
		return fmt.Sprintf("exec %s entry %#x maps %s", ev.Path, ev.Regs.Rip, strings.Join(names, " "))
	case trace.KindNewTask:
		return fmt.Sprintf("new-task %d", ev.Ret)
	case trace.KindTaskExit:
		ws := unix.WaitStatus(ev.Ret)
		if ws.Signaled() {
			return fmt.Sprintf("task-exit killed by %s", unix.SignalName(ws.Signal()))
		}
		return fmt.Sprintf("task-exit status %d", ws.ExitStatus())
	}
	return ev.Kind.String()
}

func result(ret int64) string {
	if ret < 0 && ret > -4096 {
		return fmt.Sprintf("-%s", unix.ErrnoName(unix.Errno(-ret)))
	}
	if ret > 0xffff || ret < 0 {
		return fmt.Sprintf("%#x", ret)
	}
	return fmt.Sprintf("%d", ret)
}
