package rtsp

import (
	"math"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"

	"github.com/chinesium/chinesium/internal/testutil"
)

func TestProtocolInterleaved(t *testing.T) {
	f := startFixture(t, fixtureOpts{audio: true})
	c := dialRaw(t, f.addr)

	res := c.do("OPTIONS", f.url("jpeg"))
	for _, m := range []string{"DESCRIBE", "SETUP", "PLAY", "TEARDOWN", "GET_PARAMETER"} {
		if !strings.Contains(res.header.get("Public"), m) {
			t.Errorf("Public %q lacks %s", res.header.get("Public"), m)
		}
	}

	res = c.do("DESCRIBE", f.url("jpeg"), "Accept: application/sdp")
	if res.status != 200 || res.header.get("Content-Type") != "application/sdp" {
		t.Fatalf("DESCRIBE: %d %q", res.status, res.header.get("Content-Type"))
	}
	if got, want := res.header.get("Content-Base"), f.url("jpeg")+"/"; got != want {
		t.Errorf("Content-Base %q, want %q", got, want)
	}
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(res.body); err != nil {
		t.Fatalf("SDP: %v\n%s", err, res.body)
	}
	if v, _ := sd.Attribute("control"); v != "*" {
		t.Errorf("session control %q, want *", v)
	}
	if len(sd.MediaDescriptions) != 2 {
		t.Fatalf("%d media, want video and audio:\n%s", len(sd.MediaDescriptions), res.body)
	}
	for i, want := range []string{"26 JPEG/90000", "0 PCMU/8000"} {
		md := sd.MediaDescriptions[i]
		if v, _ := md.Attribute("rtpmap"); v != want {
			t.Errorf("media %d rtpmap %q, want %q", i, v, want)
		}
		if v, _ := md.Attribute("control"); v != "trackID="+strconv.Itoa(i) {
			t.Errorf("media %d control %q", i, v)
		}
	}

	res = c.do("SETUP", f.url("jpeg")+"/trackID=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
	if res.status != 200 {
		t.Fatalf("SETUP: %d", res.status)
	}
	sess := res.header.get("Session")
	if !regexp.MustCompile(`^[0-9a-f]{16};timeout=60$`).MatchString(sess) {
		t.Errorf("Session %q, want id;timeout=60", sess)
	}
	c.session = sessionID(sess)
	if tr := res.header.get("Transport"); !strings.HasPrefix(tr, "RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=") {
		t.Errorf("Transport %q", tr)
	}
	res = c.do("SETUP", f.url("jpeg")+"/trackID=1", "Transport: RTP/AVP/TCP;unicast;interleaved=2-3")
	if res.status != 200 {
		t.Fatalf("SETUP audio: %d", res.status)
	}

	res = c.do("PLAY", f.url("jpeg")+"/", "Range: npt=0.000-")
	if res.status != 200 {
		t.Fatalf("PLAY: %d", res.status)
	}
	if res.header.get("Range") != "npt=now-" {
		t.Errorf("Range %q", res.header.get("Range"))
	}
	info := res.header.get("RTP-Info")
	m := regexp.MustCompile(`^url=` + regexp.QuoteMeta(f.url("jpeg")) + `/trackID=0;seq=(\d+);rtptime=(\d+),url=.*/trackID=1;seq=\d+;rtptime=\d+$`).FindStringSubmatch(info)
	if m == nil {
		t.Fatalf("RTP-Info %q", info)
	}
	firstSeq, _ := strconv.Atoi(m[1])

	// Read two seconds of interleaved data.
	var video, audio []rtpHeader
	var srs []struct {
		sr rtcp.SenderReport
		at time.Time
	}
	var frameRecv []time.Time
	var frameTS []uint32
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		fr, err := c.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		switch fr.ch {
		case 0:
			h := parseRTP(t, fr.data)
			video = append(video, h)
			if h.marker {
				frameRecv = append(frameRecv, fr.at)
				frameTS = append(frameTS, h.ts)
			}
		case 2:
			audio = append(audio, parseRTP(t, fr.data))
		case 1, 3:
			pkts, err := rtcp.Unmarshal(fr.data)
			if err != nil {
				t.Fatalf("RTCP: %v", err)
			}
			if sr, ok := pkts[0].(*rtcp.SenderReport); ok {
				srs = append(srs, struct {
					sr rtcp.SenderReport
					at time.Time
				}{*sr, fr.at})
			}
		default:
			t.Fatalf("data on channel %d", fr.ch)
		}
	}
	if len(video) == 0 || int(video[0].seq) != firstSeq {
		t.Fatalf("first video packet seq %v, RTP-Info said %d", video[:min(1, len(video))], firstSeq)
	}
	for i := 1; i < len(video); i++ {
		if video[i].seq != video[i-1].seq+1 || video[i].pt != 26 || video[i].ssrc != video[0].ssrc {
			t.Fatalf("video packet %d: %+v after %+v", i, video[i], video[i-1])
		}
	}
	if len(frameRecv) < 40 {
		t.Errorf("%d video frames in 2 s at 25 fps", len(frameRecv))
	}
	if len(audio) < 40 || audio[0].pt != 0 {
		t.Errorf("%d audio packets (want ~50 of PT 0), first %+v", len(audio), audio[:min(1, len(audio))])
	}
	if len(srs) < 2 {
		t.Fatalf("%d sender reports, want one per track at start", len(srs))
	}
	// The SR maps NTP to RTP time; a frame's timestamp must sit at the
	// right place on that mapping (within the test's scheduling slack).
	var vsr *rtcp.SenderReport
	for i := range srs {
		if srs[i].sr.SSRC == video[0].ssrc {
			vsr = &srs[i].sr
		}
	}
	if vsr == nil {
		t.Fatal("no sender report for the video SSRC")
	}
	srWall := ntpToTime(vsr.NTPTime)
	if d := time.Since(srWall); d < 0 || d > 5*time.Second {
		t.Errorf("SR NTP time %v is %v from now", srWall, d)
	}
	lastTS := frameTS[len(frameTS)-1]
	wallOfLast := srWall.Add(time.Duration(int32(lastTS-vsr.RTPTime)) * time.Second / 90000)
	if d := frameRecv[len(frameRecv)-1].Sub(wallOfLast); d < -50*time.Millisecond || d > time.Second {
		t.Errorf("last frame received %v after its SR-derived capture time", d)
	}

	if res := c.do("GET_PARAMETER", f.url("jpeg")); res.status != 200 {
		t.Errorf("GET_PARAMETER: %d", res.status)
	}
	if res := c.do("TEARDOWN", f.url("jpeg")); res.status != 200 {
		t.Errorf("TEARDOWN: %d", res.status)
	}
	if res := c.do("GET_PARAMETER", f.url("jpeg")); res.status != 454 {
		t.Errorf("GET_PARAMETER after TEARDOWN: %d, want 454", res.status)
	}
	if n := f.srv.SessionCount(); n != 0 {
		t.Errorf("%d sessions after TEARDOWN", n)
	}
}

