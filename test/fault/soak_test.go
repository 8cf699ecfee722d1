package fault

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chinesium/chinesium/bridge"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/internal/testutil/soaptest"
	"github.com/chinesium/chinesium/rtsp"
)

// figures are what a leak shows in: the process's goroutines, open files,
// child processes (ffmpeg) and live heap.
type figures struct {
	goroutines, files, children int
	heap                        uint64
}

func (f figures) String() string {
	return fmt.Sprintf("%d goroutines, %d open files, %d child processes, %.1f MiB heap",
		f.goroutines, f.files, f.children, float64(f.heap)/(1<<20))
}

func measure(t testing.TB) figures {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	children := 0
	for _, p := range tasks {
		b, _ := os.ReadFile(p)
		children += len(strings.Fields(string(b)))
	}
	return figures{goroutines: runtime.NumGoroutine(), files: len(fds), children: children, heap: ms.HeapAlloc}
}

// settle polls the figures until they are within the margins of base (or,
// without a base, until they stop falling) and returns the last reading;
// after d it fails the test with a dump of the goroutines.
func settle(t testing.TB, base *figures, d time.Duration) figures {
	t.Helper()
	const (
		goroutineMargin = 5
		fileMargin      = 3
		heapMargin      = 8 << 20
	)
	var prev figures
	stable := 0
	for end := time.Now().Add(d); ; time.Sleep(200 * time.Millisecond) {
		f := measure(t)
		if base != nil {
			if f.goroutines <= base.goroutines+goroutineMargin && f.files <= base.files+fileMargin &&
				f.children <= base.children && f.heap <= base.heap+heapMargin {
				return f
			}
		} else {
			if f.goroutines >= prev.goroutines && f.files >= prev.files && f.children >= prev.children {
				stable++
			} else {
				stable = 0
			}
			if stable >= 5 {
				return f
			}
		}
		prev = f
		if time.Now().After(end) {
			var dump bytes.Buffer
			_ = pprof.Lookup("goroutine").WriteTo(&dump, 1)
			if base != nil {
				var heap bytes.Buffer
				if err := pprof.Lookup("heap").WriteTo(&heap, 0); err == nil {
					testutil.SaveArtifact(t, "soak-heap.pprof", heap.Bytes())
				}
				t.Fatalf("after %v the figures stay at %v; at the start %v\n%s", d, f, *base, dump.String())
			}
			t.Fatalf("the figures do not settle within %v: %v\n%s", d, f, dump.String())
		}
	}
}

// failures counts the failed clients by kind. The first failure of each
// kind fails the test with its error; the rest are only counted, so that
// a bridge failing every client logs one line per kind, and the summary
// (String) says how many there were.
type failures struct {
	mu     sync.Mutex
	byKind map[string]int
}

// add counts err, a failure of a client of kind; where says where it
// happened (" on CAMERA") and follows kind in the message.
func (f *failures) add(t testing.TB, kind, where string, err error) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byKind[kind] == 0 {
		t.Errorf("%s%s: %v (further failures of this kind are only counted)", kind, where, err)
	}
	if f.byKind == nil {
		f.byKind = map[string]int{}
	}
	f.byKind[kind]++
}

// total is the number of failures.
func (f *failures) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, k := range f.byKind {
		n += k
	}
	return n
}

// String is the count by kind: "none", or "mjpeg 3, soap 1".
func (f *failures) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.byKind) == 0 {
		return "none"
	}
	var parts []string
	for _, kind := range slices.Sorted(maps.Keys(f.byKind)) {
		parts = append(parts, fmt.Sprintf("%s %d", kind, f.byKind[kind]))
	}
	return strings.Join(parts, ", ")
}

// client is one kind of client of a camera: it connects, does what that
// kind does and disconnects.
type client struct {
	name string
	run  func(ctx context.Context, c *bridge.Camera) error
}

// httpClient keeps no connections open, so that what stays open after the
// soak is the bridge's.
var httpClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

