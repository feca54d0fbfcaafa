package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rewind-dbg/rewind/internal/testutil"
)

// Real programs no one here wrote, as users meet rewind: each is recorded
// once and replayed three times, and must print and exit the same every
// time. A program the machine lacks is skipped, naming it.

func need(t *testing.T, prog string) {
	t.Helper()
	if _, err := exec.LookPath(prog); err != nil {
		testutil.Lacking(t, "%s is not installed", prog)
	}
}

// script writes a program text into the test's directory.
func script(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPythonThreads(t *testing.T) {
	replayPython(t, "threads.py", "(3, '", `
import threading, hashlib
res = {}
def work(i):
    h = hashlib.sha256()
    for j in range(3000):
        h.update(str(j * i).encode())
    res[i] = h.hexdigest()[:16]
ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
for t in ts: t.start()
for t in ts: t.join()
print(sorted(res.items()))
`)
}

// TestPythonMultiprocessing: the pool's processes share semaphores in
// /dev/shm mappings.
func TestPythonMultiprocessing(t *testing.T) {
	replayPython(t, "pool.py", "361]", `
import multiprocessing as m
def f(x): return x * x
if __name__ == "__main__":
    with m.Pool(2) as p:
        print(p.map(f, range(20)))
`)
}

// TestSqliteWAL: two processes write one database in WAL mode, sharing its
// -shm index through MAP_SHARED mappings.
func TestSqliteWAL(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	replayPython(t, "wal.py", "(80, 2340)", `
import sqlite3, os, sys
db = sys.argv[1]
c = sqlite3.connect(db); c.execute("pragma journal_mode=wal"); c.execute("create table t(x)"); c.commit()
pid = os.fork()
if pid == 0:
    c2 = sqlite3.connect(db)
    for i in range(40): c2.execute("insert into t values(?)", (i,)); c2.commit()
    os._exit(0)
os.waitpid(pid, 0)
for i in range(40): c.execute("insert into t values(?)", (i * 2,)); c.commit()
print(c.execute("select count(*), sum(x) from t").fetchone())
`, db)
}

func TestSqliteCLI(t *testing.T) {
	env.Need(t)
	need(t, "sqlite3")
	db := filepath.Join(t.TempDir(), "cli.db")
	_, rec := env.RecordReplay(t, 3, nil, "sqlite3", db,
		"create table t(a, b); insert into t values (1, 'one'), (2, 'two'); select b, a * 10 from t order by a;")
	if rec.Code != 0 || rec.Stdout != "one|10\ntwo|20\n" {
		t.Fatalf("recording: exit %d %q %q", rec.Code, rec.Stdout, rec.Stderr)
	}
}

// TestGit: a commit, then gc (pack-objects runs worker threads).
func TestGit(t *testing.T) {
	env.Need(t)
	need(t, "git")
	repo := t.TempDir()
	git := func(args ...string) []string {
		return append([]string{"git", "-C", repo, "-c", "user.name=rewind", "-c", "user.email=rewind@example.com"}, args...)
	}
	run := func(argv ...string) {
		if out, err := testutil.Command(t, argv[0], argv[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", argv, err, out)
		}
	}
	run(git("init", "-q")...)
	for i := 0; i < 20; i++ {
		name := filepath.Join(repo, "f"+strings.Repeat("x", i))
		os.WriteFile(name, []byte(strings.Repeat("line\n", 100+i)), 0o644)
		run(git("add", name)...)
		run(git("commit", "-q", "-m", "c")...)
	}
	os.WriteFile(filepath.Join(repo, "new"), []byte("new file\n"), 0o644)
	run(git("add", "new")...)
	_, rec := env.RecordReplay(t, 3, nil, git("commit", "-m", "recorded commit")...)
	if rec.Code != 0 || !strings.Contains(rec.Stdout, "recorded commit") {
		t.Fatalf("git commit: exit %d\n%s\n%s", rec.Code, rec.Stdout, rec.Stderr)
	}
	if _, rec = env.RecordReplay(t, 3, nil, git("gc", "-q")...); rec.Code != 0 {
		t.Fatalf("git gc: exit %d\n%s\n%s", rec.Code, rec.Stdout, rec.Stderr)
	}
}

func TestNodeWorkerThreads(t *testing.T) {
	env.Need(t)
	need(t, "node")
	p := script(t, "workers.js", `
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
if (isMainThread) {
  let done = 0, sum = 0;
  for (let i = 0; i < 2; i++) {
    const w = new Worker(__filename, { workerData: i });
    w.on('message', (v) => { sum += v; if (++done === 2) console.log('sum', sum); });
  }
} else {
  let s = 0; for (let i = 0; i < 200000; i++) s += (i * (workerData + 1)) % 7;
  parentPort.postMessage(s);
}
`)
	_, rec := env.RecordReplay(t, 3, nil, "node", p)
	if rec.Code != 0 || !strings.HasPrefix(rec.Stdout, "sum ") {
		t.Fatalf("recording: exit %d\n%s\n%s", rec.Code, rec.Stdout, rec.Stderr)
	}
}

func TestJavaVersion(t *testing.T) {
	env.Need(t)
	need(t, "java")
	_, rec := env.RecordReplay(t, 3, nil, "java", "-version")
	if rec.Code != 0 || !strings.Contains(rec.Stderr, "version") {
		t.Fatalf("recording: exit %d\n%s\n%s", rec.Code, rec.Stdout, rec.Stderr)
	}
}

// TestAddressSanitizerLeak: LeakSanitizer, in every ASan build, stops the
// world at exit with ptrace from a task of its own and reads every thread's
// registers; rewind emulates that ptrace.
func TestAddressSanitizerLeak(t *testing.T) {
	env.Need(t)
	need(t, "gcc")
	src := script(t, "leak.c", `
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
static void *worker(void *a) { return malloc(10); }
int main(void) {
	pthread_t t;
	void *r;
	pthread_create(&t, 0, worker, 0);
	pthread_join(t, &r);
	void *lost = malloc(77);
	lost = 0;
	printf("done %p\n", lost);
	return 0;
}
`)
	bin := filepath.Join(t.TempDir(), "leak")
	if out, err := testutil.Command(t, "gcc", "-g", "-fsanitize=address", "-o", bin, src).CombinedOutput(); err != nil {
		testutil.Lacking(t, "no AddressSanitizer here: %v\n%s", err, out)
	}
	_, rec := env.RecordReplay(t, 3, nil, bin)
	if rec.Code != 1 || !strings.Contains(rec.Stderr, "77 byte(s) leaked") || strings.Contains(rec.Stderr, "fatal error") {
		t.Fatalf("recording: exit %d\n%s\n%s", rec.Code, rec.Stdout, rec.Stderr)
	}
}

// replayPython records python3 running the script src (with args),
// replays it three times, and checks that the recording printed want.
func replayPython(t *testing.T, name, want, src string, args ...string) {
	t.Helper()
	env.Need(t)
	need(t, "python3")
	argv := append([]string{"python3", script(t, name, src)}, args...)
	_, rec := env.RecordReplay(t, 3, nil, argv...)
	if rec.Code != 0 || !strings.Contains(rec.Stdout, want) {
		t.Fatalf("recording: exit %d\n%s\n%s", rec.Code, rec.Stdout, rec.Stderr)
	}
}
