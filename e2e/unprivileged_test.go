package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rewind-dbg/rewind/internal/testutil"
)

// nobody is the user the unprivileged test runs as.
const nobody = 65534

// TestUnprivileged records and replays as an ordinary user, without
// capabilities: the way most users run rewind. CI runs as root, so this
// test drops to uid/gid 65534 for rewind and the program it records; run as
// a non-root user, every other test is already unprivileged.
func TestUnprivileged(t *testing.T) {
	env.Need(t)
	if os.Geteuid() != 0 {
		t.Skip("not root: every test here already runs unprivileged")
	}
	// nobody must reach the binaries: copy them into a directory of its own.
	dir, err := os.MkdirTemp("", "rewind-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	copyExe := func(src string) string {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.Base(src))
		if err := os.WriteFile(dst, b, 0o755); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	rewind := copyExe(env.Rewind)
	work := filepath.Join(dir, "work")
	os.Mkdir(work, 0o700)
	os.Chown(work, nobody, nobody)
	as := func(args ...string) (string, string, int) {
		cmd := testutil.Command(t, rewind, args...)
		cmd.Dir = work
		cmd.Env = []string{"HOME=" + work, "PATH=/usr/bin:/bin"}
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: nobody, Gid: nobody}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), code
	}
	cases := map[string][]string{
		"threads":     {copyExe(env.Progs["threads"])},
		"nondet":      {copyExe(env.Progs["nondet"]), work},
		"forkexec":    {copyExe(env.Progs["forkexec-static"])},
		"python3":     {"/usr/bin/python3", "-c", "import threading, os; t = threading.Thread(target=print, args=('hi', os.getpid())); t.start(); t.join()"},
		"ls (system)": {"ls", "-l", "/usr/bin/env"},
	}
	for name, argv := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := os.Stat(argv[0]); strings.HasPrefix(argv[0], "/") && err != nil {
				testutil.Lacking(t, "%s is not installed", argv[0])
			}
			trace := filepath.Join(work, strings.ReplaceAll(name, " ", "_")+".trace")
			recOut, recErr, recCode := as(append([]string{"record", "-o", trace}, argv...)...)
			if recOut == "" || strings.Contains(testutil.WithoutWarnings(recErr), "rewind: ") {
				t.Fatalf("record as uid %d: exit %d\n%s\n%s", nobody, recCode, recOut, recErr)
			}
			for i := 0; i < 2; i++ {
				out, errs, code := as("replay", "-a", trace)
				if code != recCode || out != recOut || strings.Contains(errs, "diverged") {
					t.Fatalf("replay %d as uid %d: exit %d (recorded %d)\n%s\n%s\nrecorded:\n%s\n%s", i+1, nobody, code, recCode, out, errs, recOut, recErr)
				}
			}
		})
	}
}
