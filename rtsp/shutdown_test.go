package rtsp

import (
	"bufio"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/stream"
)

// TestServeStopsDuringH264Describe: a DESCRIBE of the H.264 URL that waits
// for ffmpeg to report the parameter sets does not hold up Serve's return
// when the server stops (the probe encode may take up to 15 s).
func TestServeStopsDuringH264Describe(t *testing.T) {
	t.Parallel()
	// An "ffmpeg" that has libx264 but never encodes anything.
	ffmpeg := fakeFFmpeg(t, "#!/bin/sh\ncase \"$*\" in *-encoders*) echo ' V....D libx264 H.264'; exit 0;; esac\nexec sleep 30\n")
	hub := stream.NewHub()
	hub.Publish(&camsession.Frame{JPEG: numberedJPEG(t, 1), Index: 1, Seq: 1, Time: time.Now()})
	srv := &Server{FFmpeg: ffmpeg}
	srv.Handle("cam", Source{Video: hub})
	ts := runServer(t, srv)

	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprintf(nc, "DESCRIBE rtsp://%s/cam/h264 RTSP/1.0\r\nCSeq: 1\r\n\r\n", ts.addr)
	// Let the DESCRIBE reach the probe encode.
	_ = nc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := bufio.NewReader(nc).ReadByte(); err == nil {
		t.Fatal("DESCRIBE answered although ffmpeg never encodes")
	}
	ts.stop(t, 5*time.Second)
}
