package tracee

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"

	"github.com/rewind-dbg/rewind/internal/arch"
	"github.com/rewind-dbg/rewind/internal/ptrace"
	"golang.org/x/sys/unix"
)

// The vDSO answers clock_gettime, gettimeofday, time and getcpu from memory
// the kernel updates, without a syscall rewind could record. rewind patches
// each of its functions into a real syscall (mov eax, NR; syscall; ret: the
// vDSO functions take the syscalls' arguments in the syscalls' registers),
// in record and in replay alike, so a program calling the vDSO, found
// through the auxiliary vector or otherwise, makes syscalls rewind records.
// getrandom's vDSO function is made to fail with ENOSYS: its opaque state
// has no syscall equivalent, and libc then falls back to the syscall.
var vdsoPatches = map[string]int{
	"__vdso_clock_gettime": unix.SYS_CLOCK_GETTIME,
	"__vdso_gettimeofday":  unix.SYS_GETTIMEOFDAY,
	"__vdso_time":          unix.SYS_TIME,
	"__vdso_getcpu":        unix.SYS_GETCPU,
	"__vdso_clock_getres":  unix.SYS_CLOCK_GETRES,
	"__vdso_getrandom":     -1,
}

// patchSize is the length of every patch.
const patchSize = 8

func patchFor(nr int) []byte {
	if nr < 0 {
		// mov rax, -ENOSYS (sign-extended imm32); ret
		b := []byte{0x48, 0xc7, 0xc0, 0, 0, 0, 0, 0xc3}
		enosys := int32(unix.ENOSYS)
		binary.LittleEndian.PutUint32(b[3:], uint32(-enosys))
		return b
	}
	b := []byte{0xb8, 0, 0, 0, 0, 0x0f, 0x05, 0xc3} // mov eax, nr; syscall; ret
	binary.LittleEndian.PutUint32(b[1:], uint32(nr))
	return b
}

// PatchVDSO patches the vDSO of task pid (see vdsoPatches). It fails,
// leaving the vDSO as it was, if the vDSO exports a function it does not
// know or one too short for a patch: the caller then hides the vDSO.
func PatchVDSO(pid int) error {
	maps, err := ReadMaps(pid)
	if err != nil {
		return err
	}
	var v *VMA
	for i := range maps {
		if maps[i].Path == "[vdso]" {
			v = &maps[i]
		}
	}
	if v == nil {
		return nil // no vDSO: nothing to call
	}
	image := make([]byte, v.End-v.Start)
	if err := ptrace.ReadMem(pid, v.Start, image); err != nil {
		return fmt.Errorf("read vDSO of task %d: %w", pid, err)
	}
	f, err := elf.NewFile(bytes.NewReader(image))
	if err != nil {
		return fmt.Errorf("parse vDSO of task %d: %w", pid, err)
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		return fmt.Errorf("parse vDSO of task %d: %w", pid, err)
	}
	// Symbol values are offsets from the image's load base (its lowest
	// PT_LOAD at address 0 for the vDSO).
	patches := map[uint64][]byte{}
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || s.Section == elf.SHN_UNDEF {
			continue
		}
		nr, ok := vdsoPatches[s.Name]
		if !ok {
			// Unprefixed aliases share the address of a __vdso_ name.
			if _, ok = vdsoPatches["__vdso_"+s.Name]; !ok {
				return fmt.Errorf("vDSO exports %s, which rewind cannot make a syscall", s.Name)
			}
			continue
		}
		if s.Size < patchSize || s.Value+patchSize > uint64(len(image)) {
			return fmt.Errorf("vDSO function %s is too short to patch", s.Name)
		}
		patches[s.Value] = patchFor(nr)
	}
	for off, p := range patches {
		if err := ptrace.WriteMem(pid, v.Start+off, p); err != nil {
			return fmt.Errorf("patch vDSO of task %d: %w", pid, err)
		}
	}
	return nil
}

// HideVDSO rewrites the AT_SYSINFO_EHDR entry of the initial stack's auxv
// to AT_IGNORE, so that libc and the Go runtime fall back to real syscalls
// for clock_gettime and friends, which rewind records. rsp must point at
// argc (the state right after execve).
func HideVDSO(pid int, rsp uint64) error {
	word := func(addr uint64) (uint64, error) { return ptrace.ReadWord(pid, addr) }
	is, err := arch.ReadInitialStack(rsp, word)
	if err != nil {
		return fmt.Errorf("read initial stack of task %d: %w", pid, err)
	}
	p, ok := is.AuxvEntry(arch.AtSysinfoEhdr, word)
	if !ok {
		return nil
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], arch.AtIgnore)
	return ptrace.WriteMem(pid, p, b[:])
}
