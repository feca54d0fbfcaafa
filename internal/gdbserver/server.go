package gdbserver

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/target"
	"golang.org/x/sys/unix"
)

// Server is a target.Debugger that talks to one debugger over TCP.
type Server struct {
	ln   net.Listener
	c    *conn
	log  io.Writer
	gone bool // the debugger disconnected or detached
	sel  int  // thread chosen with Hg for register reads (0: the stopped one)
	// warnedWrite: the user was told once why writes are refused.
	warnedWrite bool
	// warnedReverse: the log said once that reverse execution is missing.
	warnedReverse bool
	// err is the protocol error that ended the session.
	err error
	// pass: signals (gdb numbers) the debugger asked not to stop for.
	pass map[int]bool
}

// Listen opens the server on 127.0.0.1:port (0: any free port). The debug
// server listens on loopback only: it gives full control of the replay.
func Listen(port int, log io.Writer) (*Server, error) {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, fmt.Errorf("debug server: %w", err)
	}
	return &Server{ln: ln, log: log}, nil
}

// Port is the port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Close stops listening and drops the connection.
func (s *Server) Close() {
	s.ln.Close()
	if s.c != nil {
		s.c.c.Close()
	}
}

// accept waits for the debugger; later connections are refused (closed at
// once) while the session lasts.
func (s *Server) accept() error {
	c, err := s.ln.Accept()
	if err != nil {
		return fmt.Errorf("debug server: %w", err)
	}
	s.c = newConn(c)
	go func() {
		for {
			extra, err := s.ln.Accept()
			if err != nil {
				return
			}
			extra.Close()
		}
	}()
	return nil
}

// Stopped serves the debugger until it resumes the replay.
func (s *Server) Stopped(sess target.Target, stop target.Stop) target.Resume {
	if s.gone {
		return target.Quit
	}
	if s.c != nil {
		s.c.unwatch()
	}
	if stop.Reason == target.StopSignal && s.pass[gdbSignal(stop.Signal)] {
		return target.Continue
	}
	if s.c == nil {
		if err := s.accept(); err != nil {
			fmt.Fprintf(s.log, "rewind: %v\n", err)
			s.gone = true
			return target.Quit
		}
		// gdb asks '?' first; the stop is reported then.
	} else if err := s.c.writePacket(stopReply(sess, stop)); err != nil {
		return s.hangUp()
	}
	s.sel = 0
	return s.serve(sess, stop)
}

// Exited reports the end of the debugged process and serves until the
// debugger disconnects.
func (s *Server) Exited(sess target.Target, status unix.WaitStatus) target.Resume {
	if s.gone || s.c == nil {
		return target.Quit
	}
	s.c.unwatch()
	reply := fmt.Sprintf("W%02x;process:%x", status.ExitStatus()&0xff, sess.Pid())
	if status.Signaled() {
		reply = fmt.Sprintf("X%02x;process:%x", gdbSignal(int(status.Signal())), sess.Pid())
	}
	if s.c.writePacket(reply) != nil {
		return s.hangUp()
	}
	s.serveExited(sess, reply)
	return target.Quit
}

// fail ends the session on a protocol error: a debugger that just went
// away (EOF) ends the replay quietly, anything else is reported (Err).
func (s *Server) fail(err error) target.Resume {
	if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && s.err == nil {
		s.err = err
	}
	return s.hangUp()
}

// Err is the protocol error that ended the session, if any.
func (s *Server) Err() error { return s.err }

// hangUp ends the session: a debugger that disconnects, kills or detaches
// ends the replay, as with rr.
func (s *Server) hangUp() target.Resume {
	s.gone = true
	s.c.c.Close()
	return target.Quit
}

func stopReply(sess target.Target, stop target.Stop) string {
	sig := 5 // SIGTRAP
	switch stop.Reason {
	case target.StopSignal:
		sig = gdbSignal(stop.Signal)
	case target.StopInterrupt:
		sig = 2 // SIGINT: what gdb reports for its own Ctrl-C
	}
	r := fmt.Sprintf("T%02xthread:p%x.%x;", sig, sess.Pid(), sess.Tid())
	switch stop.Reason {
	case target.StopBreakpoint:
		r += "swbreak:;"
	case target.StopWatch:
		r += fmt.Sprintf("watch:%x;", stop.Watch)
	case target.StopSyscall:
		kind := "syscall_entry"
		if stop.SyscallReturn {
			kind = "syscall_return"
		}
		r = fmt.Sprintf("T05%s:%x;thread:p%x.%x;", kind, stop.Syscall, sess.Pid(), sess.Tid())
	}
	return r
}

