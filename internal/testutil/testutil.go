// Package testutil holds helpers shared by the tests of several packages:
// finding the external tools a test needs (required in CI, skipped
// locally) and a goroutine-safe buffer for child process output.
//
// It is imported by _test.go files only; production code must not import
// it (the package imports testing).
package testutil

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
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

// Runner runs a component's Run(ctx) in a goroutine of its own until Stop
// or the end of the test.
type Runner struct {
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// Go starts run(ctx) and stops it (see Runner.Stop) when the test ends.
func Go(t testing.TB, run func(context.Context) error) *Runner {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &Runner{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- run(ctx) }()
	t.Cleanup(func() { r.Stop(t) })
	return r
}

// Stop cancels run's context and waits for it to return nil: an error, or
// no return within 10 s, fails the test. It may be called more than once.
func (r *Runner) Stop(t testing.TB) {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10 s of cancel")
		}
	})
}

// SplitJPEGs cuts a raw MJPEG stream of whole frames at SOI markers that
// follow an EOI (inside entropy-coded data every FF is followed by 00).
func SplitJPEGs(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := bytes.Index(b, []byte{0xFF, 0xD9, 0xFF, 0xD8})
		if i < 0 {
			return append(out, b)
		}
		out = append(out, b[:i+2])
		b = b[i+2:]
	}
	return out
}
