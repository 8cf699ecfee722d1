package bridge

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/internal/testutil/camtest"
	"github.com/chinesium/chinesium/internal/testutil/soaptest"
	"github.com/chinesium/chinesium/onvif"
)

// Loopback addresses of this package's tests (127.0.5.x).
var (
	bindIP = netip.MustParseAddr("127.0.5.1")
)

// runFakeCam runs a fake camera until stop is called (stop waits until it
// has ended and may be called more than once).
func runFakeCam(t testing.TB, cfg fakecam.Config) (cam *fakecam.Camera, stop func()) {
	t.Helper()
	c := camtest.Start(t, cfg)
	return c.Camera, c.Stop
}

// startFakeCams runs fake cameras (with audio) on the given IPs until the
// test ends.
func startFakeCams(t testing.TB, ips ...string) []*fakecam.Camera {
	t.Helper()
	var cams []*fakecam.Camera
	for i, s := range ips {
		c, stop := runFakeCam(t, fakecam.Config{
			IP:     netip.MustParseAddr(s),
			Name:   fmt.Sprintf("E2E-%d", i+1),
			Audio:  true,
			FPS:    15,
			Logger: testutil.Logger(t),
		})
		t.Cleanup(stop)
		cams = append(cams, c)
	}
	return cams
}

// testConfig returns a bridge configuration for cameras on ips with
// admin/secret, free ports on bindIP, a temporary state dir and quick
// session timings.
func testConfig(t testing.TB, stateDir string, ips ...string) Config {
	cfg := Config{
		Bind:      bindIP,
		RTSPPort:  AnyPort,
		AdminPort: AnyPort,
		Users:     []onvif.User{{Name: "admin", Password: "secret", Level: onvif.LevelAdministrator}},
		StateDir:  stateDir,
		Logger:    testutil.Logger(t),
		Session: func(c *camsession.Config) {
			c.LocalPort = -1
			c.PortTimeout = 200 * time.Millisecond
			c.MaxBackoff = time.Second
		},
	}
	for _, ip := range ips {
		cfg.Cameras = append(cfg.Cameras, CameraConfig{IP: netip.MustParseAddr(ip), HTTPPort: AnyPort, Audio: true})
	}
	return cfg
}

