package onvif

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/motion"
	"github.com/chinesium/chinesium/stream"
)

// TestEventsFromFakeCamera wires a fake camera, a real session, the motion detector
// and the events service the way the bridge does, and checks what a pull point sees:
// SignalLoss when the camera stops and comes back, motion when the picture moves.
func TestEventsFromFakeCamera(t *testing.T) {
	camIP := netip.MustParseAddr("127.0.6.50")
	s := newEventsServer(t, EventsConfig{}, nil)
	ev := s.ev

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })

	startCam := func() (*fakecam.Camera, context.CancelFunc) {
		t.Helper()
		cam, err := fakecam.New(fakecam.Config{IP: camIP, Name: "EVENTCAM", FPS: 15})
		if err != nil {
			t.Fatal(err)
		}
		cctx, ccancel := context.WithCancel(ctx)
		done := make(chan struct{})
		wg.Go(func() { defer close(done); _ = cam.Run(cctx) })
		return cam, func() { ccancel(); <-done }
	}
	cam, stopCam := startCam()

	hub := stream.NewHub()
	sess, err := camsession.New(camsession.Config{
		Camera: camIP, LocalIP: netip.MustParseAddr("127.0.6.51"), LocalPort: -1,
		OnFrame:     hub.Publish,
		OnState:     func(st camsession.State) { ev.SetSignalLoss(st != camsession.StateStreaming) },
		PortTimeout: 200 * time.Millisecond, MaxBackoff: 400 * time.Millisecond,
		MediaTimeout: 800 * time.Millisecond, LoginRetry: 300 * time.Millisecond, KeepAlive: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ev.SetSignalLoss(true) // no frames yet
	ev.SetMotion(false)
	det := motion.New(motion.Config{Rate: 6, Hold: time.Second, OnChange: ev.SetMotion})
	wg.Go(func() { _ = sess.Run(ctx) })
	wg.Go(func() { _ = det.Run(ctx, hub) })

	addr := s.createPullPoint(t, `<tev:InitialTerminationTime>PT120S</tev:InitialTerminationTime>`)
	// waitFor pulls until an event for topic with value arrives and returns it.
	waitFor := func(topic string, value bool, within time.Duration) event {
		t.Helper()
		deadline := time.Now().Add(within)
		for time.Now().Before(deadline) {
			for _, e := range s.pull(t, addr, "PT1S", 32) {
				if e.topic == topic && e.value == value {
					return e
				}
			}
		}
		t.Fatalf("no %s=%v event within %v (session %v)", topic, value, within, sess.State())
		return event{}
	}

	if e := waitFor(TopicSignalLoss, false, 10*time.Second); e.op != PropertyChanged && e.op != PropertyInitialized {
		t.Errorf("signal back: %+v", e)
	}
	// Still frames: no motion for a while.
	time.Sleep(1500 * time.Millisecond)
	for _, e := range s.pull(t, addr, "PT0S", 32) {
		if (e.topic == TopicMotionAlarm || e.topic == TopicCellMotion) && e.value {
			t.Fatalf("motion on a still picture: %+v", e)
		}
	}

	// Moving picture: both motion topics turn true, then false after the hold time.
	cam.SetMotion(true)
	waitFor(TopicCellMotion, true, 5*time.Second)
	if v, _ := ev.State(TopicMotionAlarm); !v {
		t.Error("MotionAlarm not set with CellMotion")
	}
	cam.SetMotion(false)
	stillSince := time.Now()
	waitFor(TopicCellMotion, false, 5*time.Second)
	if el := time.Since(stillSince); el < time.Second {
		t.Errorf("motion ended %v after the picture stopped, before the 1s hold", el)
	}

	// The camera stops: SignalLoss turns true; it comes back: false.
	stopCam()
	lostAt := time.Now()
	if e := waitFor(TopicSignalLoss, true, 10*time.Second); e.op != PropertyChanged || e.source["Source"] != VideoSourceToken {
		t.Errorf("signal loss event %+v", e)
	}
	t.Logf("signal loss reported %v after the camera stopped", time.Since(lostAt))
	_, stopCam = startCam()
	defer stopCam()
	if e := waitFor(TopicSignalLoss, false, 15*time.Second); e.op != PropertyChanged {
		t.Errorf("signal back event %+v", e)
	}
}
