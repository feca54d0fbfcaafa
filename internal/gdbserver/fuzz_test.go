package gdbserver

import (
	"io"
	"net"
	"testing"
)

// FuzzReadPacket: whatever a client sends, the packet reader returns
// packets or an error, acknowledging as it goes, and never panics.
func FuzzReadPacket(f *testing.F) {
	for _, s := range []string{"$g#67", "+$qSupported:multiprocess+#c6", "$m}]0,4#00", "\x03", "$?#3f--$?#3f", "$vCont;c#a8"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		server, client := net.Pipe()
		defer server.Close()
		go func() {
			client.Write(in)
			client.Close()
		}()
		go io.Copy(io.Discard, client) // the acks
		c := newConn(server)
		for i := 0; i < 1000; i++ {
			if _, err := c.readPacket(); err != nil {
				return
			}
		}
	})
}