// startBridge starts a bridge and closes it when the test ends.
func startBridge(t testing.TB, cfg Config) *Bridge {
	t.Helper()
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

// startCamera runs a fake camera at ip through a bridge made from
// testConfig (changed by adjust, if not nil) and waits for its first frame.
func startCamera(t testing.TB, ip string, adjust func(*Config)) (*fakecam.Camera, *Camera) {
	t.Helper()
	cam := startFakeCams(t, ip)[0]
	cfg := testConfig(t, t.TempDir(), ip)
	if adjust != nil {
		adjust(&cfg)
	}
	c := startBridge(t, cfg).Cameras()[0]
	waitFrame(t, c)
	return cam, c
}

// waitFrame waits until the camera's hub has a frame.
func waitFrame(t testing.TB, c *Camera) *camsession.Frame {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if f := c.Video.Latest(); f != nil {
			return f
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("camera %s: no frame within 10 s", c.Config.Name)
	return nil
}

// soapRequest posts a SOAP 1.2 request (see soapEnvelope) and returns the
// HTTP status and the response body.
func soapRequest(t testing.TB, url, user, password, body string) (int, string) {
	t.Helper()
	return soapRequestWith(t, http.DefaultClient, url, user, password, body)
}

// soapRequestWith is soapRequest through the HTTP client c.
func soapRequestWith(t testing.TB, c *http.Client, url, user, password, body string) (int, string) {
	t.Helper()
	resp, err := c.Post(url, "application/soap+xml; charset=utf-8", strings.NewReader(soaptest.Envelope(user, password, body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventsURL is the events service URL of camera c on bindIP.
func eventsURL(c *Camera) string {
	return fmt.Sprintf("http://%s:%d%s", bindIP, c.HTTPPort(), EventsServicePath)
}

// createPullPoint subscribes to camera c's events with admin/secret (with
// InitialTerminationTime initial, unless "") and returns the address of
// the pull point, which must be on the host and port the request went to.
func createPullPoint(t testing.TB, c *Camera, initial string) string {
	t.Helper()
	return createPullPointAs(t, c, "admin", "secret", initial)
}

// createPullPointAs is createPullPoint as user.
func createPullPointAs(t testing.TB, c *Camera, user, password, initial string) string {
	t.Helper()
	body := `<tev:CreatePullPointSubscription/>`
	if initial != "" {
		body = `<tev:CreatePullPointSubscription><tev:InitialTerminationTime>` + initial +
			`</tev:InitialTerminationTime></tev:CreatePullPointSubscription>`
	}
	status, resp := soapRequest(t, eventsURL(c), user, password, body)
	addr := elementText(resp, "Address")
	if status != http.StatusOK || !strings.HasPrefix(addr, fmt.Sprintf("http://%s:%d/", bindIP, c.HTTPPort())) {
		t.Fatalf("%s: CreatePullPointSubscription: HTTP %d, address %q\n%s", user, status, addr, resp)
	}
	return addr
}

// pullMessages calls PullMessages (PT1S, 32 messages) on a pull point as
// user and returns the answer, which must be HTTP 200.
func pullMessages(t testing.TB, addr, user, password string) string {
	t.Helper()
	status, resp := soapRequest(t, addr, user, password,
		`<tev:PullMessages><tev:Timeout>PT1S</tev:Timeout><tev:MessageLimit>32</tev:MessageLimit></tev:PullMessages>`)
	if status != http.StatusOK {
		t.Fatalf("%s: PullMessages: HTTP %d\n%s", user, status, resp)
	}
	return resp
}

// pulledEvent is one event of a PullMessagesResponse.
type pulledEvent struct {
	topic, op string
	value     bool
}

// pullEvents calls PullMessages on a pull point and returns the events.
func pullEvents(t testing.TB, addr string) []pulledEvent {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(pullMessages(t, addr, "admin", "secret")); err != nil {
		t.Fatal(err)
	}
	var out []pulledEvent
	for _, nm := range doc.FindElements("//NotificationMessage") {
		msg := nm.FindElement("Message/Message")
		out = append(out, pulledEvent{
			topic: strings.TrimSpace(nm.FindElement("Topic").Text()),
			op:    msg.SelectAttrValue("PropertyOperation", ""),
			value: msg.FindElement("Data/SimpleItem").SelectAttrValue("Value", "") == "true",
		})
	}
	return out
}

// debugLogger returns a logger that writes every level to w in text format.
func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// logLines returns the lines logged into b so far.
func logLines(b *testutil.SyncBuffer) []string {
	return strings.Split(strings.TrimSpace(b.String()), "\n")
}

// onvifNPM returns the path of node when the npm onvif package is installed
// in e2eDir (CI runs "npm ci" there before the Go tests).
func onvifNPM() (node string, err error) {
	node, err = exec.LookPath("node")
	if err != nil {
		return "", fmt.Errorf("node not installed: %w", err)
	}
	if _, err := os.Stat(filepath.Join(e2eDir, "node_modules", "onvif")); err != nil {
		return "", fmt.Errorf("npm package onvif not installed (run \"npm ci\" in test/e2e): %w", err)
	}
	return node, nil
}

// needOnvifNPM is onvifNPM for tests that need it: it fails in CI and
// skips locally when node or the package is missing.
func needOnvifNPM(t testing.TB) string {
	t.Helper()
	node, err := onvifNPM()
	if err != nil {
		testutil.Unavailable(t, "%v", err)
	}
	return node
}

// nodeClient returns the command that runs the script in e2eDir against
// camera c's device service with admin/secret.
func nodeClient(ctx context.Context, node, script string, c *Camera) *exec.Cmd {
	cmd := exec.CommandContext(ctx, node, script, bindIP.String(), strconv.Itoa(c.HTTPPort()), "admin", "secret")
	cmd.Dir = e2eDir
	return cmd
}

// runNodeJSON runs the script in e2eDir against camera c (see nodeClient)
// for at most 60 s and decodes the JSON it prints into res; the script
// failing or printing something else fails the test, with its standard
// error. name names the client in messages and in the log of its output.
func runNodeJSON(t testing.TB, node, script, name string, c *Camera, res any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := nodeClient(ctx, node, script, c)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, stderr.String())
	}
	t.Logf("%s: %s", name, out)
	if err := json.Unmarshal(out, res); err != nil {
		t.Fatalf("%s output: %v\n%s", name, err, out)
	}
}

// nodeLines runs the script in e2eDir against camera c (see nodeClient)
// until ctx or the test ends, with its standard error logged to the test,
// and returns the lines it prints.
func nodeLines(ctx context.Context, t testing.TB, node, script string, c *Camera) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	cmd := nodeClient(ctx, node, script, c)
	cmd.Stderr = testutil.LogWriter{T: t}
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return lines
}

// nextLine returns the next of a client's lines that match accepts. A
// line starting with "error", the end of the lines or no match within d
// fails the test, naming the client and what it waited for.
func nextLine(t testing.TB, lines <-chan string, d time.Duration, client, what string, match func(string) bool) string {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("%s ended before %s", client, what)
			}
			if strings.HasPrefix(line, "error") {
				t.Fatalf("%s: %s", client, line)
			}
			if match(line) {
				return line
			}
		case <-timeout:
			t.Fatalf("%s: no %s", client, what)
		}
	}
}

// elementText returns the text of the first element with the given local
// name in an XML document, "" if there is none.
func elementText(doc, name string) string {
	d := etree.NewDocument()
	if err := d.ReadFromString(doc); err != nil {
		return ""
	}
	if e := d.FindElement("//" + name); e != nil {
		return e.Text()
	}
	return ""
}

// withUser puts user:password into an rtsp:// or http:// URL.
func withUser(u, user, password string) string {
	scheme, rest, _ := strings.Cut(u, "://")
	return scheme + "://" + user + ":" + password + "@" + rest
}

// probeRTSP runs ffprobe on an RTSP URL over TCP and returns the number of
// video frames read (up to 5) and the stream description.
func probeRTSP(t testing.TB, url string) (frames int, out string) {
	t.Helper()
	return probeRTSPOver(t, url, "tcp")
}

// probeRTSPOver is probeRTSP with ffmpeg's -rtsp_transport (udp, tcp or
// http for the RTSP-over-HTTP tunnel).
func probeRTSPOver(t testing.TB, url, transport string) (frames int, out string) {
	t.Helper()
	ffprobe := testutil.NeedTool(t, "ffprobe")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ffprobe, "-v", "error", "-rtsp_transport", transport,
		"-select_streams", "v:0", "-read_intervals", "%+#5",
		"-show_entries", "stream=codec_name,width,height:frame=pict_type", "-of", "compact", url)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", url, err, b)
	}
	out = string(b)
	return strings.Count(out, "frame|"), out
}
