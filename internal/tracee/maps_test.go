package tracee

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseMaps(t *testing.T) {
	text := "" +
		"555555554000-555555555000 r--p 00000000 fd:01 1234                       /usr/bin/prog\n" +
		"7ffff7dd3000-7ffff7df5000 r-xp 00022000 103:02 99 /tmp/dir with spaces/lib x.so\n" +
		"7ffff7e00000-7ffff7e01000 rw-s 00001000 00:05 42                         /dev/shm/seg (deleted)\n" +
		"7ffff7e10000-7ffff7e20000 rw-p 00000000 00:00 0 \n" +
		"7ffff7e20000-7ffff7e30000 rw-p 00000000 00:00 0                          [anon:glibc: malloc arena]\n" +
		"7ffff7e30000-7ffff7e31000 rw-s 00000000 00:01 77                         /memfd:jit  (deleted)\n" +
		"7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n" +
		"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n"
	got, err := ParseMaps([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []VMA{
		{0x555555554000, 0x555555555000, "r--p", 0, unix.Mkdev(0xfd, 1), 1234, "/usr/bin/prog"},
		{0x7ffff7dd3000, 0x7ffff7df5000, "r-xp", 0x22000, unix.Mkdev(0x103, 2), 99, "/tmp/dir with spaces/lib x.so"},
		{0x7ffff7e00000, 0x7ffff7e01000, "rw-s", 0x1000, unix.Mkdev(0, 5), 42, "/dev/shm/seg (deleted)"},
		{0x7ffff7e10000, 0x7ffff7e20000, "rw-p", 0, 0, 0, ""},
		{0x7ffff7e20000, 0x7ffff7e30000, "rw-p", 0, 0, 0, "[anon:glibc: malloc arena]"},
		{0x7ffff7e30000, 0x7ffff7e31000, "rw-s", 0, unix.Mkdev(0, 1), 77, "/memfd:jit  (deleted)"},
		{0x7ffffffde000, 0x7ffffffff000, "rw-p", 0, 0, 0, "[stack]"},
		{0xffffffffff600000, 0xffffffffff601000, "--xp", 0, 0, 0, "[vsyscall]"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseMaps:\n got %+v\nwant %+v", got, want)
	}
	if got[1].Shared() || !got[2].Shared() || got[0].Prot() != unix.PROT_READ || got[1].Prot() != unix.PROT_READ|unix.PROT_EXEC {
		t.Errorf("Shared/Prot wrong: %+v", got[:3])
	}
	if !got[7].Special() || got[6].Special() {
		t.Errorf("Special: vsyscall %v, stack %v", got[7].Special(), got[6].Special())
	}
}

func TestParseMapsRejectsGarbage(t *testing.T) {
	for _, line := range []string{
		"not a maps line",
		"5555-zzzz r--p 00000000 fd:01 1 /x",
		"5555-6666 r--p 00000000 fd01 1 /x",
		"5555-6666 rp 00000000 fd:01 1 /x",
		"5555-6666 r--p 00000000 fd:01 x /x",
	} {
		if _, err := ParseMaps([]byte(line + "\n")); err == nil {
			t.Errorf("ParseMaps accepted %q", line)
		}
	}
}

// TestReadMapsOwn: this process's own maps parse, and a file mapped from a
// directory whose name has spaces shows its full path.
func TestReadMapsOwn(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir  with spaces")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "file name")
	if err := os.WriteFile(path, make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := unix.Mmap(int(f.Fd()), 0, 4096, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	os.Remove(path)
	vmas, err := ReadMaps(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vmas {
		if v.Path == path+" (deleted)" && v.Shared() && v.Prot() == unix.PROT_READ {
			return
		}
	}
	t.Fatalf("no mapping of %q (deleted) among %d", path, len(vmas))
}

func TestParseStatus(t *testing.T) {
	st := parseStatus([]byte("Name:\tcat\nTgid:\t412\nVmHWM:\t    1536 kB\nSigBlk:\t0000000000010000\nSigIgn:\t0000000000000001\nSigCgt:\t0000000180000002\n"))
	want := Status{Tgid: 412, SigBlk: 1 << 16, SigIgn: 1, SigCgt: 0x180000002, PeakRSSKiB: 1536}
	if st != want {
		t.Errorf("parsed %+v, want %+v", st, want)
	}
	if st.DefaultAction(2) || st.DefaultAction(17) || !st.DefaultAction(15) {
		t.Errorf("DefaultAction wrong for %+v", st)
	}
}
