package record

import (
	"os"
	"os/signal"
	"sync"

	"golang.org/x/sys/unix"
)

// forwarder deals with the signals the recorder itself receives. The
// recorder shares its process group (and, for the first process, its
// parenthood) with the program, so a signal the program sends to its group,
// to everyone or to its parent reaches the recorder too; natively it would
// have reached only the program's own. Such a signal is expected (the
// recorder saw the sending syscall's entry before the kernel sent it) and
// ignored. A signal from anywhere else is meant for the program: it is
// passed to the first process, which then ends the way it would without
// rewind, and the trace stays complete. A second SIGTERM kills it.
type forwarder struct {
	mu       sync.Mutex
	expected map[unix.Signal]int
}

// caught are the signals the recorder catches instead of dying of them.
// Job-control stops are left alone (Ctrl-Z stops the recorder and the
// program together), and so are SIGCHLD, SIGURG and SIGWINCH, which do not
// terminate.
var caught = []os.Signal{unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGILL, unix.SIGTRAP,
	unix.SIGABRT, unix.SIGBUS, unix.SIGFPE, unix.SIGUSR1, unix.SIGSEGV, unix.SIGUSR2, unix.SIGPIPE,
	unix.SIGALRM, unix.SIGTERM, unix.SIGSTKFLT, unix.SIGXCPU, unix.SIGXFSZ, unix.SIGVTALRM,
	unix.SIGPROF, unix.SIGIO, unix.SIGPWR, unix.SIGSYS}

// notice looks at a syscall entry of t (arguments a): if it sends a signal
// the recorder will receive too, that signal is expected.
func (f *forwarder) notice(t *task, nr int, a [6]uint64) {
	var sig unix.Signal
	self := os.Getpid()
	reaches := false
	switch nr {
	case unix.SYS_KILL, unix.SYS_RT_SIGQUEUEINFO:
		sig = unix.Signal(a[1])
		switch pid := int(int32(a[0])); {
		case pid == -1 || pid == self:
			reaches = true
		case pid == 0 && nr == unix.SYS_KILL:
			pg, err := unix.Getpgid(t.tid)
			reaches = err == nil && pg == unix.Getpgrp()
		case pid < -1:
			reaches = -pid == unix.Getpgrp()
		}
	case unix.SYS_TGKILL, unix.SYS_RT_TGSIGQUEUEINFO:
		sig = unix.Signal(a[2])
		reaches = int(int32(a[0])) == self
	case unix.SYS_TKILL:
		sig = unix.Signal(a[1])
		reaches = tgid(int(int32(a[0]))) == self
	}
	if !reaches || sig <= 0 || sig >= 65 {
		return
	}
	f.mu.Lock()
	if f.expected == nil {
		f.expected = map[unix.Signal]int{}
	}
	f.expected[sig]++
	f.mu.Unlock()
}

func (f *forwarder) wasExpected(sig unix.Signal) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.expected[sig] > 0 {
		f.expected[sig]--
		return true
	}
	return false
}

// forward catches the recorder's signals until the returned function is
// called; pid is the program's first process.
func (f *forwarder) forward(pid int) func() {
	ch := make(chan os.Signal, 16)
	signal.Notify(ch, caught...)
	done := make(chan struct{})
	_, ttyErr := unix.IoctlGetTermios(0, unix.TCGETS)
	fromTerminal := ttyErr == nil
	go func() {
		terms := 0
		for {
			select {
			case <-done:
				return
			case s := <-ch:
				sig := s.(unix.Signal)
				switch {
				case f.wasExpected(sig):
					continue // the program signalled its group, or everyone
				case sig == unix.SIGTERM:
					terms++
					if terms > 1 {
						sig = unix.SIGKILL
					}
				case fromTerminal && (sig == unix.SIGINT || sig == unix.SIGQUIT || sig == unix.SIGHUP):
					continue // the terminal signalled the whole foreground group
				}
				unix.Kill(pid, sig)
			}
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}
