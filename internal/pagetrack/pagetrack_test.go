package pagetrack

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"

	"github.com/rewind-dbg/rewind/internal/ptrace"
	"github.com/rewind-dbg/rewind/internal/testutil"
	"golang.org/x/sys/unix"
)

// TestWrittenPages traces testdata/writer.c and checks that exactly the
// pages it writes between its stops are reported, those the kernel writes
// for it (read(2)) included, and nothing when nothing was written.
func TestWrittenPages(t *testing.T) {
	testutil.NeedTool(t, "gcc")
	bin := filepath.Join(t.TempDir(), "writer")
	if out, err := exec.Command("gcc", "-O1", "-o", bin, "testdata/writer.c").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	const page = 4096
	want := [][]Range{
		nil, // right after Track
		nil, // a stop later, nothing written
		{{3 * page, 4 * page}, {10 * page, 12 * page}},
		{{20 * page, 21 * page}},
	}
	err := ptrace.Run(func() error {
		cmd := exec.Command(bin)
		cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true}
		if err := cmd.Start(); err != nil {
			return err
		}
		pid := cmd.Process.Pid
		defer unix.Kill(pid, unix.SIGKILL)
		if _, err := ptrace.Wait(pid); err != nil { // the exec stop
			return err
		}
		if err := ptrace.SetOptions(pid, unix.PTRACE_O_TRACESYSGOOD|unix.PTRACE_O_EXITKILL); err != nil {
			return err
		}
		var tr *Tracker
		var base uint64
		for i := 0; ; i++ {
			if err := ptrace.Cont(pid, 0); err != nil {
				return err
			}
			st, err := ptrace.Wait(pid)
			if err != nil {
				return err
			}
			if st.Kind() == ptrace.Exited {
				if i != len(want) || st.Status.ExitStatus() != 2 {
					t.Errorf("writer exited with %v after %d stops", st, i)
				}
				return nil
			}
			if st.Kind() != ptrace.SignalStop || st.Signal() != int(unix.SIGTRAP) {
				return fmt.Errorf("stop %d: %v", i, st)
			}
			var regs ptrace.Regs
			if err := ptrace.GetRegs(pid, &regs); err != nil {
				return err
			}
			if tr == nil {
				base = regs.Rax
				if tr, err = Start(pid, pid); err != nil {
					return err
				}
				defer tr.Close()
				if err := tr.Track(base, base+64*page); err != nil {
					return err
				}
			}
			got, err := tr.Written(base, base+64*page)
			if err != nil {
				return err
			}
			for j := range got {
				got[j].Start -= base
				got[j].End -= base
			}
			if i < len(want) && !reflect.DeepEqual(got, want[i]) {
				t.Errorf("stop %d: written %v, want %v", i, got, want[i])
			}
		}
	})
	if errors.Is(err, ErrUnsupported) {
		t.Skipf("kernel: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
}
