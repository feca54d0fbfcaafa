// Package trace is rewind's on-disk trace: a directory holding a JSON
// header, a stream of events in self-delimiting zstd blocks, and copies of
// every file the recorded programs mapped. The writer streams (memory does
// not grow with the run); the reader stops cleanly at the last whole block
// of a trace whose recorder was killed. docs/trace-format.md is the spec.
package trace

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"
)

// Version is the trace format version. Bump it on every incompatible change.
const Version = 2

const (
	headerFile = "header.json"
	eventsFile = "events"
	// FilesDir holds the preserved mapped files and executables.
	FilesDir   = "files"
	blockMagic = 0x31425752 // "RWB1"
	blockHead  = 16
	// flush a block when this much is buffered, or after flushInterval.
	flushBytes    = 1 << 20
	flushInterval = 250 * time.Millisecond
	// maxBlock bounds a block's size, compressed or not: reading a trace
	// (untrusted input) never takes more memory than this per block. The
	// recorder splits larger outputs over several events.
	maxBlock = 256 << 20
	// maxHeader bounds header.json.
	maxHeader = 1 << 20
	// Find keeps up to this many events (or bytes of them) decoded in
	// memory, for Next to return without decoding them again; beyond, it
	// streams.
	maxAheadEvents = 1 << 14
	maxAhead       = 64 << 20
)

// Header describes a recording.
type Header struct {
	Version    int       `json:"version"`
	Program    string    `json:"program"`
	Exe        string    `json:"exe"`
	Argv       []string  `json:"argv"`
	Env        []string  `json:"env"`
	Cwd        string    `json:"cwd"`
	CPU        string    `json:"cpu"`
	CPUFlags   string    `json:"cpu_flags"`
	Kernel     string    `json:"kernel"`
	Ticks      string    `json:"ticks"`
	StackLimit [2]uint64 `json:"stack_rlimit"`
	// CPUIndex is the CPU every task was bound to: cpuid reports the APIC id
	// of the CPU it runs on and cannot be trapped, so replay binds to it too.
	CPUIndex  int       `json:"cpu_index"`
	Recorded  time.Time `json:"recorded"`
	RecorderV string    `json:"recorder_version"`
}

// Error is a problem with a trace directory, with the path it concerns.
type Error struct {
	Path string
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("trace %s: %s: %v", e.Path, e.Msg, e.Err)
	}
	return fmt.Sprintf("trace %s: %s", e.Path, e.Msg)
}
func (e *Error) Unwrap() error { return e.Err }

// ErrIncomplete is returned by Reader.Next at the end of a trace whose
// recorder never wrote the end event (it was killed or crashed).
var ErrIncomplete = errors.New("trace is incomplete: the recorder did not finish it (it was killed?); replayed up to its last complete block")

// Writer streams events into a trace directory.
type Writer struct {
	Dir   string
	f     *os.File
	enc   *zstd.Encoder
	buf   []byte
	last  time.Time
	count int
	out   []byte
	// mu guards the buffer and the file against the flusher goroutine.
	mu   sync.Mutex
	stop chan struct{}
}

// Create makes dir (0700) and writes the header.
func Create(dir string, h *Header) (*Writer, error) {
	if err := os.MkdirAll(filepath.Join(dir, FilesDir), 0o700); err != nil {
		return nil, &Error{dir, "create trace directory", err}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, &Error{dir, "make trace directory private", err}
	}
	h.Version = Version
	hb, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, headerFile), append(hb, '\n'), 0o600); err != nil {
		return nil, &Error{dir, "write header", err}
	}
	f, err := os.OpenFile(filepath.Join(dir, eventsFile), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, &Error{dir, "create event stream", err}
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(1<<20), zstd.WithLowerEncoderMem(true))
	if err != nil {
		f.Close()
		return nil, err
	}
	w := &Writer{Dir: dir, f: f, enc: enc, last: time.Now(), stop: make(chan struct{})}
	go w.flusher()
	return w, nil
}

// flusher writes out what is buffered every flushInterval, so that a
// recorder killed while its program sleeps loses at most that much.
func (w *Writer) flusher() {
	tick := time.NewTicker(flushInterval)
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-tick.C:
			w.mu.Lock()
			if time.Since(w.last) >= flushInterval {
				w.flush()
			}
			w.mu.Unlock()
		}
	}
}

