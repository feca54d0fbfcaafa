package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rewind-dbg/rewind/internal/testutil"
)

// TestDelveReplay drives delve's rr backend against rewind through an 'rr'
// link: 'dlv replay' on a recorded Go program, break, continue, print,
// next, goroutines, continue to the end.
func TestDelveReplay(t *testing.T) {
	dlv, dir, random := recordDlvProg(t)
	n, _ := strconv.Atoi(random)
	out := runDlv(t, dlv, []string{"replay", "--allow-non-terminal-interactive=true", dir},
		"break main.compute", "continue", "print x", "next", "next", "print y", "goroutines", "continue", "exit")
	for _, want := range []string{
		`Breakpoint 1 set at 0x[0-9a-f]+ for main\.compute\(\)`,
		`> \[Breakpoint 1\] main\.compute\(\) .*main\.go:\d+`,
		`\(dlv\) ` + random + `\n`,
		`\(dlv\) ` + strconv.Itoa(2*n) + `\n`,
		`\* Goroutine 1 - User: .*main\.go:\d+ main\.compute`,
		`computed ` + strconv.Itoa(2*n+1),
		`Process \d+ has exited with status 0`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Fatalf("delve output does not match %q:\n%s", want, out)
		}
	}
}

// TestDelveDebugBackendRR: 'dlv debug --backend=rr' records through
// 'rr record --print-trace-dir=3', then replays.
func TestDelveDebugBackendRR(t *testing.T) {
	env.Need(t)
	dlv := findDlv(t)
	paranoid(t)
	cmd := []string{"debug", "--backend=rr", "--allow-non-terminal-interactive=true", "./testdata/dlvprog"}
	out := runDlv(t, dlv, cmd, "break main.compute", "continue", "print x", "continue", "exit")
	m := regexp.MustCompile(`random (\d+)`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "(dlv) "+m[1]+"\n") {
		t.Fatalf("delve did not print the recorded value:\n%s", out)
	}
}

func findDlv(t *testing.T) string {
	if p, err := exec.LookPath("dlv"); err == nil {
		return p
	}
	gopath, _ := testutil.Command(t, "go", "env", "GOPATH").Output()
	p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "dlv")
	if _, err := os.Stat(p); err != nil {
		testutil.Lacking(t, "dlv is not installed (go install github.com/go-delve/delve/cmd/dlv@v1.27.2; .ci/run does)")
	}
	return p
}

// paranoid makes perf_event_paranoid <= 1, which delve demands of rr
// (rewind needs no perf events), restoring it afterwards.
func paranoid(t *testing.T) {
	const f = "/proc/sys/kernel/perf_event_paranoid"
	b, err := os.ReadFile(f)
	if err != nil {
		return
	}
	old := strings.TrimSpace(string(b))
	if v, _ := strconv.Atoi(old); v <= 1 {
		return
	}
	if err := os.WriteFile(f, []byte("1"), 0o644); err != nil {
		testutil.Lacking(t, "delve requires %s <= 1 and it is %s (cannot change it: %v)", f, old, err)
	}
	t.Cleanup(func() { os.WriteFile(f, []byte(old), 0o644) })
}

// runDlv runs delve with an 'rr' link to rewind first on PATH, feeding it
// commands on stdin.
func runDlv(t *testing.T, dlv string, args []string, cmds ...string) string {
	t.Helper()
	bin := t.TempDir()
	if err := os.Symlink(env.Rewind, filepath.Join(bin, "rr")); err != nil {
		t.Fatal(err)
	}
	cmd := testutil.Command(t, dlv, args...)
	cmd.Dir = env.Root
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "_RR_TRACE_DIR="+t.TempDir(), "TERM=dumb", "NO_COLOR=1")
	cmd.Stdin = strings.NewReader(strings.Join(cmds, "\n") + "\n")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("dlv %v: %v\n%s", args, err, out.String())
	}
	return out.String()
}

// recordDlvProg finds delve, records the delve test program and returns
// delve, the trace and the random number the recording printed.
func recordDlvProg(t *testing.T) (dlv, dir, random string) {
	t.Helper()
	env.Need(t)
	dlv = findDlv(t)
	paranoid(t)
	bin := buildDlvProg(t)
	dir = filepath.Join(t.TempDir(), "trace")
	rec := env.Run(t, nil, "record", "-o", dir, bin)
	m := regexp.MustCompile(`random (\d+)`).FindStringSubmatch(rec.Stdout)
	if m == nil {
		t.Fatalf("recording printed %q", rec.Stdout)
	}
	return dlv, dir, m[1]
}

// buildDlvProg builds testdata/dlvprog without optimisations, for debuggers.
func buildDlvProg(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dlvprog")
	build := testutil.Command(t, "go", "build", "-gcflags=all=-N -l", "-o", bin, "./testdata/dlvprog")
	build.Dir = env.Root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// TestDelveReverseRefused: until reverse execution exists, a reverse
// command leaves delve where it was and the session usable, and exit ends
// it cleanly.
func TestDelveReverseRefused(t *testing.T) {
	dlv, dir, random := recordDlvProg(t)
	out := runDlv(t, dlv, []string{"replay", "--allow-non-terminal-interactive=true", dir},
		"break main.compute", "continue", "rev next", "next", "print x", "continue", "exit")
	for _, bad := range []string{"direction change", "could not detach", "Command failed"} {
		if strings.Contains(out, bad) {
			t.Fatalf("delve said %q:\n%s", bad, out)
		}
	}
	if !strings.Contains(out, "(dlv) "+random+"\n") || !regexp.MustCompile(`Process \d+ has exited with status 0`).MatchString(out) {
		t.Fatalf("delve session did not go on after rev next:\n%s", out)
	}
}
