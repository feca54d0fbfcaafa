// Output (and refusal) rules for syscalls whose outputs depend on a command
// argument or on structures in tracee memory: fcntl, futex, prctl,
// arch_prctl, clone, SysV IPC control, keyctl and a few others.
//
// Where a command argument selects unknown behaviour, the Refuse functions
// fail the call with the errno the kernel gives unknown commands, so a new
// command is reported by name instead of being recorded wrongly.

package syscalls

import (
	"encoding/binary"
	"fmt"
)

// cmdInfo is a known command: its name and the bytes it writes at its
// pointer argument (0: none).
type cmdInfo struct {
	name string
	out  int
}

// fcntl(fd, cmd, arg): outputs at arg.
var fcntlCmds = map[uint32]cmdInfo{
	0:    {"F_DUPFD", 0},
	1:    {"F_GETFD", 0},
	2:    {"F_SETFD", 0},
	3:    {"F_GETFL", 0},
	4:    {"F_SETFL", 0},
	5:    {"F_GETLK", 32}, // struct flock
	6:    {"F_SETLK", 0},
	7:    {"F_SETLKW", 0},
	8:    {"F_SETOWN", 0},
	9:    {"F_GETOWN", 0},
	10:   {"F_SETSIG", 0},
	11:   {"F_GETSIG", 0},
	15:   {"F_SETOWN_EX", 0},
	16:   {"F_GETOWN_EX", 8}, // struct f_owner_ex
	36:   {"F_OFD_GETLK", 32},
	37:   {"F_OFD_SETLK", 0},
	38:   {"F_OFD_SETLKW", 0},
	1024: {"F_SETLEASE", 0},
	1025: {"F_GETLEASE", 0},
	1026: {"F_NOTIFY", 0},
	1027: {"F_DUPFD_QUERY", 0},
	1028: {"F_CREATED_QUERY", 0},
	1029: {"F_CANCELLK", 0},
	1030: {"F_DUPFD_CLOEXEC", 0},
	1031: {"F_SETPIPE_SZ", 0},
	1032: {"F_GETPIPE_SZ", 0},
	1033: {"F_ADD_SEALS", 0},
	1034: {"F_GET_SEALS", 0},
	1035: {"F_GET_RW_HINT", 8},
	1036: {"F_SET_RW_HINT", 0},
	1037: {"F_GET_FILE_RW_HINT", 8},
	1038: {"F_SET_FILE_RW_HINT", 0},
}

func fcntlRefuse(args [6]uint64) (int, string) {
	cmd := uint32(args[1])
	if _, ok := fcntlCmds[cmd]; ok {
		return 0, ""
	}
	return errEINVAL, fmt.Sprintf("unsupported fcntl command %d on fd %d: its outputs are unknown", cmd, int32(args[0]))
}

func fcntlOut(c *Call) ([]Region, error) {
	return span(c.Args[2], uint64(fcntlCmds[uint32(c.Args[1])].out))
}

// futex(uaddr, op, val, timeout/val2, uaddr2, val3). WAKE_OP stores into
// uaddr2; the PI operations store owner/waiter bits into their lock word,
// also on timeout or interruption, so the entry sets OutOnError.
func futexOut(c *Call) ([]Region, error) {
	const (
		wakeOp        = 5
		lockPI        = 6
		unlockPI      = 7
		trylockPI     = 8
		waitRequeuePI = 11
		cmpRequeuePI  = 12
		lockPI2       = 13
	)
	op := uint32(c.Args[1]) &^ (128 | 256) // FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME
	switch op {
	case wakeOp:
		if c.Ret >= 0 {
			return span(c.Args[4], 4)
		}
	case lockPI, lockPI2, trylockPI, unlockPI:
		if c.Ret != -errEFAULT {
			return span(c.Args[0], 4)
		}
	case waitRequeuePI, cmpRequeuePI:
		if c.Ret != -errEFAULT {
			return span(c.Args[4], 4)
		}
	}
	return nil, nil
}

// prctl(option, arg2...): option -> name, and why recording refuses it.
type prctlOpt struct {
	name   string
	refuse string
}

