package testutil

import (
	"context"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// deadlineMargin is how long before the test binary's deadline a command
// still running is killed: long enough for the test to report it by name
// before the package's own timeout ends everything with a bare dump.
const deadlineMargin = 45 * time.Second

// Command is exec.Command for tests. The command and everything it starts
// run in a process group of their own (callers add to SysProcAttr, not
// replace it), which is killed, failing the test
// with the command line, if it is still running near the test's deadline:
// a hang is then reported as what hung. Pipes a leftover grandchild keeps
// open do not hold Wait up for more than a few seconds after the kill.
func Command(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	deadline, ok := t.Deadline()
	if !ok {
		deadline = time.Now().Add(30 * time.Minute)
	}
	kill := deadline.Add(-deadlineMargin)
	if time.Until(kill) < time.Second { // too late for a margin: at least start it
		kill = deadline
	}
	ctx, cancel := context.WithDeadline(context.Background(), kill)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	line := strings.Join(append([]string{name}, args...), " ")
	cmd.Cancel = func() error {
		if ctx.Err() == context.DeadlineExceeded {
			t.Errorf("%s: still running at the test deadline, killed", line)
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}
