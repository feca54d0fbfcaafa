package main

// End-to-end tests: they build rewind and real test programs (C with gcc,
// static Go), record them, replay them and compare what came out.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

var (
	rewindBin string
	progs     = map[string]string{} // test program name -> path
	buildErr  error
)

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "rewind-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildErr = buildAll(tmp)
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

func buildAll(tmp string) error {
	root, err := filepath.Abs("../..")
	if err != nil {
		return err
	}
	rewindBin = filepath.Join(tmp, "rewind")
	build := func(name string, cmd *exec.Cmd) error {
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", name, err, out)
		}
		return nil
	}
	if err := build("rewind", exec.Command("go", "build", "-o", rewindBin, "./cmd/rewind")); err != nil {
		return err
	}
	cs, _ := filepath.Glob(filepath.Join(root, "testdata/c/*.c"))
	for _, c := range cs {
		name := strings.TrimSuffix(filepath.Base(c), ".c")
		progs[name] = filepath.Join(tmp, name)
		progs[name+"-static"] = filepath.Join(tmp, name+"-static")
		if err := build(name, exec.Command("gcc", "-O1", "-g", "-pthread", "-o", progs[name], c)); err != nil {
			return err
		}
		if err := build(name+"-static", exec.Command("gcc", "-O1", "-g", "-static", "-pthread", "-o", progs[name+"-static"], c)); err != nil {
			return err
		}
	}
	progs["goprog"] = filepath.Join(tmp, "goprog")
	gocmd := exec.Command("go", "build", "-o", progs["goprog"], "./testdata/goprog")
	gocmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	return build("goprog", gocmd)
}

func needBuild(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("rewind records linux/amd64 only")
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

type outcome struct {
	stdout, stderr string
	code           int
}

func runRewind(t *testing.T, env []string, args ...string) outcome {
	t.Helper()
	cmd := exec.Command(rewindBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run rewind %v: %v", args, err)
	}
	if strings.Contains(errb.String(), "panic:") || strings.Contains(errb.String(), "goroutine ") {
		t.Fatalf("rewind %v panicked:\n%s", args, errb.String())
	}
	return outcome{out.String(), errb.String(), code}
}

// withoutWarnings drops rewind's own warning lines from stderr.
func withoutWarnings(s string) string {
	var keep []string
	for _, l := range strings.SplitAfter(s, "\n") {
		if !strings.HasPrefix(l, "rewind: warning:") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "")
}

// recordReplay records argv into a new trace, replays it twice and checks
// that stdout, stderr and the exit status are identical every time.
func recordReplay(t *testing.T, argv ...string) (string, outcome) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "trace")
	rec := runRewind(t, nil, append([]string{"record", "-o", dir}, argv...)...)
	for i := 0; i < 2; i++ {
		rep := runRewind(t, nil, "replay", "-a", dir)
		if rep.code != rec.code || rep.stdout != rec.stdout || withoutWarnings(rep.stderr) != withoutWarnings(rec.stderr) {
			t.Fatalf("replay %d of %v differs from its recording\nrecorded (exit %d):\n%s\n%s\nreplayed (exit %d):\n%s\n%s",
				i+1, argv, rec.code, rec.stdout, rec.stderr, rep.code, rep.stdout, rep.stderr)
		}
	}
	return dir, rec
}

func TestNondeterministicC(t *testing.T) {
	needBuild(t)
	for _, name := range []string{"nondet", "nondet-static"} {
		t.Run(name, func(t *testing.T) {
			scratch := t.TempDir()
			_, rec := recordReplay(t, progs[name], scratch)
			if rec.code != 42 {
				t.Fatalf("recorded exit %d, want 42; stderr:\n%s", rec.code, rec.stderr)
			}
			for _, want := range []string{"realtime ", "rdtsc ", "getrandom ", "urandom ", "mapped: file written", "pipe: through the pipe", "dirent created-by-nondet"} {
				if !strings.Contains(rec.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, rec.stdout)
				}
			}
		})
	}
}

