package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/rewind-dbg/rewind/internal/testutil"
)

// Process trees, threads and signals: each program must replay with the
// same output and exit status, three times over.

func TestThreads(t *testing.T) {
	env.Need(t)
	for _, name := range []string{"threads", "threads-static"} {
		t.Run(name, func(t *testing.T) {
			_, rec := env.RecordReplay(t, 3, nil, env.Progs[name])
			if rec.Code != 0 || !strings.Contains(rec.Stdout, "counter 8000 racy ") || !strings.Contains(rec.Stdout, "thread 3 done") {
				t.Fatalf("unexpected recording (exit %d):\n%s\n%s", rec.Code, rec.Stdout, rec.Stderr)
			}
		})
	}
}

func TestForkExecWait(t *testing.T) {
	env.Need(t)
	dir, rec := env.RecordReplay(t, 3, nil, env.Progs["forkexec"])
	for i := 0; i < 3; i++ {
		if want := fmt.Sprintf("parent: child %d exited 5", i); !strings.Contains(rec.Stdout, want) {
			t.Fatalf("output lacks %q:\n%s", want, rec.Stdout)
		}
	}
	// rewind ps: the parent and three children that exec'd sh and exited 5.
	ps := env.Run(t, nil, "ps", dir)
	lines := strings.Split(strings.TrimSpace(ps.Stdout), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "PID\tPPID\tEXIT\tCMD") ||
		!regexp.MustCompile(`^\d+\t--\t0\t.*forkexec$`).MatchString(lines[1]) {
		t.Fatalf("rewind ps:\n%s", ps.Stdout)
	}
	parent := strings.Split(lines[1], "\t")[0]
	for _, l := range lines[2:] {
		if !regexp.MustCompile(`^\d+\t` + parent + `\t5\tsh -c echo execd \$\$; exit 5$`).MatchString(l) {
			t.Fatalf("rewind ps child line %q", l)
		}
	}
}

// TestPsForkedTree: rewind ps names a process forked without exec after
// its parent's command once, however deep the forks go, and keeps a
// command line holding newlines (a python -c script) on one line.
func TestPsForkedTree(t *testing.T) {
	env.Need(t)
	testutil.NeedTool(t, "python3")
	script := "import os\nif os.fork() == 0:\n    if os.fork() == 0: os._exit(3)\n    os.wait(); os._exit(4)\nos.wait()"
	dir, rec := env.RecordReplay(t, 2, nil, "python3", "-c", script)
	if rec.Code != 0 {
		t.Fatalf("recording: exit %d\n%s", rec.Code, rec.Stderr)
	}
	ps := env.Run(t, nil, "ps", dir)
	record := regexp.MustCompile(`^\d+\t(--|\d+)\t(-?\d+|-)\t.+$`)
	found := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(ps.Stdout), "\n")[1:] {
		if !record.MatchString(l) || strings.Count(l, "forked without exec") > 1 {
			t.Fatalf("rewind ps line %q:\n%s", l, ps.Stdout)
		}
		// (python3 may be a shim that execs the real one: match the end.)
		if m := regexp.MustCompile(`\t(-?\d+)\t(\(forked without exec\) )?\S*python3 -c "import os\\nif`).FindStringSubmatch(l); m != nil {
			found[m[1]+" "+m[2]]++
		}
	}
	want := map[string]int{"0 ": 1, "4 (forked without exec) ": 1, "3 (forked without exec) ": 1}
	if !reflect.DeepEqual(found, want) {
		t.Fatalf("rewind ps: python processes %v, want %v:\n%s", found, want, ps.Stdout)
	}
}

func TestExecFromThread(t *testing.T) {
	env.Need(t)
	_, rec := env.RecordReplay(t, 3, nil, env.Progs["threxec"])
	m := regexp.MustCompile(`main (\d+)\nexec from thread (\d+)\n`).FindStringSubmatch(rec.Stdout)
	if rec.Code != 0 || m == nil || m[1] != m[2] {
		t.Fatalf("unexpected recording (exit %d):\n%s\n%s", rec.Code, rec.Stdout, rec.Stderr)
	}
}

