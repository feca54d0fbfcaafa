// ioctl: outputs by request number. Requests rewind knows are listed with
// the bytes they write at arg2; others are decoded from the _IOC encoding.
// Legacy requests (numbers predating _IOC, which carry no size) that are not
// listed are refused: guessing their outputs would record them wrongly.

package syscalls

import "fmt"

// ioctlReq is a request rewind knows: its name and how many bytes it writes
// at the pointer in arg2 (0: none).
type ioctlReq struct {
	name string
	out  int
}

const (
	ifreqSize   = 40 // struct ifreq on x86-64
	termiosSize = 36 // kernel struct termios (not glibc's)

	reqSIOCGIFCONF = 0x8912
)

var ioctlKnown = map[uint32]ioctlReq{
	// Terminals.
	0x5401: {"TCGETS", termiosSize},
	0x5402: {"TCSETS", 0},
	0x5403: {"TCSETSW", 0},
	0x5404: {"TCSETSF", 0},
	0x5405: {"TCGETA", 18}, // struct termio
	0x5406: {"TCSETA", 0},
	0x5407: {"TCSETAW", 0},
	0x5408: {"TCSETAF", 0},
	0x5409: {"TCSBRK", 0},
	0x540A: {"TCXONC", 0},
	0x540B: {"TCFLSH", 0},
	0x540C: {"TIOCEXCL", 0},
	0x540D: {"TIOCNXCL", 0},
	0x540E: {"TIOCSCTTY", 0},
	0x540F: {"TIOCGPGRP", 4},
	0x5410: {"TIOCSPGRP", 0},
	0x5411: {"TIOCOUTQ", 4},
	0x5412: {"TIOCSTI", 0},
	0x5413: {"TIOCGWINSZ", 8},
	0x5414: {"TIOCSWINSZ", 0},
	0x5415: {"TIOCMGET", 4},
	0x5416: {"TIOCMBIS", 0},
	0x5417: {"TIOCMBIC", 0},
	0x5418: {"TIOCMSET", 0},
	0x5419: {"TIOCGSOFTCAR", 4},
	0x541A: {"TIOCSSOFTCAR", 0},
	0x541B: {"FIONREAD", 4},
	0x541D: {"TIOCCONS", 0},
	0x5420: {"TIOCPKT", 0},
	0x5421: {"FIONBIO", 0},
	0x5422: {"TIOCNOTTY", 0},
	0x5423: {"TIOCSETD", 0},
	0x5424: {"TIOCGETD", 4},
	0x5425: {"TCSBRKP", 0},
	0x5427: {"TIOCSBRK", 0},
	0x5428: {"TIOCCBRK", 0},
	0x5429: {"TIOCGSID", 4},
	0x5437: {"TIOCVHANGUP", 0},
	0x5441: {"TIOCGPTPEER", 0}, // returns an fd
	0x5450: {"FIONCLEX", 0},
	0x5451: {"FIOCLEX", 0},
	0x5452: {"FIOASYNC", 0},
	0x5456: {"TIOCGLCKTRMIOS", termiosSize},
	0x5457: {"TIOCSLCKTRMIOS", 0},
	0x5459: {"TIOCSERGETLSR", 4},
	0x5460: {"FIOQSIZE", 8},
	// _IOC-encoded, listed for their names.
	0x80045430: {"TIOCGPTN", 4},
	0x40045431: {"TIOCSPTLCK", 0},
	0x80045439: {"TIOCGPTLCK", 4},

	// Files and block devices (legacy numbers).
	0x0001: {"FIBMAP", 4},
	0x0002: {"FIGETBSZ", 4},
	0x125E: {"BLKROGET", 4},
	0x125F: {"BLKRRPART", 0},
	0x1260: {"BLKGETSIZE", 8},
	0x1261: {"BLKFLSBUF", 0},
	0x1268: {"BLKSSZGET", 4},

	// Sockets (legacy numbers).
	0x8901: {"FIOSETOWN", 0},
	0x8902: {"SIOCSPGRP", 0},
	0x8903: {"FIOGETOWN", 4},
	0x8904: {"SIOCGPGRP", 4},
	0x8905: {"SIOCATMARK", 4},
	0x8906: {"SIOCGSTAMP", 16},   // struct timeval
	0x8907: {"SIOCGSTAMPNS", 16}, // struct timespec
	0x8910: {"SIOCGIFNAME", ifreqSize},
	0x8912: {"SIOCGIFCONF", 0}, // see ioctlOut
	0x8913: {"SIOCGIFFLAGS", ifreqSize},
	0x8915: {"SIOCGIFADDR", ifreqSize},
	0x8917: {"SIOCGIFDSTADDR", ifreqSize},
	0x8919: {"SIOCGIFBRDADDR", ifreqSize},
	0x891B: {"SIOCGIFNETMASK", ifreqSize},
	0x891D: {"SIOCGIFMETRIC", ifreqSize},
	0x8921: {"SIOCGIFMTU", ifreqSize},
	0x8927: {"SIOCGIFHWADDR", ifreqSize},
	0x8933: {"SIOCGIFINDEX", ifreqSize},
	0x8935: {"SIOCGIFPFLAGS", ifreqSize},
	0x8942: {"SIOCGIFTXQLEN", ifreqSize},
	0x8970: {"SIOCGIFMAP", ifreqSize},
}

