package fault

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"math"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/chinesium/chinesium/bridge"
	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/internal/testutil/camtest"
	"github.com/chinesium/chinesium/onvif"
)

// long selects the long form of the suite: a 30 s camera outage and a
// 10-minute soak instead of 5 s and 30 s.
var long = flag.Bool("soak.long", false, "run the long form of the fault and soak suite")

const (
	user, password = "admin", "secret"
	packetSize     = 1032 // the fake camera's default, named for the relay
)

// sentFrames records every frame a fake camera sent.
type sentFrames struct {
	mu      sync.Mutex
	bySeq   map[uint64][]byte
	byIndex map[uint16]fakecam.FrameSent
	last    uint64
	// lastIndex is the wire index of the last frame.
	lastIndex uint16
}

// newSentFrames returns a record of the frames sent; without keep it
// holds only the last sequence number and index, so that a long run does
// not grow the test's own heap.
func newSentFrames(keep bool) *sentFrames {
	s := &sentFrames{}
	if keep {
		s.bySeq, s.byIndex = map[uint64][]byte{}, map[uint16]fakecam.FrameSent{}
	}
	return s
}

func (s *sentFrames) add(f fakecam.FrameSent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bySeq != nil {
		s.bySeq[f.Seq] = f.JPEG
		s.byIndex[f.Index] = f
	}
	s.last, s.lastIndex = f.Seq, f.Index
}

func (s *sentFrames) size(index uint16) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.byIndex[index]
	return len(f.JPEG), ok
}

func (s *sentFrames) seqOf(index uint16) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byIndex[index].Seq
}

func (s *sentFrames) lastSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func (s *sentFrames) jpeg(seq uint64) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bySeq[seq]
	return b, ok
}

// camera is a fake camera that can be stopped and started again, with
// the frames it sent.
type camera struct {
	*camtest.Camera
	sent *sentFrames
}

// startCamera runs a fake camera until the test ends; keep records every
// frame it sends (see newSentFrames).
func startCamera(t testing.TB, cfg fakecam.Config, keep bool) *camera {
	t.Helper()
	sent := newSentFrames(keep)
	cfg.OnFrame = sent.add
	cfg.PacketSize = packetSize
	return &camera{Camera: camtest.Start(t, cfg), sent: sent}
}

// startBridge runs a bridge for cameras, with the session timings a user
// gets, until the test ends, and returns its cameras.
func startBridge(t testing.TB, bind netip.Addr, cameras []bridge.CameraConfig, mod func(*bridge.Config)) []*bridge.Camera {
	t.Helper()
	cfg := bridge.Config{
		Bind:     bind,
		RTSPPort: bridge.AnyPort,
		NoAdmin:  true,
		NoMotion: true,
		// The suite's RTSP clients send Basic credentials.
		RTSPBasicAuth: true,
		Users:         []onvif.User{{Name: user, Password: password, Level: onvif.LevelAdministrator}},
		StateDir:      t.TempDir(),
		Logger:        testutil.Logger(t),
		Cameras:       cameras,
		Session:       func(c *camsession.Config) { c.LocalPort = -1 },
	}
	if mod != nil {
		mod(&cfg)
	}
	b, err := bridge.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("bridge Close: %v", err)
		}
	})
	return b.Cameras()
}

// delivered is one frame a viewer received.
type delivered struct {
	jpeg []byte // nil unless the viewer keeps frames
	seq  uint64 // the fake camera's sequence number, 0 if none
	at   time.Time
}

// viewer is an HTTP MJPEG client that keeps every frame it receives.
type viewer struct {
	mu     sync.Mutex
	frames []delivered
	err    error
	cancel context.CancelFunc
	done   chan struct{}
}