// serve answers packets until one resumes execution.
func (s *Server) serve(sess target.Target, stop target.Stop) target.Resume {
	for {
		p, err := s.c.readPacket()
		if err != nil {
			return s.fail(err)
		}
		reply, resume, done := s.handle(sess, stop, p)
		if done {
			if resume == target.Continue || resume == target.Step {
				// The replay runs: the debugger may send a Ctrl-C.
				s.c.watch(sess.Interrupt)
			}
			return resume
		}
		if err := s.c.writePacket(reply); err != nil {
			return s.fail(err)
		}
	}
}

// serveExited answers what a debugger asks after the process ended.
func (s *Server) serveExited(sess target.Target, exitReply string) {
	for {
		p, err := s.c.readPacket()
		if err != nil {
			s.hangUp()
			return
		}
		switch {
		case p == "k":
			s.hangUp() // 'k' has no reply: the connection just ends
			return
		case strings.HasPrefix(p, "vKill") || strings.HasPrefix(p, "D"):
			s.c.writePacket("OK")
			s.hangUp()
			return
		case p == "?":
			s.c.writePacket(exitReply)
		case p == "qfThreadInfo":
			s.c.writePacket("l")
		default:
			s.c.writePacket("E01")
		}
	}
}

// handle answers one packet; done means the replay resumes with resume.
func (s *Server) handle(sess target.Target, stop target.Stop, p string) (reply string, resume target.Resume, done bool) {
	switch {
	case p == "?":
		return stopReply(sess, stop), 0, false
	case strings.HasPrefix(p, "qSupported"):
		return "PacketSize=10000;QStartNoAckMode+;qXfer:features:read+;qXfer:auxv:read+;qXfer:exec-file:read+;qXfer:siginfo:read+;QCatchSyscalls+;QPassSignals+;multiprocess+;vContSupported+;swbreak+;ReverseContinue-;ReverseStep-", 0, false
	case p == "QStartNoAckMode":
		s.c.writePacket("OK")
		s.c.noAck = true
		return s.serveNext(sess, stop)
	case strings.HasPrefix(p, "qXfer:features:read:"):
		f := strings.SplitN(strings.TrimPrefix(p, "qXfer:features:read:"), ":", 2)
		doc, ok := targetDoc(f[0])
		if !ok || len(f) != 2 {
			return "E00", 0, false
		}
		return xfer(doc, f[1]), 0, false
	case strings.HasPrefix(p, "qXfer:auxv:read::"):
		return xfer(string(sess.Auxv()), strings.TrimPrefix(p, "qXfer:auxv:read::")), 0, false
	case strings.HasPrefix(p, "qXfer:exec-file:read:"):
		rest := strings.TrimPrefix(p, "qXfer:exec-file:read:")
		if i := strings.IndexByte(rest, ':'); i >= 0 {
			rest = rest[i+1:]
		}
		return xfer(sess.Exe(), rest), 0, false
	case p == "qfThreadInfo":
		var ids []string
		for _, tid := range sess.Tasks() {
			ids = append(ids, fmt.Sprintf("p%x.%x", sess.Pid(), tid))
		}
		return "m" + strings.Join(ids, ","), 0, false
	case p == "qsThreadInfo":
		return "l", 0, false
	case p == "qC":
		return fmt.Sprintf("QCp%x.%x", sess.Pid(), sess.Tid()), 0, false
	case strings.HasPrefix(p, "qAttached"):
		return "1", 0, false
	case strings.HasPrefix(p, "Hg"):
		s.sel = parseThread(p[2:])
		return "OK", 0, false
	case strings.HasPrefix(p, "QPassSignals:"):
		// Signals gdb would pass on without stopping: not worth a stop.
		s.pass = map[int]bool{}
		for _, x := range strings.Split(p[len("QPassSignals:"):], ";") {
			if n, err := strconv.ParseUint(x, 16, 8); err == nil {
				s.pass[int(n)] = true
			}
		}
		return "OK", 0, false
	case strings.HasPrefix(p, "H"), p == "qSymbol::", strings.HasPrefix(p, "QProgramSignals"):
		return "OK", 0, false
	case strings.HasPrefix(p, "T"): // thread alive?
		return "OK", 0, false
	case p == "g":
		return s.allRegs(sess)
	case strings.HasPrefix(p, "p"):
		n, err := strconv.ParseUint(p[1:], 16, 32)
		if err != nil {
			return "E01", 0, false
		}
		return s.oneReg(sess, int(n))
	case strings.HasPrefix(p, "m"):
		return readMem(sess, p[1:]), 0, false
	case strings.HasPrefix(p, "Z0,"), strings.HasPrefix(p, "z0,"):
		addr, err := parseAddr(p[3:])
		if err != nil {
			return "E01", 0, false
		}
		if p[0] == 'Z' {
			err = sess.SetBreakpoint(addr)
		} else {
			err = sess.ClearBreakpoint(addr)
		}
		if err != nil {
			return "E01", 0, false
		}
		return "OK", 0, false
	case strings.HasPrefix(p, "Z2,"), strings.HasPrefix(p, "z2,"), strings.HasPrefix(p, "Z4,"), strings.HasPrefix(p, "z4,"):
		addr, size, err := parsePair(p[3:])
		if err != nil || size > 255 {
			return "E01", 0, false
		}
		kind := arch.WatchWrite
		if p[1] == '4' {
			kind = arch.WatchAccess
		}
		if p[0] == 'Z' {
			err = sess.SetWatchpoint(addr, int(size), kind)
		} else {
			err = sess.ClearWatchpoint(addr, kind)
		}
		if err != nil {
			return "E01", 0, false
		}
		return "OK", 0, false
	case strings.HasPrefix(p, "qXfer:siginfo:read::"):
		if stop.Reason != target.StopSignal {
			return "E01", 0, false
		}
		return xfer(string(stop.Siginfo[:]), strings.TrimPrefix(p, "qXfer:siginfo:read::")), 0, false
	case strings.HasPrefix(p, "QCatchSyscalls:"):
		// QCatchSyscalls:0, QCatchSyscalls:1 (all), QCatchSyscalls:1;NR;NR...
		f := strings.Split(p[len("QCatchSyscalls:"):], ";")
		var nrs []int
		for _, x := range f[1:] {
			n, err := strconv.ParseUint(x, 16, 32)
			if err != nil {
				return "E01", 0, false
			}
			nrs = append(nrs, int(n))
		}
		switch f[0] {
		case "0":
			sess.CatchSyscalls(false, false, nil)
		case "1":
			sess.CatchSyscalls(true, len(nrs) == 0, nrs)
		default:
			return "E01", 0, false
		}
		return "OK", 0, false
	case p == "vCont?":
		return "vCont;c;C;s;S", 0, false
	case strings.HasPrefix(p, "vCont;"):
		actions := strings.Split(p[len("vCont;"):], ";")
		for _, a := range actions {
			if a != "" && (a[0] == 's' || a[0] == 'S') {
				return "", target.Step, true
			}
		}
		return "", target.Continue, true
	case p == "c" || strings.HasPrefix(p, "C"):
		return "", target.Continue, true
	case p == "s" || strings.HasPrefix(p, "S"):
		return "", target.Step, true
	case p == "k":
		// No reply: the connection ends (delve takes that as the process
		// gone, gdb expects nothing).
		return "", s.hangUp(), true
	case strings.HasPrefix(p, "vKill") || strings.HasPrefix(p, "D"):
		s.c.writePacket("OK")
		return "", s.hangUp(), true
	case p == "bc" || p == "bs":
		// Reverse execution is not built yet. Answering as if the start
		// of the recording were here leaves the debugger stopped where it
		// was and usable (gdb says "No more reverse-execution history").
		if !s.warnedReverse {
			s.warnedReverse = true
			fmt.Fprintln(s.log, "rewind: reverse execution is not available yet; the debugger stays where it is")
		}
		return fmt.Sprintf("T05thread:p%x.%x;replaylog:begin;", sess.Pid(), sess.Tid()), 0, false
	case strings.HasPrefix(p, "qRcmd,"):
		cmd, err := hex.DecodeString(p[len("qRcmd,"):])
		if err != nil {
			return "E01", 0, false
		}
		return hex.EncodeToString([]byte(monitor(sess, string(cmd)))), 0, false
	case strings.HasPrefix(p, "qRRCmd:"):
		// qRRCmd:NAME[:TID[:ARG...]]; delve sends the name hex-encoded,
		// gdb's rr scripts plain.
		f := strings.Split(p, ":")
		name := f[1]
		if b, err := hex.DecodeString(name); err == nil && len(b) > 0 {
			name = string(b)
		}
		if name == "when" {
			return hex.EncodeToString([]byte(fmt.Sprintf("Completed event: %d\n", sess.Event()))), 0, false
		}
		return "E01", 0, false
	case strings.HasPrefix(p, "G"), strings.HasPrefix(p, "P"), strings.HasPrefix(p, "M"), strings.HasPrefix(p, "X"):
		// Changing registers or memory would make the replay diverge; gdb
		// only says it cannot access memory, so say why here.
		if !s.warnedWrite {
			s.warnedWrite = true
			fmt.Fprintln(s.log, "rewind: the debugger tried to change registers or memory, which a replay cannot do (function calls from the debugger, 'set var' and the like are refused)")
		}
		return "E01", 0, false
	}
	return "", 0, false // unsupported: empty reply
}

