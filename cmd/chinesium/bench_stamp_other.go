//go:build !linux

package main

import (
	"net"
	"syscall"
	"time"
)

// stampedConn reads a connection and, without the kernel's receive
// timestamps, takes the time of each Read as when its bytes came.
type stampedConn struct {
	net.Conn
	written time.Time
}

func stampDial(_, _ string, _ syscall.RawConn) error { return nil }

func newStampedConn(c net.Conn) (*stampedConn, error) { return &stampedConn{Conn: c}, nil }

func (s *stampedConn) Read(p []byte) (int, error) {
	n, err := s.Conn.Read(p)
	s.written = time.Now()
	return n, err
}
