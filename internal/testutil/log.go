package testutil

import (
	"log/slog"
	"strings"
	"testing"
)

// Logger returns a logger that writes warnings and errors to the test's
// log (-v shows them, a failure shows them too).
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(LogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// LogWriter writes each Write, trimmed, to the test's log: the standard
// error of a child process, or a logger's output.
type LogWriter struct{ T testing.TB }

// Write logs b.
func (w LogWriter) Write(b []byte) (int, error) {
	w.T.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
