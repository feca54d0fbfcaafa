package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The command line as a new user meets it.

func TestHelp(t *testing.T) {
	env.Need(t)
	o := env.Run(t, nil, "help")
	for _, want := range []string{"replay [DIR] [-- GDB-ARGS...]", "replay -s PORT", "record [-o DIR] [-w]"} {
		if o.Code != 0 || !strings.Contains(o.Stdout, want) {
			t.Errorf("rewind help: exit %d, lacks %q:\n%s", o.Code, want, o.Stdout)
		}
	}
	for _, cmd := range []string{"record", "replay", "dump", "ps", "pack", "ls"} {
		for _, flag := range []string{"--help", "-h"} {
			o := env.Run(t, nil, cmd, flag)
			if o.Code != 0 || !strings.HasPrefix(o.Stdout, "Usage: rewind "+cmd) {
				t.Errorf("rewind %s %s: exit %d, %q %q", cmd, flag, o.Code, o.Stdout, o.Stderr)
			}
		}
	}
	// After the program name, --help is the program's.
	if o := env.Run(t, []string{"REWIND_TRACE_DIR=" + t.TempDir()}, "record", "echo", "--help"); o.Code != 0 || !strings.HasPrefix(o.Stdout, "Usage: echo") {
		t.Errorf("record echo --help: exit %d, %q", o.Code, o.Stdout)
	}
}

// TestRecordFailsCleanly: recording a program that does not exist (or a
// mistyped command, taken as a program) creates nothing and leaves
// latest-trace alone; a recording says where its trace goes.
func TestRecordFailsCleanly(t *testing.T) {
	env.Need(t)
	root := t.TempDir()
	envv := []string{"REWIND_TRACE_DIR=" + root}
	good := env.Run(t, envv, "record", "true")
	if good.Code != 0 || !regexp.MustCompile("rewind: Saving execution to trace directory `"+regexp.QuoteMeta(root)+"/true-0' \\(replay it with: rewind replay\\)").MatchString(good.Stderr) {
		t.Fatalf("record true: exit %d, %q", good.Code, good.Stderr)
	}
	for _, args := range [][]string{{"record", "no-such-program-here"}, {"frobnicate"}} {
		o := env.Run(t, envv, args...)
		if o.Code == 0 || !strings.Contains(o.Stderr, "cannot record") {
			t.Errorf("%v: exit %d, %q", args, o.Code, o.Stderr)
		}
	}
	entries, _ := os.ReadDir(root)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "latest-trace true-0" {
		t.Fatalf("trace root holds %v after failed recordings", names)
	}
	if target, _ := os.Readlink(filepath.Join(root, "latest-trace")); target != "true-0" {
		t.Fatalf("latest-trace -> %q", target)
	}
	if o := env.Run(t, envv, "replay", "-a"); o.Code != 0 {
		t.Fatalf("replay of the latest trace: exit %d %q", o.Code, o.Stderr)
	}
}

// TestLsSizes: rewind ls reports what a trace takes on disk.
func TestLsSizes(t *testing.T) {
	env.Need(t)
	root := t.TempDir()
	envv := []string{"REWIND_TRACE_DIR=" + root}
	env.Run(t, envv, "record", env.Progs["nondet"], t.TempDir())
	o := env.Run(t, envv, "ls")
	if m := regexp.MustCompile(`(?m)^nondet-0\s+([0-9.]+)([BKMG])\s`).FindStringSubmatch(o.Stdout); m == nil || m[1] == "0" {
		t.Fatalf("rewind ls:\n%s", o.Stdout)
	}
}

// TestGotoPastEnd: -g past the last event says how many there are.
func TestGotoPastEnd(t *testing.T) {
	env.Need(t)
	dir := filepath.Join(t.TempDir(), "trace")
	env.Run(t, nil, "record", "-o", dir, "true")
	o := env.Run(t, nil, "replay", "-s", "0", "-g", "999999", dir)
	if o.Code != 1 || !regexp.MustCompile(`the trace has \d+ events`).MatchString(o.Stderr) {
		t.Fatalf("replay -g 999999: exit %d, %q", o.Code, o.Stderr)
	}
}