// watch starts a viewer of url; keep keeps the frames' bytes, not only
// their sequence numbers.
func watch(t testing.TB, url string, keep bool) *viewer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK || err != nil || params["boundary"] == "" {
		resp.Body.Close()
		cancel()
		t.Fatalf("MJPEG: %s, %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	v := &viewer{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(v.done)
		defer resp.Body.Close()
		mr := multipart.NewReader(resp.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == nil {
				var b []byte
				if b, err = io.ReadAll(p); err == nil {
					d := delivered{at: time.Now()}
					_, d.seq, _ = fakecam.FrameSeq(b)
					if keep {
						d.jpeg = b
					}
					v.mu.Lock()
					v.frames = append(v.frames, d)
					v.mu.Unlock()
					continue
				}
			}
			v.mu.Lock()
			v.err = err
			v.mu.Unlock()
			return
		}
	}()
	t.Cleanup(v.close)
	return v
}

func (v *viewer) close() {
	v.cancel()
	<-v.done
}

func (v *viewer) snapshot() ([]delivered, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]delivered(nil), v.frames...), v.err
}

// waitFor polls cond until it holds; after d it fails the test with what.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("after %v: %s", d, what)
		}
	}
}

// firstFrameAfter waits for the viewer's first frame of a sequence number
// above seq and returns when it arrived.
func (v *viewer) firstFrameAfter(t testing.TB, d time.Duration, seq uint64) time.Time {
	t.Helper()
	var at time.Time
	waitFor(t, d, fmt.Sprintf("no frame after seq %d", seq), func() bool {
		fs, _ := v.snapshot()
		for _, f := range fs {
			if f.seq > seq {
				at = f.at
				return true
			}
		}
		return false
	})
	return at
}

// scenario is one fault: the camera's own impairments, the relay's, and an
// event during the run.
type scenario struct {
	name               string
	loss, dup, reorder float64
	late               float64 // relay: late copies of packets of old frames
	small              bool    // frames of a few packets, so that some survive heavy loss
	garbage, stray     bool    // relay: garbage from the camera's address, media from another IP
	event              func(t *testing.T, r *rig) (what string, recovery time.Duration)
}

// rig is one scenario's camera, relay, bridge and viewer.
type rig struct {
	cam    *camera
	relay  *relay
	viewer *viewer
}

func TestFaultFramesDeliveredEqualWhole(t *testing.T) {
	away := 5 * time.Second
	if *long {
		away = 30 * time.Second
	}
	scenarios := []scenario{
		{name: "loss1", loss: 0.01},
		{name: "loss5", loss: 0.05},
		{name: "loss20", loss: 0.20, small: true},
		{name: "duplicate", dup: 0.05},
		{name: "reorder", reorder: 0.05},
		{name: "late", late: 0.05},
		{name: "garbage", garbage: true},
		{name: "stray", stray: true},
		{name: "mixed", loss: 0.02, dup: 0.02, reorder: 0.02, late: 0.02, garbage: true, stray: true},
		{name: "reboot", event: reboot},
		{name: "away", event: func(t *testing.T, r *rig) (string, time.Duration) { return awayFor(t, r, away) }},
	}
	for i, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			runScenario(t, sc, i)
		})
	}
}