// Append adds an event; it returns the event's number (from 1).
func (w *Writer) Append(e *Event) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = e.Append(w.buf)
	w.count++
	if len(w.buf) >= flushBytes || time.Since(w.last) >= flushInterval {
		if err := w.flush(); err != nil {
			return w.count, err
		}
	}
	return w.count, nil
}

// Count is the number of events appended so far.
func (w *Writer) Count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.count
}

// Flush writes the buffered events as one block.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flush()
}

func (w *Writer) flush() error {
	w.last = time.Now()
	if len(w.buf) == 0 {
		return nil
	}
	w.out = w.enc.EncodeAll(w.buf, w.out[:0])
	var head [blockHead]byte
	binary.LittleEndian.PutUint32(head[0:], blockMagic)
	binary.LittleEndian.PutUint32(head[4:], uint32(len(w.buf)))
	binary.LittleEndian.PutUint32(head[8:], uint32(len(w.out)))
	binary.LittleEndian.PutUint32(head[12:], crc32.ChecksumIEEE(w.out))
	if _, err := w.f.Write(append(head[:], w.out...)); err != nil {
		return &Error{w.Dir, "write event block", err}
	}
	w.buf = w.buf[:0]
	return nil
}

// Close appends the end event, flushes and closes the stream.
func (w *Writer) Close() error {
	if _, err := w.Append(&Event{Kind: KindEnd}); err != nil {
		return err
	}
	close(w.stop)
	if err := w.Flush(); err != nil {
		return err
	}
	if err := w.f.Sync(); err != nil {
		return &Error{w.Dir, "sync event stream", err}
	}
	return w.f.Close()
}

// Abandon flushes what is buffered without marking the trace complete.
func (w *Writer) Abandon() {
	close(w.stop)
	w.Flush()
	w.f.Close()
}

// ReadHeader reads and checks a trace's header.
func ReadHeader(dir string) (*Header, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, &Error{dir, "cannot open", err}
	}
	if !st.IsDir() {
		return nil, &Error{dir, "not a trace directory", nil}
	}
	b, err := readRegular(filepath.Join(dir, headerFile), maxHeader)
	if err != nil {
		return nil, &Error{dir, "not a rewind trace (no readable header)", err}
	}
	var h Header
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, &Error{dir, "header is corrupt", err}
	}
	if h.Version != Version {
		return nil, &Error{dir, fmt.Sprintf("trace format version %d, this rewind reads version %d", h.Version, Version), nil}
	}
	return &h, nil
}

// Reader reads a trace's events in order.
type Reader struct {
	Dir    string
	Header *Header
	f      *os.File
	blockStream
	rest     []byte
	n        int     // events returned
	ahead    []Event // decoded by Find, not yet returned
	aheadErr error
	// aheadBytes is about how much memory the ahead events hold.
	aheadBytes int
	ended      bool
	index      []BlockPos
}

// BlockPos is an entry of a trace's index: where an event block starts in
// the event stream and the number of its first event. Events never span
// blocks, so a reader can start at any block (OpenAt).
type BlockPos struct {
	Offset     int64
	Block      int // 1-based, as in error messages
	FirstEvent int // 1-based, as Count says once it is returned
}

// blockStream reads the event stream's blocks in order, from a file
// position it keeps.
type blockStream struct {
	dir    string
	r      io.Reader
	dec    *zstd.Decoder
	blocks int   // blocks read
	off    int64 // file offset of the next block
}

// Open opens a trace for reading.
func Open(dir string) (*Reader, error) {
	return OpenAt(dir, BlockPos{Block: 1, FirstEvent: 1})
}

// OpenAt opens a trace for reading from the block at p, an entry of the
// Index of an earlier reader of the same trace: Next then returns event
// p.FirstEvent.
func OpenAt(dir string, p BlockPos) (*Reader, error) {
	h, err := ReadHeader(dir)
	if err != nil {
		return nil, err
	}
	f, err := openRegular(filepath.Join(dir, eventsFile))
	if err != nil {
		return nil, &Error{dir, "cannot open event stream", err}
	}
	var fst unix.Stat_t
	if err := unix.Lstat(filepath.Join(dir, FilesDir), &fst); err != nil || fst.Mode&unix.S_IFMT != unix.S_IFDIR {
		f.Close()
		return nil, &Error{dir, FilesDir + " is not a directory", err}
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxBlock))
	if err != nil {
		f.Close()
		return nil, err
	}
	s, err := streamAt(dir, f, dec, p)
	if err != nil {
		f.Close()
		dec.Close()
		return nil, err
	}
	return &Reader{Dir: dir, Header: h, f: f, blockStream: s, n: p.FirstEvent - 1}, nil
}