func TestGoProgram(t *testing.T) {
	needBuild(t)
	input := filepath.Join(t.TempDir(), "input.txt")
	os.WriteFile(input, []byte("hello from a file"), 0o644)
	_, rec := recordReplay(t, progs["goprog"], input)
	if rec.code != 7 || !strings.Contains(rec.stdout, `file "hello from a file"`) || !strings.Contains(rec.stdout, "slept true") {
		t.Fatalf("unexpected recording (exit %d):\n%s\n%s", rec.code, rec.stdout, rec.stderr)
	}
}

func TestSystemPrograms(t *testing.T) {
	needBuild(t)
	data := filepath.Join(t.TempDir(), "data")
	os.WriteFile(data, bytes.Repeat([]byte("rewind "), 100000), 0o644)
	cases := map[string][]string{
		"ls":        {"ls", "-la", "/usr/bin"},
		"sha256sum": {"sha256sum", data},
		"python3":   {"/usr/bin/python3", "-c", "import random,time,os; print(random.random(), time.time(), os.getpid())"},
		"sh":        {"sh", "-c", "x=1; while [ $x -lt 50 ]; do x=$((x+1)); done; echo counted $x; echo to stderr >&2; exit 3"},
	}
	for name, argv := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := exec.LookPath(argv[0]); err != nil {
				t.Skipf("%s not installed", argv[0])
			}
			_, rec := recordReplay(t, argv...)
			if rec.stdout == "" {
				t.Fatalf("%v printed nothing; stderr:\n%s", argv, rec.stderr)
			}
		})
	}
}

// TestReplayTouchesNothing: a replayed cp -a creates nothing.
func TestReplayTouchesNothing(t *testing.T) {
	needBuild(t)
	src := filepath.Join(t.TempDir(), "src")
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("alpha"), 0o644)
	os.WriteFile(filepath.Join(src, "sub", "b.txt"), []byte("beta"), 0o600)
	dst := filepath.Join(t.TempDir(), "dst")
	dir := filepath.Join(t.TempDir(), "trace")
	rec := runRewind(t, nil, "record", "-o", dir, "cp", "-a", src, dst)
	if rec.code != 0 {
		t.Fatalf("cp -a failed under record: %s", rec.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "sub", "b.txt")); err != nil || string(b) != "beta" {
		t.Fatalf("recorded cp -a did not copy: %v %q", err, b)
	}
	os.RemoveAll(dst)
	rep := runRewind(t, nil, "replay", "-a", dir)
	if rep.code != 0 {
		t.Fatalf("replay failed (exit %d): %s", rep.code, rep.stderr)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatalf("replay of cp -a created %s (stat: %v)", dst, err)
	}
}

// TestMappedFilesPreserved: replay works after the recorded program and the
// files it mapped are gone, and from another directory.
func TestMappedFilesPreserved(t *testing.T) {
	needBuild(t)
	bin := filepath.Join(t.TempDir(), "nondet-copy")
	b, _ := os.ReadFile(progs["nondet"])
	os.WriteFile(bin, b, 0o755)
	dir := filepath.Join(t.TempDir(), "trace")
	rec := runRewind(t, nil, "record", "-o", dir, bin, t.TempDir())
	os.Remove(bin)
	moved := filepath.Join(t.TempDir(), "moved")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	rep := runRewind(t, nil, "replay", "-a", moved)
	if rep.stdout != rec.stdout || rep.code != rec.code {
		t.Fatalf("replay after deleting the program differs:\n%s\n%s", rep.stdout, rep.stderr)
	}
}