var prctlOpts = map[uint64]prctlOpt{
	1:  {name: "PR_SET_PDEATHSIG"},
	2:  {name: "PR_GET_PDEATHSIG"},
	3:  {name: "PR_GET_DUMPABLE"},
	4:  {name: "PR_SET_DUMPABLE"},
	5:  {name: "PR_GET_UNALIGN"},
	6:  {name: "PR_SET_UNALIGN"},
	7:  {name: "PR_GET_KEEPCAPS"},
	8:  {name: "PR_SET_KEEPCAPS"},
	9:  {name: "PR_GET_FPEMU"},
	10: {name: "PR_SET_FPEMU"},
	11: {name: "PR_GET_FPEXC"},
	12: {name: "PR_SET_FPEXC"},
	13: {name: "PR_GET_TIMING"},
	14: {name: "PR_SET_TIMING"},
	15: {name: "PR_SET_NAME"},
	16: {name: "PR_GET_NAME"},
	19: {name: "PR_GET_ENDIAN"},
	20: {name: "PR_SET_ENDIAN"},
	21: {name: "PR_GET_SECCOMP"},
	22: {name: "PR_SET_SECCOMP"}, // emulated by the recorder
	23: {name: "PR_CAPBSET_READ"},
	24: {name: "PR_CAPBSET_DROP"},
	25: {name: "PR_GET_TSC"},
	26: {name: "PR_SET_TSC"}, // emulated by the recorder
	27: {name: "PR_GET_SECUREBITS"},
	28: {name: "PR_SET_SECUREBITS"},
	29: {name: "PR_SET_TIMERSLACK"},
	30: {name: "PR_GET_TIMERSLACK"},
	31: {name: "PR_TASK_PERF_EVENTS_DISABLE"},
	32: {name: "PR_TASK_PERF_EVENTS_ENABLE"},
	33: {name: "PR_MCE_KILL"},
	34: {name: "PR_MCE_KILL_GET"},
	35: {name: "PR_SET_MM", refuse: "it rewrites the address space layout (brk, auxv, exe) that replay re-creates"},
	36: {name: "PR_SET_CHILD_SUBREAPER"},
	37: {name: "PR_GET_CHILD_SUBREAPER"},
	38: {name: "PR_SET_NO_NEW_PRIVS"},
	39: {name: "PR_GET_NO_NEW_PRIVS"},
	40: {name: "PR_GET_TID_ADDRESS"},
	41: {name: "PR_SET_THP_DISABLE"},
	42: {name: "PR_GET_THP_DISABLE"},
	43: {name: "PR_MPX_ENABLE_MANAGEMENT"},
	44: {name: "PR_MPX_DISABLE_MANAGEMENT"},
	45: {name: "PR_SET_FP_MODE"},
	46: {name: "PR_GET_FP_MODE"},
	47: {name: "PR_CAP_AMBIENT"},
	50: {name: "PR_SVE_SET_VL"},
	51: {name: "PR_SVE_GET_VL"},
	52: {name: "PR_GET_SPECULATION_CTRL"},
	53: {name: "PR_SET_SPECULATION_CTRL"},
	54: {name: "PR_PAC_RESET_KEYS"},
	55: {name: "PR_SET_TAGGED_ADDR_CTRL"},
	56: {name: "PR_GET_TAGGED_ADDR_CTRL"},
	57: {name: "PR_SET_IO_FLUSHER"},
	58: {name: "PR_GET_IO_FLUSHER"},
	59: {name: "PR_SET_SYSCALL_USER_DISPATCH", refuse: "it turns syscalls into SIGSYS, including the ones rewind injects"},
	60: {name: "PR_PAC_SET_ENABLED_KEYS"},
	61: {name: "PR_PAC_GET_ENABLED_KEYS"},
	62: {name: "PR_SCHED_CORE"},
	63: {name: "PR_SME_SET_VL"},
	64: {name: "PR_SME_GET_VL"},
	65: {name: "PR_SET_MDWE", refuse: "it changes the results of mmap/mprotect, which replay re-executes"},
	66: {name: "PR_GET_MDWE"},
	67: {name: "PR_SET_MEMORY_MERGE"},
	68: {name: "PR_GET_MEMORY_MERGE"},
	69: {name: "PR_RISCV_V_SET_CONTROL"},
	70: {name: "PR_RISCV_V_GET_CONTROL"},
	71: {name: "PR_RISCV_SET_ICACHE_FLUSH_CTX"},
	72: {name: "PR_PPC_GET_DEXCR"},
	73: {name: "PR_PPC_SET_DEXCR"},
	74: {name: "PR_GET_SHADOW_STACK_STATUS"},
	75: {name: "PR_SET_SHADOW_STACK_STATUS"},
	76: {name: "PR_LOCK_SHADOW_STACK_STATUS"},
	77: {name: "PR_TIMER_CREATE_RESTORE_IDS"},
	78: {name: "PR_FUTEX_HASH"},

	0x41555856: {name: "PR_GET_AUXV"},
	0x53564d41: {name: "PR_SET_VMA"},
	0x59616d61: {name: "PR_SET_PTRACER"},
}

