package trace

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeEvent: no byte string makes event decoding panic, loop or
// accept a file name outside files/.
func FuzzDecodeEvent(f *testing.F) {
	for _, e := range sampleEvents() {
		f.Add(e.Append(nil))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 {
			e, rest, err := decodeEvent(b)
			if err != nil {
				return
			}
			if !namesValid(&e) {
				t.Fatalf("accepted an event naming %q", e.Path)
			}
			if len(rest) >= len(b) {
				t.Fatal("decoding consumed nothing")
			}
			b = rest
		}
	})
}

// FuzzReader: a trace directory whose event stream is anything is read to
// an end or an error, never a panic.
func FuzzReader(f *testing.F) {
	dir := f.TempDir()
	write(f, dir, sampleEvents(), true)
	good, _ := os.ReadFile(filepath.Join(dir, eventsFile))
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	hb, _ := json.Marshal(&Header{Version: Version, Program: "x"})
	f.Fuzz(func(t *testing.T, events []byte) {
		d := t.TempDir()
		os.MkdirAll(filepath.Join(d, FilesDir), 0o700)
		os.WriteFile(filepath.Join(d, headerFile), hb, 0o600)
		os.WriteFile(filepath.Join(d, eventsFile), events, 0o600)
		r, err := Open(d)
		if err != nil {
			return
		}
		defer r.Close()
		for i := 0; i < 1<<16; i++ {
			if _, err := r.Next(); err != nil {
				return
			}
		}
	})
}

// FuzzHeader: whatever header.json holds, reading it gives a header or an
// error, never a panic, and Open accepts only the current version.
func FuzzHeader(f *testing.F) {
	good, _ := json.Marshal(&Header{Version: Version, Program: "x", Argv: []string{"x", "y"}, Env: []string{"A=B"}})
	f.Add(good)
	f.Add([]byte(`{"version": 1}`))
	f.Add([]byte(`{"version": 2, "argv": null, "stack_limit": [1, 2, 3]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, header []byte) {
		d := t.TempDir()
		os.MkdirAll(filepath.Join(d, FilesDir), 0o700)
		os.WriteFile(filepath.Join(d, headerFile), header, 0o600)
		os.WriteFile(filepath.Join(d, eventsFile), nil, 0o600)
		h, err := ReadHeader(d)
		if err == nil && h.Version != Version {
			t.Fatalf("accepted version %d", h.Version)
		}
		if r, err := Open(d); err == nil {
			r.Close()
		}
	})
}