// serveNext continues serving after a packet whose reply was already sent.
func (s *Server) serveNext(sess target.Target, stop target.Stop) (string, target.Resume, bool) {
	return "", s.serve(sess, stop), true
}

func monitor(sess target.Target, cmd string) string {
	switch strings.TrimSpace(cmd) {
	case "when":
		return fmt.Sprintf("Completed event: %d\n", sess.Event())
	}
	return fmt.Sprintf("rewind: unknown monitor command %q; supported: when\n", cmd)
}

// xfer answers a qXfer read of "OFF,LEN" from data.
func xfer(data, offLen string) string {
	off, n, err := parsePair(offLen)
	if err != nil {
		return "E01"
	}
	if off >= uint64(len(data)) {
		return "l"
	}
	if n >= uint64(len(data))-off { // no off+n: it may overflow
		return "l" + data[off:]
	}
	return "m" + data[off:off+n]
}

// parsePair parses the "ADDR,LENGTH" (or "OFFSET,LENGTH") two hex numbers
// that memory, watchpoint and qXfer packets carry.
func parsePair(s string) (uint64, uint64, error) {
	a, b, ok := strings.Cut(s, ",")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not ADDR,LENGTH", s)
	}
	x, err := strconv.ParseUint(a, 16, 64)
	if err != nil {
		return 0, 0, err
	}
	y, err := strconv.ParseUint(b, 16, 64)
	return x, y, err
}

