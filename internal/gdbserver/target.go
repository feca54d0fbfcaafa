package gdbserver

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/rewind-dbg/rewind/internal/ptrace"
)

// reg is one register of the amd64 target description, in gdb's order.
type reg struct {
	name, typ, group, feature string
	bits                      int
}

// registers lists what target.xml describes and 'g' returns: gdb's amd64
// core (general, x87), SSE, and linux (orig_rax) features, then the segment
// bases.
var registers = func() []reg {
	var rs []reg
	core := func(name string, bits int, typ string) {
		rs = append(rs, reg{name: name, bits: bits, typ: typ, feature: "core"})
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
		rs = append(rs, reg{name: n, bits: 32, typ: "int", group: "float", feature: "core"})
	}
	for i := 0; i < 16; i++ {
		rs = append(rs, reg{name: fmt.Sprintf("xmm%d", i), bits: 128, typ: "vec128", feature: "sse"})
	}
	rs = append(rs, reg{name: "mxcsr", bits: 32, typ: "i386_mxcsr", group: "vector", feature: "sse"})
	rs = append(rs, reg{name: "orig_rax", bits: 64, typ: "int", group: "system", feature: "linux"})
	rs = append(rs, reg{name: "fs_base", bits: 64, typ: "int", feature: "segments"})
	rs = append(rs, reg{name: "gs_base", bits: 64, typ: "int", feature: "segments"})
	for i := 0; i < 16; i++ {
		rs = append(rs, reg{name: fmt.Sprintf("ymm%dh", i), bits: 128, typ: "uint128", feature: "avx"})
	}
	return rs
}()

// featureDocs are the target description's parts: target.xml includes one
// document per feature (gdb and delve both follow xi:include; delve reads
// only registers at the top of a document, not inside <feature>).
var featureDocs = []struct{ file, id, name, extra string }{
	{"core.xml", "core", "org.gnu.gdb.i386.core", `<flags id="i386_eflags" size="4"><field name="CF" start="0" end="0"/><field name="" start="1" end="1"/><field name="PF" start="2" end="2"/><field name="AF" start="4" end="4"/><field name="ZF" start="6" end="6"/><field name="SF" start="7" end="7"/><field name="TF" start="8" end="8"/><field name="IF" start="9" end="9"/><field name="DF" start="10" end="10"/><field name="OF" start="11" end="11"/></flags>`},
	{"sse.xml", "sse", "org.gnu.gdb.i386.sse", `<vector id="v4f" type="ieee_single" count="4"/><vector id="v2d" type="ieee_double" count="2"/><vector id="v16i8" type="int8" count="16"/><vector id="v8i16" type="int16" count="8"/><vector id="v4i32" type="int32" count="4"/><vector id="v2i64" type="int64" count="2"/><union id="vec128"><field name="v4_float" type="v4f"/><field name="v2_double" type="v2d"/><field name="v16_int8" type="v16i8"/><field name="v8_int16" type="v8i16"/><field name="v4_int32" type="v4i32"/><field name="v2_int64" type="v2i64"/><field name="uint128" type="uint128"/></union><flags id="i386_mxcsr" size="4"><field name="IE" start="0" end="0"/><field name="DE" start="1" end="1"/><field name="ZE" start="2" end="2"/><field name="OE" start="3" end="3"/><field name="UE" start="4" end="4"/><field name="PE" start="5" end="5"/><field name="DAZ" start="6" end="6"/><field name="IM" start="7" end="7"/><field name="DM" start="8" end="8"/><field name="ZM" start="9" end="9"/><field name="OM" start="10" end="10"/><field name="UM" start="11" end="11"/><field name="PM" start="12" end="12"/><field name="FZ" start="15" end="15"/></flags>`},
	{"linux.xml", "linux", "org.gnu.gdb.i386.linux", ""},
	{"segments.xml", "segments", "org.gnu.gdb.i386.segments", ""},
	{"avx.xml", "avx", "org.gnu.gdb.i386.avx", ""},
}

// targetDoc returns a target description annex by name, or false.
func targetDoc(annex string) (string, bool) {
	var b strings.Builder
	if annex == "target.xml" {
		b.WriteString(`<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd"><target version="1.0"><architecture>i386:x86-64</architecture><osabi>GNU/Linux</osabi>`)
		for _, f := range featureDocs {
			fmt.Fprintf(&b, `<xi:include href="%s"/>`, f.file)
		}
		b.WriteString("</target>")
		return b.String(), true
	}
	for _, f := range featureDocs {
		if f.file != annex {
			continue
		}
		fmt.Fprintf(&b, `<?xml version="1.0"?><!DOCTYPE feature SYSTEM "gdb-target.dtd"><feature name="%s">%s`, f.name, f.extra)
		for i, r := range registers {
			if r.feature != f.id {
				continue
			}
			fmt.Fprintf(&b, `<reg name="%s" bitsize="%d" type="%s" regnum="%d"`, r.name, r.bits, r.typ, i)
			if r.group != "" {
				fmt.Fprintf(&b, ` group="%s"`, r.group)
			}
			b.WriteString("/>")
		}
		b.WriteString("</feature>")
		return b.String(), true
	}
	return "", false
}

// registerBytes encodes every register, little-endian, in target order,
// from the general registers and the XSAVE area (FXSAVE part first).
func registerBytes(g *ptrace.Regs, xs []byte) [][]byte {
	var fx [512]byte
	copy(fx[:], xs)
	out := make([][]byte, 0, len(registers))
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
