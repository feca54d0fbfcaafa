package e2e

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rewind-dbg/rewind/internal/testutil"
)

// gdbSession records prog, then replays it under 'gdb -batch' with the given
// commands (rewind launches gdb, as rr replay does) and returns gdb's output
// and the program's recorded stdout.
func gdbSession(t *testing.T, prog string, args []string, cmds ...string) (gdbOut, recorded string) {
	t.Helper()
	if _, err := exec.LookPath("gdb"); err != nil {
		testutil.Lacking(t, "gdb is not installed")
	}
	dir := filepath.Join(t.TempDir(), "trace")
	rec := env.Run(t, nil, append([]string{"record", "-o", dir, prog}, args...)...)
	// The recording itself must be clean: a refused syscall or an error
	// would leave the debugger looking at something else.
	if rest := testutil.WithoutWarnings(rec.Stderr); rest != "" && strings.Contains(rest, "rewind:") || strings.Contains(rec.Stderr, "rewind: warning:") {
		t.Fatalf("recording %s (exit %d) was not clean:\n%s", prog, rec.Code, rec.Stderr)
	}
	gdbArgs := []string{"replay", dir, "--", "-batch", "-nx"}
	for _, c := range cmds {
		gdbArgs = append(gdbArgs, "-ex", c)
	}
	out := env.Run(t, nil, gdbArgs...)
	return out.Stdout + out.Stderr, rec.Stdout
}

func mustMatch(t *testing.T, out string, patterns ...string) {
	t.Helper()
	for _, p := range patterns {
		if !regexp.MustCompile(p).MatchString(out) {
			t.Fatalf("gdb output does not match %q:\n%s", p, out)
		}
	}
}

// TestGdbBreakPrintFinish: a breakpoint in a function sees the argument that
// was random when recorded; finish shows the return value; continuing to the
// end shows the recorded exit code.
func TestGdbBreakPrintFinish(t *testing.T) {
	env.Need(t)
	out, rec := gdbSession(t, env.Progs["debugme"], nil,
		"break compute", "continue", "print x", "finish", "continue")
	x := recordedRandom(t, rec)
	mustMatch(t, out,
		fmt.Sprintf(`Breakpoint 1, compute \(x=%d\) at .*debugme.c:9`, x),
		fmt.Sprintf(`\$1 = %d\n`, x),
		fmt.Sprintf(`Value returned is \$2 = %d\n`, 2*x+1),
		`\[Inferior 1 \(process \d+\) exited with code 03\]`)
}

// TestGdbStepping: next, stepi, registers, backtrace, memory, threads and
// rr's 'when'.
func TestGdbStepping(t *testing.T) {
	env.Need(t)
	out, rec := gdbSession(t, env.Progs["debugme"], nil,
		"break compute", "continue", "next", "next", "print y == 2*x", "stepi",
		"info registers rip", "info registers ymm0", "info registers st0", "bt", "monitor when", "info threads", "x/2i $pc", "print compute(3)", "print x", "kill")
	mustMatch(t, out,
		`(?m)^10\s+counter \+= y;`,
		`(?m)^11\s+return y \+ 1;`,
		`\$1 = 1`,
		`rip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <compute\+\d+>`,
		`ymm0\s+\{.*v4_double = \{`,
		`st0\s+0\s+\(raw 0x0+\)`,
		`#1  0x[0-9a-f]+ in main \(\) at .*debugme.c:19`,
		`Completed event: \d+`,
		`\* 1\s+Thread \d+\.\d+`,
		`rewind: the debugger tried to change registers or memory`, // print compute(3) is refused
		fmt.Sprintf(`\$2 = %d\n`, recordedRandom(t, rec)))          // and the replay goes on undisturbed
}

// recordedRandom is the random value debugme printed when recorded.
func recordedRandom(t *testing.T, recorded string) int {
	t.Helper()
	m := regexp.MustCompile(`random (\d+)`).FindStringSubmatch(recorded)
	if m == nil {
		t.Fatalf("recording printed no random value: %q", recorded)
	}
	x, _ := strconv.Atoi(m[1])
	return x
}

