package arch

// Debug registers: DR0-DR3 hold watched addresses, DR6 says which
// triggered, DR7 enables them and says what each watches.
const (
	DR6 = 6
	DR7 = 7
)

// WatchKind is a hardware watchpoint's trigger: DR7's R/W bits.
type WatchKind int

const (
	WatchWrite  WatchKind = 1 // 01: writes
	WatchAccess WatchKind = 3 // 11: reads or writes (x86 has no read-only)
)

// Watch is one debug register slot in use.
type Watch struct {
	Addr uint64
	Size int // 1, 2, 4 or 8, and Addr aligned to it
	Kind WatchKind
}

// WatchSizeOK says whether x86 can watch size bytes at addr.
func WatchSizeOK(addr uint64, size int) bool {
	return (size == 1 || size == 2 || size == 4 || size == 8) && addr%uint64(size) == 0
}

// EncodeDR7 is the DR7 value that enables the slots in use (nil: unused),
// each as a local watchpoint of its kind and size.
func EncodeDR7(slots [4]*Watch) uint64 {
	lens := map[int]uint64{1: 0, 2: 1, 4: 3, 8: 2}
	var dr7 uint64
	for i, w := range slots {
		if w != nil {
			dr7 |= 1<<(2*i) | uint64(w.Kind)<<(16+4*i) | lens[w.Size]<<(18+4*i)
		}
	}
	return dr7
}

// DR6Hit says whether DR6 reports slot i as triggered.
func DR6Hit(dr6 uint64, i int) bool { return dr6&(1<<i) != 0 }