func prctlRefuse(args [6]uint64) (int, string) {
	o, ok := prctlOpts[args[0]]
	if !ok {
		return errEINVAL, fmt.Sprintf("unsupported prctl option %d: its effects are unknown", args[0])
	}
	if o.refuse != "" {
		return errEINVAL, fmt.Sprintf("unsupported prctl %s: %s", o.name, o.refuse)
	}
	return 0, ""
}

func prctlOut(c *Call) ([]Region, error) {
	switch c.Args[0] {
	case 2, 5, 9, 11, 19, 25, 37: // PR_GET_{PDEATHSIG,UNALIGN,FPEMU,FPEXC,ENDIAN,TSC,CHILD_SUBREAPER}: an int
		return span(c.Args[1], 4)
	case 16: // PR_GET_NAME: the 16-byte comm
		return span(c.Args[1], 16)
	case 40, 74: // PR_GET_TID_ADDRESS, PR_GET_SHADOW_STACK_STATUS: a u64
		return span(c.Args[1], 8)
	case 62: // PR_SCHED_CORE: PR_SCHED_CORE_GET stores the u64 cookie at arg5
		if c.Args[1] == 0 {
			return span(c.Args[4], 8)
		}
	case 0x41555856: // PR_GET_AUXV copies up to arg3 bytes, returns the full size
		return span(c.Args[1], min(retLen(c), c.Args[2]))
	}
	return nil, nil
}

// arch_prctl(code, addr): the GET codes store a u64 at addr.
func archPrctlOut(c *Call) ([]Region, error) {
	switch c.Args[0] {
	case 0x1003, 0x1004, // ARCH_GET_FS, ARCH_GET_GS
		0x1021, 0x1022, 0x1024, // ARCH_GET_XCOMP_SUPP, _PERM, _GUEST_PERM
		0x4001, 0x4003, // ARCH_GET_UNTAG_MASK, ARCH_GET_MAX_TAG_BITS
		0x5005: // ARCH_SHSTK_STATUS
		return span(c.Args[1], 8)
	}
	return nil, nil
}

const (
	sysClone  = 56
	sysClone3 = 435
)

// Clone flags that make the kernel store ids in tracee memory.
const (
	cloneVM          = 0x00000100
	clonePidfd       = 0x00001000
	cloneParentSetid = 0x00100000
	cloneChildSetid  = 0x01000000
)

// CloneArgs are the arguments of a clone-family call that say which ids the
// kernel stores in tracee memory, and where.
type CloneArgs struct {
	Flags     uint64
	Pidfd     uint64 // where the pidfd goes (CLONE_PIDFD)
	ChildTid  uint64 // the child's tid, in the child (CLONE_CHILD_SETTID)
	ParentTid uint64 // the child's tid, in the parent (CLONE_PARENT_SETTID)
}

// Clone flags that make the kernel store ids in tracee memory.
const (
	CloneVM           = cloneVM
	CloneParentSetTid = cloneParentSetid
	CloneChildSetTid  = cloneChildSetid
)

// DecodeClone reads the arguments of clone, or clone3's struct clone_args
// (flags@0, pidfd@8, child_tid@16, parent_tid@24, all u64); fork and vfork
// store nothing.
func DecodeClone(nr int, args [6]uint64, mem MemReader) (CloneArgs, error) {
	switch nr {
	case sysClone:
		// clone(flags, stack, parent_tid, child_tid, tls): legacy clone
		// returns the pidfd through parent_tid.
		return CloneArgs{Flags: args[0], Pidfd: args[2], ChildTid: args[3], ParentTid: args[2]}, nil
	case sysClone3:
		if args[0] == 0 {
			return CloneArgs{}, nil
		}
		if mem == nil {
			return CloneArgs{}, fmt.Errorf("clone3: no tracee memory reader to follow pointer %#x", args[0])
		}
		var b [32]byte
		if err := mem.ReadMem(args[0], b[:]); err != nil {
			return CloneArgs{}, fmt.Errorf("read clone3 arguments at %#x: %w", args[0], err)
		}
		le := binary.LittleEndian
		return CloneArgs{Flags: le.Uint64(b[0:]), Pidfd: le.Uint64(b[8:]), ChildTid: le.Uint64(b[16:]), ParentTid: le.Uint64(b[24:])}, nil
	}
	return CloneArgs{}, nil
}

