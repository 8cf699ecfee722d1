//go:build !unix

package stream

import "errors"

// canWriteDirect tells whether direct delivery is built in: not here.
const canWriteDirect = false

func (d *directWriter) write(uintptr) bool {
	d.err = errors.ErrUnsupported
	return true
}
