// Command bench measures rewind's overhead: for each workload it times the
// command natively, under 'rewind record' and under 'rewind replay -a', and
// reports the ratios to native, the trace size and the recorder's peak RSS.
// Run it from the repository root:
//
//	go run ./bench [-runs 3] [-only cp,cpu,...] [-slow]
//
// Workloads follow ../shared/design/benchmarks.md; -slow adds the ones that
// take minutes under recording (go build with an empty cache).
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type workload struct {
	name  string
	slow  bool
	setup func(dir string) ([]string, func(), error) // argv and a cleanup run before every run
}

func main() {
	runs := flag.Int("runs", 3, "runs per mode; the median is reported")
	only := flag.String("only", "", "comma-separated workload names")
	slow := flag.Bool("slow", false, "include workloads that take minutes to record")
	flag.Parse()
	log.SetFlags(0)
	tmp, err := os.MkdirTemp("", "rewind-bench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	rewind := filepath.Join(tmp, "rewind")
	must(run("", "go", "build", "-o", rewind, "./cmd/rewind"))
	fmt.Printf("# rewind benchmarks, %s, %s\n", time.Now().UTC().Format("2006-01-02"), machine())
	fmt.Printf("| workload | native s | record | replay | trace MB | recorder peak RSS MB |\n|---|---|---|---|---|---|\n")
	for _, w := range workloads(tmp) {
		if *only != "" && !contains(strings.Split(*only, ","), w.name) || w.slow && !*slow && *only == "" {
			continue
		}
		dir := filepath.Join(tmp, w.name)
		os.MkdirAll(dir, 0o755)
		argv, reset, err := w.setup(dir)
		if err != nil {
			log.Printf("%s: setup: %v", w.name, err)
			continue
		}
		var native, rec, rep []float64
		var traceMB, rssMB float64
		for i := 0; i < *runs; i++ {
			reset()
			native = append(native, timeIt(argv, nil))
			reset()
			trace := filepath.Join(tmp, fmt.Sprintf("%s-trace-%d", w.name, i))
			var stderr bytes.Buffer
			rec = append(rec, timeIt(append([]string{rewind, "record", "-o", trace}, argv...), &stderr))
			rssMB = peakRSS(stderr.String())
			traceMB = float64(duBytes(trace)) / 1e6
			reset()
			rep = append(rep, timeIt([]string{rewind, "replay", "-a", trace}, nil))
			os.RemoveAll(trace)
		}
		n := median(native)
		fmt.Printf("| %s | %.3f | %.2fx | %.2fx | %.1f | %.0f |\n", w.name, n, median(rec)/n, median(rep)/n, traceMB, rssMB)
	}
}

func workloads(tmp string) []workload {
	cc := func(src string) string {
		out := filepath.Join(tmp, strings.TrimSuffix(filepath.Base(src), ".c"))
		must(run("", "gcc", "-O2", "-pthread", "-o", out, src))
		return out
	}
	return []workload{
		{name: "cp", setup: func(dir string) ([]string, func(), error) {
			src := filepath.Join(goroot(), "src")
			dst := filepath.Join(dir, "dst")
			return []string{"cp", "-a", src, dst}, func() { os.RemoveAll(dst) }, nil
		}},
		{name: "make-j2", setup: func(dir string) ([]string, func(), error) {
			var objs []string
			for i := 0; i < 40; i++ {
				f := fmt.Sprintf("f%d", i)
				os.WriteFile(filepath.Join(dir, f+".c"), []byte(fmt.Sprintf("int %s(int x) { return x * %d; }\n", f, i)), 0o644)
				objs = append(objs, f+".o")
			}
			os.WriteFile(filepath.Join(dir, "main.c"), []byte("int main(void) { return 0; }\n"), 0o644)
			mk := fmt.Sprintf("prog: %s main.o\n\tgcc -o $@ $^\n%%.o: %%.c\n\tgcc -O2 -c -o $@ $<\n", strings.Join(objs, " "))
			os.WriteFile(filepath.Join(dir, "Makefile"), []byte(mk), 0o644)
			return []string{"make", "-s", "-C", dir, "-j2"}, func() {
				files, _ := filepath.Glob(filepath.Join(dir, "*.o"))
				for _, f := range append(files, filepath.Join(dir, "prog")) {
					os.Remove(f)
				}
			}, nil
		}},
		{name: "go-build", slow: true, setup: func(dir string) ([]string, func(), error) {
			os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/b\n\ngo 1.26\n"), 0o644)
			os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nimport (\"fmt\"; \"net/http\")\n\nfunc main() { fmt.Println(http.StatusOK) }\n"), 0o644)
			cache := filepath.Join(dir, "cache")
			goBin, _ := exec.LookPath("go")
			return []string{"sh", "-c", fmt.Sprintf("cd %s && GOCACHE=%s GOTOOLCHAIN=local %s build -o %s/b .", dir, cache, goBin, dir)},
				func() { os.RemoveAll(cache); os.Remove(filepath.Join(dir, "b")) }, nil
		}},
		{name: "sha256sum", setup: func(dir string) ([]string, func(), error) {
			f := filepath.Join(dir, "data")
			data := bytes.Repeat([]byte("0123456789abcdef"), 16<<20/16*8) // 128 MiB
			if err := os.WriteFile(f, data, 0o644); err != nil {
				return nil, nil, err
			}
			return []string{"sha256sum", f}, func() {}, nil
		}},
		{name: "xz-9", setup: func(dir string) ([]string, func(), error) {
			f := filepath.Join(dir, "data")
			var b bytes.Buffer
			for i := 0; b.Len() < 8<<20; i++ {
				fmt.Fprintf(&b, "line %d %x\n", i, i*2654435761)
			}
			os.WriteFile(f, b.Bytes(), 0o644)
			return []string{"xz", "-9", "-k", "-f", "-T1", f}, func() { os.Remove(f + ".xz") }, nil
		}},
		{name: "python-loop", setup: func(dir string) ([]string, func(), error) {
			return []string{"/usr/bin/python3", "-c", "s=0\nfor i in range(3000000): s+=i*i%7\nprint(s)"}, func() {}, nil
		}},
		{name: "pthreads", setup: func(dir string) ([]string, func(), error) {
			return []string{cc("testdata/c/threads.c")}, func() {}, nil
		}},
		{name: "go-goroutines", setup: func(dir string) ([]string, func(), error) {
			out := filepath.Join(tmp, "goprog")
			cmd := exec.Command("go", "build", "-o", out, "./testdata/goprog")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if b, err := cmd.CombinedOutput(); err != nil {
				return nil, nil, fmt.Errorf("%v: %s", err, b)
			}
			return []string{out, "-goroutines", "100000"}, func() {}, nil
		}},
		{name: "http-server", setup: func(dir string) ([]string, func(), error) {
			out := filepath.Join(tmp, "http")
			cmd := exec.Command("go", "build", "-o", out, "./testdata/bench/http")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if b, err := cmd.CombinedOutput(); err != nil {
				return nil, nil, fmt.Errorf("%v: %s", err, b)
			}
			return []string{out, "2000"}, func() {}, nil
		}},
		{name: "writes-50k", setup: func(dir string) ([]string, func(), error) {
			// 50,000 small writes to stdout, each of which replay -a re-emits.
			return []string{"/usr/bin/python3", "-c", "import os\nfor i in range(50000): os.write(1, b'%d\\n' % i)"}, func() {}, nil
		}},
		{name: "syscalls-100k", setup: func(dir string) ([]string, func(), error) {
			return []string{cc("testdata/bench/syscalls.c"), "100000"}, func() {}, nil
		}},
	}
}