// cloneOut covers the ids clone stores: in the parent (Ret > 0) the child
// tid at ParentTid and the pidfd at Pidfd; in the child (Ret == 0) its tid
// at ChildTid.
func cloneOut(c *Call) ([]Region, error) {
	a, err := DecodeClone(c.Nr, c.Args, c.Mem)
	if err != nil {
		return nil, err
	}
	var rs []Region
	add := func(addr uint64) {
		if addr != 0 {
			rs = append(rs, Region{Addr: addr, Len: 4})
		}
	}
	if c.Ret > 0 {
		if a.Flags&cloneParentSetid != 0 {
			add(a.ParentTid)
		}
		if a.Flags&clonePidfd != 0 && (a.Pidfd != a.ParentTid || a.Flags&cloneParentSetid == 0) {
			add(a.Pidfd)
		}
	} else if c.Ret == 0 && a.Flags&cloneChildSetid != 0 {
		add(a.ChildTid)
	}
	return rs, nil
}

// capget(hdr, data): version 1 headers get one 12-byte struct, later
// versions two. An unknown version makes the kernel store its preferred
// version in the header and fail with EINVAL, or succeed when data is NULL
// (libcap probes this way), so the header is covered too and the entry sets
// OutOnError.
func capgetOut(c *Call) ([]Region, error) {
	const capV1 = 0x19980330
	if c.Ret != 0 && c.Ret != -errEINVAL {
		return nil, nil
	}
	rs, _ := span(c.Args[0], 4)
	if c.Ret != 0 || c.Args[1] == 0 {
		return rs, nil
	}
	n := uint64(24)
	if c.Args[0] != 0 {
		v, err := readU32(c, c.Args[0])
		if err != nil {
			return nil, err
		}
		if v == capV1 {
			n = 12
		}
	}
	r, err := span(c.Args[1], n)
	if err != nil {
		return nil, err
	}
	return append(rs, r...), nil
}

// name_to_handle_at(dirfd, path, handle, mount_id, flags): the handle is
// {u32 handle_bytes; i32 handle_type; bytes}. On EOVERFLOW the kernel still
// stores the needed handle_bytes and the mount id (callers probe with 0),
// so the entry sets OutOnError. AT_HANDLE_MNT_ID_UNIQUE makes the mount id
// a u64.
func nameToHandleOut(c *Call) ([]Region, error) {
	const atHandleMntIDUnique = 0x001
	if c.Ret != 0 && c.Ret != -errEOVERFLOW {
		return nil, nil
	}
	var rs []Region
	if h := c.Args[2]; h != 0 {
		n := uint64(8)
		if c.Ret == 0 {
			hb, err := readU32(c, h)
			if err != nil {
				return nil, err
			}
			n += uint64(hb)
		}
		r, err := span(h, n)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r...)
	}
	idLen := uint64(4)
	if c.Args[4]&atHandleMntIDUnique != 0 {
		idLen = 8
	}
	r, _ := span(c.Args[3], idLen)
	return append(rs, r...), nil
}

// SysV IPC control commands (the IPC_64 flag 0x100 that glibc adds is
// ignored). Outputs on x86-64: struct semid64_ds 104 bytes, struct seminfo
// 40, struct msqid64_ds 120, struct msginfo 32.
const ipc64 = 0x100

var semctlCmds = map[uint32]cmdInfo{
	0:  {"IPC_RMID", 0},
	1:  {"IPC_SET", 0},
	2:  {"IPC_STAT", 104},
	3:  {"IPC_INFO", 40},
	11: {"GETPID", 0},
	12: {"GETVAL", 0},
	14: {"GETNCNT", 0},
	15: {"GETZCNT", 0},
	16: {"SETVAL", 0},
	17: {"SETALL", 0},
	18: {"SEM_STAT", 104},
	19: {"SEM_INFO", 40},
	20: {"SEM_STAT_ANY", 104},
}

