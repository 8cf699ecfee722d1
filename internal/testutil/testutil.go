// Package testutil holds helpers shared by the tests of several packages:
// finding the external tools a test needs (required in CI, skipped
// locally) and a goroutine-safe buffer for child process output.
//
// It is imported by _test.go files only; production code must not import
// it (the package imports testing).
package testutil

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
)

// InCI reports whether the tests run in CI (environment CI=true), where
// every external tool is installed and a missing one is an error.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable stops the test because something it needs is missing: it
// fails in CI and skips locally, with the formatted message either way.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("required in CI: %s", msg)
	}
	t.Skip(msg)
}

// NeedTool returns the path of the external program name (ffmpeg,
// ffprobe, curl, ...). A missing program fails the test in CI and skips
// it locally.
func NeedTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "%s not installed: %v", name, err)
	}
	return p
}

// SyncBuffer is a bytes.Buffer that a child process (or any goroutine) may
// write while the test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p to the buffer.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