func timeIt(argv []string, stderr *bytes.Buffer) float64 {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = nil
	if stderr != nil {
		cmd.Stderr = stderr
		cmd.Env = append(os.Environ(), "REWIND_STATS=1")
	}
	start := time.Now()
	var ee *exec.ExitError
	if err := cmd.Run(); err != nil && !errors.As(err, &ee) { // some workloads exit non-zero on purpose
		log.Printf("%v: %v %s", argv, err, stderrText(stderr))
	}
	return time.Since(start).Seconds()
}

func stderrText(b *bytes.Buffer) string {
	if b == nil {
		return ""
	}
	return b.String()
}

var rssRe = regexp.MustCompile(`recorder peak RSS (\d+) kB`)

func peakRSS(stderr string) float64 {
	m := rssRe.FindStringSubmatch(stderr)
	if m == nil {
		return 0
	}
	kb, _ := strconv.ParseFloat(m[1], 64)
	return kb / 1024
}

func duBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			// Hard links into the system's own files cost the trace nothing.
			if info, err := d.Info(); err == nil {
				if st, ok := info.Sys().(*syscall.Stat_t); !ok || st.Nlink == 1 {
					n += info.Size()
				}
			}
		}
		return nil
	})
	return n
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func run(dir string, argv ...string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %v\n%s", argv, err, b)
	}
	return nil
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func goroot() string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return "/usr/local/go"
	}
	return strings.TrimSpace(string(out))
}

func machine() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	model := ""
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			model = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
			break
		}
	}
	out, _ := exec.Command("nproc").Output()
	return fmt.Sprintf("%s, %s CPUs", model, strings.TrimSpace(string(out)))
}