// semctl(semid, semnum, cmd, arg). GETALL writes one unsigned short per
// semaphore of the set, a length the call does not say: the recorder asks
// the kernel (IPC_STAT, from its own process, which shares the tracee's IPC
// namespace).
func semctlRefuse(args [6]uint64) (int, string) {
	cmd := uint32(args[2]) &^ ipc64
	if _, ok := semctlCmds[cmd]; ok || cmd == semGetAll {
		return 0, ""
	}
	return errEINVAL, fmt.Sprintf("unsupported semctl command %d: its outputs are unknown", cmd)
}

const semGetAll = 13

func semctlOut(c *Call) ([]Region, error) {
	cmd := uint32(c.Args[2]) &^ ipc64
	if cmd == semGetAll {
		n, err := semCount(int(int32(c.Args[0])))
		if err != nil {
			return nil, fmt.Errorf("semctl GETALL: size of set %d: %w", int32(c.Args[0]), err)
		}
		return span(c.Args[3], 2*n)
	}
	return span(c.Args[3], uint64(semctlCmds[cmd].out))
}

// shmctl(shmid, cmd, buf).
var shmctlCmds = map[uint32]cmdInfo{
	0:  {"IPC_RMID", 0},
	1:  {"IPC_SET", 0},
	2:  {"IPC_STAT", 112}, // struct shmid64_ds
	3:  {"IPC_INFO", 72},  // struct shminfo64
	11: {"SHM_LOCK", 0},
	12: {"SHM_UNLOCK", 0},
	13: {"SHM_STAT", 112},
	14: {"SHM_INFO", 48}, // struct shm_info
	15: {"SHM_STAT_ANY", 112},
}

func shmctlRefuse(args [6]uint64) (int, string) {
	cmd := uint32(args[1]) &^ ipc64
	if _, ok := shmctlCmds[cmd]; ok {
		return 0, ""
	}
	return errEINVAL, fmt.Sprintf("unsupported shmctl command %d: its outputs are unknown", cmd)
}

func shmctlOut(c *Call) ([]Region, error) {
	return span(c.Args[2], uint64(shmctlCmds[uint32(c.Args[1])&^ipc64].out))
}

var msgctlCmds = map[uint32]cmdInfo{
	0:  {"IPC_RMID", 0},
	1:  {"IPC_SET", 0},
	2:  {"IPC_STAT", 120},
	3:  {"IPC_INFO", 32},
	11: {"MSG_STAT", 120},
	12: {"MSG_INFO", 32},
	13: {"MSG_STAT_ANY", 120},
}

// msgctl(msqid, cmd, buf).
func msgctlRefuse(args [6]uint64) (int, string) {
	cmd := uint32(args[1]) &^ ipc64
	if _, ok := msgctlCmds[cmd]; ok {
		return 0, ""
	}
	return errEINVAL, fmt.Sprintf("unsupported msgctl command %d: its outputs are unknown", cmd)
}

func msgctlOut(c *Call) ([]Region, error) {
	return span(c.Args[2], uint64(msgctlCmds[uint32(c.Args[1])&^ipc64].out))
}

// msgrcv(msqid, msgp, msgsz, msgtyp, msgflg): the long mtype, then Ret
// bytes of mtext.
func msgrcvOut(c *Call) ([]Region, error) { return span(c.Args[1], 8+retLen(c)) }

// keyctl(cmd, ...): commands that return data copy at most buflen bytes
// and return the full size. The public-key commands (PKEY_*) are refused:
// rewind does not describe their buffers.
var keyctlCmds = map[uint64]string{
	0: "KEYCTL_GET_KEYRING_ID", 1: "KEYCTL_JOIN_SESSION_KEYRING", 2: "KEYCTL_UPDATE",
	3: "KEYCTL_REVOKE", 4: "KEYCTL_CHOWN", 5: "KEYCTL_SETPERM", 6: "KEYCTL_DESCRIBE",
	7: "KEYCTL_CLEAR", 8: "KEYCTL_LINK", 9: "KEYCTL_UNLINK", 10: "KEYCTL_SEARCH",
	11: "KEYCTL_READ", 12: "KEYCTL_INSTANTIATE", 13: "KEYCTL_NEGATE",
	14: "KEYCTL_SET_REQKEY_KEYRING", 15: "KEYCTL_SET_TIMEOUT", 16: "KEYCTL_ASSUME_AUTHORITY",
	17: "KEYCTL_GET_SECURITY", 18: "KEYCTL_SESSION_TO_PARENT", 19: "KEYCTL_REJECT",
	20: "KEYCTL_INSTANTIATE_IOV", 21: "KEYCTL_INVALIDATE", 22: "KEYCTL_GET_PERSISTENT",
	23: "KEYCTL_DH_COMPUTE", 29: "KEYCTL_RESTRICT_KEYRING", 30: "KEYCTL_MOVE",
	31: "KEYCTL_CAPABILITIES", 32: "KEYCTL_WATCH_KEY",
}

