package gdbserver

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
)

// pipe is a server conn and the client's end of a loopback TCP
// connection (buffered, with half-close, as a debugger's is).
func pipe(t *testing.T) (*conn, *net.TCPConn, func() []byte) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return newConn(server), client.(*net.TCPConn), nil
}

// sent collects what the server writes to the client until it is closed.
func sent(client *net.TCPConn) func() []byte {
	var mu sync.Mutex
	var got bytes.Buffer
	done := make(chan struct{})
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := client.Read(b)
			mu.Lock()
			got.Write(b[:n])
			mu.Unlock()
			if err != nil {
				close(done)
				return
			}
		}
	}()
	return func() []byte {
		<-done
		mu.Lock()
		defer mu.Unlock()
		return got.Bytes()
	}
}

func TestReadPacketFraming(t *testing.T) {
	c, client, _ := pipe(t)
	acks := sent(client)
	go func() {
		// Noise and acks before a packet; an escaped '}' '#' '$' '*'
		// (0x5d 0x03 0x04 0x0a after '}'); a bad checksum, which is
		// refused; then a good packet; then a Ctrl-C between packets.
		client.Write([]byte("++x\x03$X1,4:}]}\x03}\x04}\x0a#"))
		client.Write([]byte(checksum("X1,4:}]}\x03}\x04}\x0a")))
		client.Write([]byte("$g#00$g#67"))
		client.CloseWrite()
	}()
	p, err := c.readPacket()
	if err != nil || p != "X1,4:}#$*" {
		t.Fatalf("escaped packet: %q, %v", p, err)
	}
	if p, err = c.readPacket(); err != nil || p != "g" {
		t.Fatalf("after a bad checksum: %q, %v", p, err)
	}
	if _, err := c.readPacket(); err != io.EOF {
		t.Fatalf("at the end: %v", err)
	}
	c.c.Close()
	if got := string(acks()); got != "+-+" {
		t.Fatalf("acks %q, want +-+ (good, refused, good)", got)
	}
}

func checksum(payload string) string {
	var sum byte
	for i := 0; i < len(payload); i++ {
		sum += payload[i]
	}
	const hex = "0123456789abcdef"
	return string([]byte{hex[sum>>4], hex[sum&15]})
}

func TestWritePacketEscapesAndResends(t *testing.T) {
	c, client, _ := pipe(t)
	frames := make(chan []byte, 1)
	go func() {
		var got []byte
		b := make([]byte, 256)
		n, _ := client.Read(b) // the first send
		got = append(got, b[:n]...)
		client.Write([]byte("-")) // ask again
		n, _ = client.Read(b)
		got = append(got, b[:n]...)
		client.Write([]byte("+"))
		frames <- got
	}()
	if err := c.writePacket("a$b#c}d*e"); err != nil {
		t.Fatal(err)
	}
	want := "$a}\x04b}\x03c}]d}\x0ae#" + checksum("a}\x04b}\x03c}]d}\x0ae")
	if got := string(<-frames); got != want+want {
		t.Fatalf("frames %q, want %q twice", got, want)
	}
}

func TestNoAckMode(t *testing.T) {
	c, client, _ := pipe(t)
	c.noAck = true
	acks := sent(client)
	go func() {
		client.Write([]byte("$?#3f$?#00"))
		client.CloseWrite()
	}()
	if p, err := c.readPacket(); err != nil || p != "?" {
		t.Fatalf("%q, %v", p, err)
	}
	// A bad checksum in no-ack mode is dropped without a '-'.
	if _, err := c.readPacket(); err != io.EOF {
		t.Fatalf("after a bad packet: %v", err)
	}
	c.c.Close()
	if got := acks(); len(got) != 0 {
		t.Fatalf("no-ack mode sent %q", got)
	}
}

// TestWatchInterrupt: while the replay runs, a 0x03 calls the interrupt;
// a packet that follows is left whole for readPacket once unwatch returns.
func TestWatchInterrupt(t *testing.T) {
	c, client, _ := pipe(t)
	interrupted := make(chan struct{}, 4)
	c.watch(func() { interrupted <- struct{}{} })
	if _, err := client.Write([]byte{0x03}); err != nil {
		t.Fatal(err)
	}
	<-interrupted
	go client.Write([]byte("$?#3f"))
	go io.Copy(io.Discard, client) // the ack
	// The watcher stops at the '$'; unwatch then returns at once.
	<-c.watching
	c.unwatch()
	if p, err := c.readPacket(); err != nil || p != "?" {
		t.Fatalf("packet after the interrupt: %q, %v", p, err)
	}
	// unwatch also ends a watcher that is blocked reading.
	c.watch(func() { t.Error("interrupt without a 0x03") })
	c.unwatch()
	if c.watching != nil {
		t.Fatal("watcher still registered")
	}
}
