//go:build !unix

package directwrite

import "errors"

const supported = false

func (w *Writer) write(uintptr) bool {
	w.err = errors.ErrUnsupported
	return true
}