// TestGdbStaticAndSignal: a static binary, and a stop at a signal the
// program received (SIGSEGV recovered by its handler).
func TestGdbStaticAndSignal(t *testing.T) {
	env.Need(t)
	out, _ := gdbSession(t, env.Progs["signals-static"], []string{"faults"},
		"break on_fault", "continue", "continue", "print sig", "bt 1", "delete", "handle all nostop noprint", "continue", "continue")
	mustMatch(t, out,
		`Program received signal SIGSEGV`,
		`Breakpoint 1, on_fault \(sig=11`,
		`\$1 = 11`,
		`Program received signal SIGTRAP`, // the program's own int3 stops gdb whatever 'handle' says
		`\[Inferior 1 \(process \d+\) exited normally\]`)
	if strings.Contains(out, "diverged") {
		t.Fatalf("replay diverged under gdb:\n%s", out)
	}
}

// TestGdbWatchpoint: a hardware watchpoint stops at each write with the old
// and new values.
func TestGdbWatchpoint(t *testing.T) {
	env.Need(t)
	out, _ := gdbSession(t, env.Progs["watchme"], nil,
		"break main", "continue", "watch g", "continue", "continue", "delete", "continue")
	mustMatch(t, out,
		`Hardware watchpoint 2: g`,
		`Old value = 0\s+New value = 10`,
		`Old value = 10\s+New value = 20`,
		`\[Inferior 1 \(process \d+\) exited normally\]`)
}

// TestGdbSignalStopAndThreads: gdb stops when a signal arrives, and sees
// every thread of a multi-threaded program.
func TestGdbSignalStopAndThreads(t *testing.T) {
	env.Need(t)
	out, _ := gdbSession(t, env.Progs["signals"], []string{"faults"},
		"continue", "print $_siginfo.si_signo", "kill")
	mustMatch(t, out, `Program received signal SIGSEGV, Segmentation fault`, `\$1 = 11`)
	// Signal numbers travel in gdb's numbering, not Linux's (SIGUSR1 is 30).
	out, _ = gdbSession(t, env.Progs["signals"], []string{"self"}, "continue", "kill")
	mustMatch(t, out, `Program received signal SIGUSR1, User defined signal 1`)
	out, _ = gdbSession(t, env.Progs["threads"], nil,
		"break worker", "continue", "continue", "info threads", "kill")
	mustMatch(t, out, `Thread \d+ hit Breakpoint 1, worker`, `(?m)^\* \d\s+Thread \d+\.\d+\s+worker`, `(?m)^  1\s+Thread \d+\.\d+`)
}

