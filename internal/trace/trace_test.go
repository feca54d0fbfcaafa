package trace

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func sampleEvents() []Event {
	var regs unix.PtraceRegs
	regs.Rip, regs.Rsp, regs.Orig_rax = 0x401000, 0x7ffffffde000, 1
	si := [128]byte{10, 0, 0, 0}
	return []Event{
		{Kind: KindExec, Tid: 100, Regs: regs, Path: "1-exe",
			Maps: []Mapping{{Start: 0x400000, End: 0x401000, Prot: 5, Flags: 2, File: "1-exe", Name: "/bin/x"}},
			Mem:  []MemWrite{{Addr: 0x7ffffffde000, Data: []byte("stack")}}},
		{Kind: KindSyscallEntry, Tid: 100, Nr: 1, Regs: regs, Flags: FlagRefused, Values: [3]uint64{38}},
		{Kind: KindSyscallExit, Tid: 100, Nr: 1, Ret: -38, Echo: 1, Mem: []MemWrite{{Addr: 0x1000, Data: []byte{1, 2, 3}}}},
		{Kind: KindNewTask, Tid: 100, Ret: 101, Flags: FlagNewProcess},
		{Kind: KindSignal, Tid: 101, Regs: regs, Siginfo: si, Flags: FlagSyncSignal},
		{Kind: KindRdtsc, Tid: 101, Regs: regs, Values: [3]uint64{1, 2, 3}, Flags: FlagRdtscp},
		{Kind: KindTaskExit, Tid: 101, Ret: 0x2a00},
		{Kind: KindSyscallExit, Tid: 100, Nr: 1, Ret: 8, MemTid: 102,
			Mem:   []MemWrite{{Addr: 0x2000, Data: []byte("poked")}},
			Files: []FileWrite{{File: "3-shm", Off: 4096, Data: []byte("page"), Size: 8192}, {File: "3-shm", Size: -1}}},
		{Kind: KindSyscallExit, Tid: 100, Nr: 9, Ret: 0x7f0000000000, Traps: []uint64{0x7f0000000123, 0x7f0000000456},
			Maps: []Mapping{{Start: 0x7f0000000000, End: 0x7f0000001000, Prot: 5, Flags: 2, File: "4-lib", Name: "/lib/y"}}},
		{Kind: KindRdrand, Tid: 100, Regs: regs, Values: [3]uint64{0xdeadbeef}},
		{Kind: KindRegs, Tid: 102, Regs: regs},
		{Kind: KindSignal, Tid: 102, Regs: regs, Siginfo: si, Flags: FlagHeld | FlagSyncSignal},
	}
}

