package e2e

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rewind-dbg/rewind/internal/testutil"
	"github.com/rewind-dbg/rewind/internal/trace"
	"golang.org/x/sys/unix"
)

// A trace is untrusted input (sent with a bug report, a CI artefact):
// reading or replaying one never reaches outside its directory, never
// blocks on what is in it, and never exhausts the machine. Each case here
// crafts a bad trace from a good one and checks rewind refuses it with an
// error, promptly.

// rewrite makes a copy of trace src whose events are mut's rewrite of src's.
func rewrite(t *testing.T, src string, mut func(e *trace.Event)) string {
	t.Helper()
	rd, err := trace.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	dst := filepath.Join(t.TempDir(), "crafted")
	w, err := trace.Create(dst, rd.Header)
	if err != nil {
		t.Fatal(err)
	}
	for {
		e, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		mut(e)
		if _, err := w.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(dst, "files"))
	linkFiles(t, src, dst)
	return dst
}

func TestCraftedTraces(t *testing.T) {
	env.Need(t)
	good := filepath.Join(t.TempDir(), "good")
	if o := env.Run(t, nil, "record", "-o", good, env.Progs["threads"]); o.Code != 0 {
		t.Fatalf("record: %d %s", o.Code, o.Stderr)
	}
	exeName := func() string {
		rd, _ := trace.Open(good)
		defer rd.Close()
		e, _ := rd.Next()
		return e.Path
	}()
	outside := filepath.Join(t.TempDir(), "outside-file")
	os.WriteFile(outside, []byte("not the trace's"), 0o644)

	// dump and ps never open files/; only replay must refuse those cases.
	cases := map[string]struct {
		dir        func() string
		want       string
		replayOnly bool
	}{
		"path escapes files/": {func() string {
			return rewrite(t, good, func(e *trace.Event) {
				if e.Kind == trace.KindExec {
					e.Path = "../../../../../../../bin/true"
				}
			})
		}, "not a plain name", false},
		"mapping escapes files/": {func() string {
			return rewrite(t, good, func(e *trace.Event) {
				for i := range e.Maps {
					if e.Maps[i].File != "" {
						e.Maps[i].File = "../" + e.Maps[i].File
					}
				}
			})
		}, "not a plain name", false},
		"symlink in files/": {func() string {
			d := rewrite(t, good, func(*trace.Event) {})
			p := filepath.Join(d, "files", exeName)
			os.Remove(p)
			os.Symlink(outside, p)
			return d
		}, "not a regular file", true},
		"fifo in files/": {func() string {
			d := rewrite(t, good, func(*trace.Event) {})
			p := filepath.Join(d, "files", exeName)
			os.Remove(p)
			unix.Mkfifo(p, 0o600)
			return d
		}, "not a regular file", true},
		"files/ is a symlink": {func() string {
			d := rewrite(t, good, func(*trace.Event) {})
			os.RemoveAll(filepath.Join(d, "files"))
			os.Symlink(filepath.Join(good, "files"), filepath.Join(d, "files"))
			return d
		}, "files is not a directory", false},
		"header is /dev/zero": {func() string {
			d := rewrite(t, good, func(*trace.Event) {})
			os.Remove(filepath.Join(d, "header.json"))
			os.Symlink("/dev/zero", filepath.Join(d, "header.json"))
			return d
		}, "no readable header", false},
		"events is a fifo": {func() string {
			d := rewrite(t, good, func(*trace.Event) {})
			os.Remove(filepath.Join(d, "events"))
			unix.Mkfifo(filepath.Join(d, "events"), 0o600)
			return d
		}, "event stream", false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := c.dir()
			for _, args := range [][]string{{"replay", "-a", dir}, {"dump", dir}, {"ps", dir}} {
				if c.replayOnly && args[0] != "replay" {
					continue
				}
				start := time.Now()
				o := env.Run(t, nil, args...)
				if o.Code != 1 || !strings.Contains(o.Stderr, c.want) {
					t.Errorf("%v: exit %d, stderr %q; want exit 1 mentioning %q", args[0], o.Code, o.Stderr, c.want)
				}
				if d := time.Since(start); d > 20*time.Second {
					t.Errorf("%v took %v", args[0], d)
				}
				if args[0] == "replay" && strings.Contains(o.Stdout, "counter") {
					t.Errorf("replay ran the program: %q", o.Stdout)
				}
			}
		})
	}
}

// TestPackRefusesSymlinkedFiles: pack writes into files/, so a files/ that
// is a symlink to another directory is refused, and that directory is left
// as it was.
func TestPackRefusesSymlinkedFiles(t *testing.T) {
	env.Need(t)
	good := filepath.Join(t.TempDir(), "good")
	env.Run(t, nil, "record", "-o", good, "true")
	other := t.TempDir()
	victim := filepath.Join(other, "1-victim")
	os.WriteFile(victim, []byte("keep"), 0o755)
	os.Chmod(victim, 0o755|os.ModeSetuid)
	os.Link(victim, filepath.Join(other, "2-link")) // a hard link, as pack copies
	d := rewrite(t, good, func(*trace.Event) {})
	os.RemoveAll(filepath.Join(d, "files"))
	os.Symlink(other, filepath.Join(d, "files"))
	o := env.Run(t, nil, "pack", d)
	var st unix.Stat_t
	unix.Stat(victim, &st)
	if o.Code != 1 || !strings.Contains(o.Stderr, "not a directory") || st.Nlink != 2 || st.Mode&0o4000 == 0 {
		t.Fatalf("pack of a trace whose files/ is a symlink: exit %d %q; victim nlink %d mode %o", o.Code, o.Stderr, st.Nlink, st.Mode)
	}
}

// TestLaunchLineQuoting: the 'Launch debugger with' line, meant to be
// pasted into a shell, quotes a trace path holding quotes and semicolons.
func TestLaunchLineQuoting(t *testing.T) {
	env.Need(t)
	work := t.TempDir()
	dir := filepath.Join(work, "x'; touch PWNED; '")
	env.Run(t, nil, "record", "-o", dir, "true")
	cmd := testutil.Command(t, env.Rewind, "replay", "-s", "0", dir)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stderr)
	var line string
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "  'gdb'") {
			line = sc.Text()
			break
		}
	}
	sh := testutil.Command(t, "sh", "-c", `eval "set -- $LINE"; printf '%s\n' "$@"`)
	sh.Dir = work
	sh.Env = append(os.Environ(), "LINE="+line)
	out, err := sh.Output()
	if err != nil {
		t.Fatalf("%v on %q", err, line)
	}
	args := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if _, err := os.Stat(filepath.Join(work, "PWNED")); err == nil || !strings.HasPrefix(args[len(args)-1], dir+"/files/") {
		t.Fatalf("the launch line %q splits into %q", line, args)
	}
}
