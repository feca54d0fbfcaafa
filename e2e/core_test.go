// Package e2e holds rewind's end-to-end tests: they build rewind and real
// test programs (C with gcc, static Go), record them and system binaries,
// replay them and compare what came out.
package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rewind-dbg/rewind/internal/testutil"
	"github.com/rewind-dbg/rewind/internal/trace"
	"golang.org/x/sys/unix"
)

var env *testutil.Env

func TestMain(m *testing.M) { testutil.Main(m, &env) }

func TestNondeterministicC(t *testing.T) {
	env.Need(t)
	for _, name := range []string{"nondet", "nondet-static"} {
		t.Run(name, func(t *testing.T) {
			scratch := t.TempDir()
			_, rec := env.RecordReplay(t, 2, nil, env.Progs[name], scratch)
			if rec.Code != 42 {
				t.Fatalf("recorded exit %d, want 42; stderr:\n%s", rec.Code, rec.Stderr)
			}
			for _, want := range []string{"realtime ", "rdtsc ", "getrandom ", "urandom ", "mapped: file written", "pipe: through the pipe", "dirent created-by-nondet"} {
				if !strings.Contains(rec.Stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, rec.Stdout)
				}
			}
		})
	}
}

func TestGoProgram(t *testing.T) {
	env.Need(t)
	input := filepath.Join(t.TempDir(), "input.txt")
	os.WriteFile(input, []byte("hello from a file"), 0o644)
	_, rec := env.RecordReplay(t, 2, nil, env.Progs["goprog"], input)
	if rec.Code != 7 || !strings.Contains(rec.Stdout, `file "hello from a file"`) || !strings.Contains(rec.Stdout, "slept true") {
		t.Fatalf("unexpected recording (exit %d):\n%s\n%s", rec.Code, rec.Stdout, rec.Stderr)
	}
}

func TestSystemPrograms(t *testing.T) {
	env.Need(t)
	data := filepath.Join(t.TempDir(), "data")
	os.WriteFile(data, bytes.Repeat([]byte("rewind "), 100000), 0o644)
	// Each recording must print what the program prints natively (or, for
	// output that differs on every run, what matches want).
	cases := map[string]struct {
		argv []string
		want string // a pattern; "": the native output
		code int
	}{
		"ls":        {argv: []string{"ls", "-la", "/usr/bin"}},
		"sha256sum": {argv: []string{"sha256sum", data}},
		"python3": {argv: []string{"/usr/bin/python3", "-c", "import random,time,os; print(random.random(), time.time(), os.getpid())"},
			want: `^0\.\d+ \d{10}\.\d+ \d+\n$`},
		"sh": {argv: []string{"sh", "-c", "x=1; while [ $x -lt 50 ]; do x=$((x+1)); done; echo counted $x; echo to stderr >&2; exit 3"},
			code: 3},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := exec.LookPath(c.argv[0]); err != nil {
				testutil.Lacking(t, "%s is not installed", c.argv[0])
			}
			_, rec := env.RecordReplay(t, 2, nil, c.argv...)
			if rec.Code != c.code {
				t.Fatalf("%v exited %d under record, want %d; stderr:\n%s", c.argv, rec.Code, c.code, rec.Stderr)
			}
			if c.want != "" {
				if !regexp.MustCompile(c.want).MatchString(rec.Stdout) {
					t.Fatalf("%v printed %q under record, want %s", c.argv, rec.Stdout, c.want)
				}
				return
			}
			native := testutil.Command(t, c.argv[0], c.argv[1:]...)
			var out, errb bytes.Buffer
			native.Stdout, native.Stderr = &out, &errb
			native.Run()
			if rec.Stdout != out.String() || testutil.WithoutWarnings(rec.Stderr) != errb.String() {
				t.Fatalf("%v under record differs from a native run:\nrecorded %q\n%q\nnative %q\n%q", c.argv, clip(rec.Stdout), rec.Stderr, clip(out.String()), errb.String())
			}
		})
	}
}

func clip(s string) string {
	if len(s) > 2000 {
		return s[:1000] + "..." + s[len(s)-1000:]
	}
	return s
}