// ioctlUndescribed names legacy requests rewind recognises but whose
// outputs it does not describe, so a refusal can say what was asked.
var ioctlUndescribed = map[uint32]string{
	0x541C: "TIOCLINUX",
	0x541E: "TIOCGSERIAL",
	0x541F: "TIOCSSERIAL",
	0x545C: "TIOCMIWAIT",
	0x545D: "TIOCGICOUNT",
	0x4B33: "KDGKBTYPE",
	0x4B3A: "KDSETMODE",
	0x4B3B: "KDGETMODE",
	0x4B44: "KDGKBMODE",
	0x4B45: "KDSKBMODE",
	0x4C00: "LOOP_SET_FD",
	0x4C01: "LOOP_CLR_FD",
	0x4C03: "LOOP_GET_STATUS",
	0x4C05: "LOOP_GET_STATUS64",
	0x4C82: "LOOP_CTL_GET_FREE",
	0x5600: "VT_OPENQRY",
	0x5601: "VT_GETMODE",
	0x5602: "VT_SETMODE",
	0x5603: "VT_GETSTATE",
	0x5606: "VT_ACTIVATE",
	0x5607: "VT_WAITACTIVE",
	0x8946: "SIOCETHTOOL",
	0x8947: "SIOCGMIIPHY",
	0x8948: "SIOCGMIIREG",
	0x8954: "SIOCGARP",
	0x8B01: "SIOCGIWNAME",
}

// _IOC encoding: dir(2) size(14) type(8) nr(8), from the top bit down.
const (
	iocNone  = 0
	iocWrite = 1
	iocRead  = 2
)

func iocDir(req uint32) uint32  { return req >> 30 & 3 }
func iocSize(req uint32) uint32 { return req >> 16 & 0x3fff }
func iocType(req uint32) uint32 { return req >> 8 & 0xff }
func iocNr(req uint32) uint32   { return req & 0xff }

// legacyIoctlType reports ioctl types whose numbers predate _IOC and may
// transfer data although they decode as _IO (no data): everything up to
// the tty range 'T', VT 'V', socket 0x89 and wireless 0x8B.
func legacyIoctlType(t uint32) bool {
	return t <= 0x54 || t == 0x56 || t == 0x89 || t == 0x8B
}