func TestShellPipeline(t *testing.T) {
	env.Need(t)
	script := `ls /usr/bin | grep -c a | (read n; echo count $n); (cd / && echo sub $(pwd)); echo $$ | wc -c; false || echo fallback`
	_, rec := env.RecordReplay(t, 3, nil, "sh", "-c", script)
	native, err := testutil.Command(t, "sh", "-c", script).Output()
	if err != nil {
		t.Fatal(err)
	}
	// The same output as natively, but for the number of digits in the
	// pid, which may differ.
	digits := regexp.MustCompile(`(?m)^[0-9]$`)
	if rec.Code != 0 || digits.ReplaceAllString(rec.Stdout, "N") != digits.ReplaceAllString(string(native), "N") ||
		!regexp.MustCompile(`^count \d+\nsub /\n\d\nfallback\n$`).MatchString(rec.Stdout) {
		t.Fatalf("recorded (exit %d):\n%s\nnative:\n%s", rec.Code, rec.Stdout, native)
	}
}

func TestGoGoroutines(t *testing.T) {
	env.Need(t)
	_, rec := env.RecordReplay(t, 3, nil, env.Progs["goprog"], "-goroutines")
	if rec.Code != 7 || !strings.Contains(rec.Stdout, "goroutines done") {
		t.Fatalf("unexpected recording (exit %d):\n%s\n%s", rec.Code, rec.Stdout, rec.Stderr)
	}
}

func TestSignals(t *testing.T) {
	env.Need(t)
	cases := map[string]struct {
		code int
		want string
	}{
		"faults":   {0, "SIGBUS recovered: sig 7, 5 faults"},
		"self":     {0, "self-sent signals handled: 3"},
		"timers":   {0, "timer_create fired: "}, // the count depends on timing when recorded
		"signalfd": {0, "signalfd read 128: signo 10 pid-matches 1"},
		"altstack": {0, "handler on alternate stack: 1"},
		"eintr":    {0, "read 1 after signals (2 handled)"},
		"waits":    {0, "sigtimedwait timed out: -1"},
		"sigchld":  {0, "child exited 3, SIGCHLD handled 1"},
		"segv":     {139, "about to crash"},
		"abort":    {134, "about to abort"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			for _, prog := range []string{"signals", "signals-static"} {
				_, rec := env.RecordReplay(t, 3, nil, env.Progs[prog], name)
				if rec.Code != c.code || !strings.Contains(rec.Stdout, c.want) {
					t.Fatalf("%s %s: exit %d, want %d and %q in:\n%s\n%s", prog, name, rec.Code, c.code, c.want, rec.Stdout, rec.Stderr)
				}
				if c.code > 128 && !regexp.MustCompile(`rewind: signals(-static)? was killed by SIG(SEGV|ABRT)`).MatchString(rec.Stderr) {
					t.Fatalf("%s %s: the recorder did not report the fatal signal: %q", prog, name, rec.Stderr)
				}
			}
		})
	}
}

