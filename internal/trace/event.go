package trace

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/rewind-dbg/rewind/internal/arch"
	"golang.org/x/sys/unix"
)

// Kind is the type of an event in the stream.
type Kind uint8

const (
	// KindExec: a task finished execve (or the initial exec). Carries the
	// registers after rewind's setup, the address-space layout and the
	// contents of every writable mapping, so replay can rebuild the image
	// exactly even if the files on the replay machine differ.
	KindExec Kind = iota + 1
	// KindSyscallEntry: a task reached a syscall; carries its registers, which
	// replay compares (the divergence check).
	KindSyscallEntry
	// KindSyscallExit: the task is resumed after the syscall; carries the
	// result and every byte the kernel wrote into the task's memory.
	KindSyscallExit
	// KindSignal: a signal is delivered to a task at this point.
	KindSignal
	// KindRdtsc: the task executed rdtsc/rdtscp (trapped); carries the value.
	KindRdtsc
	// KindNewTask: a clone/fork/vfork created a task with this tid.
	KindNewTask
	// KindTaskExit: a task ended; Status is its wait status.
	KindTaskExit
	// KindEnd: the recording finished normally.
	KindEnd
	// KindRdrand: the task executed an RDRAND/RDSEED that the recorder
	// trapped (an int3 in place of its first byte, see Traps); Values[0] is
	// the random value it returned.
	KindRdrand
	// KindRegs: a tracer inside the recording set the (stopped) task's
	// general registers to Regs (ptrace SETREGS and the like).
	KindRegs
	// KindData: part of the memory the next event of this task writes (a
	// huge syscall output or exec image, split so that no event outgrows a
	// block): replay writes Mem (into MemTid if set) and Files at once.
	KindData
)

var kindNames = map[Kind]string{
	KindExec: "exec", KindSyscallEntry: "syscall-entry", KindSyscallExit: "syscall-exit",
	KindSignal: "signal", KindRdtsc: "rdtsc", KindNewTask: "new-task", KindTaskExit: "task-exit", KindEnd: "end",
	KindRdrand: "rdrand", KindRegs: "regs", KindData: "data",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// MemWrite is a range of tracee memory and the bytes it holds.
type MemWrite struct {
	Addr uint64
	Data []byte
}

// Mapping describes one virtual memory area.
type Mapping struct {
	Start, End uint64
	Prot       uint32 // PROT_*
	Flags      uint32 // MAP_PRIVATE or MAP_SHARED, plus MAP_ANONYMOUS / MAP_GROWSDOWN
	Offset     uint64
	File       string // name under the trace's files/ directory; "" if anonymous
	Name       string // what /proc/PID/maps showed ("[stack]", the original path, ...)
}

// FileWrite is a change a syscall made to a file that recorded processes
// map shared (a shared object, see docs/trace-format.md): replay applies it
// to its working copy of the file, which its mappings show.
type FileWrite struct {
	File string // the shared object's name under files/
	Off  uint64
	Data []byte // written at Off
	Size int64  // the file's size afterwards; -1: unchanged
}

// SharedMap reports whether mmap flags make a MAP_SHARED (or
// MAP_SHARED_VALIDATE) mapping.
func SharedMap(flags uint32) bool {
	t := flags & 0x0f // MAP_TYPE
	return t == unix.MAP_SHARED || t == unix.MAP_SHARED_VALIDATE
}

// Event is one entry of the event stream. Which fields are meaningful
// depends on Kind; the encoding writes only those.
type Event struct {
	Kind Kind
	Tid  int32
	// Regs: task registers (Exec, SyscallEntry, Signal, Rdtsc).
	Regs arch.Regs
	// Nr: syscall number (SyscallEntry, SyscallExit).
	Nr int32
	// Ret: syscall result (SyscallExit); new tid (NewTask); wait status (TaskExit).
	Ret int64
	// Mem: memory to write (SyscallExit outputs; Exec writable contents).
	Mem []MemWrite
	// Maps: address space after exec (Exec); the file mapping made (SyscallExit of mmap).
	Maps []Mapping
	// Siginfo: the delivered signal (Signal).
	Siginfo arch.Siginfo
	// Flags: per-kind flags, see Flag*.
	Flags uint32
	// Values: rdtsc results rax, rdx, rcx (Rdtsc); errno forced by the recorder (SyscallEntry).
	Values [3]uint64
	// Echo: 1 or 2 when a write went to the recorder's stdout/stderr (SyscallExit).
	Echo uint8
	// Path: exe name under files/ (Exec).
	Path string
	// Files: changes to shared objects (SyscallExit).
	Files []FileWrite
	// MemTid: the recorded task whose memory Mem is, when not the event's
	// own (process_vm_writev into another recorded process); 0 otherwise.
	MemTid int32
	// Echoed: what a syscall sent to the recorder's stdout or stderr (Echo)
	// from somewhere other than the task's memory (sendfile,
	// copy_file_range from a file); replay re-emits it.
	Echoed []byte
	// Traps: RDRAND/RDSEED instructions in the mappings made (Exec, mmap's
	// SyscallExit) whose first byte the recorder replaced with int3; replay
	// does the same.
	Traps []uint64
}

const (
	// FlagRefused (SyscallEntry): the recorder skipped the syscall; Values[0] is the errno.
	FlagRefused = 1 << iota
	// FlagSyncSignal (Signal): a fault raised by the instruction at Regs.Rip,
	// which replay reproduces by itself; otherwise replay injects the signal.
	FlagSyncSignal
	// FlagRdtscp (Rdtsc): the instruction was rdtscp (3 bytes, writes rcx).
	FlagRdtscp
	// FlagNewProcess (NewTask): the new task is a process, not a thread.
	FlagNewProcess
	// FlagI386 (SyscallEntry, SyscallExit): a 32-bit syscall (int 0x80);
	// Nr is its i386 number. The recorder refuses these.
	FlagI386
	// FlagJobStop (Signal): the signal stopped the process (job control);
	// replay, which needs no stop, does not deliver it.
	FlagJobStop
	// FlagHeld (Signal): the task, traced by another recorded task, stopped
	// for this signal and was held there for its tracer: replay brings it
	// to the stop and does not deliver the signal.
	FlagHeld
	// FlagResume (Signal): the held task resumes from its stop delivering
	// this signal, as its tracer chose.
	FlagResume
)

func appendBytes(b, data []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(data)))
	return append(b, data...)
}

