// Package gobuild records 'go build' of a small module with an empty build
// cache: the multi-threaded Go toolchain spawning compile, asm and link
// processes. It is its own package for its own test timeout (minutes: every
// syscall of the toolchain stops the recorder).
package gobuild

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rewind-dbg/rewind/internal/testutil"
)

var env *testutil.Env

func TestMain(m *testing.M) { testutil.Main(m, &env) }

func TestGoBuildEmptyCache(t *testing.T) {
	env.Need(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		testutil.Lacking(t, "go is not on PATH")
	}
	mod := t.TempDir()
	os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module example.com/hello\n\ngo 1.26\n"), 0o644)
	os.WriteFile(filepath.Join(mod, "main.go"), []byte("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n"), 0o644)
	out := filepath.Join(mod, "hello")
	script := fmt.Sprintf("cd %s && GOCACHE=%s GOTOOLCHAIN=local GOFLAGS= %s build -o %s . && echo built && %s",
		mod, filepath.Join(t.TempDir(), "cache"), goBin, out, out)
	_, rec := env.RecordReplay(t, 1, func() { os.Remove(out) }, "sh", "-c", script)
	if rec.Code != 0 || !strings.Contains(rec.Stdout, "built\nhello\n") {
		t.Fatalf("go build under record (exit %d):\n%s\n%s", rec.Code, rec.Stdout, rec.Stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("replayed go build created %s (stat: %v)", out, err)
	}
}
