package main

import (
	"errors"
	"io"
	"net"
	"syscall"
	"time"
	"unsafe"

	"github.com/chinesium/chinesium/internal/sockopt"
)

// stampedConn reads a TCP connection with the kernel's receive timestamps
// (SO_TIMESTAMPNS): written tells when the newest bytes of the last Read
// came into the socket, the moment the sender's write put them there,
// before this process was scheduled to read them.
type stampedConn struct {
	rc      syscall.RawConn
	oob     []byte
	written time.Time
}

// stampDial is a net.Dialer's Control that asks for receive timestamps.
var stampDial = sockopt.Int(syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)

// newStampedConn reads c, dialed with stampDial.
func newStampedConn(c net.Conn) (*stampedConn, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, errors.New("bench: no socket to read with timestamps")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &stampedConn{rc: rc, oob: make([]byte, syscall.CmsgSpace(int(unsafe.Sizeof(syscall.Timespec{}))))}, nil
}

func (s *stampedConn) Read(p []byte) (int, error) {
	var n, oobn int
	var rerr error
	err := s.rc.Read(func(fd uintptr) bool {
		n, oobn, _, _, rerr = syscall.Recvmsg(int(fd), p, s.oob, 0)
		return rerr != syscall.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, io.EOF
	}
	s.written = time.Time{}
	if msgs, perr := syscall.ParseSocketControlMessage(s.oob[:oobn]); perr == nil {
		for _, m := range msgs {
			if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SO_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(syscall.Timespec{})) {
				ts := (*syscall.Timespec)(unsafe.Pointer(&m.Data[0]))
				s.written = time.Unix(ts.Unix())
			}
		}
	}
	if s.written.IsZero() {
		s.written = time.Now()
	}
	return n, nil
}