func ntpToTime(ntp uint64) time.Time {
	sec := int64(ntp>>32) - ntpEpochOffset
	frac := int64(ntp & 0xFFFFFFFF)
	return time.Unix(sec, frac*int64(time.Second)>>32)
}

func TestProtocolErrors(t *testing.T) {
	t.Parallel()
	f := startFixture(t, fixtureOpts{})
	c := dialRaw(t, f.addr)
	cases := []struct {
		method, uri string
		hdr         []string
		want        int
	}{
		{"DESCRIBE", "rtsp://" + f.addr + "/nope/jpeg", nil, 404},
		{"DESCRIBE", "rtsp://" + f.addr + "/cam/mpeg4", nil, 404},
		{"DESCRIBE", "rtsp://" + f.addr + "/cam", nil, 404},
		{"ANNOUNCE", f.url("jpeg"), nil, 501},
		{"RECORD", f.url("jpeg"), nil, 501},
		{"PLAY", f.url("jpeg"), []string{"Session: 0123456789abcdef"}, 454},
		{"PLAY", f.url("jpeg"), nil, 454},
		{"SETUP", f.url("jpeg") + "/trackID=1", []string{"Transport: RTP/AVP/TCP;interleaved=0-1"}, 404}, // no audio
		{"SETUP", f.url("jpeg") + "/trackID=0", []string{"Transport: RTP/AVP;multicast;port=5000-5001"}, 461},
		{"SETUP", f.url("jpeg") + "/trackID=0", []string{"Transport: RTP/AVP;unicast"}, 461},
		{"SETUP", f.url("jpeg") + "/trackID=0", nil, 461},
		{"SETUP", f.url("jpeg") + "/trackID=0", []string{"Session: feedfeedfeedfeed", "Transport: RTP/AVP/TCP"}, 454},
		{"GET_PARAMETER", f.url("jpeg"), nil, 200},
		{"SET_PARAMETER", f.url("jpeg"), nil, 200},
	}
	for _, tc := range cases {
		if res := c.do(tc.method, tc.uri, tc.hdr...); res.status != tc.want {
			t.Errorf("%s %s %v: %d, want %d", tc.method, tc.uri, tc.hdr, res.status, tc.want)
		}
	}
	// A SETUP with multicast first and TCP second picks TCP.
	res := c.do("SETUP", f.url("jpeg")+"/trackID=0", "Transport: RTP/AVP;multicast,RTP/AVP/TCP;unicast;interleaved=4-5")
	if res.status != 200 || !strings.Contains(res.header.get("Transport"), "interleaved=4-5") {
		t.Errorf("SETUP with alternatives: %d %q", res.status, res.header.get("Transport"))
	}
	// A session of the JPEG URL cannot be played on the H.264 URL.
	c.session = sessionID(res.header.get("Session"))
	if res := c.do("PLAY", f.url("h264")); res.status != 404 {
		t.Errorf("PLAY on another URL: %d, want 404", res.status)
	}
	c.session = ""

	// Garbage gets 400 and the connection is closed.
	g := dialRaw(t, f.addr)
	_, _ = g.nc.Write([]byte("HELLO\r\n\r\n"))
	r, err := readRawResponse(g.br)
	if err != nil || r.status != 400 {
		t.Fatalf("garbage: %v %v", r, err)
	}
	_ = g.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := g.br.ReadByte(); err == nil {
		t.Error("connection still open after a bad request")
	}
}

