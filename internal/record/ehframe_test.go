package record

import (
	"debug/elf"
	"testing"
)

// TestFDERanges: in libc, .eh_frame's function starts agree with the
// dynamic symbols: that is what makes an RDRAND decoded from an FDE's start
// certain in a stripped library.
func TestFDERanges(t *testing.T) {
	const libc = "/lib/x86_64-linux-gnu/libc.so.6"
	ef, err := elf.Open(libc)
	if err != nil {
		t.Skipf("%s: %v", libc, err)
	}
	defer ef.Close()
	fdes := fdeRanges(ef)
	if len(fdes) < 1000 {
		t.Fatalf("%d FDEs in libc", len(fdes))
	}
	starts := map[uint64]bool{}
	for _, r := range fdes {
		if r[1] <= r[0] {
			t.Fatalf("empty range %#x-%#x", r[0], r[1])
		}
		starts[r[0]] = true
	}
	syms, _ := ef.DynamicSymbols()
	checked, found := 0, 0
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || s.Value == 0 || s.Size < 16 {
			continue
		}
		checked++
		if starts[s.Value] {
			found++
		}
	}
	if checked == 0 || found*10 < checked*9 {
		t.Fatalf("%d of %d function symbols start an FDE", found, checked)
	}
}
