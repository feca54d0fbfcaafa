package record

import (
	"debug/elf"
	"encoding/binary"
)

// fdeRanges returns the address ranges of the functions an ELF file's
// .eh_frame describes (every FDE's pc_begin and pc_range). Stripped
// libraries keep .eh_frame for unwinding, so it tells where functions start
// where no symbol does: a decoding from there is certain.
func fdeRanges(ef *elf.File) [][2]uint64 {
	sec := ef.Section(".eh_frame")
	if sec == nil || sec.Type == elf.SHT_NOBITS {
		return nil
	}
	data, err := sec.Data()
	if err != nil {
		return nil
	}
	le := binary.LittleEndian
	cieEnc := map[uint64]byte{} // CIE offset -> FDE pointer encoding
	var out [][2]uint64
	for off := uint64(0); off+8 <= uint64(len(data)); {
		length := uint64(le.Uint32(data[off:]))
		hdr := uint64(4)
		if length == 0 {
			break // terminator
		}
		if length == 0xffffffff {
			if off+12 > uint64(len(data)) {
				break
			}
			length, hdr = le.Uint64(data[off+4:]), 12
		}
		end := off + hdr + length
		if end > uint64(len(data)) || length < 4 {
			break
		}
		idAt := off + hdr
		id := uint64(le.Uint32(data[idAt:]))
		body := data[idAt+4 : end]
		if id == 0 {
			cieEnc[off] = cieFDEEncoding(body)
		} else if enc, ok := cieEnc[idAt-id]; ok {
			// pc_begin, then pc_range in the same format without pcrel.
			at := sec.Addr + idAt + 4
			begin, n := readEncoded(body, enc, at)
			if n > 0 {
				size, m := readEncoded(body[n:], enc&0x0f, 0)
				if m > 0 && size > 0 {
					out = append(out, [2]uint64{begin, begin + size})
				}
			}
		}
		off = end
	}
	return out
}

// cieFDEEncoding reads a CIE body (after the id) and returns the
// encoding of its FDEs' pointers ('R' augmentation; absptr if none).
func cieFDEEncoding(b []byte) byte {
	if len(b) < 2 {
		return 0xff
	}
	version := b[0]
	b = b[1:]
	i := 0
	for i < len(b) && b[i] != 0 {
		i++
	}
	aug := string(b[:i])
	b = b[i+1:]
	if len(aug) == 0 || aug[0] != 'z' {
		return 0 // DW_EH_PE_absptr
	}
	_, b = uleb(b) // code alignment
	_, b = sleb(b) // data alignment
	if version == 1 {
		if len(b) == 0 {
			return 0xff
		}
		b = b[1:]
	} else {
		_, b = uleb(b) // return register
	}
	_, b = uleb(b) // augmentation data length
	for _, c := range aug[1:] {
		switch c {
		case 'R':
			if len(b) == 0 {
				return 0xff
			}
			return b[0]
		case 'P':
			if len(b) == 0 {
				return 0xff
			}
			enc := b[0]
			_, n := readEncoded(b[1:], enc, 0)
			if n == 0 {
				return 0xff
			}
			b = b[1+n:]
		case 'L':
			if len(b) == 0 {
				return 0xff
			}
			b = b[1:]
		}
	}
	return 0
}

// readEncoded reads a DW_EH_PE-encoded pointer at pc (for pcrel) and
// returns it and its size (0: an encoding rewind does not read).
func readEncoded(b []byte, enc byte, pc uint64) (uint64, int) {
	le := binary.LittleEndian
	var v uint64
	var n int
	switch enc & 0x0f {
	case 0x00: // absptr
		if len(b) < 8 {
			return 0, 0
		}
		v, n = le.Uint64(b), 8
	case 0x03: // udata4
		if len(b) < 4 {
			return 0, 0
		}
		v, n = uint64(le.Uint32(b)), 4
	case 0x0b: // sdata4
		if len(b) < 4 {
			return 0, 0
		}
		v, n = uint64(int64(int32(le.Uint32(b)))), 4
	case 0x04, 0x0c: // udata8, sdata8
		if len(b) < 8 {
			return 0, 0
		}
		v, n = le.Uint64(b), 8
	default:
		return 0, 0
	}
	switch enc & 0x70 {
	case 0x00:
	case 0x10: // pcrel
		v += pc
	default:
		return 0, 0
	}
	return v, n
}

func uleb(b []byte) (uint64, []byte) {
	var v uint64
	for i, c := range b {
		v |= uint64(c&0x7f) << (7 * uint(i))
		if c&0x80 == 0 {
			return v, b[i+1:]
		}
	}
	return v, nil
}

func sleb(b []byte) (int64, []byte) {
	var v int64
	for i, c := range b {
		v |= int64(c&0x7f) << (7 * uint(i))
		if c&0x80 == 0 {
			if c&0x40 != 0 && i < 9 {
				v |= -1 << (7 * uint(i+1))
			}
			return v, b[i+1:]
		}
	}
	return v, nil
}
