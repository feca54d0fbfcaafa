// Package testutil builds rewind and the test programs under testdata/ and
// runs record/replay round trips for the end-to-end tests. Only tests
// import it.
package testutil

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// Env is what a test package built once in its TestMain.
type Env struct {
	Root   string            // repository root
	Rewind string            // the rewind binary
	Progs  map[string]string // test program name -> binary; C programs also as NAME-static
	Err    error             // build failure, reported by every test
}

// Build builds rewind, every testdata/c/*.c program (dynamic and -static)
// and testdata/goprog (static Go) into tmp.
func Build(tmp string) *Env {
	e := &Env{Progs: map[string]string{}}
	e.Err = e.build(tmp)
	return e
}

func (e *Env) build(tmp string) error {
	_, file, _, _ := runtime.Caller(0)
	e.Root = filepath.Join(filepath.Dir(file), "..", "..")
	e.Rewind = filepath.Join(tmp, "rewind")
	run := func(name string, cmd *exec.Cmd) error {
		cmd.Dir = e.Root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", name, err, out)
		}
		return nil
	}
	if err := run("rewind", exec.Command("go", "build", "-o", e.Rewind, "./cmd/rewind")); err != nil {
		return err
	}
	cs, _ := filepath.Glob(filepath.Join(e.Root, "testdata/c/*.c"))
	for _, c := range cs {
		name := strings.TrimSuffix(filepath.Base(c), ".c")
		for _, v := range []struct{ suffix, flag string }{{"", "-pie"}, {"-static", "-static"}} {
			out := filepath.Join(tmp, name+v.suffix)
			e.Progs[name+v.suffix] = out
			if err := run(name+v.suffix, exec.Command("gcc", "-O1", "-g", "-pthread", v.flag, "-o", out, c)); err != nil {
				return err
			}
		}
	}
	e.Progs["goprog"] = filepath.Join(tmp, "goprog")
	gocmd := exec.Command("go", "build", "-o", e.Progs["goprog"], "./testdata/goprog")
	gocmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	return run("goprog", gocmd)
}

// Main builds everything into a temporary directory, sets *env, runs the
// package's tests and exits: a test package's TestMain.
func Main(m *testing.M, env **Env) {
	tmp, err := os.MkdirTemp("", "rewind-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*env = Build(tmp)
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// CopyProgram copies a built test program to a fresh path of its own (so
// the recording preserves a copy, not a hard link), for tests that change
// or delete it.
func (e *Env) CopyProgram(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(e.Progs[name])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), name+"-copy")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// Need fails the test if the build failed and skips it off linux/amd64.
func (e *Env) Need(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("rewind records linux/amd64 only")
	}
	if e.Err != nil {
		t.Fatal(e.Err)
	}
}

// Lacking skips the test for lacking what (a tool, a capability), or, when
// REWIND_REQUIRE_TOOLS=1 (as in CI, which installs everything), fails it:
// CI must not go green by skipping.
func Lacking(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("REWIND_REQUIRE_TOOLS") == "1" {
		t.Fatalf("required (REWIND_REQUIRE_TOOLS=1): "+format, args...)
	}
	t.Skipf(format, args...)
}

// NeedTool skips (or, in CI, fails) unless prog is on PATH.
func NeedTool(t *testing.T, prog string) {
	t.Helper()
	if _, err := exec.LookPath(prog); err != nil {
		Lacking(t, "%s is not installed", prog)
	}
}

// Outcome is what a rewind command printed and how it exited.
type Outcome struct {
	Stdout, Stderr string
	Code           int
}

// Run runs rewind with args and extra environment; it fails the test if
// rewind panicked.
func (e *Env) Run(t *testing.T, env []string, args ...string) Outcome {
	t.Helper()
	cmd := Command(t, e.Rewind, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case errors.Is(err, exec.ErrWaitDelay):
		// rewind exited; a process it left behind still holds its output.
		code = cmd.ProcessState.ExitCode()
	case err != nil:
		t.Fatalf("run rewind %v: %v", args, err)
	}
	if strings.Contains(errb.String(), "panic:") || strings.Contains(errb.String(), "goroutine ") {
		t.Fatalf("rewind %v panicked:\n%s", args, errb.String())
	}
	return Outcome{out.String(), errb.String(), code}
}

// WithoutWarnings drops rewind's own warning lines, and record's line
// saying where the trace goes, from stderr.
func WithoutWarnings(s string) string {
	var keep []string
	for _, l := range strings.SplitAfter(s, "\n") {
		if !strings.HasPrefix(l, "rewind: warning:") && !strings.HasPrefix(l, "rewind: Saving execution to trace directory") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "")
}

// RecordReplay records argv into a new trace, replays it the given number
// of times and fails unless stdout, stderr and the exit status are identical
// every time. before, if set, runs before each replay (to remove what the
// recording created, for instance).
//
// The recording must not warn: a wrongly refused syscall would make the
// program take a fallback and stay green. RecordReplayWarned names the
// warnings a test expects.
func (e *Env) RecordReplay(t *testing.T, replays int, before func(), argv ...string) (string, Outcome) {
	t.Helper()
	return e.RecordReplayWarned(t, replays, before, nil, argv...)
}

// RecordReplayWarned is RecordReplay for a recording expected to warn:
// each warning line must match one of allowed.
func (e *Env) RecordReplayWarned(t *testing.T, replays int, before func(), allowed []*regexp.Regexp, argv ...string) (string, Outcome) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "trace")
	rec := e.Run(t, nil, append([]string{"record", "-o", dir}, argv...)...)
	for _, l := range strings.Split(rec.Stderr, "\n") {
		if !strings.HasPrefix(l, "rewind: warning:") {
			continue
		}
		ok := false
		for _, re := range allowed {
			ok = ok || re.MatchString(l)
		}
		if !ok {
			t.Errorf("recording %v warned unexpectedly: %s", argv, l)
		}
	}
	for i := 0; i < replays; i++ {
		if before != nil {
			before()
		}
		rep := e.Run(t, nil, "replay", "-a", dir)
		if rep.Code != rec.Code || rep.Stdout != rec.Stdout || WithoutWarnings(rep.Stderr) != WithoutWarnings(rec.Stderr) {
			t.Fatalf("replay %d of %v differs from its recording\nrecorded (exit %d):\n%s\n%s\nreplayed (exit %d):\n%s\n%s",
				i+1, argv, rec.Code, clip(rec.Stdout), clip(rec.Stderr), rep.Code, clip(rep.Stdout), clip(rep.Stderr))
		}
	}
	return dir, rec
}

func clip(s string) string {
	if len(s) > 4000 {
		return s[:2000] + "\n...\n" + s[len(s)-2000:]
	}
	return s
}
