package bridge

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/internal/testutil/soaptest"
	"github.com/chinesium/chinesium/onvif"
)

// startLoggingBridge starts a bridge for a camera at ip (where nothing
// needs to answer) that logs every level into the returned buffer.
func startLoggingBridge(t *testing.T, ip string) (*Camera, *testutil.SyncBuffer) {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	cfg := testConfig(t, t.TempDir(), ip)
	cfg.Logger = debugLogger(logs)
	return startBridge(t, cfg).Cameras()[0], logs
}

// TestSlowClientCutOffStreamsLast: a client that sends its request headers
// byte by byte, slower than ReadHeaderTimeout, is disconnected, while an
// MJPEG stream keeps delivering frames for much longer than the header and
// idle timeouts.
func TestSlowClientCutOffStreamsLast(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	_, c := startCamera(t, "127.0.5.30", func(cfg *Config) {
		cfg.ReadHeaderTimeout = timeout
		cfg.IdleTimeout = timeout
	})
	addr := net.JoinHostPort(bindIP.String(), strconv.Itoa(c.HTTPPort()))

	// Slowloris: one header byte every 100 ms.
	conn, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := make(chan time.Time, 1)
	go func() {
		_, _ = io.Copy(io.Discard, conn)
		closed <- time.Now()
	}()
	start := time.Now()
	req := "GET /snapshot.jpg HTTP/1.1\r\nHost: " + addr + "\r\nUser-Agent: slow\r\nX-Padding: " + strings.Repeat("a", 40) + "\r\n\r\n"
	var cut time.Time
	for i := 0; i < len(req) && cut.IsZero(); i++ {
		if _, err = conn.Write([]byte{req[i]}); err != nil {
			break
		}
		select {
		case cut = <-closed:
		case <-time.After(100 * time.Millisecond):
		}
	}
	if cut.IsZero() {
		select {
		case cut = <-closed:
		case <-time.After(2 * time.Second):
			t.Fatalf("slow client still connected after %v (ReadHeaderTimeout %v)", time.Since(start), timeout)
		}
	}
	if d := cut.Sub(start); d > 2*time.Second {
		t.Errorf("slow client cut off only after %v", d)
	}

	// A stream outlives both timeouts many times over.
	req2, _ := http.NewRequest(http.MethodGet, c.MJPEGURL(bindIP.String()), nil)
	req2.SetBasicAuth("admin", "secret")
	resp, err := http.DefaultClient.Do(req2)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("MJPEG stream: %s", resp.Status)
	}
	rd := bufio.NewReader(resp.Body)
	streamStart := time.Now()
	frames, late := 0, 0
	for time.Since(streamStart) < 2*time.Second {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended after %v and %d frames: %v", time.Since(streamStart), frames, err)
		}
		if strings.HasPrefix(strings.ToLower(line), "content-type: image/jpeg") {
			frames++
			if time.Since(streamStart) > 1500*time.Millisecond {
				late++
			}
		}
	}
	if frames < 10 || late == 0 {
		t.Errorf("stream: %d frames in 2 s, %d after 1.5 s", frames, late)
	}
}

const createProfileBody = `<trt:CreateProfile><trt:Name>SynoTestProfile</trt:Name></trt:CreateProfile>`

// TestSynologyCreateProfileWithoutCredentials: Synology Surveillance Station
// sends one CreateProfile without credentials; it must get the
// MaxNVTProfiles fault (not NotAuthorized, which it takes for a wrong
// password), and no profile is created. With credentials CreateProfile
// works; a wrong password is still NotAuthorized; StrictAuthFaults turns
// the quirk off.
func TestSynologyCreateProfileWithoutCredentials(t *testing.T) {
	t.Parallel()
	for _, strict := range []bool{false, true} {
		cfg := testConfig(t, t.TempDir(), "127.0.5.31") // nothing listens there: ONVIF works anyway
		cfg.StrictAuthFaults = strict
		b := startBridge(t, cfg)
		c := b.Cameras()[0]
		url := c.DeviceServiceURL(bindIP.String())
		before := len(c.Device.Store.Get().Profiles)

		status, body := soapRequest(t, url, "", "", createProfileBody)
		if !strict {
			if status != http.StatusInternalServerError || !strings.Contains(body, "Receiver") ||
				!strings.Contains(body, "ter:Action") || !strings.Contains(body, "ter:MaxNVTProfiles") {
				t.Errorf("CreateProfile without credentials: HTTP %d\n%s", status, body)
			}
		} else if status != http.StatusUnauthorized || !strings.Contains(body, "NotAuthorized") {
			t.Errorf("strict: CreateProfile without credentials: HTTP %d\n%s", status, body)
		}
		if n := len(c.Device.Store.Get().Profiles); n != before {
			t.Errorf("strict=%v: an unauthenticated CreateProfile created a profile (%d -> %d)", strict, before, n)
		}
		// Other operations without credentials: NotAuthorized as before.
		if status, body := soapRequest(t, url, "", "", `<trt:GetProfiles/>`); status != http.StatusUnauthorized || !strings.Contains(body, "NotAuthorized") {
			t.Errorf("strict=%v: GetProfiles without credentials: HTTP %d\n%s", strict, status, body)
		}
		if status, body := soapRequest(t, url, "admin", "wrong", createProfileBody); status != http.StatusBadRequest || !strings.Contains(body, "NotAuthorized") {
			t.Errorf("strict=%v: CreateProfile with a wrong password: HTTP %d\n%s", strict, status, body)
		}
		if status, body := soapRequest(t, url, "admin", "secret", createProfileBody); status != http.StatusOK || !strings.Contains(body, "SynoTestProfile") {
			t.Errorf("strict=%v: CreateProfile with credentials: HTTP %d\n%s", strict, status, body)
		}
	}
}

