// Package camtest runs fake cameras (camsession/fakecam) for the tests of
// several packages: each in a goroutine of its own until the test ends,
// and able to go away and come back (Stop, then Start).
//
// It is imported by _test.go files only. It is a package of its own, not
// part of internal/testutil, because it imports camsession, whose tests
// must not import what imports it.
package camtest

import (
	"context"
	"sync"
	"testing"

	"github.com/chinesium/chinesium/camsession/fakecam"
)

// Camera is a fake camera that runs in a goroutine of its own.
type Camera struct {
	*fakecam.Camera
	mu     sync.Mutex
	cancel context.CancelFunc // nil while stopped
	done   chan struct{}
}

// Start makes a fake camera of cfg and runs it until the test ends (or
// Stop). A camera that cannot be made fails the test.
func Start(t testing.TB, cfg fakecam.Config) *Camera {
	t.Helper()
	cam, err := fakecam.New(cfg)
	if err != nil {
		t.Fatalf("fake camera %s: %v", cfg.IP, err)
	}
	c := &Camera{Camera: cam}
	c.Start()
	t.Cleanup(c.Stop)
	return c
}

// Start runs a stopped camera again (its sockets bound anew, as after a
// reboot); it does nothing while the camera runs.
func (c *Camera) Start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	c.cancel, c.done = cancel, done
	go func() { defer close(done); _ = c.Run(ctx) }()
}

// Stop ends the camera and waits until it has; it may be called more than
// once.
func (c *Camera) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
		<-c.done
		c.cancel = nil
	}
}