func TestTunnelNeedsCookie(t *testing.T) {
	t.Parallel()
	f := startFixture(t, fixtureOpts{})
	for _, req := range []string{
		"GET /cam/jpeg HTTP/1.0\r\nAccept: application/x-rtsp-tunnelled\r\n\r\n",
		"POST /cam/jpeg HTTP/1.0\r\nx-sessioncookie: nosuchtunnel\r\nContent-Length: 32767\r\n\r\nT1BUSU9OUyAqIFJUU1AvMS4wDQoNCg==",
	} {
		nc, err := net.Dial("tcp", f.addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = nc.Write([]byte(req))
		_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 512)
		n, _ := nc.Read(buf)
		nc.Close()
		if !strings.HasPrefix(string(buf[:n]), "HTTP/1.0 4") {
			t.Errorf("%q answered %q, want a 4xx", req[:20], buf[:n])
		}
	}
}

// TestFFmpegPlaysAudio decodes the PCMU track of both URLs: the camera's
// ADPCM tone must come out as a tone, not silence or noise.
func TestFFmpegPlaysAudio(t *testing.T) {
	t.Parallel()
	f := startFixture(t, fixtureOpts{audio: true})
	for _, media := range []string{"jpeg", "h264"} {
		checkTone(t, f.url(media))
	}
}

