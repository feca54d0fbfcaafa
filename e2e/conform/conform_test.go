// Package conform is rewind's kernel-API conformance suite: one small,
// self-checking C program per family of kernel interfaces under
// testdata/conform (clone ids, futexes across processes, SysV IPC, ptrace
// among recorded tasks, shared file mappings, signals, ...). Each program
// exits 0 when the kernel behaved as it expects, natively and under rewind.
// Every program is built dynamic and static, recorded, and each recording
// is replayed several times: replay must print the same and exit the same
// every time.
//
// A recording must not warn, except as the program's "rewind-warns:
// REGEXP" comment lines allow (what rewind refuses by name).
//
// REWIND_STRESS=N,M records each program N times and replays each
// recording M times (default 1,3); REWIND_CONFORM=regexp picks programs.
// See README ("Tests") for the 30-minute stress command.
package conform

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rewind-dbg/rewind/internal/testutil"
)

var env *testutil.Env

func TestMain(m *testing.M) { testutil.Main(m, &env) }

// expectedWarnings reads a program's "rewind-warns: REGEXP" lines: the
// warnings its recording must give (what rewind refuses, and says so).
func expectedWarnings(t *testing.T, src string) []*regexp.Regexp {
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var out []*regexp.Regexp
	for _, m := range regexp.MustCompile(`rewind-warns: (.*)`).FindAllStringSubmatch(string(b), -1) {
		out = append(out, regexp.MustCompile(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(m[1]), "*/"))))
	}
	return out
}

// stress returns how many recordings of each program to make and how many
// times to replay each.
func stress(t *testing.T) (recordings, replays int) {
	recordings, replays = 1, 3
	if s := os.Getenv("REWIND_STRESS"); s != "" {
		if _, err := fmt.Sscanf(s, "%d,%d", &recordings, &replays); err != nil || recordings < 1 || replays < 1 {
			t.Fatalf("REWIND_STRESS=%q: want N,M (recordings, replays each)", s)
		}
	}
	return recordings, replays
}

func TestConformance(t *testing.T) {
	env.Need(t)
	srcs, _ := filepath.Glob(filepath.Join(env.Root, "testdata", "conform", "*.c"))
	if len(srcs) == 0 {
		t.Fatal("no conformance programs under testdata/conform")
	}
	var pick *regexp.Regexp
	if p := os.Getenv("REWIND_CONFORM"); p != "" {
		pick = regexp.MustCompile(p)
	}
	recordings, replays := stress(t)
	bin := t.TempDir()
	for _, src := range srcs {
		name := strings.TrimSuffix(filepath.Base(src), ".c")
		for _, variant := range []string{"dynamic", "static"} {
			full := name + "/" + variant
			if pick != nil && !pick.MatchString(full) {
				continue
			}
			t.Run(full, func(t *testing.T) {
				prog := filepath.Join(bin, name+"-"+variant)
				args := []string{"-O1", "-g", "-pthread", "-o", prog, src}
				if variant == "static" {
					args = append(args, "-static")
				}
				if out, err := testutil.Command(t, "gcc", args...).CombinedOutput(); err != nil {
					t.Fatalf("gcc %s: %v\n%s", name, err, out)
				}
				// The program itself must pass natively: a failure under
				// rewind is then rewind's.
				native := testutil.Command(t, prog, t.TempDir())
				if out, err := native.CombinedOutput(); err != nil {
					t.Fatalf("%s fails natively: %v\n%s", name, err, out)
				}
				warns := expectedWarnings(t, src)
				for i := 0; i < recordings; i++ {
					scratch := t.TempDir()
					_, rec := env.RecordReplayWarned(t, replays, nil, warns, prog, scratch)
					if rec.Code != 0 {
						t.Fatalf("recording %d: %s exited %d under rewind\nstdout:\n%s\nstderr:\n%s", i+1, name, rec.Code, rec.Stdout, rec.Stderr)
					}
				}
			})
		}
	}
}
