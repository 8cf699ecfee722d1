package rtsp

import (
	"fmt"
	"runtime/debug"
)

// panicError is a panic recovered in one of the server's goroutines (a
// session writer, a track producer), returned as an error so the
// goroutine's owner can end just that session or restart just that track.
type panicError struct {
	value any
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }

// recovered logs a panic value v, recovered by the caller's deferred
// function, at error level with the goroutine's stack, and returns it as a
// *panicError. args are extra slog attributes (which session or track).
func (s *Server) recovered(msg string, v any, args ...any) error {
	args = append(args, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	s.log.Error(msg, args...)
	return &panicError{value: v}
}
