package seccomp

import (
	"errors"
	"testing"

	"github.com/rewind-dbg/rewind/internal/arch"
	"golang.org/x/sys/unix"
)

// filter returns ERRNO(EPERM) for getppid, TRAP(0x42) for uname, kills
// the thread for getuid, and allows the rest: the shape libseccomp emits.
func filter() Program {
	return Program{
		{ldAbsW, 0, 0, offArch},
		{jeqK, 1, 0, arch.AuditArch},
		{retK, 0, 0, ActKillProcess},
		{ldAbsW, 0, 0, offNr},
		{jeqK, 0, 1, unix.SYS_GETPPID},
		{retK, 0, 0, RetErrno | uint32(unix.EPERM)},
		{jeqK, 0, 1, unix.SYS_UNAME},
		{retK, 0, 0, RetTrap | 0x42},
		{jeqK, 0, 1, unix.SYS_GETUID},
		{retK, 0, 0, ActKillThread},
		{retK, 0, 0, RetAllow},
	}
}

func TestRun(t *testing.T) {
	p := filter()
	if err := Check(p); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		nr   int
		arch uint32
		want uint32
	}{
		{unix.SYS_GETPPID, arch.AuditArch, RetErrno | uint32(unix.EPERM)},
		{unix.SYS_UNAME, arch.AuditArch, RetTrap | 0x42},
		{unix.SYS_GETUID, arch.AuditArch, ActKillThread},
		{unix.SYS_GETPID, arch.AuditArch, RetAllow},
		{unix.SYS_GETPID, 0x40000003, ActKillProcess}, // i386
	}
	for _, c := range cases {
		d := X86Data(c.nr, 0x401000, [6]uint64{})
		d.Arch = c.arch
		if got := p.Run(&d); got != c.want {
			t.Errorf("nr %d arch %#x: %#x, want %#x", c.nr, c.arch, got, c.want)
		}
	}
}

// TestRunArgsAndALU: a filter on an argument's low word, through the
// scratch memory and the ALU, as hand-written filters do.
func TestRunArgsAndALU(t *testing.T) {
	p := Program{
		{ldAbsW, 0, 0, 16 + 8*1}, // args[1], low word
		{0x02, 0, 0, 3},          // ST M[3]
		{0x61, 0, 0, 3},          // LDX M[3]
		{0x87, 0, 0, 0},          // TXA
		{andK, 0, 0, 0xff},
		{0x44, 0, 0, 0x100}, // OR #0x100
		{jeqK, 0, 1, 0x1ab}, // (0xab & 0xff) | 0x100
		{retK, 0, 0, RetErrno | 1},
		{retK, 0, 0, RetAllow},
	}
	if err := Check(p); err != nil {
		t.Fatal(err)
	}
	for arg, want := range map[uint64]uint32{0x12ab: RetErrno | 1, 0x12ac: RetAllow} {
		d := X86Data(1, 0, [6]uint64{0, arg})
		if got := p.Run(&d); got != want {
			t.Errorf("arg %#x: %#x, want %#x", arg, got, want)
		}
	}
}

func TestCheckRefuses(t *testing.T) {
	bad := map[string]Program{
		"empty":           {},
		"no return":       {{ldAbsW, 0, 0, offNr}},
		"jump out":        {{jeqK, 5, 0, 1}, {retK, 0, 0, RetAllow}},
		"misaligned load": {{ldAbsW, 0, 0, 2}, {retK, 0, 0, RetAllow}},
		"load past data":  {{ldAbsW, 0, 0, 64}, {retK, 0, 0, RetAllow}},
		"divide by zero":  {{0x34, 0, 0, 0}, {retK, 0, 0, RetAllow}},
		"bad memory slot": {{0x02, 0, 0, 16}, {retK, 0, 0, RetAllow}},
		"packet load":     {{0x28, 0, 0, 0}, {retK, 0, 0, RetAllow}}, // LD H ABS
	}
	for name, p := range bad {
		if err := Check(p); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

// TestDecidePrecedence: the most restrictive action wins; among equal
// actions, the newest filter's.
func TestDecidePrecedence(t *testing.T) {
	ret := func(v uint32) Program { return Program{{retK, 0, 0, v}} }
	d := X86Data(unix.SYS_GETPID, 0, [6]uint64{})
	cases := []struct {
		filters []Program
		want    uint32
	}{
		{[]Program{ret(RetAllow), ret(RetErrno | 1)}, RetErrno | 1},
		{[]Program{ret(RetErrno | 1), ret(RetTrap | 2)}, RetTrap | 2},
		{[]Program{ret(RetTrap | 2), ret(RetErrno | 1)}, RetTrap | 2},
		{[]Program{ret(RetErrno | 1), ret(RetErrno | 13)}, RetErrno | 13},
		{[]Program{ret(ActKillThread), ret(ActKillProcess)}, ActKillProcess},
		{[]Program{ret(ActKillProcess), ret(RetAllow)}, ActKillProcess},
	}
	for i, c := range cases {
		if got := Decide(c.filters, &d); got != c.want {
			t.Errorf("case %d: %#x, want %#x", i, got, c.want)
		}
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	p := filter()
	if got := Decode(p.Bytes()); len(got) != len(p) || got[7] != p[7] {
		t.Fatalf("decode(encode) = %v", got)
	}
}