// TestReplayTouchesNothing: a replayed cp -a creates nothing.
func TestReplayTouchesNothing(t *testing.T) {
	env.Need(t)
	src := filepath.Join(t.TempDir(), "src")
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("alpha"), 0o644)
	os.WriteFile(filepath.Join(src, "sub", "b.txt"), []byte("beta"), 0o600)
	dst := filepath.Join(t.TempDir(), "dst")
	dir := filepath.Join(t.TempDir(), "trace")
	rec := env.Run(t, nil, "record", "-o", dir, "cp", "-a", src, dst)
	if rec.Code != 0 {
		t.Fatalf("cp -a failed under record: %s", rec.Stderr)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "sub", "b.txt")); err != nil || string(b) != "beta" {
		t.Fatalf("recorded cp -a did not copy: %v %q", err, b)
	}
	os.RemoveAll(dst)
	rep := env.Run(t, nil, "replay", "-a", dir)
	if rep.Code != 0 {
		t.Fatalf("replay failed (exit %d): %s", rep.Code, rep.Stderr)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatalf("replay of cp -a created %s (stat: %v)", dst, err)
	}
}

// TestMappedFilesPreserved: replay works after the recorded program and the
// files it mapped are gone, and from another directory.
func TestMappedFilesPreserved(t *testing.T) {
	env.Need(t)
	bin := env.CopyProgram(t, "nondet")
	dir := filepath.Join(t.TempDir(), "trace")
	rec := env.Run(t, nil, "record", "-o", dir, bin, t.TempDir())
	if rec.Code != 42 || !strings.Contains(rec.Stderr, "nondet done") {
		t.Fatalf("recording of nondet (exit %d):\n%s\n%s", rec.Code, rec.Stdout, rec.Stderr)
	}
	os.Remove(bin)
	moved := filepath.Join(t.TempDir(), "moved")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	rep := env.Run(t, nil, "replay", "-a", moved)
	if rep.Stdout != rec.Stdout || rep.Code != rec.Code {
		t.Fatalf("replay after deleting the program differs:\n%s\n%s", rep.Stdout, rep.Stderr)
	}
}