func write(t testing.TB, dir string, events []Event, finish bool) {
	t.Helper()
	w, err := Create(dir, &Header{Program: "x", Argv: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range events {
		if _, err := w.Append(&events[i]); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil { // one block per event
			t.Fatal(err)
		}
	}
	if finish {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	} else {
		w.Abandon()
	}
}

func readAll(t *testing.T, dir string) ([]Event, error) {
	t.Helper()
	r, err := Open(dir)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var got []Event
	for {
		e, err := r.Next()
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		got = append(got, *e)
	}
}

func TestRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tr")
	want := sampleEvents()
	write(t, dir, want, true)
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("trace dir mode %v (%v), want 0700", st.Mode().Perm(), err)
	}
	got, err := readAll(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestIncompleteAndCorrupt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tr")
	events := sampleEvents()
	write(t, dir, events, false)
	got, err := readAll(t, dir)
	if !errors.Is(err, ErrIncomplete) || len(got) != len(events) {
		t.Fatalf("abandoned trace: %d events, %v; want all %d and ErrIncomplete", len(got), err, len(events))
	}
	path := filepath.Join(dir, eventsFile)
	b, _ := os.ReadFile(path)
	os.WriteFile(path, b[:len(b)-3], 0o600)
	if got, err = readAll(t, dir); !errors.Is(err, ErrIncomplete) || len(got) != len(events)-1 {
		t.Fatalf("cut last block: %d events, %v", len(got), err)
	}
	b[blockHead+2] ^= 0xff // inside the first block's compressed bytes
	os.WriteFile(path, b, 0o600)
	var te *Error
	if _, err = readAll(t, dir); !errors.As(err, &te) {
		t.Fatalf("corrupt block: %v, want a trace.Error", err)
	}
}

func TestFindLooksAheadWithoutConsuming(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tr")
	write(t, dir, sampleEvents(), true)
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	first, _ := r.Next()
	found, _ := r.Find(func(e *Event) bool { return e.Kind == KindRdtsc }, func(*Event) bool { return false })
	if first.Kind != KindExec || found == nil || found.Values != [3]uint64{1, 2, 3} {
		t.Fatalf("Find: %+v", found)
	}
	if stop, _ := r.Find(func(e *Event) bool { return e.Kind == KindRdtsc }, func(e *Event) bool { return e.Kind == KindNewTask }); stop != nil {
		t.Fatal("Find went past its stop event")
	}
	if next, _ := r.Next(); next.Kind != KindSyscallEntry || r.Count() != 2 {
		t.Fatalf("Next after Find: %v (count %d)", next.Kind, r.Count())
	}
}

// TestFindFar: an event far beyond what Find keeps decoded is still found,
// by streaming, and memory stays bounded; Next then returns every event in
// order, including those Find passed. A second far Find starts where the
// reader is, mid-block.
func TestFindFar(t *testing.T) {
	const n = 3 * maxAheadEvents
	r := openBlocks(t, n, 1000, func(i int) int32 {
		if i == n-1 {
			return 2
		}
		return 1
	})
	never := func(*Event) bool { return false }
	isTid2 := func(e *Event) bool { return e.Tid == 2 }
	if e, err := r.Find(isTid2, never); err != nil || e == nil || e.Ret != n-1 {
		t.Fatalf("far Find: %+v, %v", e, err)
	}
	if len(r.ahead) > maxAheadEvents {
		t.Fatalf("Find kept %d events decoded", len(r.ahead))
	}
	for i := 0; i < n/2+17; i++ {
		if e, err := r.Next(); err != nil || e.Ret != int64(i) {
			t.Fatalf("event %d after Find: %+v, %v", i, e, err)
		}
	}
	if e, err := r.Find(isTid2, never); err != nil || e == nil || e.Ret != n-1 {
		t.Fatalf("second far Find: %+v, %v", e, err)
	}
	if e, _ := r.Find(func(e *Event) bool { return e.Tid == 3 }, never); e != nil {
		t.Fatalf("Find of an absent event: %+v", e)
	}
	for i := n/2 + 17; i < n; i++ {
		if e, err := r.Next(); err != nil || e.Ret != int64(i) {
			t.Fatalf("event %d: %+v, %v", i, e, err)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the last event: %v", err)
	}
}

func TestWrongVersion(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tr")
	write(t, dir, nil, true)
	os.WriteFile(filepath.Join(dir, headerFile), []byte(`{"version": 0}`), 0o600)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "version 0") {
		t.Fatalf("wrong version: %v", err)
	}
}

// TestIndex: the index a reader builds names every block it read, and a
// reader opened at any entry goes on from that block's first event, with
// the same numbering.
func TestIndex(t *testing.T) {
	const n = 5000
	r := openBlocks(t, n, 700, func(int) int32 { return 1 })
	dir := r.Dir
	for {
		if _, err := r.Next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	idx := r.Index()
	if len(idx) < n/700 || idx[0].FirstEvent != 1 || idx[0].Offset != 0 {
		t.Fatalf("index of %d blocks: %+v", len(idx), idx)
	}
	for _, p := range idx[1:] {
		at, err := OpenAt(dir, p)
		if err != nil {
			t.Fatal(err)
		}
		e, err := at.Next()
		if err != nil || e.Ret != int64(p.FirstEvent-1) || at.Count() != p.FirstEvent {
			t.Errorf("reader at %+v: event %+v (count %d), %v", p, e, at.Count(), err)
		}
		at.Close()
	}
	at, err := OpenAt(dir, BlockPos{Offset: idx[1].Offset + 1, Block: 2, FirstEvent: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer at.Close()
	if _, err := at.Next(); err == nil {
		t.Error("a reader at a position inside a block read an event")
	}
}

// openBlocks writes a trace of n syscall-exit events of task tid(i), Ret
// i, flushing a block every per events, and opens it.
func openBlocks(t *testing.T, n, per int, tid func(i int) int32) *Reader {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tr")
	w, err := Create(dir, &Header{Program: "x", Argv: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if _, err := w.Append(&Event{Kind: KindSyscallExit, Tid: tid(i), Nr: 1, Ret: int64(i)}); err != nil {
			t.Fatal(err)
		}
		if i%per == per-1 {
			w.Flush()
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}