func (e *Event) hasRegs() bool {
	switch e.Kind {
	case KindExec, KindSyscallEntry, KindSignal, KindRdtsc, KindRdrand, KindRegs:
		return true
	}
	return false
}

// Append encodes e onto b.
func (e *Event) Append(b []byte) []byte {
	b = append(b, byte(e.Kind))
	b = binary.AppendVarint(b, int64(e.Tid))
	b = binary.AppendVarint(b, int64(e.Nr))
	b = binary.AppendVarint(b, e.Ret)
	b = binary.AppendUvarint(b, uint64(e.Flags))
	b = append(b, e.Echo)
	if e.hasRegs() {
		b = arch.AppendRegs(b, &e.Regs)
	}
	for _, v := range e.Values {
		b = binary.AppendUvarint(b, v)
	}
	b = appendBytes(b, []byte(e.Path))
	if e.Kind == KindSignal {
		b = append(b, e.Siginfo[:]...)
	}
	b = binary.AppendUvarint(b, uint64(len(e.Mem)))
	for _, m := range e.Mem {
		b = binary.AppendUvarint(b, m.Addr)
		b = appendBytes(b, m.Data)
	}
	b = binary.AppendUvarint(b, uint64(len(e.Maps)))
	for _, m := range e.Maps {
		b = binary.AppendUvarint(b, m.Start)
		b = binary.AppendUvarint(b, m.End)
		b = binary.AppendUvarint(b, uint64(m.Prot))
		b = binary.AppendUvarint(b, uint64(m.Flags))
		b = binary.AppendUvarint(b, m.Offset)
		b = appendBytes(b, []byte(m.File))
		b = appendBytes(b, []byte(m.Name))
	}
	b = binary.AppendUvarint(b, uint64(len(e.Files)))
	for _, f := range e.Files {
		b = appendBytes(b, []byte(f.File))
		b = binary.AppendUvarint(b, f.Off)
		b = appendBytes(b, f.Data)
		b = binary.AppendVarint(b, f.Size)
	}
	b = binary.AppendVarint(b, int64(e.MemTid))
	b = binary.AppendUvarint(b, uint64(len(e.Traps)))
	for _, a := range e.Traps {
		b = binary.AppendUvarint(b, a)
	}
	return appendBytes(b, e.Echoed)
}

var errShort = errors.New("event truncated")

var errBadName = errors.New("a file name in it is not a plain name of files/")

// namesValid checks every name of a file in files/ that an event gives.
func namesValid(e *Event) bool {
	if e.Path != "" && !ValidFileName(e.Path) {
		return false
	}
	for _, m := range e.Maps {
		if m.File != "" && !ValidFileName(m.File) {
			return false
		}
	}
	for _, f := range e.Files {
		if !ValidFileName(f.File) {
			return false
		}
	}
	return true
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.err = errShort
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) blob() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err = errShort
		return nil
	}
	if n == 0 {
		return nil
	}
	return d.bytes(int(n))
}

