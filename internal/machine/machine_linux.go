// Package machine fingerprints the CPU and kernel a trace was recorded on.
// These VMs cannot trap CPUID (no CPUID faulting), so a program may take
// different code paths on another CPU; replay compares fingerprints and warns.
package machine

import (
	"bufio"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Fingerprint is what replay compares.
type Fingerprint struct {
	CPU    string // model name
	Flags  string // /proc/cpuinfo flags: the features programs can detect
	Kernel string
}

// Current fingerprints this machine.
func Current() Fingerprint {
	var fp Fingerprint
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if k == "model name" && fp.CPU == "" {
				fp.CPU = v
			}
			if k == "flags" && fp.Flags == "" {
				fp.Flags = v
			}
		}
		f.Close()
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		fp.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	return fp
}

// Mismatch describes how other differs from fp in ways a program could see
// through cpuid, or "" if it does not.
func (fp Fingerprint) Mismatch(other Fingerprint) string {
	var d []string
	if fp.CPU != other.CPU {
		d = append(d, "CPU model "+other.CPU+" (recorded on "+fp.CPU+")")
	}
	if fp.Flags != other.Flags {
		have := map[string]bool{}
		for _, f := range strings.Fields(other.Flags) {
			have[f] = true
		}
		var missing []string
		for _, f := range strings.Fields(fp.Flags) {
			if !have[f] {
				missing = append(missing, f)
			}
		}
		if len(missing) > 0 {
			d = append(d, "CPU features missing here: "+strings.Join(missing, " "))
		} else {
			d = append(d, "CPU feature set differs")
		}
	}
	return strings.Join(d, "; ")
}