func soakClients(h264 bool) []client {
	cs := []client{
		{"mjpeg", mjpegClientOn(soakHost)},
		{"snapshot", snapshotClientOn(soakHost)},
		{"rtsp-jpeg", func(ctx context.Context, c *bridge.Camera) error {
			return rtspClient(ctx, c.RTSPURL(soakHost, rtsp.StreamJPEG))
		}},
		{"soap", soapClientOn(soakHost)},
		{"pullpoint", pullPointClientOn(soakHost)},
	}
	if h264 {
		cs = append(cs, client{"rtsp-h264", func(ctx context.Context, c *bridge.Camera) error {
			return rtspClient(ctx, c.RTSPURL(soakHost, rtsp.StreamH264))
		}})
	}
	return cs
}

const soakHost = "127.0.33.1"

// TestSoakClientsComeAndGo: 8 cameras, and every second a client of each
// camera connects (MJPEG, snapshot, RTSP JPEG and H.264, SOAP, an event
// pull point, in turn) and leaves, for 30 s (-soak.long: 10 minutes). Every
// client is served, and once the clients are gone the goroutines, open
// files, child processes and heap settle back to where they were.
func TestSoakClientsComeAndGo(t *testing.T) {
	duration := 30 * time.Second
	if *long {
		duration = 10 * time.Minute
	}
	// H.264 needs ffmpeg, which CI has; without it locally the soak runs
	// without H.264 clients.
	h264 := testutil.InCI()
	if _, err := exec.LookPath("ffmpeg"); err == nil {
		h264 = true
	}
	var ccs []bridge.CameraConfig
	for i := range 8 {
		ip := netip.AddrFrom4([4]byte{127, 0, 33, byte(10 + i)})
		// 5 fps: the bridge decodes every frame for motion detection (on,
		// as users have it), and the race detector makes that costly.
		startCamera(t, fakecam.Config{IP: ip, FPS: 5, Logger: testutil.Logger(t)}, false)
		ccs = append(ccs, bridge.CameraConfig{IP: ip, HTTPPort: bridge.AnyPort, NoH264: !h264})
	}
	cams := startBridge(t, netip.MustParseAddr(soakHost), ccs, func(cfg *bridge.Config) { cfg.NoMotion = false })
	clients := soakClients(h264)

	// Warm up: every kind of client once on every camera, so that what
	// lives as long as the bridge (a frame in each ring, an encoder's
	// first start) is in the baseline.
	ctx := context.Background()
	for _, c := range cams {
		waitFor(t, 30*time.Second, "no frame from "+c.Config.Name, func() bool { return c.Video.Latest() != nil })
		for _, cl := range clients {
			if err := cl.run(ctx, c); err != nil {
				t.Fatalf("warm-up %s on %s: %v", cl.name, c.Config.Name, err)
			}
		}
	}
	base := settle(t, nil, time.Minute)
	t.Logf("start: %v", base)

	var wg sync.WaitGroup
	var served atomic.Int64
	var failed failures
	tick := time.NewTicker(time.Second)
	end := time.Now().Add(duration)
	for round := 0; time.Now().Before(end); round++ {
		for i, c := range cams {
			cl := clients[(round+i)%len(clients)]
			wg.Go(func() {
				cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				defer cancel()
				if err := cl.run(cctx, c); err != nil {
					failed.add(t, cl.name, " on "+c.Config.Name, err)
					return
				}
				served.Add(1)
			})
		}
		<-tick.C
	}
	tick.Stop()
	wg.Wait()
	peak := measure(t)
	final := settle(t, &base, time.Minute)
	t.Logf("%d clients served, %d failed (%v), over %v", served.Load(), failed.total(), &failed, duration)
	t.Logf("end: %v (right after the last client: %v)", final, peak)
}