// decodeEvent decodes one event from the front of b and returns the rest.
// Slices in the event alias b.
func decodeEvent(b []byte) (Event, []byte, error) {
	d := &decoder{b: b}
	var e Event
	k := d.bytes(1)
	if d.err != nil {
		return e, nil, d.err
	}
	e.Kind = Kind(k[0])
	if _, ok := kindNames[e.Kind]; !ok {
		return e, nil, fmt.Errorf("unknown event kind %d", k[0])
	}
	e.Tid = int32(d.varint())
	e.Nr = int32(d.varint())
	e.Ret = d.varint()
	e.Flags = uint32(d.uvarint())
	if ec := d.bytes(1); ec != nil {
		e.Echo = ec[0]
	}
	if e.hasRegs() {
		if rb := d.bytes(arch.RegsSize); rb != nil {
			arch.RegsFromBytes(&e.Regs, rb)
		}
	}
	for i := range e.Values {
		e.Values[i] = d.uvarint()
	}
	e.Path = string(d.blob())
	if e.Kind == KindSignal {
		copy(e.Siginfo[:], d.bytes(128))
	}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return e, nil, errShort
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		addr := d.uvarint()
		e.Mem = append(e.Mem, MemWrite{Addr: addr, Data: d.blob()})
	}
	n = d.uvarint()
	if n > uint64(len(d.b)) {
		return e, nil, errShort
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		var m Mapping
		m.Start = d.uvarint()
		m.End = d.uvarint()
		m.Prot = uint32(d.uvarint())
		m.Flags = uint32(d.uvarint())
		m.Offset = d.uvarint()
		m.File = string(d.blob())
		m.Name = string(d.blob())
		e.Maps = append(e.Maps, m)
	}
	n = d.uvarint()
	if n > uint64(len(d.b)) {
		return e, nil, errShort
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		var f FileWrite
		f.File = string(d.blob())
		f.Off = d.uvarint()
		f.Data = d.blob()
		f.Size = d.varint()
		e.Files = append(e.Files, f)
	}
	e.MemTid = int32(d.varint())
	if d.err == nil && !namesValid(&e) {
		return e, nil, errBadName
	}
	n = d.uvarint()
	if n > uint64(len(d.b)) {
		return e, nil, errShort
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		e.Traps = append(e.Traps, d.uvarint())
	}
	e.Echoed = d.blob()
	return e, d.b, d.err
}

// size is about how many bytes of memory the event's data holds.
func (e *Event) size() int {
	n := 512
	for _, m := range e.Mem {
		n += len(m.Data)
	}
	for _, f := range e.Files {
		n += len(f.Data)
	}
	return n + len(e.Echoed)
}

// errNotSaved is what reading outside the saved initial stack gives.
var errNotSaved = errors.New("outside the saved stack")

// maxArgv bounds the arguments Argv returns (it is for display and for
// matching a program name).
const maxArgv = 4096

// Argv returns the program's arguments, read from the initial stack saved
// in an exec event (argc at the stack pointer, then argv pointers into the
// same area); nil if that area was not saved.
func (e *Event) Argv() []string {
	var stack *MemWrite
	for i := range e.Mem {
		m := &e.Mem[i]
		if e.Regs.Rsp >= m.Addr && e.Regs.Rsp+8 <= m.Addr+uint64(len(m.Data)) {
			stack = m
		}
	}
	if stack == nil {
		return nil
	}
	end := stack.Addr + uint64(len(stack.Data))
	word := func(addr uint64) (uint64, error) {
		if addr < stack.Addr || addr+8 > end {
			return 0, errNotSaved
		}
		return binary.LittleEndian.Uint64(stack.Data[addr-stack.Addr:]), nil
	}
	// The argv pointers are enough; the stack may have been saved short of
	// the auxv, so a later error is not this caller's concern.
	is, _ := arch.ReadInitialStack(e.Regs.Rsp, word)
	var argv []string
	for i := uint64(0); i < is.Argc && i < maxArgv; i++ {
		p, err := word(is.Argv + 8*i)
		if err != nil || p < stack.Addr || p >= end {
			break
		}
		s := stack.Data[p-stack.Addr:]
		if n := bytes.IndexByte(s, 0); n >= 0 {
			s = s[:n]
		}
		argv = append(argv, string(s))
	}
	return argv
}
