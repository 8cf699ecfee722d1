package rtsp

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chinesium/chinesium/httpauth"
	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/pion/rtcp"
)

func TestAuth(t *testing.T) {
	t.Parallel()
	f := startFixture(t, fixtureOpts{users: httpauth.StaticUsers{"admin": "s3cret"}})
	c := dialRaw(t, f.addr)
	if res := c.do("OPTIONS", f.url("jpeg")); res.status != 200 {
		t.Errorf("OPTIONS without credentials: %d, want 200", res.status)
	}
	res := c.do("DESCRIBE", f.url("jpeg"))
	if res.status != 401 {
		t.Fatalf("DESCRIBE without credentials: %d, want 401", res.status)
	}
	ch := strings.Join(res.all("WWW-Authenticate"), "\n")
	for _, want := range []string{`Digest realm="test"`, "algorithm=MD5", "algorithm=SHA-256", "Basic"} {
		if !strings.Contains(ch, want) {
			t.Errorf("challenges lack %q:\n%s", want, ch)
		}
	}
	c.authz = func(string, string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:wrong"))
	}
	if res := c.do("DESCRIBE", f.url("jpeg")); res.status != 401 {
		t.Errorf("wrong password: %d, want 401", res.status)
	}
	c.authz = func(string, string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:s3cret"))
	}
	if res := c.do("DESCRIBE", f.url("jpeg")); res.status != 200 {
		t.Errorf("Basic: %d, want 200", res.status)
	}

	// ffmpeg without credentials is refused; with them (Digest, which
	// ffmpeg prefers) it plays, also through the HTTP tunnel.
	bin := testutil.NeedTool(t, "ffprobe")
	out, err := exec.Command(bin, "-v", "error", "-rtsp_transport", "tcp", f.url("jpeg")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "401") {
		t.Errorf("ffprobe without credentials: err=%v out=%s", err, out)
	}
	authURL := "rtsp://admin:s3cret@" + f.addr + "/cam/jpeg"
	for _, tr := range []string{"tcp", "http"} {
		nums, stderr := ffmpegFrames(t, authURL, tr, 20)
		if stderr != "" {
			t.Errorf("%s: ffmpeg errors: %s", tr, stderr)
		}
		f.checkFrames(t, nums, 20)
	}
	if !strings.Contains(f.logs.String(), `user=admin`) {
		t.Error("sessions not logged with the authenticated user")
	}
}

// udpClient sets up a UDP session by hand.
func udpClient(t *testing.T, f *fixture) (*rawClient, *net.UDPConn, *net.UDPConn, int) {
	t.Helper()
	rtpc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	rtcpc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rtpc.Close(); rtcpc.Close() })
	c := dialRaw(t, f.addr)
	res := c.do("SETUP", f.url("jpeg")+"/trackID=0", fmt.Sprintf("Transport: RTP/AVP;unicast;client_port=%d-%d",
		rtpc.LocalAddr().(*net.UDPAddr).Port, rtcpc.LocalAddr().(*net.UDPAddr).Port))
	if res.status != 200 {
		t.Fatalf("SETUP: %d", res.status)
	}
	m := regexp.MustCompile(`server_port=(\d+)-(\d+)`).FindStringSubmatch(res.header.get("Transport"))
	if m == nil {
		t.Fatalf("Transport %q has no server_port", res.header.get("Transport"))
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	if a%2 != 0 || b != a+1 {
		t.Errorf("server ports %d-%d, want an even/odd pair", a, b)
	}
	c.session = sessionID(res.header.get("Session"))
	if res := c.do("PLAY", f.url("jpeg")); res.status != 200 {
		t.Fatalf("PLAY: %d", res.status)
	}
	return c, rtpc, rtcpc, b
}

// receivesRTP reports whether an RTP packet arrives within d.
func receivesRTP(pc *net.UDPConn, d time.Duration) bool {
	buf := make([]byte, 2048)
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		_ = pc.SetReadDeadline(end)
		n, err := pc.Read(buf)
		if err != nil {
			return false
		}
		if n >= 12 && buf[1]&0x7F == 26 {
			return true
		}
	}
	return false
}