func runScenario(t *testing.T, sc scenario, i int) {
	// Each scenario has its own addresses: relay 127.0.32.(10+2i), camera
	// the next one, forged media from 127.0.34.(10+i).
	relayIP := netip.AddrFrom4([4]byte{127, 0, 32, byte(10 + 2*i)})
	camIP := relayIP.Next()
	strayIP := netip.AddrFrom4([4]byte{127, 0, 34, byte(10 + i)})
	cfg := fakecam.Config{
		IP: camIP, FPS: 15, Loss: sc.loss, Duplicate: sc.dup, Reorder: sc.reorder,
		Seed: int64(i + 1), Logger: testutil.Logger(t),
	}
	if sc.small {
		cfg.Frames = [][]byte{smallJPEG(t)}
	}
	cam := startCamera(t, cfg, true)
	rl := newRelay(t, relayIP, camIP, strayIP, packetSize, cam.sent.size)
	rl.lateP.Store(math.Float64bits(sc.late))
	c := startBridge(t, netip.AddrFrom4([4]byte{127, 0, 32, 1}),
		[]bridge.CameraConfig{{IP: relayIP, HTTPPort: bridge.AnyPort, NoH264: true}}, nil)[0]
	v := watch(t, c.MJPEGURL("127.0.32.1"), true)
	r := &rig{cam: cam, relay: rl, viewer: v}

	// Ready: the viewer has a frame.
	waitFor(t, 30*time.Second, "the viewer got no frame", func() bool {
		fs, _ := v.snapshot()
		return len(fs) > 0
	})
	ctx, stopNoise := context.WithCancel(context.Background())
	var noise sync.WaitGroup
	if sc.garbage {
		noise.Go(func() { r.garbage(ctx, cam) })
	}
	if sc.stray {
		noise.Go(func() { r.stray(ctx, t, cam) })
	}
	start := cam.sent.lastSeq()
	frames := 120 // 8 s at 15 fps
	var what string
	var recovery time.Duration
	if sc.event != nil {
		what, recovery = sc.event(t, r)
		start = cam.sent.lastSeq()
		frames = 45
	}
	waitFor(t, 60*time.Second, "the camera stopped sending", func() bool { return cam.sent.lastSeq() >= start+uint64(frames) })
	stopNoise()
	noise.Wait()
	cam.Stop()

	// Every frame that reached the bridge whole reaches the viewer: wait
	// for the last one (the viewer may need a moment to catch up).
	whole, forwarded := rl.wholeFrames()
	var lastWhole uint64
	for _, idx := range whole {
		lastWhole = max(lastWhole, cam.sent.seqOf(idx))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		fs, _ := v.snapshot()
		var top uint64
		for _, f := range fs {
			top = max(top, f.seq)
		}
		if top >= lastWhole || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	fs, verr := v.snapshot()
	if len(fs) == 0 {
		t.Fatalf("the viewer got no frame (%v)", verr)
	}

	// Compare what the viewer got with what arrived whole, from the
	// viewer's first frame on.
	var first uint64
	got := map[uint64]bool{}
	var corrupt, dupes, backwards int
	var prev uint64
	for _, f := range fs {
		_, s, ok := fakecam.FrameSeq(f.jpeg)
		want, sent := cam.sent.jpeg(s)
		if !ok || !sent || !bytes.Equal(f.jpeg, want) {
			corrupt++
			continue
		}
		if first == 0 {
			first = s
		}
		switch {
		case got[s]:
			dupes++
		case s < prev:
			backwards++
		}
		got[s] = true
		prev = s
	}
	wholeSet := map[uint64]bool{}
	var missing []uint64
	for _, idx := range whole {
		s := cam.sent.seqOf(idx)
		if s < first {
			continue
		}
		wholeSet[s] = true
		if !got[s] {
			missing = append(missing, s)
		}
	}
	var notWhole []uint64
	for s := range got {
		if s > first && !wholeSet[s] {
			notWhole = append(notWhole, s)
		}
	}
	t.Logf("%s: camera sent %d frames, %d video packets forwarded (%d late copies); %d arrived whole since the viewer's first, %d delivered, %d corrupt, %d duplicated, %d backwards",
		sc.name, cam.sent.lastSeq(), forwarded, rl.lateSent(), len(wholeSet), len(got), corrupt, dupes, backwards)
	if what != "" {
		t.Logf("%s: recovery after %s: %v", sc.name, what, recovery.Round(time.Millisecond))
	}
	if corrupt > 0 || dupes > 0 || backwards > 0 {
		t.Errorf("%d corrupt, %d duplicated, %d out-of-order frames delivered", corrupt, dupes, backwards)
	}
	if len(missing) > 0 {
		t.Errorf("%d frames arrived whole but never reached the viewer: seq %v", len(missing), missing[:min(len(missing), 20)])
	}
	if len(notWhole) > 0 {
		t.Errorf("%d frames delivered that never arrived whole: seq %v", len(notWhole), notWhole[:min(len(notWhole), 20)])
	}
	if sc.late > 0 && rl.lateSent() == 0 {
		t.Errorf("no late packet sent: the scenario proves nothing")
	}
	if len(wholeSet) == 0 {
		t.Errorf("no frame arrived whole: the scenario proves nothing")
	}
}

// reboot moves the camera to a new data port, as a reboot does, and
// returns how long the viewer waited for the next frame.
func reboot(t *testing.T, r *rig) (string, time.Duration) {
	last := r.cam.sent.lastSeq()
	at := time.Now()
	if err := r.cam.SetDataPort(0); err != nil {
		t.Fatal(err)
	}
	got := r.viewer.firstFrameAfter(t, 60*time.Second, last)
	return "a reboot onto a new data port", got.Sub(at)
}

// awayFor takes the camera away for d and returns how long after its
// return the viewer waited for the next frame.
func awayFor(t *testing.T, r *rig, d time.Duration) (string, time.Duration) {
	r.cam.Stop()
	last := r.cam.sent.lastSeq()
	// The camera is away for d: that is the fault itself, not a wait for
	// something to happen.
	time.Sleep(d)
	back := time.Now()
	r.cam.Start()
	got := r.viewer.firstFrameAfter(t, 60*time.Second, last)
	return fmt.Sprintf("%v away", d), got.Sub(back)
}

// garbage sends bursts of datagrams the bridge must drop from the camera's
// own data port: random bytes, truncated media packets and media headers
// whose lengths do not add up.
func (r *rig) garbage(ctx context.Context, cam *camera) {
	rng := rand.New(rand.NewPCG(3, 4))
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		to, from, ok := r.relay.bridgeData(uint16(cam.DataPort()))
		if !ok {
			continue
		}
		for range 20 {
			var b []byte
			switch rng.IntN(3) {
			case 0:
				b = make([]byte, 1+rng.IntN(1500))
				for i := range b {
					b[i] = byte(rng.Uint32())
				}
			case 1: // a media packet cut short: data_len promises more
				full := camsession.AppendMedia(nil, camsession.Media{Frame: uint16(rng.Uint32()), Payload: make([]byte, 1000)}, nil)
				b = full[:8+rng.IntN(len(full)-8)]
			default: // payload_len beyond data_len
				b = camsession.AppendMedia(nil, camsession.Media{Frame: uint16(rng.Uint32()), Payload: make([]byte, 100)}, nil)
				b[20], b[21] = 0xff, 0xff
			}
			_, _ = from.WriteToUDPAddrPort(b, to)
		}
	}
}

