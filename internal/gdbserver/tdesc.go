package gdbserver

import (
	"fmt"
	"strings"

	"github.com/rewind-dbg/rewind/internal/arch"
)

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
		for i, r := range arch.GdbRegisters {
			if r.Feature != f.id {
				continue
			}
			fmt.Fprintf(&b, `<reg name="%s" bitsize="%d" type="%s" regnum="%d"`, r.Name, r.Bits, r.Type, i)
			if r.Group != "" {
				fmt.Fprintf(&b, ` group="%s"`, r.Group)
			}
			b.WriteString("/>")
		}
		b.WriteString("</feature>")
		return b.String(), true
	}
	return "", false
}
