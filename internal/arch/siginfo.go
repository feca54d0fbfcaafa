package arch

import "encoding/binary"

// Siginfo is the kernel's 128-byte siginfo_t, kept raw so that it can be
// recorded and written back byte for byte. The accessors read the fields
// of the union members rewind uses (the layout is that of 64-bit Linux).
type Siginfo [128]byte

var le = binary.LittleEndian

// NewSiginfo makes a siginfo with si_signo, si_errno and si_code set.
func NewSiginfo(signo, errno, code int) Siginfo {
	var s Siginfo
	le.PutUint32(s[0:], uint32(signo))
	le.PutUint32(s[4:], uint32(errno))
	le.PutUint32(s[8:], uint32(code))
	return s
}

func (s *Siginfo) Signo() int { return int(int32(le.Uint32(s[0:]))) }
func (s *Siginfo) Errno() int { return int(int32(le.Uint32(s[4:]))) }
func (s *Siginfo) Code() int  { return int(int32(le.Uint32(s[8:]))) }

// Addr is si_addr of a fault signal (and si_call_addr of a seccomp SIGSYS).
func (s *Siginfo) Addr() uint64 { return le.Uint64(s[16:]) }

// SetSyscall fills the SIGSYS fields a seccomp SECCOMP_RET_TRAP reports:
// the address after the syscall instruction, the syscall number and the
// AUDIT_ARCH value.
func (s *Siginfo) SetSyscall(callAddr uint64, nr int, auditArch uint32) {
	le.PutUint64(s[16:], callAddr)
	le.PutUint32(s[24:], uint32(nr))
	le.PutUint32(s[28:], auditArch)
}

// SetChild fills the SIGCHLD fields (si_pid, si_status); si_uid stays 0.
func (s *Siginfo) SetChild(pid, status int) {
	le.PutUint32(s[16:], uint32(pid))
	le.PutUint32(s[24:], uint32(status))
}

// Signal codes rewind recognises.
const (
	SysSeccomp = 1 // si_code of a seccomp SIGSYS
	CldExited  = 1 // SIGCHLD si_code values
	CldKilled  = 2
	CldTrapped = 4
)

// AuditArch is AUDIT_ARCH_X86_64, what seccomp data and SIGSYS name the
// 64-bit syscall ABI by.
const AuditArch = 0xc000003e