func parseAddr(s string) (uint64, error) {
	if i := strings.IndexByte(s, ','); i >= 0 {
		s = s[:i]
	}
	return strconv.ParseUint(s, 16, 64)
}

func readMem(sess target.Target, arg string) string {
	addr, n, err := parsePair(arg)
	if err != nil || n > 1<<16 {
		return "E01"
	}
	buf := make([]byte, n)
	if err := sess.ReadMem(addr, buf); err != nil {
		// Return what is readable, byte by byte up to the first hole.
		var i uint64
		for ; i < n; i++ {
			if sess.ReadMem(addr+i, buf[i:i+1]) != nil {
				break
			}
		}
		if i == 0 {
			return "E14"
		}
		buf = buf[:i]
	}
	return hex.EncodeToString(buf)
}

func (s *Server) regs(sess target.Target) ([][]byte, error) {
	tid := sess.Tid()
	if s.sel > 0 {
		tid = s.sel
	}
	g, err := sess.Regs(tid)
	if err != nil {
		return nil, err
	}
	xs, err := sess.XState(tid)
	if err != nil {
		return nil, err
	}
	return arch.GdbRegisterBytes(&g, xs), nil
}

func (s *Server) allRegs(sess target.Target) (string, target.Resume, bool) {
	rs, err := s.regs(sess)
	if err != nil {
		return "E01", 0, false
	}
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(hex.EncodeToString(r))
	}
	return b.String(), 0, false
}

func (s *Server) oneReg(sess target.Target, n int) (string, target.Resume, bool) {
	rs, err := s.regs(sess)
	if err != nil || n >= len(rs) {
		return "E01", 0, false
	}
	return hex.EncodeToString(rs[n]), 0, false
}

// parseThread reads a thread id "pPID.TID", "TID", "0" or "-1" (hex);
// 0 means the stopped thread.
func parseThread(id string) int {
	if i := strings.IndexByte(id, '.'); i >= 0 {
		id = id[i+1:]
	}
	n, err := strconv.ParseInt(id, 16, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return int(n)
}
