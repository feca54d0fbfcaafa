package tracee

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// Status is what rewind reads from /proc/PID/status.
type Status struct {
	Tgid                   int
	SigBlk, SigIgn, SigCgt uint64 // signal masks, bit sig-1
	PeakRSSKiB             uint64 // VmHWM; 0 for a thread without memory
}

// ReadStatus parses /proc/PID/status.
func ReadStatus(tid int) (Status, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid))
	if err != nil {
		return Status{}, fmt.Errorf("read status of task %d: %w", tid, err)
	}
	return parseStatus(b), nil
}

// ReadSelfStatus parses rewind's own /proc/self/status.
func ReadSelfStatus() (Status, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return Status{}, fmt.Errorf("read own status: %w", err)
	}
	return parseStatus(b), nil
}

func parseStatus(b []byte) Status {
	var st Status
	for _, line := range bytes.Split(b, []byte("\n")) { // no Scanner: lines can be long (Groups)
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		v = bytes.TrimSpace(v)
		switch string(k) {
		case "Tgid":
			st.Tgid, _ = strconv.Atoi(string(v))
		case "SigBlk":
			st.SigBlk, _ = strconv.ParseUint(string(v), 16, 64)
		case "SigIgn":
			st.SigIgn, _ = strconv.ParseUint(string(v), 16, 64)
		case "SigCgt":
			st.SigCgt, _ = strconv.ParseUint(string(v), 16, 64)
		case "VmHWM":
			st.PeakRSSKiB, _ = strconv.ParseUint(string(bytes.TrimSuffix(v, []byte(" kB"))), 10, 64)
		}
	}
	return st
}

// DefaultAction reports whether sig, delivered to the task now, would take
// its default action: neither blocked, ignored nor caught.
func (s Status) DefaultAction(sig int) bool {
	bit := uint64(1) << (sig - 1)
	return (s.SigBlk|s.SigIgn|s.SigCgt)&bit == 0
}