// TestGdbServerOnly: -s serves on loopback and prints rr's launch line, the
// one delve parses.
func TestGdbServerOnly(t *testing.T) {
	env.Need(t)
	dir := filepath.Join(t.TempDir(), "trace")
	env.Run(t, nil, "record", "-o", dir, env.Progs["debugme"])
	cmd := testutil.Command(t, env.Rewind, "replay", "--dbgport=0", dir)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stderr)
	if !sc.Scan() || sc.Text() != "Launch debugger with" || !sc.Scan() {
		t.Fatalf("no launch line: %q", sc.Text())
	}
	line := sc.Text()
	m := regexp.MustCompile(`^  'gdb' '-l' '10000' '-ex' 'set sysroot /' '-ex' 'target extended-remote 127\.0\.0\.1:(\d+)' '(/.*)'$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("launch line %q", line)
	}
	out, err := testutil.Command(t, "gdb", "-batch", "-nx", "-ex", "set sysroot /", "-ex", "target extended-remote 127.0.0.1:"+m[1],
		"-ex", "break compute", "-ex", "continue", "-ex", "kill", m[2]).CombinedOutput()
	if err != nil {
		t.Fatalf("gdb: %v\n%s", err, out)
	}
	mustMatch(t, string(out), `Breakpoint 1, compute \(x=\d+\)`)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("rewind replay after gdb killed the session: %v", err)
	}
}

// TestGdbCatchSyscallAndMore: catch syscall stops at entry and return;
// tbreak, info sharedlibrary, awatch and until work too.
func TestGdbCatchSyscallAndMore(t *testing.T) {
	env.Need(t)
	out, _ := gdbSession(t, env.Progs["debugme"], nil,
		"catch syscall getrandom", "continue", "continue", "delete",
		"tbreak compute", "continue", "info sharedlibrary", "awatch counter", "continue", "until", "kill")
	mustMatch(t, out,
		`Catchpoint 1 \(call to syscall getrandom\)`,
		`Catchpoint 1 \(returned from syscall getrandom\)`,
		`Temporary breakpoint 2, compute \(x=\d+\)`,
		`0x[0-9a-f]+\s+0x[0-9a-f]+\s+Yes\s+/.*libc\.so\.6`,
		`Hardware access \(read/write\) watchpoint 3: counter`,
		`(Value = 0|Old value = 0\s+New value = \d+)`)
}

// serveRaw records prog, starts 'rewind replay -s 0' on it and connects
// to the server; the returned function gives the rest of rewind's stderr
// once rewind has ended.
func serveRaw(t *testing.T, prog string) (*exec.Cmd, *rspClient, func() string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "trace")
	env.Run(t, nil, "record", "-o", dir, prog)
	cmd := testutil.Command(t, env.Rewind, "replay", "-s", "0", dir)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	sc := bufio.NewScanner(stderr)
	var port string
	for sc.Scan() {
		if m := regexp.MustCompile(`127\.0\.0\.1:(\d+)`).FindStringSubmatch(sc.Text()); m != nil {
			port = m[1]
			break
		}
	}
	c, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var rest strings.Builder
	done := make(chan struct{})
	go func() {
		for sc.Scan() {
			rest.WriteString(sc.Text() + "\n")
		}
		close(done)
	}()
	return cmd, &rspClient{t, c, bufio.NewReader(c)}, func() string { <-done; return rest.String() }
}

// rspClient speaks the remote protocol to rewind's server, in ack mode.
type rspClient struct {
	t  *testing.T
	c  net.Conn
	rd *bufio.Reader
}

// send sends a packet and returns the reply's payload.
func (r *rspClient) send(payload string) string {
	r.t.Helper()
	var sum byte
	for i := 0; i < len(payload); i++ {
		sum += payload[i]
	}
	fmt.Fprintf(r.c, "$%s#%02x", payload, sum)
	return r.reply(payload)
}

// reply reads the next packet (skipping acks) and acknowledges it.
func (r *rspClient) reply(what string) string {
	r.t.Helper()
	for {
		b, err := r.rd.ReadByte()
		if err != nil {
			r.t.Fatalf("reading reply to %q: %v", what, err)
		}
		if b == '$' {
			break
		}
	}
	reply, err := r.rd.ReadString('#')
	if err != nil {
		r.t.Fatal(err)
	}
	r.rd.Discard(2)
	r.c.Write([]byte("+"))
	return strings.TrimSuffix(reply, "#")
}

// TestGdbServerRobust: malformed and unknown packets get error or empty
// replies, a second client is refused, and the first can still end the
// session.
func TestGdbServerRobust(t *testing.T) {
	env.Need(t)
	cmd, rc, _ := serveRaw(t, env.Progs["debugme"])
	c, rd, send := rc.c, rc.rd, rc.send
	c.Write([]byte("$bad#00")) // wrong checksum: a '-' and no reply
	for payload, want := range map[string]string{
		"mzz,10":                            "E01",
		"Z0,notanumber,1":                   "E01",
		"qXfer:features:read:nope.xml:0,10": "E00",
		"vFlashWrite:0:abc":                 "",
		"G00":                               "E01",
		"p1000":                             "E01",
	} {
		if got := send(payload); got != want {
			t.Errorf("reply to %q: %q, want %q", payload, got, want)
		}
	}
	// A second debugger is turned away while the first is connected.
	if c2, err := net.Dial("tcp", c.RemoteAddr().String()); err == nil {
		c2.SetReadDeadline(time.Now().Add(10 * time.Second))
		if n, err := c2.Read(make([]byte, 1)); n != 0 || err == nil {
			t.Errorf("second client was not refused (%d, %v)", n, err)
		}
		c2.Close()
	}
	// 'k' has no reply: the server ends the connection (delve takes EOF
	// as the process gone).
	fmt.Fprintf(c, "$k#6b")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if b, err := io.ReadAll(rd); err != nil || strings.Contains(string(b), "$") {
		t.Fatalf("after kill: %q, %v (want the connection closed, no reply)", b, err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("rewind after kill: %v", err)
	}
}

// TestGdbFollowProcess: -p follows a child process, chosen by pid or by the
// program it execs, from its exec to its exit.
func TestGdbFollowProcess(t *testing.T) {
	env.Need(t)
	if _, err := exec.LookPath("gdb"); err != nil {
		testutil.Lacking(t, "gdb is not installed")
	}
	dir := filepath.Join(t.TempDir(), "trace")
	env.Run(t, nil, "record", "-o", dir, env.Progs["forkexec"])
	ps := env.Run(t, nil, "ps", dir)
	lines := strings.Split(strings.TrimSpace(ps.Stdout), "\n")
	if len(lines) != 5 {
		t.Fatalf("rewind ps:\n%s", ps.Stdout)
	}
	second := strings.Split(lines[3], "\t")[0] // the second child
	for follow, pid := range map[string]string{"sh": strings.Split(lines[2], "\t")[0], second: second} {
		out := env.Run(t, nil, "replay", "-p", follow, dir, "--", "-batch", "-nx", "-ex", "info inferiors", "-ex", "continue")
		mustMatch(t, out.Stdout+out.Stderr,
			`\* 1\s+process `+pid+`\s`,
			`\[Inferior 1 \(process `+pid+`\) exited with code 05\]`)
	}
	if out := env.Run(t, nil, "replay", "-p", "99999999", dir); out.Code != 1 || !strings.Contains(out.Stderr, "no recorded process matches") {
		t.Fatalf("-p of an unknown process: exit %d, %q", out.Code, out.Stderr)
	}
}

// TestGdbGoProgram: gdb on a static Go program: a breakpoint in a Go
// function, the recorded value, the goroutine threads, the end.
func TestGdbGoProgram(t *testing.T) {
	env.Need(t)
	out, rec := gdbSession(t, buildDlvProg(t), nil,
		"break main.compute", "continue", "print x", "bt 2", "info threads", "continue")
	m := regexp.MustCompile(`random (\d+)`).FindStringSubmatch(rec)
	if m == nil {
		t.Fatalf("recording printed %q", rec)
	}
	mustMatch(t, out,
		`Breakpoint 1, main\.compute \(x=`+m[1],
		`\$1 = `+m[1]+`\n`,
		`#1  0x[0-9a-f]+ in main\.main \(\)`,
		`(?m)^[* ] 2\s+Thread \d+\.\d+`, // a second thread (which one runs main varies)
		`\[Inferior 1 \(process \d+\) exited normally\]`)
}

