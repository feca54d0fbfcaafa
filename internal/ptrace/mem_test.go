package ptrace

import (
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

// Reading the memory of a task that has exited reports it gone, whether it
// is a zombie (address space released, pid still there) or reaped.
func TestReadMemOfExitedTask(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if err := ReadMem(pid, 0x400000, buf); !IsGone(err) {
		t.Errorf("zombie: ReadMem error %v, want one that IsGone", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := ReadMem(pid, 0x400000, buf); !IsGone(err) {
		t.Errorf("reaped: ReadMem error %v, want one that IsGone", err)
	}
}

// An unmapped address in a live task is an error that does not mean gone.
func TestReadMemUnmapped(t *testing.T) {
	buf := make([]byte, 8)
	err := ReadMem(unix.Getpid(), 8, buf)
	if err == nil || IsGone(err) {
		t.Errorf("ReadMem of address 8: %v, want an error that is not IsGone", err)
	}
}