func TestTracePrivateAndListed(t *testing.T) {
	env.Need(t)
	root := t.TempDir()
	tenv := []string{"REWIND_TRACE_DIR=" + root}
	rec := env.Run(t, tenv, "record", env.Progs["nondet"], t.TempDir())
	if rec.Code != 42 {
		t.Fatalf("record: exit %d %s", rec.Code, rec.Stderr)
	}
	st, err := os.Stat(filepath.Join(root, "nondet-0"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Fatalf("trace directory mode %v, want 0700", st.Mode().Perm())
	}
	if link, err := os.Readlink(filepath.Join(root, "latest-trace")); err != nil || link != "nondet-0" {
		t.Fatalf("latest-trace -> %q (%v)", link, err)
	}
	rep := env.Run(t, tenv, "replay", "-a")
	if rep.Stdout != rec.Stdout {
		t.Fatalf("replay of latest trace differs")
	}
	ls := env.Run(t, tenv, "ls")
	if !strings.Contains(ls.Stdout, "nondet-0") || !strings.Contains(ls.Stdout, env.Progs["nondet"]) {
		t.Fatalf("ls output lacks the trace:\n%s", ls.Stdout)
	}
	dump := env.Run(t, tenv, "dump")
	for _, want := range []string{"exec ", "syscall-exit getrandom = 16", "rdtsc = ", "rdtscp = ", "syscall-entry clock_gettime", "task-exit status 42"} {
		if !strings.Contains(dump.Stdout, want) {
			t.Errorf("dump lacks %q", want)
		}
	}
}

// linkFiles gives trace copy dst the files of trace src, as hard links.
func linkFiles(t *testing.T, src, dst string) {
	t.Helper()
	os.MkdirAll(filepath.Join(dst, "files"), 0o700)
	entries, _ := os.ReadDir(filepath.Join(src, "files"))
	for _, e := range entries {
		if err := os.Link(filepath.Join(src, "files", e.Name()), filepath.Join(dst, "files", e.Name())); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBadTraces(t *testing.T) {
	env.Need(t)
	dir := filepath.Join(t.TempDir(), "trace")
	env.Run(t, nil, "record", "-o", dir, env.Progs["nondet"], t.TempDir())
	events, _ := os.ReadFile(filepath.Join(dir, "events"))
	header, _ := os.ReadFile(filepath.Join(dir, "header.json"))
	clone := func(mut func(d string)) string {
		d := filepath.Join(t.TempDir(), "bad")
		os.MkdirAll(d, 0o700)
		os.WriteFile(filepath.Join(d, "events"), events, 0o600)
		os.WriteFile(filepath.Join(d, "header.json"), header, 0o600)
		linkFiles(t, dir, d)
		mut(d)
		return d
	}
	cases := map[string]struct {
		dir  string
		want string
	}{
		"missing": {filepath.Join(t.TempDir(), "nope"), "no such trace"},
		"version": {clone(func(d string) {
			os.WriteFile(filepath.Join(d, "header.json"), bytes.Replace(header, []byte(fmt.Sprintf(`"version": %d`, trace.Version)), []byte(`"version": 99`), 1), 0o600)
		}), "version 99"},
		"corrupt": {clone(func(d string) {
			b := append([]byte(nil), events...)
			b[len(b)/2] ^= 0xff
			os.WriteFile(filepath.Join(d, "events"), b, 0o600)
		}), "corrupt"},
		"truncated": {clone(func(d string) {
			os.WriteFile(filepath.Join(d, "events"), events[:len(events)-7], 0o600)
		}), "incomplete"},
		"not a trace": {t.TempDir(), "not a rewind trace"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			for _, cmd := range []string{"replay", "dump", "replay-debugger"} {
				args := []string{cmd, c.dir}
				switch cmd {
				case "replay":
					args = []string{cmd, "-a", c.dir}
				case "replay-debugger":
					if name == "truncated" {
						continue // replays under a debugger up to its end
					}
					// The same message before any debugger is started.
					args = []string{"replay", "-s", "0", c.dir}
				}
				o := env.Run(t, nil, args...)
				if o.Code != 1 || !strings.Contains(o.Stderr, c.want) {
					t.Errorf("%s of %s trace: exit %d, stderr %q; want exit 1 mentioning %q", cmd, name, o.Code, o.Stderr, c.want)
				}
			}
		})
	}
}

// TestRecorderKilled: SIGKILL to the recorder kills the tracee, and the trace
// replays up to its last complete block, then says it is incomplete.
func TestRecorderKilled(t *testing.T) {
	env.Need(t)
	dir := filepath.Join(t.TempDir(), "trace")
	cmd := testutil.Command(t, env.Rewind, "record", "-o", dir, "sh", "-c", `echo pid $$; i=0; while :; do i=$((i+1)); echo line $i; done`)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var pid int
	lines := 0
	for sc.Scan() {
		if pid == 0 {
			fmt.Sscanf(sc.Text(), "pid %d", &pid)
		}
		if lines++; lines == 20000 {
			break
		}
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatalf("pidfd_open(%d): %v", pid, err)
	}
	defer unix.Close(pidfd)
	cmd.Process.Signal(syscall.SIGKILL)
	go func() {
		for sc.Scan() {
		}
	}()
	cmd.Wait()
	// The tracee must die with its recorder: wait for its pidfd to signal exit.
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, 10000); err != nil || n != 1 {
		t.Fatalf("tracee %d still alive after the recorder was killed (poll %d, %v)", pid, n, err)
	}
	rep := env.Run(t, nil, "replay", "-a", dir)
	if rep.Code != 1 || !strings.Contains(rep.Stderr, "incomplete") {
		t.Fatalf("replay of a killed recording: exit %d, stderr %q", rep.Code, rep.Stderr)
	}
	if !strings.HasPrefix(rep.Stdout, fmt.Sprintf("pid %d\nline 1\nline 2\n", pid)) {
		t.Fatalf("replay of a killed recording printed %.200q", rep.Stdout)
	}
}

// TestSIGTERM: SIGTERM to the recorder reaches the program, and the trace is
// complete and replays to the same end.
func TestSIGTERM(t *testing.T) {
	env.Need(t)
	dir := filepath.Join(t.TempDir(), "trace")
	cmd := testutil.Command(t, env.Rewind, "record", "-o", dir, "sh", "-c", `trap 'echo got TERM; exit 9' TERM; echo ready; read line; echo never`)
	stdin, _ := cmd.StdinPipe()
	defer stdin.Close()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "ready" {
		t.Fatalf("no ready line: %q", sc.Text())
	}
	cmd.Process.Signal(syscall.SIGTERM)
	var rest []string
	for sc.Scan() {
		rest = append(rest, sc.Text())
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 9 || strings.Join(rest, "\n") != "got TERM" {
		t.Fatalf("recorder after SIGTERM: %v, output %q", err, rest)
	}
	rep := env.Run(t, nil, "replay", "-a", dir)
	if rep.Code != 9 || rep.Stdout != "ready\ngot TERM\n" {
		t.Fatalf("replay after SIGTERM: exit %d, %q, %s", rep.Code, rep.Stdout, rep.Stderr)
	}
}

// TestRdrandRecorded: an RDRAND the program executes is trapped and its
// value recorded, so every replay prints the same random number, and the
// recorder no longer warns about it. A C++ std::random_device (libstdc++'s
// RDRAND/RDSEED, found through .eh_frame in the stripped library) too.
func TestRdrandRecorded(t *testing.T) {
	env.Need(t)
	for _, name := range []string{"rdrand", "rdrand-static"} {
		_, rec := env.RecordReplay(t, 3, nil, env.Progs[name], "run")
		if !regexp.MustCompile(`^rdrand [1-9][0-9]*\n$`).MatchString(rec.Stdout) || strings.Contains(rec.Stderr, "RDRAND") {
			t.Fatalf("%s: recorded %q, stderr %q", name, rec.Stdout, rec.Stderr)
		}
	}
	t.Run("c++ random_device", func(t *testing.T) {
		if _, err := exec.LookPath("g++"); err != nil {
			testutil.Lacking(t, "g++ is not installed")
		}
		cxxRandomDevice(t)
	})
}

func cxxRandomDevice(t *testing.T) {
	src := filepath.Join(t.TempDir(), "rd.cc")
	os.WriteFile(src, []byte("#include <random>\n#include <iostream>\nint main() { std::random_device rd; std::cout << rd() << ' ' << rd() << std::endl; }\n"), 0o644)
	bin := filepath.Join(t.TempDir(), "rd")
	if out, err := testutil.Command(t, "g++", "-O1", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("g++: %v\n%s", err, out)
	}
	_, rec := env.RecordReplay(t, 3, nil, bin)
	if rec.Code != 0 || strings.Contains(rec.Stderr, "RDRAND") || strings.Contains(rec.Stderr, "RDSEED") {
		t.Fatalf("std::random_device: exit %d %q %q", rec.Code, rec.Stdout, rec.Stderr)
	}
}

// TestDivergenceReported: a replay whose program does not match its
// recording stops at the first differing event with a report and exit 1.
func TestDivergenceReported(t *testing.T) {
	env.Need(t)
	bin := env.CopyProgram(t, "nondet")
	dir := filepath.Join(t.TempDir(), "trace")
	if rec := env.Run(t, nil, "record", "-o", dir, bin, t.TempDir()); rec.Code != 42 {
		t.Fatalf("record: exit %d %s", rec.Code, rec.Stderr)
	}
	// Swap the preserved program for another one: its code now differs
	// from what was recorded.
	exes, _ := filepath.Glob(filepath.Join(dir, "files", "*-exe"))
	other, _ := os.ReadFile(env.Progs["forkexec"])
	if len(exes) != 1 || os.WriteFile(exes[0], other, 0o700) != nil {
		t.Fatalf("cannot replace the preserved executable %v", exes)
	}
	rep := env.Run(t, nil, "replay", "-a", dir)
	if rep.Code != 1 || !regexp.MustCompile(`replay diverged at event \d+ \(task \d+\)`).MatchString(rep.Stderr) {
		t.Fatalf("tampered replay: exit %d, stderr %q", rep.Code, rep.Stderr)
	}
}

// TestIoctls: known ioctls are recorded with their outputs; one whose
// outputs are unknown is refused with a warning naming its number.
func TestIoctls(t *testing.T) {
	env.Need(t)
	_, rec := env.RecordReplayWarned(t, 2, nil, []*regexp.Regexp{regexp.MustCompile(`unsupported ioctl 0x1234`)}, env.Progs["ioctl"])
	for _, want := range []string{"TCGETS on a pipe: -1 Inappropriate ioctl for device", "FIONREAD: 0 3", "ioctl 0x1234: -1 Inappropriate ioctl for device"} {
		if !strings.Contains(rec.Stdout, want) {
			t.Fatalf("output lacks %q:\n%s", want, rec.Stdout)
		}
	}
	if !strings.Contains(rec.Stderr, "rewind: warning: unsupported ioctl 0x1234") {
		t.Fatalf("no warning naming the refused ioctl: %q", rec.Stderr)
	}
}

// TestPack: pack replaces the trace's hard links to system files with
// copies; the trace still replays.
func TestPack(t *testing.T) {
	env.Need(t)
	dir, rec := env.RecordReplay(t, 0, nil, "ls", "-la", "/")
	shared := func() int {
		n := 0
		files, _ := os.ReadDir(filepath.Join(dir, "files"))
		for _, f := range files {
			info, _ := f.Info()
			if st, ok := info.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
				n++
			}
		}
		return n
	}
	if shared() == 0 {
		t.Fatal("the recording hard-linked no system file")
	}
	if out := env.Run(t, nil, "pack", dir); out.Code != 0 || !strings.Contains(out.Stdout, "shared files copied") {
		t.Fatalf("pack: exit %d %q %q", out.Code, out.Stdout, out.Stderr)
	}
	if n := shared(); n != 0 {
		t.Fatalf("%d files still shared after pack", n)
	}
	if rep := env.Run(t, nil, "replay", "-a", dir); rep.Stdout != rec.Stdout || rep.Code != rec.Code {
		t.Fatalf("replay after pack differs:\n%s\n%s", rep.Stdout, rep.Stderr)
	}
}

// TestKilledWhileIdle: a recorder killed while its program sleeps has
// already written what happened before (the trace is flushed every quarter
// second, not only when the next event comes).
func TestKilledWhileIdle(t *testing.T) {
	env.Need(t)
	dir := filepath.Join(t.TempDir(), "trace")
	cmd := testutil.Command(t, env.Rewind, "record", "-o", dir, "sh", "-c", "echo before the sleep; exec sleep 60")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "before the sleep" {
		t.Fatalf("program printed %q", sc.Text())
	}
	// The write is recorded within the flush interval: wait for the dump to
	// show it (bounded), then kill the recorder.
	deadline := time.Now().Add(20 * time.Second)
	for {
		d := env.Run(t, nil, "dump", dir)
		if strings.Contains(d.Stdout, "syscall-exit write = 17") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the echo never reached the trace:\n%s", d.Stdout)
		}
		runtime.Gosched()
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	rep := env.Run(t, nil, "replay", "-a", dir)
	if rep.Stdout != "before the sleep\n" || !strings.Contains(rep.Stderr, "incomplete") {
		t.Fatalf("replay of the killed recording: exit %d, %q, %q", rep.Code, rep.Stdout, rep.Stderr)
	}
}

// TestHugeRead: one read of 300 MiB (bigger than a trace block may be) is
// recorded in chunks, with the recorder's memory well below the data's
// size, and replays.
func TestHugeRead(t *testing.T) {
	env.Need(t)
	testutil.NeedTool(t, "python3")
	big := filepath.Join(t.TempDir(), "big")
	f, _ := os.Create(big)
	f.Truncate(300 << 20) // sparse: reads as zeros, costs no disk
	f.Close()
	dir := filepath.Join(t.TempDir(), "trace")
	rec := env.Run(t, []string{"REWIND_STATS=1"}, "record", "-o", dir, "python3", "-c",
		"import sys; d = open(sys.argv[1], 'rb').read(); print(len(d), d.count(0))", big)
	want := fmt.Sprintf("%d %d\n", 300<<20, 300<<20)
	if rec.Code != 0 || rec.Stdout != want {
		t.Fatalf("record: exit %d %q %q", rec.Code, rec.Stdout, rec.Stderr)
	}
	m := regexp.MustCompile(`peak RSS (\d+) kB`).FindStringSubmatch(rec.Stderr)
	if m == nil {
		t.Fatalf("no RSS in %q", rec.Stderr)
	}
	if kb, _ := strconv.Atoi(m[1]); kb > 200<<10 {
		t.Errorf("recorder peak RSS %d kB for a 300 MiB read", kb)
	}
	if rep := env.Run(t, nil, "replay", "-a", dir); rep.Code != 0 || rep.Stdout != want {
		t.Fatalf("replay: exit %d %q %q", rep.Code, rep.Stdout, rep.Stderr)
	}
}

// TestEchoAllWrites: replay -a re-emits what reached the recorder's stdout
// by any syscall (write, sendfile and splice from a file, sendto), and
// nothing the program wrote to a file of its own, even /dev/null when
// rewind's own stderr is /dev/null too.
func TestEchoAllWrites(t *testing.T) {
	env.Need(t)
	testutil.NeedTool(t, "python3")
	src := filepath.Join(t.TempDir(), "src")
	os.WriteFile(src, []byte("from sendfile\nfrom splice\n"), 0o644)
	prog := `
import os, sys
f = os.open(sys.argv[1], os.O_RDONLY)
os.write(1, b"plain write\n")
os.sendfile(1, f, 0, 14)
os.splice(f, 1, 12, offset_src=14)
null = os.open("/dev/null", os.O_WRONLY)
os.write(null, b"to /dev/null\n")
os.write(2, b"to stderr\n")
`
	_, rec := env.RecordReplay(t, 2, nil, "python3", "-c", prog, src)
	want := "plain write\nfrom sendfile\nfrom splice\n"
	if rec.Code != 0 || rec.Stdout != want || testutil.WithoutWarnings(rec.Stderr) != "to stderr\n" {
		t.Fatalf("recorded: exit %d %q %q", rec.Code, rec.Stdout, rec.Stderr)
	}
	// rewind's stderr is /dev/null: the program's own /dev/null is still
	// not its stderr.
	dir := filepath.Join(t.TempDir(), "trace")
	cmd := testutil.Command(t, env.Rewind, "record", "-o", dir, "python3", "-c", prog, src)
	cmd.Stderr, _ = os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	var out strings.Builder
	cmd.Stdout = &out // a pipe: splice needs one
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %q", err, out.String())
	}
	if rep := env.Run(t, nil, "replay", "-a", dir); rep.Stdout != want || strings.Contains(rep.Stderr, "to /dev/null") {
		t.Fatalf("replay: %q %q", rep.Stdout, rep.Stderr)
	}
}

