package admin_test

import (
	"bytes"
	"fmt"

	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/chinesium/chinesium/admin"
	"github.com/chinesium/chinesium/internal/testutil"
)

// scrape fetches /metrics and parses it with Prometheus's own parser.
func scrape(t *testing.T, r *rig) map[string]*dto.MetricFamily {
	t.Helper()
	code, h, body := r.get(t, admin.MetricsPath, true)
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("%s: %d %q", admin.MetricsPath, code, h.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("metrics do not parse: %v\n%s", err, body)
	}
	return mfs
}

// value returns the value of the series of family name with the given
// labels (name=value pairs), and whether it exists.
func value(mfs map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		if len(have) != len(labels)/2 {
			continue
		}
		for i := 0; i < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue(), true
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

func mustValue(t *testing.T, mfs map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	v, ok := value(mfs, name, labels...)
	if !ok {
		t.Fatalf("no series %s%v", name, labels)
	}
	return v
}

// TestMetrics: /metrics parses with Prometheus's text parser, its counters
// move as frames flow and viewers watch, and every number is the
// component's own counter: once the camera and the viewers stop, the
// metrics equal the components' Stats and the bytes the viewer received.
func TestMetrics(t *testing.T) {
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	r := startRig(t, rigOpts{cameras: 1, first: 30, users: true, disc: true, fps: 20})
	cam := r.cams[0]
	waitUntil(t, "camera streams", func() bool { return cam.session.State().String() == "streaming" })

	first := scrape(t, r)
	types := map[string]dto.MetricType{
		"chinesium_camera_up":                          dto.MetricType_GAUGE,
		"chinesium_camera_packets_total":               dto.MetricType_COUNTER,
		"chinesium_camera_bad_packets_total":           dto.MetricType_COUNTER,
		"chinesium_camera_frames_complete_total":       dto.MetricType_COUNTER,
		"chinesium_camera_frames_dropped_total":        dto.MetricType_COUNTER,
		"chinesium_camera_duplicate_packets_total":     dto.MetricType_COUNTER,
		"chinesium_camera_reordered_packets_total":     dto.MetricType_COUNTER,
		"chinesium_camera_reconnects_total":            dto.MetricType_COUNTER,
		"chinesium_camera_fps":                         dto.MetricType_GAUGE,
		"chinesium_camera_last_frame_age_seconds":      dto.MetricType_GAUGE,
		"chinesium_camera_motion":                      dto.MetricType_GAUGE,
		"chinesium_camera_viewers":                     dto.MetricType_GAUGE,
		"chinesium_camera_sent_bytes_total":            dto.MetricType_COUNTER,
		"chinesium_camera_viewer_dropped_frames_total": dto.MetricType_COUNTER,
		"chinesium_rtsp_sessions":                      dto.MetricType_GAUGE,
		"chinesium_discovery_requests_total":           dto.MetricType_COUNTER,
		"chinesium_discovery_answers_total":            dto.MetricType_COUNTER,
		"chinesium_discovery_dropped_total":            dto.MetricType_COUNTER,
		"go_goroutines":                                dto.MetricType_GAUGE,
		"process_resident_memory_bytes":                dto.MetricType_GAUGE,
	}
	for name, typ := range types {
		mf := first[name]
		if mf == nil {
			t.Errorf("no metric %s", name)
			continue
		}
		if mf.GetType() != typ || mf.GetHelp() == "" {
			t.Errorf("%s: type %v help %q, want %v with help", name, mf.GetType(), mf.GetHelp(), typ)
		}
	}
	if v := mustValue(t, first, "chinesium_camera_up", "camera", "cam-1"); v != 1 {
		t.Errorf("camera_up = %v while streaming", v)
	}

	// Viewers: MJPEG through the admin server, RTSP over TCP with ffmpeg.
	req, _ := http.NewRequest(http.MethodGet, r.url+"cameras/cam-1/stream.mjpeg", nil)
	req.SetBasicAuth("admin", "secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var received atomic.Int64
	var readers sync.WaitGroup
	readers.Go(func() {
		buf := make([]byte, 64<<10)
		for {
			n, rerr := resp.Body.Read(buf)
			received.Add(int64(n))
			if rerr != nil {
				return
			}
		}
	})
	play := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-rtsp_transport", "tcp", "-i", "rtsp://"+r.rtspAt+"/cam-1/jpeg", "-f", "null", "-")
	var stderr bytes.Buffer
	play.Stderr = &stderr
	if err = play.Start(); err != nil {
		t.Fatal(err)
	}
	playing := true
	stopPlay := func() {
		if playing {
			playing = false
			_ = play.Process.Signal(syscall.SIGINT)
			_ = play.Wait()
		}
	}
	defer stopPlay()
	var second map[string]*dto.MetricFamily
	waitUntil(t, "both viewers counted", func() bool {
		second = scrape(t, r)
		h, _ := value(second, "chinesium_camera_viewers", "camera", "cam-1", "protocol", "http", "stream", "mjpeg")
		p, _ := value(second, "chinesium_camera_viewers", "camera", "cam-1", "protocol", "rtsp/tcp", "stream", "jpeg")
		b, _ := value(second, "chinesium_camera_sent_bytes_total", "camera", "cam-1", "protocol", "rtsp")
		return h == 1 && p == 1 && b > 0
	})
	for _, c := range []struct {
		name   string
		labels []string
	}{
		{"chinesium_camera_packets_total", []string{"camera", "cam-1"}},
		{"chinesium_camera_frames_complete_total", []string{"camera", "cam-1"}},
		{"chinesium_camera_sent_bytes_total", []string{"camera", "cam-1", "protocol", "http"}},
		{"chinesium_camera_sent_frames_total", []string{"camera", "cam-1", "protocol", "http"}},
	} {
		a, _ := value(first, c.name, c.labels...)
		b := mustValue(t, second, c.name, c.labels...)
		if b <= a {
			t.Errorf("%s%v did not grow while frames flowed: %v then %v", c.name, c.labels, a, b)
		}
	}
	if v := mustValue(t, second, "chinesium_rtsp_sessions"); v != 1 {
		t.Errorf("rtsp_sessions = %v with ffmpeg playing", v)
	}
	// The gauge counts the frames of the last second; on a loaded machine
	// a second can pass with few frames, so wait for one that shows the
	// camera's rate instead of reading it once.
	waitUntil(t, "fps shows frames flowing at 20 fps", func() bool {
		v, _ := value(scrape(t, r), "chinesium_camera_fps", "camera", "cam-1")
		return v >= 5
	})

	// WS-Discovery: a malformed datagram and a burst of probes from one
	// address, more than its rate allows.
	conn, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netipAddrPort(serverIP, r.disc.LocalPort())))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = conn.Write([]byte("not xml"))
	const probes = 40
	for i := range probes {
		_, _ = conn.Write([]byte(probe(i)))
	}
	waitUntil(t, "the responder read every datagram", func() bool { return r.disc.Stats().Received == probes+1 })
	d := r.disc.Stats()
	m := scrape(t, r)
	for _, c := range []struct {
		got  float64
		want uint64
		what string
	}{
		{mustValue(t, m, "chinesium_discovery_received_total"), d.Received, "received"},
		{mustValue(t, m, "chinesium_discovery_requests_total", "type", "probe"), d.Probes, "probes"},
		{mustValue(t, m, "chinesium_discovery_dropped_total", "reason", "rate_limited"), d.RateLimited, "rate limited"},
		{mustValue(t, m, "chinesium_discovery_dropped_total", "reason", "malformed"), d.Malformed, "malformed"},
		{mustValue(t, m, "chinesium_discovery_answers_total"), d.Answers, "answers"},
	} {
		if c.got != float64(c.want) {
			t.Errorf("discovery %s: metric %v, responder %d", c.what, c.got, c.want)
		}
	}
	if d.Malformed != 1 || d.RateLimited == 0 || d.Probes == 0 {
		t.Errorf("responder stats %+v: want 1 malformed and some probes answered and rate-limited", d)
	}

	// Everything stops: the metrics equal the components' counters.
	stopPlay()
	cam.stopFake()
	waitUntil(t, "the session notices", func() bool { return cam.session.State().String() == "lost" })
	waitUntil(t, "the viewer got every byte sent", func() bool { return received.Load() == int64(cam.http.Stats().BytesSent) })
	waitUntil(t, "the RTSP viewer is gone", func() bool {
		v, _ := value(scrape(t, r), "chinesium_camera_viewers", "camera", "cam-1", "protocol", "rtsp/tcp", "stream", "jpeg")
		return v == 0
	})
	ss, hs, ps := cam.session.Stats(), cam.http.Stats(), r.rtsp.Stats().Paths["cam-1"]
	last := scrape(t, r)
	for _, c := range []struct {
		name   string
		labels []string
		want   uint64
	}{
		{"chinesium_camera_packets_total", []string{"camera", "cam-1"}, ss.Packets},
		{"chinesium_camera_bad_packets_total", []string{"camera", "cam-1"}, ss.BadPackets},
		{"chinesium_camera_frames_complete_total", []string{"camera", "cam-1"}, ss.FramesComplete},
		{"chinesium_camera_frames_dropped_total", []string{"camera", "cam-1"}, ss.FramesDropped},
		{"chinesium_camera_duplicate_packets_total", []string{"camera", "cam-1"}, ss.Duplicates},
		{"chinesium_camera_reconnects_total", []string{"camera", "cam-1"}, ss.Reconnects},
		{"chinesium_camera_sent_bytes_total", []string{"camera", "cam-1", "protocol", "http"}, uint64(received.Load())},
		{"chinesium_camera_sent_frames_total", []string{"camera", "cam-1", "protocol", "http"}, hs.FramesSent},
		{"chinesium_camera_sent_bytes_total", []string{"camera", "cam-1", "protocol", "rtsp"}, ps.BytesSent},
		{"chinesium_camera_viewers", []string{"camera", "cam-1", "protocol", "http", "stream", "mjpeg"}, 1},
		{"chinesium_camera_up", []string{"camera", "cam-1"}, 0},
	} {
		if got := mustValue(t, last, c.name, c.labels...); got != float64(c.want) {
			t.Errorf("%s%v = %v, want %d", c.name, c.labels, got, c.want)
		}
	}
	resp.Body.Close()
	readers.Wait()
	if t.Failed() {
		t.Logf("ffmpeg: %s", stderr.String())
	}
}

// probe is an ONVIF Device Manager probe with MessageID number i.
func probe(i int) string {
	return fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?><Envelope xmlns:dn="http://www.onvif.org/ver10/network/wsdl" xmlns="http://www.w3.org/2003/05/soap-envelope"><Header><wsa:MessageID xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">uuid:5f1bb4c5-4dca-4a3b-a0ad-%012d</wsa:MessageID><wsa:To xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">urn:schemas-xmlsoap-org:ws:2005:04:discovery</wsa:To><wsa:Action xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</wsa:Action></Header><Body><Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery"><Types>dn:NetworkVideoTransmitter</Types><Scopes /></Probe></Body></Envelope>`, i)
}