// mjpegClientOn is the client for cameras reached at host.
func mjpegClientOn(host string) func(context.Context, *bridge.Camera) error {
	return func(ctx context.Context, c *bridge.Camera) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.MJPEGURL(host), nil)
		req.SetBasicAuth(user, password)
		resp, err := httpClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if resp.StatusCode != http.StatusOK || err != nil {
			return fmt.Errorf("%s, %q", resp.Status, resp.Header.Get("Content-Type"))
		}
		mr := multipart.NewReader(resp.Body, params["boundary"])
		for range 2 {
			p, err := mr.NextPart()
			if err != nil {
				return err
			}
			b, err := io.ReadAll(p)
			if err != nil {
				return err
			}
			if !bytes.HasPrefix(b, []byte{0xFF, 0xD8}) {
				return errors.New("a part that is no JPEG")
			}
		}
		return nil
	}
}

// snapshotClientOn is the client for cameras reached at host.
func snapshotClientOn(host string) func(context.Context, *bridge.Camera) error {
	return func(ctx context.Context, c *bridge.Camera) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.SnapshotURL(host), nil)
		req.SetBasicAuth(user, password)
		resp, err := httpClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(b, []byte{0xFF, 0xD8}) {
			return fmt.Errorf("snapshot: %s, %d bytes", resp.Status, len(b))
		}
		return nil
	}
}

// rtspClient plays rawURL over TCP until a few RTP packets came, then
// leaves: with a TEARDOWN every other time, by closing the connection
// otherwise.
var teardowns atomic.Int64

func rtspClient(ctx context.Context, rawURL string) error {
	u, perr := url.Parse(rawURL)
	if perr != nil {
		return perr
	}
	var d net.Dialer
	nc, derr := d.DialContext(ctx, "tcp4", u.Host)
	if derr != nil {
		return derr
	}
	defer nc.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	br := bufio.NewReader(nc)
	auth := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password)) + "\r\n"
	cseq := 0
	do := func(method, target, extra string) (map[string]string, error) {
		cseq++
		if _, err := fmt.Fprintf(nc, "%s %s RTSP/1.0\r\nCSeq: %d\r\n%s%s\r\n", method, target, cseq, auth, extra); err != nil {
			return nil, err
		}
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		if !strings.HasPrefix(line, "RTSP/1.0 200") {
			return nil, fmt.Errorf("%s: %q", method, strings.TrimSpace(line))
		}
		h := map[string]string{}
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return nil, err
			}
			l = strings.TrimSpace(l)
			if l == "" {
				break
			}
			if k, v, ok := strings.Cut(l, ":"); ok {
				h[strings.ToLower(k)] = strings.TrimSpace(v)
			}
		}
		var n int
		if _, err := fmt.Sscan(h["content-length"], &n); err == nil && n > 0 {
			if _, err := io.CopyN(io.Discard, br, int64(n)); err != nil {
				return nil, err
			}
		}
		return h, nil
	}
	if _, err := do("DESCRIBE", rawURL, "Accept: application/sdp\r\n"); err != nil {
		return err
	}
	h, err := do("SETUP", rawURL+"/trackID=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")
	if err != nil {
		return err
	}
	session, _, _ := strings.Cut(h["session"], ";")
	if _, err := do("PLAY", rawURL, "Session: "+session+"\r\n"); err != nil {
		return err
	}
	for rtp := 0; rtp < 3; {
		var hdr [4]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return fmt.Errorf("waiting for RTP: %w", err)
		}
		if hdr[0] != '$' {
			return fmt.Errorf("not an interleaved packet: %q", hdr)
		}
		if _, err := io.CopyN(io.Discard, br, int64(hdr[2])<<8|int64(hdr[3])); err != nil {
			return err
		}
		if hdr[1] == 0 {
			rtp++
		}
	}
	if teardowns.Add(1)%2 == 0 {
		cseq++
		_, err := fmt.Fprintf(nc, "TEARDOWN %s RTSP/1.0\r\nCSeq: %d\r\n%sSession: %s\r\n\r\n", rawURL, cseq, auth, session)
		return err
	}
	return nil
}