// TestGdbReverseRefused: rewind does not offer reverse execution yet
// (qSupported says ReverseContinue-), so gdb refuses reverse commands
// itself, and the session goes on.
func TestGdbReverseRefused(t *testing.T) {
	env.Need(t)
	out, _ := gdbSession(t, env.Progs["debugme"], nil,
		"break compute", "continue", "reverse-continue", "reverse-stepi", "next", "print y == 2*x", "kill")
	mustMatch(t, out,
		`Target extended-remote does not support this command`,
		`(?m)^10\s+counter \+= y;`,
		`\$1 = 1`)
}

// TestGdbServerAbuse: a client that refuses every reply ('-') is given up
// on, and a packet over 1 MiB ends the replay with an error, not silently.
func TestGdbServerAbuse(t *testing.T) {
	env.Need(t)
	t.Run("naks", func(t *testing.T) {
		cmd, rc, _ := serveRaw(t, env.Progs["debugme"])
		c := rc.c
		go io.Copy(io.Discard, c)
		// One request, then nothing but NAKs for its reply, in order on
		// the one connection.
		c.Write(append([]byte("$?#3f"), bytes.Repeat([]byte("-"), 1<<20)...))
		if err := cmd.Wait(); err == nil || cmd.ProcessState.ExitCode() != 1 {
			t.Fatalf("rewind after a flood of NAKs: %v", err)
		}
	})
	t.Run("huge packet", func(t *testing.T) {
		cmd, rc, stderr := serveRaw(t, env.Progs["debugme"])
		c := rc.c
		c.Write([]byte("$m"))
		c.Write(bytes.Repeat([]byte("0"), 2<<20))
		c.Write([]byte("#00"))
		err := cmd.Wait()
		if msg := stderr(); err == nil || !strings.Contains(msg, "packet over 1 MiB") {
			t.Fatalf("rewind after a 2 MiB packet: %v, %q", err, msg)
		}
	})
}