// checkTone decodes 2 s of the URL's audio track with ffmpeg and checks it
// is the 440 Hz test tone (the fixture's and the fake camera's).
func checkTone(t *testing.T, url string) {
	t.Helper()
	bin := testutil.NeedTool(t, "ffmpeg")
	cmd := exec.Command(bin, "-hide_banner", "-v", "error", "-nostdin", "-rtsp_transport", "tcp",
		"-i", url, "-map", "0:a", "-t", "2", "-f", "s16le", "-ac", "1", "-ar", "8000", "pipe:1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("%s: ffmpeg: %v\n%s", url, err, stderr.String())
	}
	n := len(out) / 2
	if n < 8000 {
		t.Fatalf("%s: %d samples, want 2 s at 8 kHz", url, n)
	}
	var sum float64
	crossings := 0
	prev := int16(0)
	for i := range n {
		s := int16(uint16(out[2*i]) | uint16(out[2*i+1])<<8)
		sum += float64(s) * float64(s)
		if (s >= 0) != (prev >= 0) {
			crossings++
		}
		prev = s
	}
	rms := math.Sqrt(sum / float64(n))
	freq := float64(crossings) / 2 / (float64(n) / 8000)
	if rms < 1000 || freq < 380 || freq > 500 {
		t.Errorf("%s: audio rms %.0f, %.0f Hz; want a 440 Hz tone", url, rms, freq)
	}
}

func TestPauseAndPlayAgain(t *testing.T) {
	t.Parallel()
	f := startFixture(t, fixtureOpts{})
	c := dialRaw(t, f.addr)
	res := c.do("SETUP", f.url("jpeg")+"/trackID=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
	c.session = sessionID(res.header.get("Session"))
	if res := c.do("PLAY", f.url("jpeg")); res.status != 200 {
		t.Fatalf("PLAY: %d", res.status)
	}
	if _, err := c.readFrame(); err != nil {
		t.Fatal(err)
	}
	if res := c.do("PAUSE", f.url("jpeg")); res.status != 200 {
		t.Fatalf("PAUSE: %d", res.status)
	}
	if n := f.srv.lookupPath("cam").jpeg.readerCount(); n != 0 {
		t.Errorf("%d readers while paused", n)
	}
	if res := c.do("SETUP", f.url("jpeg")+"/trackID=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1"); res.status != 200 {
		t.Errorf("SETUP while paused: %d", res.status)
	}
	c.frames = nil
	if res := c.do("PLAY", f.url("jpeg")); res.status != 200 {
		t.Fatalf("PLAY again: %d", res.status)
	}
	fr, err := c.readFrame()
	if err != nil || fr.ch != 0 {
		t.Fatalf("no RTP after the second PLAY: %v", err)
	}
}

// TestFFprobeStreams checks what a client learns from DESCRIBE and the
// first packets: codecs, picture size and the audio format of both URLs.
func TestFFprobeStreams(t *testing.T) {
	t.Parallel()
	bin := testutil.NeedTool(t, "ffprobe")
	f := startFixture(t, fixtureOpts{audio: true})
	for media, want := range map[string][]string{
		"jpeg": {"codec_name=mjpeg", "width=640", "height=480", "codec_name=pcm_mulaw", "sample_rate=8000"},
		"h264": {"codec_name=h264", "width=640", "height=480", "pix_fmt=yuv420p", "codec_name=pcm_mulaw"},
	} {
		out, err := exec.Command(bin, "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
			"stream=codec_name,width,height,pix_fmt,sample_rate", "-of", "default=nw=1", f.url(media)).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: ffprobe: %v\n%s", media, err, out)
		}
		for _, w := range want {
			if !strings.Contains(string(out), w+"\n") {
				t.Errorf("%s: ffprobe output lacks %q:\n%s", media, w, out)
			}
		}
	}
}

func TestSessionLimit(t *testing.T) {
	t.Parallel()
	f := startFixture(t, fixtureOpts{})
	c := dialRaw(t, f.addr)
	for i := range DefaultMaxSessions {
		if res := c.do("SETUP", f.url("jpeg")+"/trackID=0", "Transport: RTP/AVP/TCP;interleaved=0-1"); res.status != 200 {
			t.Fatalf("SETUP %d: %d", i, res.status)
		}
	}
	if res := c.do("SETUP", f.url("jpeg")+"/trackID=0", "Transport: RTP/AVP/TCP;interleaved=0-1"); res.status != 503 {
		t.Errorf("SETUP beyond the limit: %d, want 503", res.status)
	}
	c.nc.Close()
	// Interleaved sessions end with their connection.
	deadline := time.Now().Add(5 * time.Second)
	for f.srv.SessionCount() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := f.srv.SessionCount(); n != 0 {
		t.Errorf("%d sessions left after the connection closed", n)
	}
}