func TestSessionTimeout(t *testing.T) {
	t.Parallel()
	f := startFixture(t, fixtureOpts{timeout: time.Second})
	c, rtpc, rtcpc, serverRTCP := udpClient(t, f)
	if !receivesRTP(rtpc, 2*time.Second) {
		t.Fatal("no RTP over UDP")
	}
	// RTCP receiver reports alone keep the session alive well past its
	// timeout.
	rr, _ := (&rtcp.ReceiverReport{SSRC: 1}).Marshal()
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: serverRTCP}
	for range 8 {
		if _, err := rtcpc.WriteToUDP(rr, to); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if f.srv.SessionCount() != 1 || !receivesRTP(rtpc, time.Second) {
		t.Fatal("session died although RTCP receiver reports kept coming")
	}
	// So do requests.
	for range 4 {
		if res := c.do("GET_PARAMETER", f.url("jpeg")); res.status != 200 {
			t.Fatalf("GET_PARAMETER: %d", res.status)
		}
		time.Sleep(400 * time.Millisecond)
	}
	if f.srv.SessionCount() != 1 {
		t.Fatal("session died although GET_PARAMETER kept coming")
	}
	// Silence ends it: the stream stops and the id is forgotten.
	time.Sleep(1500 * time.Millisecond)
	if n := f.srv.SessionCount(); n != 0 {
		t.Fatalf("%d sessions after the timeout", n)
	}
	for receivesRTP(rtpc, 300*time.Millisecond) {
		// drain packets sent before the timeout
	}
	if receivesRTP(rtpc, time.Second) {
		t.Error("RTP still flowing after the session timed out")
	}
	c2 := dialRaw(t, f.addr)
	c2.session = c.session
	if res := c2.do("GET_PARAMETER", f.url("jpeg")); res.status != 454 {
		t.Errorf("request on a timed-out session: %d, want 454", res.status)
	}
	if !strings.Contains(f.logs.String(), "reason=timeout") {
		t.Error("timeout not logged")
	}
}

// TestManyReaders plays the camera to 10 ffmpeg readers at once over all
// transports while one interleaved client never reads: every reader gets
// every frame, in order, and only the stalled one drops.
func TestManyReaders(t *testing.T) {
	testutil.NeedTool(t, "ffmpeg")
	f := startFixture(t, fixtureOpts{fps: 15})

	stalled := dialRaw(t, f.addr)
	res := stalled.do("SETUP", f.url("jpeg")+"/trackID=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
	stalled.session = sessionID(res.header.get("Session"))
	if res := stalled.do("PLAY", f.url("jpeg")); res.status != 200 {
		t.Fatalf("PLAY: %d", res.status)
	}
	if tc, ok := stalled.nc.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096) // fill up quickly
	}

	const readers = 10
	transports := []string{"tcp", "udp", "http"}
	var wg sync.WaitGroup
	results := make([][]uint16, readers)
	errs := make([]string, readers)
	for i := range readers {
		wg.Go(func() {
			results[i], errs[i] = ffmpegFrames(t, f.url("jpeg"), transports[i%3], 60)
		})
	}
	wg.Wait()
	for i, nums := range results {
		if errs[i] != "" {
			t.Errorf("reader %d (%s): ffmpeg errors: %s", i, transports[i%3], errs[i])
		}
		f.checkFrames(t, nums, 60)
		for j := 1; j < len(nums); j++ {
			if nums[j] != nums[j-1]+1 {
				t.Errorf("reader %d (%s): frame %d follows %d: frames lost", i, transports[i%3], nums[j], nums[j-1])
				break
			}
		}
	}
	if f.srv.lookupSession(stalled.session) == nil {
		t.Error("the stalled reader's session is gone")
	}
}

