package directwrite

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// pair returns both ends of a TCP connection on loopback.
func pair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.38.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// wrapper is a net.Conn wrapper that tells what it wraps, as
// connlimit.Conn does.
type wrapper struct{ net.Conn }

func (w wrapper) NetConn() net.Conn { return w.Conn }

func TestNew(t *testing.T) {
	if !Supported {
		t.Skip("no direct writes on this platform")
	}
	c, _ := pair(t)
	if New(c) == nil {
		t.Error("New(*net.TCPConn) = nil")
	}
	if New(wrapper{wrapper{c}}) == nil {
		t.Error("New through two NetConn wrappers = nil")
	}
	if New(tls.Client(c, &tls.Config{})) != nil {
		t.Error("New(*tls.Conn) would write past TLS")
	}
	if New(struct{ net.Conn }{c}) != nil {
		t.Error("New of a wrapper that hides what it wraps")
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if New(a) != nil {
		t.Error("New(net.Pipe) has no descriptor")
	}
}

// TestTry: the bytes written arrive in order; a full socket takes a part
// or nothing, with no error; a passed deadline and a closed peer are
// errors with nothing written.
func TestTry(t *testing.T) {
	if !Supported {
		t.Skip("no direct writes on this platform")
	}
	c, s := pair(t)
	w := New(wrapper{c})
	msg := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	var sent []byte
	full := false
	for range 1000 {
		n, err := w.Try(msg)
		if err != nil {
			t.Fatalf("Try: %v", err)
		}
		sent = append(sent, msg[:n]...)
		if n < len(msg) {
			full = true
			break
		}
	}
	if !full {
		t.Fatalf("the socket took %d bytes without filling", len(sent))
	}
	// The socket is full: the next Try takes nothing, and says nothing
	// is wrong.
	if n, err := w.Try(msg); n != 0 || err != nil {
		// The peer's kernel may have drained a little in between.
		sent = append(sent, msg[:n]...)
		if err != nil {
			t.Fatalf("Try on a full socket: %v", err)
		}
	}
	got := make([]byte, len(sent))
	if _, err := io.ReadFull(s, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, sent) {
		t.Fatal("the bytes read are not the bytes written")
	}

	if err := c.SetWriteDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Try(msg[:10]); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Try after the deadline = %d, %v; want 0, deadline exceeded", n, err)
	}
	if err := c.SetWriteDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Try([]byte("x")); n != 1 || err != nil {
		t.Fatalf("Try after clearing the deadline = %d, %v", n, err)
	}
	one := make([]byte, 1)
	if _, err := io.ReadFull(s, one); err != nil || one[0] != 'x' {
		t.Fatalf("read %q, %v", one, err)
	}

	s.Close()
	var err error
	for range 100 { // the first write after the peer closed may still go out
		if _, err = w.Try(msg[:100]); err != nil {
			break
		}
	}
	if err == nil {
		t.Fatal("Try to a closed peer never failed")
	}
}
