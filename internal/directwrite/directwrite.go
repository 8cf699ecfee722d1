// Package directwrite writes to a connection's socket with one system call
// that does not wait.
//
// A goroutine that fans one frame out to many clients (a camera's
// publisher) uses it to write each client's socket itself instead of
// waking a goroutine per client: waking one costs more than the write.
// When the socket does not take everything at once, the caller hands the
// rest to a goroutine that may wait (with a write deadline), and keeps
// the bytes of the connection in order until that goroutine is done.
package directwrite

import (
	"crypto/tls"
	"fmt"
	"net"
	"syscall"
)

// Writer writes to one connection's socket without waiting. It is not
// safe for concurrent use, and must not be used while another goroutine
// writes the connection.
type Writer struct {
	rc syscall.RawConn
	fn func(fd uintptr) bool // write, made once: a method value allocates

	// The call in progress.
	p   []byte
	n   int
	err error
}

// Supported tells whether this platform writes directly; New returns nil
// where it does not.
const Supported = supported

// New returns a Writer for c's socket, looking through wrappers that tell
// what they wrap with a NetConn() method (as connlimit.Conn does). It
// returns nil when c has no file descriptor, is a TLS connection (whose
// socket must only carry records), or the platform has no direct writes.
// A wrapper that changes what is written must hide the socket: a type
// that embeds *net.TCPConn (and so its SyscallConn) but overrides Write
// would be bypassed.
func New(c net.Conn) *Writer {
	if !Supported {
		return nil
	}
	for c != nil {
		if sc, ok := c.(syscall.Conn); ok {
			rc, err := sc.SyscallConn()
			if err != nil {
				return nil
			}
			w := &Writer{rc: rc}
			w.fn = w.write
			return w
		}
		if _, ok := c.(*tls.Conn); ok {
			return nil
		}
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return nil
		}
		c = u.NetConn()
	}
	return nil
}

// Try writes what of p the socket takes at once. n < len(p) with a nil
// error means the socket is full. On an error nothing was written: the
// connection failed, or its write deadline has passed.
func (w *Writer) Try(p []byte) (int, error) {
	w.p, w.n, w.err = p, 0, nil
	err := w.rc.Write(w.fn)
	w.p = nil
	if err == nil {
		err = w.err
	}
	if err != nil {
		return 0, fmt.Errorf("direct write: %w", err)
	}
	return w.n, nil
}
