package bridge

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/soap"
	"github.com/chinesium/chinesium/wsdl"
)

// Loopback addresses of this package's tests (127.0.5.x).
var (
	bindIP = netip.MustParseAddr("127.0.5.1")
)

// testLogger logs to the test at warning level and above (-v shows them).
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// startFakeCams runs fake cameras (with audio) on the given IPs until the
// test ends.
func startFakeCams(t testing.TB, ips ...string) []*fakecam.Camera {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var cams []*fakecam.Camera
	done := make(chan struct{}, len(ips))
	for i, s := range ips {
		c, err := fakecam.New(fakecam.Config{
			IP:     netip.MustParseAddr(s),
			Name:   fmt.Sprintf("E2E-%d", i+1),
			Audio:  true,
			FPS:    15,
			Logger: testLogger(t),
		})
		if err != nil {
			cancel()
			t.Fatalf("fake camera %s: %v", s, err)
		}
		cams = append(cams, c)
		go func() {
			_ = c.Run(ctx)
			done <- struct{}{}
		}()
	}
	t.Cleanup(func() {
		cancel()
		for range cams {
			<-done
		}
	})
	return cams
}

// testConfig returns a bridge configuration for cameras on ips with
// admin/secret, free ports on bindIP, a temporary state dir and quick
// session timings.
func testConfig(t testing.TB, stateDir string, ips ...string) Config {
	cfg := Config{
		Bind:     bindIP,
		RTSPPort: AnyPort,
		User:     "admin",
		Password: "secret",
		Audio:    true,
		StateDir: stateDir,
		Logger:   testLogger(t),
		Session: func(c *camsession.Config) {
			c.LocalPort = -1
			c.PortTimeout = 200 * time.Millisecond
			c.MaxBackoff = time.Second
		},
	}
	for _, ip := range ips {
		cfg.Cameras = append(cfg.Cameras, CameraConfig{IP: netip.MustParseAddr(ip), HTTPPort: AnyPort})
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

// needTool returns the path of a tool; it fails in CI and skips locally
// when the tool is missing.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required: %v", name, err)
		}
		t.Skipf("%s not installed: %v", name, err)
	}
	return p
}

// soapRequest posts a SOAP 1.2 request with a WS-Security PasswordDigest
// token for user/password ("" user: no token).
func soapRequest(t testing.TB, url, user, password, body string) (int, string) {
	t.Helper()
	header := ""
	if user != "" {
		nonce := make([]byte, 16)
		_, _ = rand.Read(nonce)
		created := time.Now().UTC().Format(time.RFC3339)
		header = fmt.Sprintf(`<s:Header><wsse:Security xmlns:wsse=%q xmlns:wsu=%q><wsse:UsernameToken>`+
			`<wsse:Username>%s</wsse:Username><wsse:Password Type=%q>%s</wsse:Password>`+
			`<wsse:Nonce>%s</wsse:Nonce><wsu:Created>%s</wsu:Created></wsse:UsernameToken></wsse:Security></s:Header>`,
			wsdl.NSWSSE, wsdl.NSWSU, user, wsdl.PasswordDigest, soap.PasswordDigest(nonce, created, password),
			base64.StdEncoding.EncodeToString(nonce), created)
	}
	env := `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ` +
		`xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema" ` +
		`xmlns:tds="http://www.onvif.org/ver10/device/wsdl">` + header + `<s:Body>` + body + `</s:Body></s:Envelope>`
	resp, err := http.Post(url, "application/soap+xml; charset=utf-8", strings.NewReader(env))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
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
	ffprobe := needTool(t, "ffprobe")
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