// TestGdbBreakpointSurvivesSpawn: system() spawns a child sharing the
// parent's memory (CLONE_VM|CLONE_VFORK); the breakpoint stays in the
// parent and is hit on every call.
func TestGdbBreakpointSurvivesSpawn(t *testing.T) {
	env.Need(t)
	out, _ := gdbSession(t, env.Progs["spawnbp"], nil,
		"break work", "continue", "continue", "continue", "continue")
	if n := strings.Count(out, "Breakpoint 1, work (i="); n != 3 {
		t.Fatalf("breakpoint hit %d times, want 3:\n%s", n, out)
	}
	mustMatch(t, out, `sum 9`)
}

// TestGdbInterrupt: a debugger's Ctrl-C (0x03) stops a replay that is
// computing without syscalls, inside the computation, as a SIGINT stop;
// continuing from there replays to the recorded end.
func TestGdbInterrupt(t *testing.T) {
	env.Need(t)
	prog := env.Progs["busy"]
	f, err := elf.Open(prog)
	if err != nil {
		t.Fatal(err)
	}
	syms, err := f.Symbols()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var crunch elf.Symbol
	for _, s := range syms {
		if s.Name == "crunch" {
			crunch = s
		}
	}
	if crunch.Value == 0 {
		t.Fatal("busy has no symbol crunch")
	}
	// Recorded with address-space randomisation off: a PIE loads here.
	const pieBase = 0x555555554000
	start, end := pieBase+crunch.Value, pieBase+crunch.Value+crunch.Size
	cmd, c, _ := serveRaw(t, prog)
	c.send("?")
	if r := c.send(fmt.Sprintf("Z0,%x,1", start)); r != "OK" {
		t.Fatalf("breakpoint at crunch: %q", r)
	}
	if r := c.send("vCont;c"); !strings.HasPrefix(r, "T05") || !strings.Contains(r, "swbreak") {
		t.Fatalf("continue to crunch: %q", r)
	}
	c.send(fmt.Sprintf("z0,%x,1", start))
	// Continue, then interrupt: crunch computes for a second or more.
	fmt.Fprintf(c.c, "$vCont;c#a8")
	c.c.Write([]byte{0x03})
	if r := c.reply("Ctrl-C"); !strings.HasPrefix(r, "T02") {
		t.Fatalf("stop after Ctrl-C: %q, want T02 (SIGINT)", r)
	}
	rip := c.send("p10")
	var pc uint64
	for i := 0; i+1 < len(rip) && i < 16; i += 2 {
		b, _ := strconv.ParseUint(rip[i:i+2], 16, 8)
		pc |= b << (4 * uint(i))
	}
	if pc < start || pc >= end {
		t.Fatalf("interrupted at %#x, outside crunch [%#x, %#x)", pc, start, end)
	}
	if r := c.send("vCont;c"); !strings.HasPrefix(r, "W07") {
		t.Fatalf("continue to the end: %q, want exit 7", r)
	}
	c.c.Write([]byte("$k#6b"))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("rewind after kill: %v", err)
	}
}

// TestReplaySurvivesTerminalInterrupt: Ctrl-C at the terminal signals
// rewind as well as the gdb it started; the interrupt is gdb's to act on,
// and the replay goes on. Here rewind gets a SIGINT while gdb waits (on a
// FIFO the test then opens) at a breakpoint; gdb then continues to the end.
func TestReplaySurvivesTerminalInterrupt(t *testing.T) {
	env.Need(t)
	if _, err := exec.LookPath("gdb"); err != nil {
		testutil.Lacking(t, "gdb is not installed")
	}
	tmp := t.TempDir()
	dir, fifo := filepath.Join(tmp, "trace"), filepath.Join(tmp, "go")
	env.Run(t, nil, "record", "-o", dir, env.Progs["debugme"])
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := testutil.Command(t, env.Rewind, "replay", dir, "--", "-batch", "-nx",
		"-ex", "break compute", "-ex", "continue", "-ex", "shell read x < "+fifo, "-ex", "continue")
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	sc := bufio.NewScanner(out)
	var seen strings.Builder
	hit := false
	for !hit && sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
		hit = strings.HasPrefix(sc.Text(), "Breakpoint 1, compute")
	}
	if !hit { // gdb is not waiting on the FIFO: opening it would block
		t.Fatalf("gdb never stopped at compute:\n%s", seen.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString("go\n")
	w.Close()
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
	}
	if err := cmd.Wait(); err != nil || !strings.Contains(seen.String(), "exited with code 03") {
		t.Fatalf("replay after SIGINT: %v\n%s", err, seen.String())
	}
}