// streamAt positions f at block p and returns a stream of blocks from it.
func streamAt(dir string, f *os.File, dec *zstd.Decoder, p BlockPos) (blockStream, error) {
	if p.Offset < 0 || p.Block < 1 || p.FirstEvent < 1 {
		return blockStream{}, &Error{dir, fmt.Sprintf("bad block position %+v", p), nil}
	}
	if _, err := f.Seek(p.Offset, io.SeekStart); err != nil {
		return blockStream{}, &Error{dir, "seek in event stream", err}
	}
	return blockStream{dir: dir, r: bufio.NewReaderSize(f, 1<<20), dec: dec, blocks: p.Block - 1, off: p.Offset}, nil
}

// Index returns the positions of the blocks read so far, in order.
func (r *Reader) Index() []BlockPos { return r.index }

// Close releases the reader.
func (r *Reader) Close() error {
	r.dec.Close()
	return r.f.Close()
}

// Count is the number of events returned so far; the last one returned has this number.
func (r *Reader) Count() int { return r.n }

// File returns the path of a preserved file. Names come from the trace,
// which is untrusted: decoding accepts only plain names (ValidFileName), and
// Regular checks what the name is on disk before anything opens it.
func (r *Reader) File(name string) string { return filepath.Join(r.Dir, FilesDir, name) }

// Regular returns the path of a preserved file after checking that it is a
// regular file inside the trace (not a symlink leading elsewhere, a FIFO
// that would block, or a device).
func (r *Reader) Regular(name string) (string, error) {
	p := r.File(name)
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return "", &Error{r.Dir, "preserved file " + name, err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return "", &Error{r.Dir, "preserved file " + name + " is not a regular file", nil}
	}
	return p, nil
}

// ValidFileName reports whether name can name a file in files/: a plain
// name of safe characters (no path separator, no "." or "..", nothing a
// shell would interpret).
func ValidFileName(name string) bool {
	if name == "" || name == "." || name == ".." || len(name) > 255 {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '+') {
			return false
		}
	}
	return true
}