// TestEchoMergedOutput: recorded with stdout and stderr one file (2>&1),
// what the program wrote to its fd 1 is re-emitted on stdout and to its
// fd 2 on stderr; a replay whose stdout cannot be written says so once and
// still replays to the end.
func TestEchoMergedOutput(t *testing.T) {
	env.Need(t)
	dir := filepath.Join(t.TempDir(), "trace")
	cmd := testutil.Command(t, env.Rewind, "record", "-o", dir, "sh", "-c", "echo out; ls /nonexistent-rewind-test")
	merged, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("record: %v\n%s", err, merged)
	}
	rep := env.Run(t, nil, "replay", "-a", dir)
	if rep.Code != 2 || rep.Stdout != "out\n" || !strings.Contains(rep.Stderr, "nonexistent-rewind-test") {
		t.Fatalf("replay -a: exit %d, stdout %q, stderr %q", rep.Code, rep.Stdout, rep.Stderr)
	}
	devFull, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devFull.Close()
	full := testutil.Command(t, env.Rewind, "replay", "-a", dir)
	var stderr bytes.Buffer
	full.Stdout, full.Stderr = devFull, &stderr
	err = full.Run()
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || strings.Count(stderr.String(), "re-emitting the program's output failed") != 1 {
		t.Fatalf("replay -a >/dev/full: %v, stderr %q", err, stderr.String())
	}
}

// TestManyArguments: the kernel bounds argv only by the stack's size; a
// program given 70,000 arguments records and replays, and its exec event
// still names it.
func TestManyArguments(t *testing.T) {
	env.Need(t)
	argv := []string{"/bin/true"}
	for i := 0; i < 70000; i++ {
		argv = append(argv, strconv.Itoa(i))
	}
	dir, rec := env.RecordReplay(t, 2, nil, argv...)
	if rec.Code != 0 {
		t.Fatalf("recording: exit %d\n%s", rec.Code, rec.Stderr)
	}
	if ps := env.Run(t, nil, "ps", dir); !strings.Contains(ps.Stdout, "/bin/true 0 1 2") {
		t.Fatalf("ps does not name the program:\n%.300s", ps.Stdout)
	}
}
