//go:build unix

package stream

import (
	"errors"
	"syscall"
)

// canWriteDirect tells whether direct delivery is built in.
const canWriteDirect = true

// write is try's one attempt on the socket (the descriptor is
// non-blocking, as all of Go's).
func (d *directWriter) write(fd uintptr) bool {
	for {
		n, err := syscall.Write(int(fd), d.p)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN):
			// Full: nothing written.
		case err != nil:
			d.err = err
		default:
			d.n = n
		}
		return true
	}
}
