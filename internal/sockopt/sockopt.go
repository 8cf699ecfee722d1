// Package sockopt holds the socket options that several of chinesium's
// listeners need, as net.ListenConfig Control functions.
package sockopt

import "syscall"

// ReuseAddr sets SO_REUSEADDR before bind, so several sockets can share one
// UDP port: the WS-Discovery group port, or the loopback broadcast address
// that all fake cameras answer on. Use it as net.ListenConfig.Control.
func ReuseAddr(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	}); err != nil {
		return err
	}
	return serr
}
