package tracee

import (
	"testing"

	"github.com/rewind-dbg/rewind/internal/ptrace"
)

func TestDecodeRdrand(t *testing.T) {
	cases := []struct {
		code []byte
		want Rdrand
	}{
		{[]byte{0x0f, 0xc7, 0xf0}, Rdrand{Reg: 0, Size: 4, Len: 3}},              // rdrand eax
		{[]byte{0x48, 0x0f, 0xc7, 0xf1}, Rdrand{Reg: 1, Size: 8, Len: 4}},        // rdrand rcx
		{[]byte{0x49, 0x0f, 0xc7, 0xf8}, Rdrand{Reg: 8, Size: 8, Len: 4}},        // rdseed r8
		{[]byte{0x66, 0x0f, 0xc7, 0xf2}, Rdrand{Reg: 2, Size: 2, Len: 4}},        // rdrand dx
		{[]byte{0x66, 0x41, 0x0f, 0xc7, 0xf7}, Rdrand{Reg: 15, Size: 2, Len: 5}}, // rdrand r15w
	}
	for _, c := range cases {
		got, ok := DecodeRdrand(c.code)
		if !ok || got != c.want {
			t.Errorf("% x: %+v %v, want %+v", c.code, got, ok, c.want)
		}
	}
	for _, bad := range [][]byte{{0x0f, 0xc7, 0x30}, {0x0f, 0xc7, 0xe8}, {0x0f, 0x05}, {0x0f}} {
		if _, ok := DecodeRdrand(bad); ok {
			t.Errorf("% x decoded as RDRAND", bad)
		}
	}
}

func TestEmulateRdrand(t *testing.T) {
	var regs ptrace.Regs
	regs.Rip, regs.Rcx, regs.Rdx, regs.Eflags = 0x1000, ^uint64(0), ^uint64(0), 0x8d5 // OF SF ZF PF set, CF set too
	Rdrand{Reg: 1, Size: 4, Len: 3}.Emulate(&regs, 0x1122334455667788)
	if regs.Rcx != 0x55667788 || regs.Rip != 0x1003 || regs.Eflags != 0x1 {
		t.Errorf("32-bit: rcx %#x rip %#x eflags %#x", regs.Rcx, regs.Rip, regs.Eflags)
	}
	Rdrand{Reg: 2, Size: 2, Len: 4}.Emulate(&regs, 0xabcd)
	if regs.Rdx != 0xffffffffffffabcd {
		t.Errorf("16-bit: rdx %#x", regs.Rdx)
	}
	Rdrand{Reg: 2, Size: 8, Len: 4}.Emulate(&regs, 42)
	if regs.Rdx != 42 {
		t.Errorf("64-bit: rdx %#x", regs.Rdx)
	}
}
