package main

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseRecord(t *testing.T) {
	for _, c := range []struct {
		args []string
		want recordFlags
	}{
		{[]string{"ls", "-l"}, recordFlags{printFD: -1, argv: []string{"ls", "-l"}}},
		{[]string{"-o", "d", "-w", "ls"}, recordFlags{dir: "d", wait: true, printFD: -1, argv: []string{"ls"}}},
		{[]string{"-od", "ls"}, recordFlags{dir: "d", printFD: -1, argv: []string{"ls"}}},
		{[]string{"--output-trace-dir=d", "--print-trace-dir=3", "ls"}, recordFlags{dir: "d", printFD: 3, argv: []string{"ls"}}},
		{[]string{"--wait", "--", "-prog", "-o"}, recordFlags{wait: true, printFD: -1, argv: []string{"-prog", "-o"}}},
		// Options after the program are the program's.
		{[]string{"prog", "-o", "x"}, recordFlags{printFD: -1, argv: []string{"prog", "-o", "x"}}},
	} {
		got, err := parseRecord(c.args)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseRecord(%q) = %+v, %v; want %+v", c.args, got, err, c.want)
		}
	}
	for _, args := range [][]string{{}, {"-o"}, {"-o", "d"}, {"-x", "ls"}, {"--print-trace-dir=-1", "ls"}, {"--print-trace-dir=x", "ls"}} {
		if _, err := parseRecord(args); exitCode(err) != 2 {
			t.Errorf("parseRecord(%q): %v, want a usage error", args, err)
		}
	}
	if _, err := parseRecord([]string{"-o", "d", "--help"}); err != errHelp {
		t.Errorf("parseRecord(-o d --help): %v, want errHelp", err)
	}
}

func TestParseReplay(t *testing.T) {
	for _, c := range []struct {
		args []string
		want replayFlags
	}{
		{nil, replayFlags{port: -1}},
		{[]string{"d"}, replayFlags{port: -1, dir: "d"}},
		{[]string{"-a", "d"}, replayFlags{autopilot: true, port: -1, dir: "d"}},
		{[]string{"--autopilot", "-g", "12", "d"}, replayFlags{autopilot: true, port: -1, gotoEvent: 12, dir: "d"}},
		{[]string{"-s", "0", "d"}, replayFlags{port: 0, dir: "d"}},
		{[]string{"--dbgport=4000", "-p", "1234", "d"}, replayFlags{port: 4000, follow: "1234", dir: "d"}},
		{[]string{"--onprocess=sh", "--goto=7"}, replayFlags{port: -1, follow: "sh", gotoEvent: 7}},
		{[]string{"d", "--", "-batch", "-ex", "c"}, replayFlags{port: -1, dir: "d", dbgArgs: []string{"-batch", "-ex", "c"}}},
	} {
		got, err := parseReplay(c.args)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseReplay(%q) = %+v, %v; want %+v", c.args, got, err, c.want)
		}
	}
	for _, args := range [][]string{{"-g"}, {"-g", "x"}, {"-g", "-1"}, {"-s", "70000"}, {"-s", "p"}, {"-q"}, {"d", "e"}} {
		if _, err := parseReplay(args); exitCode(err) != 2 {
			t.Errorf("parseReplay(%q): %v, want a usage error", args, err)
		}
	}
	if _, err := parseReplay([]string{"-p", "12", "-h"}); err != errHelp {
		t.Errorf("parseReplay(-p 12 -h): %v, want errHelp", err)
	}
}

// TestIsTrace: rr's 'rr DIR' replays only a directory with a header;
// anything else ('rr PROG', a plain directory) records.
func TestIsTrace(t *testing.T) {
	tmp := t.TempDir()
	trace, plain, file := filepath.Join(tmp, "trace"), filepath.Join(tmp, "plain"), filepath.Join(tmp, "prog")
	os.Mkdir(trace, 0o700)
	os.Mkdir(plain, 0o700)
	os.WriteFile(filepath.Join(trace, "header.json"), []byte("{}"), 0o600)
	os.WriteFile(file, nil, 0o700)
	for arg, want := range map[string]bool{trace: true, plain: false, file: false, "ls": false, filepath.Join(tmp, "none"): false} {
		if got := isTrace(arg); got != want {
			t.Errorf("isTrace(%s) = %v, want %v", arg, got, want)
		}
	}
}

func TestHelpRequested(t *testing.T) {
	for args, want := range map[string]bool{"--help": true, "-a -h": true, "prog --help": false, "-- -h": false, "": false} {
		if got := helpRequested(strings.Fields(args)); got != want {
			t.Errorf("helpRequested(%q) = %v, want %v", args, got, want)
		}
	}
}

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return -1
}
