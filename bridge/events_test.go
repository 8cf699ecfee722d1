package bridge

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/onvif"
)

// TestEventsThroughBridge subscribes to a camera's events service on the bridge and
// checks what an NVR sees: SignalLoss false while the fake camera streams, motion
// true when its picture moves and false after the hold time, SignalLoss true when the
// camera stops and false when it is back.
func TestEventsThroughBridge(t *testing.T) {
	camIP := netip.MustParseAddr("127.0.6.60")
	startCam := func() (*fakecam.Camera, func()) {
		return runFakeCam(t, fakecam.Config{IP: camIP, Name: "EVENTS", FPS: 15, Logger: testutil.Logger(t)})
	}
	cam, stopCam := startCam()
	defer func() { stopCam() }()

	cfg := testConfig(t, t.TempDir(), camIP.String())
	quick := cfg.Session
	cfg.Session = func(c *camsession.Config) { quick(c); c.MediaTimeout = time.Second }
	b := startBridge(t, cfg)
	c := b.Cameras()[0]

	if status, _ := soapRequest(t, eventsURL(c), "", "", `<tev:CreatePullPointSubscription/>`); status != http.StatusUnauthorized {
		t.Errorf("CreatePullPointSubscription without credentials: HTTP %d, want 401", status)
	}
	addr := createPullPoint(t, c, "PT120S")
	if status, _ := soapRequest(t, addr, "", "", `<tev:PullMessages><tev:Timeout>PT1S</tev:Timeout><tev:MessageLimit>1</tev:MessageLimit></tev:PullMessages>`); status != http.StatusUnauthorized {
		t.Errorf("PullMessages without credentials: HTTP %d, want 401", status)
	}

	waitFor := func(topic string, value bool, within time.Duration) pulledEvent {
		t.Helper()
		deadline := time.Now().Add(within)
		for time.Now().Before(deadline) {
			for _, e := range pullEvents(t, addr) {
				if e.topic == topic && e.value == value {
					return e
				}
			}
		}
		t.Fatalf("no %s=%v within %v", topic, value, within)
		return pulledEvent{}
	}
	waitFor(onvif.TopicSignalLoss, false, 10*time.Second)
	cam.SetMotion(true)
	waitFor(onvif.TopicCellMotion, true, 5*time.Second)
	if v, _ := c.Events().State(onvif.TopicMotionAlarm); !v {
		t.Error("MotionAlarm not true with CellMotion")
	}
	cam.SetMotion(false)
	waitFor(onvif.TopicCellMotion, false, 10*time.Second)
	stopCam()
	if e := waitFor(onvif.TopicSignalLoss, true, 10*time.Second); e.op != onvif.PropertyChanged {
		t.Errorf("signal loss %+v", e)
	}
	cam, stopCam = startCam()
	waitFor(onvif.TopicSignalLoss, false, 15*time.Second)
	_ = cam
}

// TestEventsWithNodeClient follows a camera's events with the npm onvif package
// (agsh/onvif's cam.on('event') pull point loop): it gets the initial states, then
// the motion when the fake camera's picture moves.
func TestEventsWithNodeClient(t *testing.T) {
	node := needOnvifNPM(t)
	cam, c := startCamera(t, "127.0.6.62", nil)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	lines := nodeLines(ctx, t, node, "events_client.js", c)
	type nodeEvent struct {
		Topic, Op, Name string
		Value           bool
	}
	next := func(want func(nodeEvent) bool, what string) nodeEvent {
		t.Helper()
		var e nodeEvent
		nextLine(t, lines, 20*time.Second, "node client", what, func(line string) bool {
			t.Logf("node client: %s", line)
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("node client printed %q", line)
			}
			return want(e)
		})
		return e
	}
	seen := map[string]bool{}
	for len(seen) < 3 {
		e := next(func(e nodeEvent) bool { return e.Op == onvif.PropertyInitialized }, "Initialized events")
		seen[e.Topic] = true
		if strings.HasSuffix(e.Topic, "CellMotionDetector/Motion") && (e.Name != "IsMotion" || e.Value) {
			t.Errorf("initial cell motion %+v", e)
		}
	}
	cam.SetMotion(true)
	e := next(func(e nodeEvent) bool { return strings.HasSuffix(e.Topic, "CellMotionDetector/Motion") && e.Value }, "motion event")
	if e.Op != onvif.PropertyChanged {
		t.Errorf("motion event %+v", e)
	}
}

// TestNoMotion: with motion detection off no frame is decoded and the motion events
// stay false while the picture moves.
func TestNoMotion(t *testing.T) {
	cam, c := startCamera(t, "127.0.6.64", func(cfg *Config) { cfg.NoMotion = true })
	cam.SetMotion(true)
	time.Sleep(time.Second)
	if st := c.ev.motion.Stats(); st.Analysed != 0 {
		t.Errorf("motion detection off, yet %d frames analysed", st.Analysed)
	}
	if v, ok := c.Events().State(onvif.TopicCellMotion); !ok || v {
		t.Errorf("cell motion %v (set %v), want false", v, ok)
	}
}
