package record

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
)

// sent is one frame a fake camera sent, and when.
type sent struct {
	fakecam.FrameSent
	at time.Time
}

// sentLog records what a fake camera sent.
type sentLog struct {
	mu     sync.Mutex
	frames map[uint64]sent
	last   uint64
}

func (l *sentLog) add(f fakecam.FrameSent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.frames == nil {
		l.frames = map[uint64]sent{}
	}
	l.frames[f.Seq] = sent{f, time.Now()}
	l.last = max(l.last, f.Seq)
}

func (l *sentLog) get(seq uint64) (sent, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.frames[seq]
	return f, ok
}

func (l *sentLog) lastSeq() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// rig is a fake camera on a real UDP socket and a camera session
// receiving from it.
type rig struct {
	cam  *fakecam.Camera
	sent *sentLog
	sess *camsession.Session
	run  *testutil.Runner // the camera
}

// startRig runs a fake camera on ip and a session whose frames and audio
// go to onFrame and onAudio.
func startRig(t *testing.T, ip string, ccfg fakecam.Config, onFrame func(*camsession.Frame), onAudio func(*camsession.Audio)) *rig {
	t.Helper()
	r := &rig{sent: &sentLog{}}
	ccfg.IP = netip.MustParseAddr(ip)
	ccfg.OnFrame = r.sent.add
	cam, err := fakecam.New(ccfg)
	if err != nil {
		t.Fatal(err)
	}
	r.cam = cam
	r.run = testutil.Go(t, cam.Run)
	s, err := camsession.New(camsession.Config{
		Camera:    ccfg.IP,
		LocalPort: -1,
		Audio:     onAudio != nil,
		OnFrame:   onFrame,
		OnAudio:   onAudio,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.sess = s
	testutil.Go(t, s.Run)
	return r
}

// waitFor polls cond every 10 ms until it holds, failing after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("no %s within %v", what, d)
		}
	}
}

// events collects a Recorder's hooks.
type events struct {
	mu      sync.Mutex
	opened  []string
	closed  []Recording
	removed []string
	paused  []error
	resumed int
}

func (e *events) hook(cfg *Config) {
	cfg.OnOpen = func(p string) { e.mu.Lock(); e.opened = append(e.opened, p); e.mu.Unlock() }
	cfg.OnClose = func(r Recording) { e.mu.Lock(); e.closed = append(e.closed, r); e.mu.Unlock() }
	cfg.OnRemove = func(p string) { e.mu.Lock(); e.removed = append(e.removed, p); e.mu.Unlock() }
	cfg.OnPause = func(err error) { e.mu.Lock(); e.paused = append(e.paused, err); e.mu.Unlock() }
	cfg.OnResume = func() { e.mu.Lock(); e.resumed++; e.mu.Unlock() }
}

func (e *events) get() events {
	e.mu.Lock()
	defer e.mu.Unlock()
	return events{
		opened:  slices.Clone(e.opened),
		closed:  slices.Clone(e.closed),
		removed: slices.Clone(e.removed),
		paused:  slices.Clone(e.paused),
		resumed: e.resumed,
	}
}

// testConfig fills in a temporary folder and a camera name.
func testConfig(t *testing.T, cfg Config) Config {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if cfg.Name == "" {
		cfg.Name = "cam"
	}
	return cfg
}

// seqs returns the fake camera's sequence numbers of frames, failing on a
// frame without the marker.
func seqs(t *testing.T, frames [][]byte) []uint64 {
	t.Helper()
	out := make([]uint64, len(frames))
	for i, f := range frames {
		_, seq, ok := fakecam.FrameSeq(f)
		if !ok {
			t.Fatalf("frame %d has no fake camera marker", i)
		}
		out[i] = seq
	}
	return out
}

// checkSentWhole checks that frames are byte for byte what the camera
// sent, in order.
func checkSentWhole(t *testing.T, log *sentLog, frames [][]byte) {
	t.Helper()
	for i, f := range frames {
		_, seq, _ := fakecam.FrameSeq(f)
		s, ok := log.get(seq)
		if !ok || s.Damaged || !bytes.Equal(s.JPEG, f) {
			t.Fatalf("frame %d (seq %d) is not a frame the camera sent whole (sent %v, damaged %v)", i, seq, ok, s.Damaged)
		}
	}
}

// segmentPaths lists a folder's .mkv files, sorted.
func segmentPaths(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+Ext))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(m)
	return m
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
