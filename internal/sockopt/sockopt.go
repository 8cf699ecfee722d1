// Package sockopt holds the socket options that several of chinesium's
// sockets need, as net.ListenConfig and net.Dialer Control functions.
package sockopt

import "syscall"

// Control is the type of net.ListenConfig.Control and net.Dialer.Control.
type Control = func(network, address string, c syscall.RawConn) error

// Int returns a Control that sets the integer socket option level/name
// to value before bind or connect, failing the listen or dial if it
// cannot.
func Int(level, name, value int) Control {
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), level, name, value)
		}); err != nil {
			return err
		}
		return serr
	}
}

// ReuseAddr sets SO_REUSEADDR before bind, so several sockets can share one
// UDP port: the WS-Discovery group port, or the loopback broadcast address
// that all fake cameras answer on. Use it as net.ListenConfig.Control.
var ReuseAddr = Int(syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