// ioctlName names req: its known name, or its decoded _IOC form.
func ioctlName(req uint32) string {
	if k, ok := ioctlKnown[req]; ok {
		return k.name
	}
	if n, ok := ioctlUndescribed[req]; ok {
		return n
	}
	t := iocType(req)
	ts := fmt.Sprintf("0x%x", t)
	if t >= 0x21 && t < 0x7f {
		ts = fmt.Sprintf("'%c'", rune(t))
	}
	switch iocDir(req) {
	case iocNone:
		if iocSize(req) == 0 {
			return fmt.Sprintf("_IO(%s, 0x%x)", ts, iocNr(req))
		}
		return fmt.Sprintf("_IOC(NONE, %s, 0x%x, %d)", ts, iocNr(req), iocSize(req))
	case iocWrite:
		return fmt.Sprintf("_IOW(%s, 0x%x, %d)", ts, iocNr(req), iocSize(req))
	case iocRead:
		return fmt.Sprintf("_IOR(%s, 0x%x, %d)", ts, iocNr(req), iocSize(req))
	}
	return fmt.Sprintf("_IOWR(%s, 0x%x, %d)", ts, iocNr(req), iocSize(req))
}

// ioctlMisencoded are _IOC requests whose size field understates what
// they write: a variable-length array after a header, or buffers reached
// through pointers inside the argument. Recording the encoded size would
// leave replay's memory silently different, so they are refused by name.
var ioctlMisencoded = map[uint32]string{
	0xC020660B: "FS_IOC_FIEMAP (extent array after the header)",
	0xC0C0583B: "FS_IOC_GETFSMAP (record array after the header)",
}

// ioctlMisencodedTypes are whole ioctl families like ioctlMisencoded.
var ioctlMisencodedTypes = map[uint32]string{
	'd':  "DRM (buffers behind pointers)",
	0x94: "btrfs (variable-length results)",
	'U':  "usbdevfs (buffers behind pointers)",
}

// ioctlRefuse refuses requests whose outputs are unknown: unlisted legacy
// numbers, size-less _IO requests of legacy types, and requests whose
// encoded size is not what they write.
func ioctlRefuse(args [6]uint64) (int, string) {
	req := uint32(args[1]) // the kernel takes an unsigned int
	if _, ok := ioctlKnown[req]; ok {
		return 0, ""
	}
	why, bad := ioctlMisencoded[req]
	if !bad && iocDir(req)&iocRead != 0 { // a request that only reads the argument writes nothing
		why, bad = ioctlMisencodedTypes[iocType(req)]
		if iocType(req) == 'V' && iocSize(req) > 0 {
			why, bad = "V4L2 (buffers behind pointers)", true
		}
	}
	if bad {
		return errENOTTY, fmt.Sprintf("unsupported ioctl 0x%x (%s, %s) on fd %d: rewind cannot record all it writes",
			req, ioctlName(req), why, int32(args[0]))
	}
	if iocDir(req) != iocNone {
		return 0, ""
	}
	if iocSize(req) == 0 && !legacyIoctlType(iocType(req)) {
		return 0, "" // a modern _IO request: no data by convention
	}
	return errENOTTY, fmt.Sprintf("unsupported ioctl 0x%x (%s) on fd %d: its outputs are unknown",
		req, ioctlName(req), int32(args[0]))
}

// ioctlOut: ioctl(fd, req, arg).
func ioctlOut(c *Call) ([]Region, error) {
	req := uint32(c.Args[1])
	if req == reqSIOCGIFCONF {
		return ifconfOut(c)
	}
	if k, ok := ioctlKnown[req]; ok {
		return span(c.Args[2], uint64(k.out))
	}
	if iocDir(req)&iocRead != 0 {
		return span(c.Args[2], uint64(iocSize(req)))
	}
	return nil, nil
}

// ifconfOut: SIOCGIFCONF fills struct ifconf {int ifc_len; char *ifc_buf}
// (16 bytes) and ifc_len bytes of struct ifreq at ifc_buf.
func ifconfOut(c *Call) ([]Region, error) {
	p := c.Args[2]
	if p == 0 {
		return nil, nil
	}
	n, err := readU32(c, p)
	if err != nil {
		return nil, err
	}
	buf, err := readU64(c, p+8)
	if err != nil {
		return nil, err
	}
	r, err := span(buf, uint64(max(int32(n), 0)))
	if err != nil {
		return nil, err
	}
	return append([]Region{{Addr: p, Len: 16}}, r...), nil
}
