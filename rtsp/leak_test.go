package rtsp

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/stream"
)

// TestServeLeavesNoGoroutines: when Serve returns, nothing it started is
// left running, whatever its clients were doing: an idle connection, a
// tunnel GET waiting for its POST, an interleaved session playing and a
// UDP session playing. It runs alone (not parallel) so that the goroutine
// count is its own.
func TestServeLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	hub := stream.NewHub()
	srv := &Server{}
	srv.Handle("cam", Source{Video: hub, Audio: stream.NewAudioHub()})
	ts := runServer(t, srv)
	pubDone := ts.feed(t, func(ctx context.Context) {
		for i := 0; ctx.Err() == nil; i++ {
			hub.Publish(&camsession.Frame{JPEG: numberedJPEG(t, uint16(i)), Index: uint16(i), Seq: uint64(i), Time: time.Now()})
			time.Sleep(20 * time.Millisecond)
		}
	})

	dial := func() (net.Conn, *bufio.Reader) {
		nc, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
		return nc, bufio.NewReader(nc)
	}
	cseq := 0
	do := func(nc net.Conn, br *bufio.Reader, method, uri string, hdr ...string) string {
		t.Helper()
		cseq++
		fmt.Fprintf(nc, "%s %s RTSP/1.0\r\nCSeq: %d\r\n%s\r\n", method, uri, cseq, strings.Join(append(hdr, ""), "\r\n"))
		var res strings.Builder
		length := 0
		for {
			// Skip interleaved packets in front of the response.
			if b, err := br.Peek(1); err == nil && b[0] == '$' {
				var h [4]byte
				_, _ = io.ReadFull(br, h[:])
				_, _ = io.CopyN(io.Discard, br, int64(h[2])<<8|int64(h[3]))
				continue
			}
			l, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("%s: %v", method, err)
			}
			res.WriteString(l)
			fmt.Sscanf(l, "Content-Length: %d", &length)
			if l == "\r\n" {
				break
			}
		}
		_, _ = io.CopyN(io.Discard, br, int64(length))
		if !strings.HasPrefix(res.String(), "RTSP/1.0 200") {
			t.Fatalf("%s %s: %s", method, uri, res.String())
		}
		return res.String()
	}
	session := func(res string) string {
		for _, l := range strings.Split(res, "\r\n") {
			if v, ok := strings.CutPrefix(l, "Session: "); ok {
				id, _, _ := strings.Cut(v, ";")
				return id
			}
		}
		t.Fatalf("no Session in %q", res)
		return ""
	}
	url := "rtsp://" + ts.addr + "/cam/jpeg"

	idle, ibr := dial()
	do(idle, ibr, "OPTIONS", url)

	tun, _ := dial()
	fmt.Fprint(tun, "GET /cam/jpeg HTTP/1.0\r\nx-sessioncookie: leakcookie\r\n\r\n")

	tcp, tbr := dial()
	do(tcp, tbr, "DESCRIBE", url)
	id := session(do(tcp, tbr, "SETUP", url+"/trackID=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1"))
	do(tcp, tbr, "SETUP", url+"/trackID=1", "Transport: RTP/AVP/TCP;unicast;interleaved=2-3", "Session: "+id)
	do(tcp, tbr, "PLAY", url, "Session: "+id)

	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rtp.Close()
	port := rtp.LocalAddr().(*net.UDPAddr).Port
	udp, ubr := dial()
	id = session(do(udp, ubr, "SETUP", url+"/trackID=0", fmt.Sprintf("Transport: RTP/AVP;unicast;client_port=%d-%d", port, port+1)))
	do(udp, ubr, "PLAY", url, "Session: "+id)
	_ = rtp.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := rtp.Read(make([]byte, 2048)); err != nil {
		t.Fatalf("no RTP over UDP: %v", err)
	}

	if n := runtime.NumGoroutine(); n < before+8 {
		t.Fatalf("%d goroutines while serving, %d before: the clients are not being served", n, before)
	}
	ts.stop(t, 30*time.Second)
	<-pubDone
	var now int
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if now = runtime.NumGoroutine(); now <= before {
			return
		}
	}
	buf := make([]byte, 1<<20)
	t.Errorf("%d goroutines before Serve, %d after it returned:\n%s", before, now, buf[:runtime.Stack(buf, true)])
}