// openRegular opens path for reading without following a symlink or
// blocking on a FIFO, and only if it is a regular file.
func openRegular(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// readRegular reads a regular file of at most limit bytes.
func readRegular(path string, limit int64) ([]byte, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, err
}

// Next returns the next event. At the end of a complete trace it returns
// io.EOF; at the end of an incomplete one, ErrIncomplete.
func (r *Reader) Next() (*Event, error) {
	if len(r.ahead) > 0 {
		e := r.ahead[0]
		r.ahead = r.ahead[1:]
		r.aheadBytes -= e.size()
		return r.deliver(&e)
	}
	if r.aheadErr != nil {
		return nil, r.aheadErr
	}
	e, err := r.decode()
	if err != nil {
		return nil, err
	}
	return r.deliver(e)
}

func (r *Reader) deliver(e *Event) (*Event, error) {
	r.n++
	if e.Kind == KindEnd {
		r.ended = true
		return nil, io.EOF
	}
	return e, nil
}

// Find looks ahead, without consuming anything, for the first coming event
// that match accepts, giving up where stop accepts one first, or at the
// end of the trace (nil). Replay uses it to learn an execve's outcome at
// its entry, and where a followed process execs. The first events it
// passes stay decoded for Next; beyond those it streams the rest of the
// trace through a second file handle, one block in memory at a time, so
// that a search to the far end of a long trace costs time, not memory.
func (r *Reader) Find(match, stop func(*Event) bool) (*Event, error) {
	for i := 0; ; i++ {
		for i >= len(r.ahead) {
			if r.aheadErr != nil {
				return nil, nil
			}
			if len(r.ahead) >= maxAheadEvents || r.aheadBytes > maxAhead {
				return r.findFar(match, stop)
			}
			e, err := r.decode()
			if err != nil {
				r.aheadErr = err
				return nil, nil
			}
			r.ahead = append(r.ahead, *e)
			r.aheadBytes += e.size()
		}
		e := &r.ahead[i]
		if match(e) {
			return e, nil
		}
		if stop(e) || e.Kind == KindEnd {
			return nil, nil
		}
	}
}

// findFar goes on with Find from where decoding stands, without keeping
// what it passes. A trace that ends or is corrupt before a match is "not
// found": Next reports the error when replay gets there.
func (r *Reader) findFar(match, stop func(*Event) bool) (*Event, error) {
	if r.ended {
		return nil, nil
	}
	f, err := openRegular(filepath.Join(r.Dir, eventsFile))
	if err != nil {
		return nil, &Error{r.Dir, "cannot open event stream", err}
	}
	defer f.Close()
	s, err := streamAt(r.Dir, f, r.dec, BlockPos{Offset: r.off, Block: r.blocks + 1, FirstEvent: 1})
	if err != nil {
		return nil, err
	}
	rest := r.rest
	for {
		for len(rest) == 0 {
			if rest, err = s.next(); err != nil {
				return nil, nil
			}
		}
		var e Event
		if e, rest, err = decodeEvent(rest); err != nil {
			return nil, nil
		}
		if match(&e) {
			return &e, nil
		}
		if stop(&e) || e.Kind == KindEnd {
			return nil, nil
		}
	}
}

// decode decodes the next event from the stream.
func (r *Reader) decode() (*Event, error) {
	if r.ended {
		return nil, io.EOF
	}
	for len(r.rest) == 0 {
		pos := BlockPos{Offset: r.off, Block: r.blocks + 1, FirstEvent: r.n + len(r.ahead) + 1}
		var err error
		if r.rest, err = r.next(); err != nil {
			return nil, err
		}
		if len(r.rest) > 0 {
			r.index = append(r.index, pos)
		}
	}
	e, rest, err := decodeEvent(r.rest)
	if err != nil {
		return nil, &Error{r.Dir, fmt.Sprintf("event %d in block %d is corrupt", r.n+len(r.ahead)+1, r.blocks), err}
	}
	r.rest = rest
	if e.Kind == KindEnd {
		r.ended = true
	}
	return &e, nil
}

// next reads and decompresses the next block. Events decoded from it alias
// the returned buffer, which is fresh for every block.
func (r *blockStream) next() ([]byte, error) {
	var head [blockHead]byte
	if _, err := io.ReadFull(r.r, head[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, ErrIncomplete
		}
		return nil, &Error{r.dir, "read event stream", err}
	}
	if binary.LittleEndian.Uint32(head[0:]) != blockMagic {
		return nil, &Error{r.dir, fmt.Sprintf("event block %d is corrupt (bad magic)", r.blocks+1), nil}
	}
	rawLen := binary.LittleEndian.Uint32(head[4:])
	zLen := binary.LittleEndian.Uint32(head[8:])
	if rawLen > maxBlock || zLen > maxBlock {
		return nil, &Error{r.dir, fmt.Sprintf("event block %d is corrupt (impossible size)", r.blocks+1), nil}
	}
	// Read what is there rather than allocating what the header claims: a
	// corrupt size must not cost its size in memory.
	z, err := io.ReadAll(io.LimitReader(r.r, int64(zLen)))
	if err != nil {
		return nil, &Error{r.dir, "read event stream", err}
	}
	if len(z) < int(zLen) {
		// A partly written last block: the recorder died while writing it.
		return nil, ErrIncomplete
	}
	if crc32.ChecksumIEEE(z) != binary.LittleEndian.Uint32(head[12:]) {
		return nil, &Error{r.dir, fmt.Sprintf("event block %d is corrupt (checksum mismatch)", r.blocks+1), nil}
	}
	// A fresh buffer per block: events handed out alias it.
	raw, err := r.dec.DecodeAll(z, make([]byte, 0, min(rawLen, 4*zLen+64)))
	if err != nil || len(raw) != int(rawLen) {
		return nil, &Error{r.dir, fmt.Sprintf("event block %d is corrupt (does not decompress)", r.blocks+1), err}
	}
	r.blocks++
	r.off += blockHead + int64(zLen)
	return raw, nil
}