// TestMakeJ2 records make -j2 over a generated C project: make, sh, gcc,
// cc1, as and ld as children. Replay must print the same and build nothing.
func TestMakeJ2(t *testing.T) {
	env.Need(t)
	if _, err := exec.LookPath("make"); err != nil {
		testutil.Lacking(t, "make is not installed")
	}
	dir := t.TempDir()
	var objs []string
	for i := 0; i < 6; i++ {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.c", i)), []byte(fmt.Sprintf("int f%d(void) { return %d; }\n", i, i)), 0o644)
		objs = append(objs, fmt.Sprintf("f%d.o", i))
	}
	os.WriteFile(filepath.Join(dir, "main.c"), []byte("#include <stdio.h>\nint f5(void);\nint main(void) { printf(\"%d\\n\", f5()); return 0; }\n"), 0o644)
	mk := fmt.Sprintf("prog: %s main.o\n\tgcc -o $@ $^\n%%.o: %%.c\n\tgcc -c -o $@ $<\n", strings.Join(objs, " "))
	os.WriteFile(filepath.Join(dir, "Makefile"), []byte(mk), 0o644)
	clean := func() {
		files, _ := filepath.Glob(filepath.Join(dir, "*.o"))
		for _, f := range append(files, filepath.Join(dir, "prog")) {
			os.Remove(f)
		}
	}
	_, rec := env.RecordReplay(t, 2, clean, "make", "-C", dir, "-j2")
	if rec.Code != 0 || !strings.Contains(rec.Stdout, "gcc -o prog") {
		t.Fatalf("make failed under record (exit %d):\n%s\n%s", rec.Code, rec.Stdout, rec.Stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "prog")); !os.IsNotExist(err) {
		t.Fatalf("replayed make created %s (stat: %v)", filepath.Join(dir, "prog"), err)
	}
}

// TestSpinningThreadWarned: a thread that spins without syscalls while
// another waits gets a warning naming it; SIGTERM still ends the recording,
// and the trace replays to the same end.
func TestSpinningThreadWarned(t *testing.T) {
	env.Need(t)
	dir := filepath.Join(t.TempDir(), "trace")
	cmd := testutil.Command(t, env.Rewind, "record", "-o", dir, env.Progs["spin"])
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	warned := ""
	for sc.Scan() {
		if strings.Contains(sc.Text(), "without a syscall") {
			warned = sc.Text()
			break
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	go func() {
		for sc.Scan() {
		}
	}()
	err = cmd.Wait()
	if !regexp.MustCompile(`task \d+ has run for \d+s without a syscall`).MatchString(warned) {
		t.Fatalf("no warning naming the spinning task; got %q", warned)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 143 {
		t.Fatalf("recorder after SIGTERM: %v, want exit 143", err)
	}
	if rep := env.Run(t, nil, "replay", "-a", dir); rep.Code != 143 {
		t.Fatalf("replay: exit %d, want 143; %s", rep.Code, rep.Stderr)
	}
}

// TestParentDiesFirst: the recording's status is its first process's, even
// when a child outlives it.
func TestParentDiesFirst(t *testing.T) {
	env.Need(t)
	_, rec := env.RecordReplayWarned(t, 2, nil, []*regexp.Regexp{regexp.MustCompile(`1 process\(es\) outlived sh`)},
		// The child would sleep a minute: the recorder kills it when
		// its parent, the first process, dies.
		"sh", "-c", "sleep 60 & echo started; kill -9 $$")
	if rec.Code != 137 || rec.Stdout != "started\n" {
		t.Fatalf("recording: exit %d, %q, %q", rec.Code, rec.Stdout, rec.Stderr)
	}
}

// TestProgramSignalsItsGroup: a program that signals its own process group
// (kill(0, sig)) reaches the recorder too, which shares the group; the
// recorder must neither die of it nor pass it on, and the trace must be
// complete. rewind runs in a group of its own here, so that the test does
// not receive the signals either.
func TestProgramSignalsItsGroup(t *testing.T) {
	env.Need(t)
	dir := filepath.Join(t.TempDir(), "trace")
	run := func(args ...string) (string, string, int) {
		cmd := testutil.Command(t, env.Rewind, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.String(), errb.String(), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), 0
	}
	out, errs, code := run("record", "-o", dir, env.Progs["killgroup"])
	if code != 128+int(syscall.SIGABRT) || out != "handled 10\n" || strings.Contains(errs, "goroutine") {
		t.Fatalf("record: exit %d, %q, %q", code, out, errs)
	}
	for i := 0; i < 2; i++ {
		rout, rerrs, rcode := run("replay", "-a", dir)
		if rcode != code || rout != out || strings.Contains(rerrs, "incomplete") {
			t.Fatalf("replay %d: exit %d, %q, %q", i+1, rcode, rout, rerrs)
		}
	}
}
