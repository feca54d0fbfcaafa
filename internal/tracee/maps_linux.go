package tracee

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// VMA is one line of /proc/PID/maps.
type VMA struct {
	Start, End uint64
	Perms      string // "r-xp"
	Offset     uint64
	Dev        uint64 // major:minor of the mapped file's device, as unix.Mkdev
	Inode      uint64
	Path       string
}

// Prot converts the permission letters to PROT_* bits.
func (v VMA) Prot() uint32 {
	var p uint32
	if v.Perms[0] == 'r' {
		p |= unix.PROT_READ
	}
	if v.Perms[1] == 'w' {
		p |= unix.PROT_WRITE
	}
	if v.Perms[2] == 'x' {
		p |= unix.PROT_EXEC
	}
	return p
}

// Shared reports a MAP_SHARED mapping.
func (v VMA) Shared() bool { return v.Perms[3] == 's' }

// Special reports kernel-provided areas that rewind neither saves nor rebuilds.
func (v VMA) Special() bool {
	switch v.Path {
	case "[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]", "[uprobes]":
		return true
	}
	return false
}

// ReadMaps parses /proc/PID/maps.
func ReadMaps(pid int) ([]VMA, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, fmt.Errorf("read address space of task %d: %w", pid, err)
	}
	vmas, err := ParseMaps(b)
	if err != nil {
		return nil, fmt.Errorf("address space of task %d: %w", pid, err)
	}
	return vmas, nil
}

// ParseMaps parses the text of a /proc/PID/maps file. Each line is
// "start-end perms offset major:minor inode", then, after padding, the
// path to the end of the line: a path may hold spaces (as may a named
// anonymous mapping, "[anon:glibc: malloc]"), and the kernel appends
// " (deleted)" to a file unlinked since. A line that does not have this
// shape is an error, not a mapping silently skipped.
func ParseMaps(b []byte) ([]VMA, error) {
	var out []VMA
	for n, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		v, err := parseMapsLine(line)
		if err != nil {
			return nil, fmt.Errorf("maps line %d %q: %w", n+1, line, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func parseMapsLine(line string) (VMA, error) {
	var v VMA
	rest := line
	field := func() string {
		rest = strings.TrimLeft(rest, " ")
		f, r, _ := strings.Cut(rest, " ")
		rest = r
		return f
	}
	start, end, ok := strings.Cut(field(), "-")
	if !ok {
		return v, fmt.Errorf("no address range")
	}
	var err error
	if v.Start, err = strconv.ParseUint(start, 16, 64); err != nil {
		return v, err
	}
	if v.End, err = strconv.ParseUint(end, 16, 64); err != nil {
		return v, err
	}
	if v.Perms = field(); len(v.Perms) != 4 {
		return v, fmt.Errorf("permissions %q", v.Perms)
	}
	if v.Offset, err = strconv.ParseUint(field(), 16, 64); err != nil {
		return v, err
	}
	maj, mnr, ok := strings.Cut(field(), ":")
	if !ok {
		return v, fmt.Errorf("no device")
	}
	ma, err := strconv.ParseUint(maj, 16, 32)
	if err != nil {
		return v, err
	}
	mi, err := strconv.ParseUint(mnr, 16, 32)
	if err != nil {
		return v, err
	}
	v.Dev = unix.Mkdev(uint32(ma), uint32(mi))
	if v.Inode, err = strconv.ParseUint(field(), 10, 64); err != nil {
		return v, err
	}
	v.Path = strings.TrimLeft(rest, " ")
	return v, nil
}
