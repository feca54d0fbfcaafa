package e2e

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// gdbSession records prog, then replays it under 'gdb -batch' with the given
// commands (rewind launches gdb, as rr replay does) and returns gdb's output
// and the program's recorded stdout.
func gdbSession(t *testing.T, prog string, args []string, cmds ...string) (gdbOut, recorded string) {
	t.Helper()
	if _, err := exec.LookPath("gdb"); err != nil {
		t.Skip("gdb not installed")
	}
	dir := filepath.Join(t.TempDir(), "trace")
	rec := env.Run(t, nil, append([]string{"record", "-o", dir, prog}, args...)...)
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
	m := regexp.MustCompile(`random (\d+)`).FindStringSubmatch(rec)
	if m == nil {
		t.Fatalf("recording printed no random value: %q", rec)
	}
	mustMatch(t, out,
		`Breakpoint 1, compute \(x=`+m[1]+`\) at .*debugme.c:9`,
		`\$1 = `+m[1]+`\n`,
		`Value returned is \$2 = \d+`,
		`\[Inferior 1 \(process \d+\) exited with code 03\]`)
}

// TestGdbStepping: next, stepi, registers, backtrace, memory, threads and
// rr's 'when'.
func TestGdbStepping(t *testing.T) {
	env.Need(t)
	out, _ := gdbSession(t, env.Progs["debugme"], nil,
		"break compute", "continue", "next", "next", "print y == 2*x", "stepi",
		"info registers rip", "bt", "monitor when", "info threads", "x/2i $pc", "print compute(3)", "print x", "kill")
	mustMatch(t, out,
		`(?m)^10\s+counter \+= y;`,
		`(?m)^11\s+return y \+ 1;`,
		`\$1 = 1`,
		`rip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <compute\+\d+>`,
		`#1  0x[0-9a-f]+ in main \(\) at .*debugme.c:19`,
		`Completed event: \d+`,
		`\* 1\s+Thread \d+\.\d+`,
		`rewind: the debugger tried to change registers or memory`, // print compute(3) is refused
		`\$2 = \d+`) // and the replay goes on undisturbed
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
	out, _ = gdbSession(t, env.Progs["threads"], nil,
		"break worker", "continue", "continue", "info threads", "kill")
	mustMatch(t, out, `Thread \d+ hit Breakpoint 1, worker`, `(?m)^\* 3\s+Thread \d+\.\d+\s+worker`, `(?m)^  1\s+Thread \d+\.\d+`)
}

// TestGdbServerOnly: -s serves on loopback and prints rr's launch line, the
// one delve parses.
func TestGdbServerOnly(t *testing.T) {
	env.Need(t)
	dir := filepath.Join(t.TempDir(), "trace")
	env.Run(t, nil, "record", "-o", dir, env.Progs["debugme"])
	cmd := exec.Command(env.Rewind, "replay", "--dbgport=0", dir)
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
	out, err := exec.Command("gdb", "-batch", "-nx", "-ex", "set sysroot /", "-ex", "target extended-remote 127.0.0.1:"+m[1],
		"-ex", "break compute", "-ex", "continue", "-ex", "kill", m[2]).CombinedOutput()
	if err != nil {
		t.Fatalf("gdb: %v\n%s", err, out)
	}
	mustMatch(t, string(out), `Breakpoint 1, compute \(x=\d+\)`)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("rewind replay after gdb killed the session: %v", err)
	}
}