// TestUnreachableCamera: a camera where nothing answers (a wrong IP). Its
// device answers ONVIF, reports SignalLoss true from the first pull, its
// snapshot is a 503 that says why, and the log says once (not once per
// retry) that the camera does not answer, without a doubled "camera" key.
func TestUnreachableCamera(t *testing.T) {
	t.Parallel()
	c, logs := startLoggingBridge(t, "127.0.5.32")
	host := bindIP.String()

	status, body := soapRequest(t, c.DeviceServiceURL(host), "admin", "secret", `<tds:GetDeviceInformation/>`)
	if status != http.StatusOK || elementText(body, "SerialNumber") == "" {
		t.Fatalf("GetDeviceInformation: HTTP %d\n%s", status, body)
	}
	signalLoss := map[string]bool{}
	for _, e := range pullEvents(t, createPullPoint(t, c, "")) {
		if e.topic == onvif.TopicSignalLoss {
			signalLoss[e.op] = e.value
		}
	}
	if v, ok := signalLoss[onvif.PropertyInitialized]; !ok || !v {
		t.Errorf("SignalLoss at subscription: %v, want Initialized true", signalLoss)
	}

	req, _ := http.NewRequest(http.MethodGet, c.SnapshotURL(host), nil)
	req.SetBasicAuth("admin", "secret")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(msg), "not sent any frame") {
		t.Errorf("snapshot: %s %q", r.Status, msg)
	}

	// Port requests after 0.2, 0.4, 0.8 s, then every 1 s (the session
	// logs retries until its back-off is at the maximum): wait for two.
	deadline := time.Now().Add(10 * time.Second)
	for {
		retries := 0
		for _, l := range logLines(logs) {
			if strings.Contains(l, "level=DEBUG") && strings.Contains(l, "attempt=") {
				retries++
			}
		}
		if retries >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d retries logged at debug level:\n%s", retries, strings.Join(logLines(logs), "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if v, _ := c.Events().State(onvif.TopicSignalLoss); !v {
		t.Error("SignalLoss false while the camera never answered")
	}
	warnings := 0
	for _, l := range logLines(logs) {
		if strings.Contains(l, "level=WARN") && strings.Contains(l, "does not answer") {
			warnings++
			if !strings.Contains(l, "127.0.5.32") {
				t.Errorf("warning does not name the camera's address: %s", l)
			}
		}
		for _, key := range []string{"camera", "component", "ip"} {
			if strings.Count(l, " "+key+"=") > 1 {
				t.Errorf("log line with two %q keys: %s", key, l)
			}
		}
	}
	if warnings != 1 {
		t.Errorf("%d warnings that the camera does not answer, want 1:\n%s", warnings, strings.Join(logLines(logs), "\n"))
	}
}

// TestPullMessagesClientGone: a client that disconnects during a
// long-polling PullMessages is no warning in the log.
func TestPullMessagesClientGone(t *testing.T) {
	t.Parallel()
	c, logs := startLoggingBridge(t, "127.0.5.33")
	addr := createPullPoint(t, c, "")
	pullEvents(t, addr) // the initial states

	// The client gives up after 300 ms of a 30 s long poll.
	env := soaptest.Envelope("admin", "secret",
		`<tev:PullMessages><tev:Timeout>PT30S</tev:Timeout><tev:MessageLimit>10</tev:MessageLimit></tev:PullMessages>`)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, addr, strings.NewReader(env))
	req.Header.Set("Content-Type", "application/soap+xml; charset=utf-8")
	if r, err := http.DefaultClient.Do(req); err == nil {
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		t.Fatalf("PullMessages answered within 300 ms of a 30 s wait: %s\n%s", r.Status, body)
	}
	// The server notices the closed connection and ends the handler.
	deadline := time.Now().Add(5 * time.Second)
	for {
		gone := false
		for _, l := range logLines(logs) {
			if (strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR")) && !strings.Contains(l, "does not answer") {
				t.Fatalf("client gone during PullMessages logged as a problem: %s", l)
			}
			gone = gone || strings.Contains(l, "client gone")
		}
		if gone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no debug line for the gone client:\n%s", strings.Join(logLines(logs), "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCloseStopsTalkingToCamera: after Close the bridge sends the camera
// nothing more (no port requests, no keep-alives), even while it was in
// the middle of retrying.
func TestCloseStopsTalkingToCamera(t *testing.T) {
	t.Parallel()
	cam, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 5, 36), Port: 10104})
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	b, err := New(testConfig(t, t.TempDir(), "127.0.5.36"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2048)
	_ = cam.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := cam.ReadFromUDP(buf); err != nil {
		b.Close()
		t.Fatalf("no port request reached the camera: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	// Drain what was already in flight, then listen for longer than the
	// session's longest back-off (1 s in testConfig).
	_ = cam.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	for {
		if _, _, err := cam.ReadFromUDP(buf); err != nil {
			break
		}
	}
	_ = cam.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, from, err := cam.ReadFromUDP(buf); err == nil {
		t.Errorf("the camera got %d bytes from %v after Close", n, from)
	}
}