func TestTracePrivateAndListed(t *testing.T) {
	needBuild(t)
	root := t.TempDir()
	env := []string{"REWIND_TRACE_DIR=" + root}
	rec := runRewind(t, env, "record", progs["nondet"], t.TempDir())
	if rec.code != 42 {
		t.Fatalf("record: exit %d %s", rec.code, rec.stderr)
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
	rep := runRewind(t, env, "replay", "-a")
	if rep.stdout != rec.stdout {
		t.Fatalf("replay of latest trace differs")
	}
	ls := runRewind(t, env, "ls")
	if !strings.Contains(ls.stdout, "nondet-0") || !strings.Contains(ls.stdout, progs["nondet"]) {
		t.Fatalf("ls output lacks the trace:\n%s", ls.stdout)
	}
	dump := runRewind(t, env, "dump")
	for _, want := range []string{"exec ", "syscall-exit getrandom = 16", "rdtsc = ", "rdtscp = ", "syscall-entry clock_gettime", "task-exit status 42"} {
		if !strings.Contains(dump.stdout, want) {
			t.Errorf("dump lacks %q", want)
		}
	}
}

func TestBadTraces(t *testing.T) {
	needBuild(t)
	dir := filepath.Join(t.TempDir(), "trace")
	runRewind(t, nil, "record", "-o", dir, progs["nondet"], t.TempDir())
	events, _ := os.ReadFile(filepath.Join(dir, "events"))
	header, _ := os.ReadFile(filepath.Join(dir, "header.json"))
	clone := func(mut func(d string)) string {
		d := filepath.Join(t.TempDir(), "bad")
		os.MkdirAll(d, 0o700)
		os.WriteFile(filepath.Join(d, "events"), events, 0o600)
		os.WriteFile(filepath.Join(d, "header.json"), header, 0o600)
		os.Symlink(filepath.Join(dir, "files"), filepath.Join(d, "files"))
		mut(d)
		return d
	}
	cases := map[string]struct {
		dir  string
		want string
	}{
		"missing": {filepath.Join(t.TempDir(), "nope"), "no such trace"},
		"version": {clone(func(d string) {
			os.WriteFile(filepath.Join(d, "header.json"), bytes.Replace(header, []byte(`"version": 1`), []byte(`"version": 99`), 1), 0o600)
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
			for _, cmd := range []string{"replay", "dump"} {
				args := []string{cmd, c.dir}
				if cmd == "replay" {
					args = []string{cmd, "-a", c.dir}
				}
				o := runRewind(t, nil, args...)
				if o.code != 1 || !strings.Contains(o.stderr, c.want) {
					t.Errorf("%s of %s trace: exit %d, stderr %q; want exit 1 mentioning %q", cmd, name, o.code, o.stderr, c.want)
				}
			}
		})
	}
}

// TestRecorderKilled: SIGKILL to the recorder kills the tracee, and the trace
// replays up to its last complete block, then says it is incomplete.
func TestRecorderKilled(t *testing.T) {
	needBuild(t)
	dir := filepath.Join(t.TempDir(), "trace")
	cmd := exec.Command(rewindBin, "record", "-o", dir, "sh", "-c", `echo pid $$; i=0; while :; do i=$((i+1)); echo line $i; done`)
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
	rep := runRewind(t, nil, "replay", "-a", dir)
	if rep.code != 1 || !strings.Contains(rep.stderr, "incomplete") {
		t.Fatalf("replay of a killed recording: exit %d, stderr %q", rep.code, rep.stderr)
	}
	if !strings.HasPrefix(rep.stdout, fmt.Sprintf("pid %d\nline 1\nline 2\n", pid)) {
		t.Fatalf("replay of a killed recording printed %.200q", rep.stdout)
	}
}

// TestSIGTERM: SIGTERM to the recorder reaches the program, and the trace is
// complete and replays to the same end.
func TestSIGTERM(t *testing.T) {
	needBuild(t)
	dir := filepath.Join(t.TempDir(), "trace")
	cmd := exec.Command(rewindBin, "record", "-o", dir, "sh", "-c", `trap 'echo got TERM; exit 9' TERM; echo ready; read line; echo never`)
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
	rep := runRewind(t, nil, "replay", "-a", dir)
	if rep.code != 9 || rep.stdout != "ready\ngot TERM\n" {
		t.Fatalf("replay after SIGTERM: exit %d, %q, %s", rep.code, rep.stdout, rep.stderr)
	}
}