// stray sends well-formed media packets from another IP to the bridge's
// media port: copies of the camera's frames with other bytes, which would
// corrupt frames if the bridge took them.
func (r *rig) stray(ctx context.Context, t *testing.T, cam *camera) {
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(r.relay.stray, 0)))
	if err != nil {
		t.Errorf("stray sender: %v", err)
		return
	}
	defer conn.Close()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	junk := bytes.Repeat([]byte{0x55}, packetSize)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		to, _, ok := r.relay.bridgeData(uint16(cam.DataPort()))
		if !ok {
			continue
		}
		// The next frame's index, every packet number it may have.
		cam.sent.mu.Lock()
		next := cam.sent.lastIndex + 1
		cam.sent.mu.Unlock()
		for p := range uint16(40) {
			b := camsession.AppendMedia(nil, camsession.Media{Frame: next, Packet: p, Payload: junk}, nil)
			_, _ = conn.WriteToUDPAddrPort(b, to)
		}
	}
}

// smallJPEG returns a 160×120 picture of 3 to 5 packets.
func smallJPEG(t testing.TB) []byte {
	img := image.NewGray(image.Rect(0, 0, 160, 120))
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range img.Pix {
		img.Pix[i] = byte(rng.IntN(64)) + byte(i%160)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 60}); err != nil {
		t.Fatal(err)
	}
	if n := (b.Len() + packetSize - 1) / packetSize; n < 3 || n > 5 {
		t.Fatalf("small frame of %d bytes, %d packets", b.Len(), n)
	}
	return b.Bytes()
}