func keyctlRefuse(args [6]uint64) (int, string) {
	if _, ok := keyctlCmds[args[0]]; ok {
		return 0, ""
	}
	return errEOPNOTSUPP, fmt.Sprintf("unsupported keyctl command %d: its outputs are not described", args[0])
}

// errEOPNOTSUPP is what keyctl returns for commands the kernel lacks.
const errEOPNOTSUPP = 95

func keyctlOut(c *Call) ([]Region, error) {
	switch c.Args[0] {
	case 6, 11, 17, 23: // DESCRIBE, READ, GET_SECURITY, DH_COMPUTE: buffer arg3, buflen arg4
		return retUpTo(2, 3)(c)
	case 31: // CAPABILITIES: buffer arg2, buflen arg3
		return retUpTo(1, 2)(c)
	}
	return nil, nil
}

// syslog(type, buf, len): the READ actions (2, 3, 4) copy Ret bytes.
func syslogOut(c *Call) ([]Region, error) {
	switch c.Args[0] {
	case 2, 3, 4:
		return retUpTo(1, 2)(c)
	}
	return nil, nil
}

// sysfs(2, index, buf) stores a file system name; other options store
// nothing.
func sysfsOut(c *Call) ([]Region, error) {
	if c.Args[0] != 2 {
		return nil, nil
	}
	return cString(c, c.Args[2], 256)
}

// getgroups(size, list): size 0 only counts.
func getgroupsOut(c *Call) ([]Region, error) {
	if int32(c.Args[0]) <= 0 {
		return nil, nil
	}
	return span(c.Args[1], retLen(c)*4)
}

// mincore(addr, length, vec): one byte per page.
func mincoreOut(c *Call) ([]Region, error) {
	return span(c.Args[2], (c.Args[1]+pageSize-1)/pageSize)
}

// get_mempolicy(mode, nodemask, maxnode, addr, flags): the int mode and a
// nodemask of maxnode bits (whole longs).
func getMempolicyOut(c *Call) ([]Region, error) {
	rs, _ := span(c.Args[0], 4)
	if c.Args[2] > 1<<20 {
		return nil, fmt.Errorf("get_mempolicy: implausible maxnode %d", c.Args[2])
	}
	r, err := span(c.Args[1], (c.Args[2]+63)/64*8)
	if err != nil {
		return nil, err
	}
	return append(rs, r...), nil
}

// nanosleep(req, rem): rem gets the time left when a signal interrupts.
var nanosleepOut = onInterrupt(fixed(1, 16))

// clock_nanosleep(clock, flags, req, rem): likewise, unless TIMER_ABSTIME.
func clockNanosleepOut(c *Call) ([]Region, error) {
	if c.Args[1]&1 != 0 || !interrupted(c.Ret) {
		return nil, nil
	}
	return span(c.Args[3], 16)
}

// getxattrat(dfd, path, at_flags, name, struct xattr_args *, usize): the
// value lands at args.value (u64 @0), at most args.size (u32 @8) bytes.
func getxattratOut(c *Call) ([]Region, error) {
	if c.Args[4] == 0 {
		return nil, nil
	}
	var b [12]byte
	if err := readMem(c, c.Args[4], b[:]); err != nil {
		return nil, err
	}
	val := binary.LittleEndian.Uint64(b[0:])
	size := uint64(binary.LittleEndian.Uint32(b[8:]))
	return span(val, min(retLen(c), size))
}

// seccomp(op, flags, args): SECCOMP_GET_NOTIF_SIZES (3) fills a struct
// seccomp_notif_sizes (three u16). Setting a mode or a filter is emulated
// by the recorder, which records what it writes.
func seccompOut(c *Call) ([]Region, error) {
	if c.Args[0] == 3 {
		return span(c.Args[2], 6)
	}
	return nil, nil
}

// modify_ldt(func, ptr, bytecount): reading (0) or reading the default
// LDT (2) copies Ret bytes to ptr.
func modifyLdtOut(c *Call) ([]Region, error) {
	if c.Args[0] == 0 || c.Args[0] == 2 {
		return span(c.Args[1], retLen(c))
	}
	return nil, nil
}