// soapCall posts a SOAP request with admin's credentials and returns the
// answer, which must be HTTP 200.
func soapCall(ctx context.Context, url, body string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(soaptest.Envelope(user, password, body)))
	req.Header.Set("Content-Type", "application/soap+xml; charset=utf-8")
	resp, err := httpClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d: %.300s", resp.StatusCode, b)
	}
	return string(b), nil
}

// soapClientOn is the client for cameras reached at host.
func soapClientOn(host string) func(context.Context, *bridge.Camera) error {
	return func(ctx context.Context, c *bridge.Camera) error {
		resp, err := soapCall(ctx, c.DeviceServiceURL(host), `<tds:GetDeviceInformation/>`)
		if err == nil && !strings.Contains(resp, "SerialNumber") {
			err = fmt.Errorf("GetDeviceInformation answered %.300s", resp)
		}
		return err
	}
}

// pullPoints counts pull point clients, so that every other one leaves
// without unsubscribing and its subscription expires by itself.
var pullPoints atomic.Int64

// pullPointClientOn is the client for cameras reached at host.
func pullPointClientOn(host string) func(context.Context, *bridge.Camera) error {
	return func(ctx context.Context, c *bridge.Camera) error {
		events := "http://" + net.JoinHostPort(host, fmt.Sprint(c.HTTPPort())) + bridge.EventsServicePath
		// 10 s: long enough that a loaded machine does not let the pull
		// point expire before the PullMessages below (with 2 s it did),
		// short enough that the ones left behind are gone well within
		// settle's minute.
		resp, err := soapCall(ctx, events, `<tev:CreatePullPointSubscription><tev:InitialTerminationTime>PT10S</tev:InitialTerminationTime></tev:CreatePullPointSubscription>`)
		if err != nil {
			return fmt.Errorf("CreatePullPointSubscription: %w", err)
		}
		_, rest, _ := strings.Cut(resp, "Address>")
		addr, _, _ := strings.Cut(rest, "<")
		if !strings.HasPrefix(addr, "http://") {
			return fmt.Errorf("no pull point address in %.300s", resp)
		}
		if _, err := soapCall(ctx, addr, `<tev:PullMessages><tev:Timeout>PT0.5S</tev:Timeout><tev:MessageLimit>10</tev:MessageLimit></tev:PullMessages>`); err != nil {
			return fmt.Errorf("PullMessages: %w", err)
		}
		if pullPoints.Add(1)%2 == 0 {
			if _, err := soapCall(ctx, addr, `<wsnt:Unsubscribe/>`); err != nil {
				return fmt.Errorf("Unsubscribe: %w", err)
			}
		}
		return nil
	}
}

// errorRecorder is a testing.TB that records Errorf instead of failing.
type errorRecorder struct {
	testing.TB
	errors []string
}

func (r *errorRecorder) Helper() {}

func (r *errorRecorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// TestFailuresFirstOfEachKind: of many failed clients, the first of each
// kind fails the test, the rest are counted in the summary.
func TestFailuresFirstOfEachKind(t *testing.T) {
	var f failures
	rec := &errorRecorder{TB: t}
	for i := range 100 {
		f.add(rec, "mjpeg", " on CAM1", fmt.Errorf("refused %d", i))
	}
	f.add(rec, "soap", " on CAM2", errors.New("HTTP 503"))
	if len(rec.errors) != 2 || !strings.HasPrefix(rec.errors[0], "mjpeg on CAM1: refused 0") || !strings.HasPrefix(rec.errors[1], "soap on CAM2: HTTP 503") {
		t.Errorf("errors reported: %q", rec.errors)
	}
	if got := f.String(); got != "mjpeg 100, soap 1" || f.total() != 101 {
		t.Errorf("summary %q, total %d", got, f.total())
	}
}
