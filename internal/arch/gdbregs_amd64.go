package arch

import (
	"encoding/binary"
	"fmt"
)

// GdbReg is one register as gdb's amd64 target description names it.
type GdbReg struct {
	Name, Type, Group, Feature string
	Bits                       int
}

// GdbRegisters lists, in gdb's register numbering, what a target
// description for amd64 Linux declares and a 'g' packet returns: gdb's
// core (general, x87), SSE, and linux (orig_rax) features, then the
// segment bases and the AVX upper halves.
var GdbRegisters = func() []GdbReg {
	var rs []GdbReg
	core := func(name string, bits int, typ string) {
		rs = append(rs, GdbReg{Name: name, Bits: bits, Type: typ, Feature: "core"})
	}
	for _, n := range []string{"rax", "rbx", "rcx", "rdx", "rsi", "rdi"} {
		core(n, 64, "int64")
	}
	core("rbp", 64, "data_ptr")
	core("rsp", 64, "data_ptr")
	for i := 8; i < 16; i++ {
		core(fmt.Sprintf("r%d", i), 64, "int64")
	}
	core("rip", 64, "code_ptr")
	core("eflags", 32, "i386_eflags")
	for _, n := range []string{"cs", "ss", "ds", "es", "fs", "gs"} {
		core(n, 32, "int32")
	}
	for i := 0; i < 8; i++ {
		core(fmt.Sprintf("st%d", i), 80, "i387_ext")
	}
	for _, n := range []string{"fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"} {
		rs = append(rs, GdbReg{Name: n, Bits: 32, Type: "int", Group: "float", Feature: "core"})
	}
	for i := 0; i < 16; i++ {
		rs = append(rs, GdbReg{Name: fmt.Sprintf("xmm%d", i), Bits: 128, Type: "vec128", Feature: "sse"})
	}
	rs = append(rs, GdbReg{Name: "mxcsr", Bits: 32, Type: "i386_mxcsr", Group: "vector", Feature: "sse"})
	rs = append(rs, GdbReg{Name: "orig_rax", Bits: 64, Type: "int", Group: "system", Feature: "linux"})
	rs = append(rs, GdbReg{Name: "fs_base", Bits: 64, Type: "int", Feature: "segments"})
	rs = append(rs, GdbReg{Name: "gs_base", Bits: 64, Type: "int", Feature: "segments"})
	for i := 0; i < 16; i++ {
		rs = append(rs, GdbReg{Name: fmt.Sprintf("ymm%dh", i), Bits: 128, Type: "uint128", Feature: "avx"})
	}
	return rs
}()

// GdbRegisterBytes encodes every register of GdbRegisters, little-endian,
// from the general registers and the XSAVE area (FXSAVE part first).
func GdbRegisterBytes(g *Regs, xs []byte) [][]byte {
	var fx [512]byte
	copy(fx[:], xs)
	out := make([][]byte, 0, len(GdbRegisters))
	u64 := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	u32 := func(v uint64) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }
	for _, v := range []uint64{g.Rax, g.Rbx, g.Rcx, g.Rdx, g.Rsi, g.Rdi, g.Rbp, g.Rsp,
		g.R8, g.R9, g.R10, g.R11, g.R12, g.R13, g.R14, g.R15, g.Rip} {
		out = append(out, u64(v))
	}
	for _, v := range []uint64{g.Eflags, g.Cs, g.Ss, g.Ds, g.Es, g.Fs, g.Gs} {
		out = append(out, u32(v))
	}
	// FXSAVE layout: fcw@0 fsw@2 ftw@4 (abridged) fop@6 fip@8 fdp@16
	// mxcsr@24 st0-7@32 (16 bytes apart), xmm0-15@160.
	le16 := func(off int) uint64 { return uint64(binary.LittleEndian.Uint16(fx[off:])) }
	le32 := func(off int) uint64 { return uint64(binary.LittleEndian.Uint32(fx[off:])) }
	for i := 0; i < 8; i++ {
		out = append(out, append([]byte(nil), fx[32+16*i:32+16*i+10]...))
	}
	ftag := uint64(0)
	for i := 0; i < 8; i++ { // abridged tag bit set: valid (0b00), else empty (0b11)
		if le16(4)&(1<<i) == 0 {
			ftag |= 3 << (2 * i)
		}
	}
	for _, v := range []uint64{le16(0), le16(2), ftag, 0, le32(8), 0, le32(16), le16(6)} {
		out = append(out, u32(v))
	}
	for i := 0; i < 16; i++ {
		out = append(out, append([]byte(nil), fx[160+16*i:160+16*i+16]...))
	}
	out = append(out, u32(le32(24)))
	out = append(out, u64(g.Orig_rax), u64(g.Fs_base), u64(g.Gs_base))
	// AVX upper halves sit at 576 in the standard format; a clear bit 2 in
	// XSTATE_BV (header at 512) means they are in their initial state, zero.
	avx := len(xs) >= 576+256 && xs[512]&4 != 0
	for i := 0; i < 16; i++ {
		b := make([]byte, 16)
		if avx {
			copy(b, xs[576+16*i:])
		}
		out = append(out, b)
	}
	return out
}
