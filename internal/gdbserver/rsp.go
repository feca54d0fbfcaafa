// Package gdbserver serves a replay to a debugger over the GDB remote serial
// protocol, in the dialect gdb and delve already speak with rr: all-stop,
// extended-remote, rr's stop replies and qRRCmd. The replay engine calls the
// server whenever a task stops for the debugger; the server answers requests
// until the debugger resumes, and tells the engine how to go on.
package gdbserver

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// conn frames GDB remote protocol packets: $data#cs, with '+'/'-' acks
// until the client asks for no-ack mode, '}' escapes, and a raw 0x03 byte
// for an interrupt.
type conn struct {
	c     net.Conn
	r     *bufio.Reader
	w     *bufio.Writer
	noAck bool
	// watching is closed when the goroutine watching for a Ctrl-C (see
	// watch) has stopped; nil when none runs.
	watching chan struct{}
}

func newConn(c net.Conn) *conn {
	return &conn{c: c, r: bufio.NewReaderSize(c, 64*1024), w: bufio.NewWriterSize(c, 64*1024)}
}

// debugRSP, set by REWIND_DEBUG_RSP=1, logs every packet on stderr.
var debugRSP = os.Getenv("REWIND_DEBUG_RSP") == "1"

// errMalformed is a packet that could not be framed; the client gets '-'.
var errMalformed = errors.New("the debugger sent a packet over 1 MiB")

// watch reads what the client sends while the replay runs: in all-stop
// mode only a Ctrl-C (0x03), on which it calls interrupt. It stops at the
// start of a packet, left for readPacket, or when unwatch is called.
func (c *conn) watch(interrupt func()) {
	done := make(chan struct{})
	c.watching = done
	go func() {
		defer close(done)
		for {
			b, err := c.r.ReadByte()
			if err != nil {
				return // unwatch's deadline, or the client went away
			}
			switch b {
			case 0x03:
				interrupt()
			case '$':
				c.r.UnreadByte()
				return
			}
		}
	}()
}

// unwatch stops the goroutine watch started, before the server reads or
// writes again: an expired read deadline ends its read.
func (c *conn) unwatch() {
	if c.watching == nil {
		return
	}
	c.c.SetReadDeadline(time.Unix(1, 0))
	<-c.watching
	c.watching = nil
	c.c.SetReadDeadline(time.Time{})
}

// readPacket returns the next packet's payload (unescaped).
func (c *conn) readPacket() (string, error) {
	for {
		b, err := c.r.ReadByte()
		if err != nil {
			return "", err
		}
		switch b {
		case '+', '-':
			continue
		case 0x03:
			continue // a Ctrl-C that came after the stop it asked for
		case '$':
		default:
			continue // line noise between packets
		}
		var data []byte
		var sum byte
		for {
			b, err = c.r.ReadByte()
			if err != nil {
				return "", err
			}
			if b == '#' {
				break
			}
			sum += b
			if b == '}' {
				n, err := c.r.ReadByte()
				if err != nil {
					return "", err
				}
				sum += n
				b = n ^ 0x20
			}
			data = append(data, b)
			if len(data) > 1<<20 {
				return "", errMalformed
			}
		}
		var cs [2]byte
		if _, err := io.ReadFull(c.r, cs[:]); err != nil {
			return "", err
		}
		var want byte
		if _, err := fmt.Sscanf(string(cs[:]), "%02x", &want); err != nil || want != sum {
			if !c.noAck {
				c.c.Write([]byte{'-'})
			}
			continue
		}
		if !c.noAck {
			if _, err := c.c.Write([]byte{'+'}); err != nil {
				return "", err
			}
		}
		if debugRSP {
			fmt.Fprintf(os.Stderr, "rewind: rsp <- %q\n", data)
		}
		return string(data), nil
	}
}

// writePacket sends a packet and, before no-ack mode, waits for its ack.
func (c *conn) writePacket(data string) error {
	if debugRSP {
		fmt.Fprintf(os.Stderr, "rewind: rsp -> %q\n", data)
	}
	var sum byte
	var frame bytes.Buffer
	frame.WriteByte('$')
	for i := 0; i < len(data); i++ {
		b := data[i]
		if b == '$' || b == '#' || b == '}' || b == '*' {
			frame.WriteByte('}')
			sum += '}'
			b ^= 0x20
		}
		frame.WriteByte(b)
		sum += b
	}
	fmt.Fprintf(&frame, "#%02x", sum)
	// Before no-ack mode, a '-' asks for the packet again; a client that
	// never stops asking is given up on.
	for tries := 0; tries < maxResends; tries++ {
		c.w.Write(frame.Bytes())
		if err := c.w.Flush(); err != nil {
			return err
		}
		if c.noAck {
			return nil
		}
		nak := false
		for !nak {
			b, err := c.r.ReadByte()
			if err != nil {
				return err
			}
			switch b {
			case '+':
				return nil
			case '-':
				nak = true
			case 0x03:
			}
		}
	}
	return errTooManyNaks
}

// maxResends bounds how often a packet is sent again on '-'.
const maxResends = 64

var errTooManyNaks = fmt.Errorf("the debugger refused the same reply %d times", maxResends)
