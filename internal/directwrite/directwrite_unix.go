//go:build unix

package directwrite

import (
	"errors"
	"syscall"
)

const supported = true

// write is Try's one attempt on the socket (the descriptor is
// non-blocking, as all of Go's).
func (w *Writer) write(fd uintptr) bool {
	for {
		n, err := syscall.Write(int(fd), w.p)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN):
			// Full: nothing written.
		case err != nil:
			w.err = err
		default:
			w.n = n
		}
		return true
	}
}