// TestStalledReaderDrops connects a client through an unbuffered pipe that
// never reads after PLAY: the frames it cannot take are dropped for it
// alone, while a UDP session of the same track gets every frame.
func TestStalledReaderDrops(t *testing.T) {
	f := startFixture(t, fixtureOpts{fps: 50})
	cli, srvEnd := net.Pipe()
	t.Cleanup(func() { cli.Close() })
	f.srv.mu.Lock()
	var udp *udpPair
	for c := range f.srv.conns {
		udp = c.udp
	}
	f.srv.mu.Unlock()
	if udp == nil {
		// No connection yet: open one to learn the server's UDP pair.
		c := dialRaw(t, f.addr)
		c.do("OPTIONS", f.url("jpeg"))
		f.srv.mu.Lock()
		for c := range f.srv.conns {
			udp = c.udp
		}
		f.srv.mu.Unlock()
	}
	go f.srv.serveConn(context.Background(), srvEnd, udp, nil)
	stalled := &rawClient{t: t, nc: cli, br: bufio.NewReader(cli)}
	res := stalled.do("SETUP", f.url("jpeg")+"/trackID=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
	stalled.session = sessionID(res.header.get("Session"))
	if res := stalled.do("PLAY", f.url("jpeg")); res.status != 200 {
		t.Fatalf("PLAY: %d", res.status)
	}
	// From now on the pipe is never read.
	_, rtpc, _, _ := udpClient(t, f)
	buf := make([]byte, 2048)
	frames := 0
	var lastSeq uint16
	for frames < 150 {
		_ = rtpc.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := rtpc.Read(buf)
		if err != nil {
			t.Fatalf("UDP reader starved after %d frames: %v", frames, err)
		}
		h := parseRTP(t, buf[:n])
		if frames > 0 && h.seq != lastSeq+1 {
			t.Fatalf("UDP reader lost packets: seq %d after %d", h.seq, lastSeq)
		}
		lastSeq = h.seq
		if h.marker {
			frames++
		}
	}
	ss := f.srv.lookupSession(stalled.session)
	if ss == nil {
		t.Fatal("stalled session gone")
	}
	if d := ss.tracks[0].dropped.Load(); d < 150-queueLen-2 {
		t.Errorf("stalled reader dropped %d of ~150 frames", d)
	}
}

func TestH264EncoderRunsOnlyWhileWatched(t *testing.T) {
	t.Parallel()
	testutil.NeedTool(t, "ffmpeg")
	f := startFixture(t, fixtureOpts{})
	if !f.srv.H264Available() {
		t.Fatal("H264Available false with Debian's ffmpeg")
	}
	p := f.srv.lookupPath("cam")
	if n := p.h264.readerCount(); n != 0 {
		t.Fatalf("%d readers before any client", n)
	}
	nums, stderr := ffmpegFrames(t, f.url("h264"), "tcp", 30)
	if stderr != "" {
		t.Errorf("ffmpeg errors: %s", stderr)
	}
	f.checkFrames(t, nums, 30)
	select {
	case <-p.h264.stopped():
	case <-time.After(5 * time.Second):
		t.Fatal("encoder still running 5 s after the last reader left")
	}
	pids := regexp.MustCompile(`h264 encoder started" .*pid=(\d+)`).FindAllStringSubmatch(f.logs.String(), -1)
	if len(pids) != 1 {
		t.Fatalf("%d encoder starts logged, want 1", len(pids))
	}
	pid, _ := strconv.Atoi(pids[0][1])
	// Reaped: the pid no longer exists (not even as a zombie).
	if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
		t.Errorf("encoder pid %d still exists: %v", pid, err)
	}
}

func TestH264UnavailableWithoutFFmpeg(t *testing.T) {
	t.Parallel()
	f := startFixture(t, fixtureOpts{ffmpeg: "/nonexistent/ffmpeg"})
	if f.srv.H264Available() {
		t.Fatal("H264Available true without ffmpeg")
	}
	c := dialRaw(t, f.addr)
	res := c.do("DESCRIBE", f.url("h264"))
	if res.status != 503 || !strings.Contains(string(res.body), "ffmpeg not found") {
		t.Errorf("DESCRIBE h264: %d %q, want 503 naming the missing ffmpeg", res.status, res.body)
	}
	if res := c.do("SETUP", f.url("h264")+"/trackID=0", "Transport: RTP/AVP/TCP;interleaved=0-1"); res.status != 503 {
		t.Errorf("SETUP h264: %d, want 503", res.status)
	}
	if !strings.Contains(f.logs.String(), "ffmpeg not found") {
		t.Error("missing ffmpeg not logged")
	}
	if res := c.do("DESCRIBE", f.url("jpeg")); res.status != 200 {
		t.Errorf("JPEG must work without ffmpeg: %d", res.status)
	}
}
