package rtsp

import (
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/stream"
	"github.com/gorilla/mux"
)

// TestFanOutHTTPAndRTSP puts 100 MJPEG/HTTP viewers and 10 RTSP readers on
// one camera, plus one HTTP viewer and one RTSP reader that never read:
// every working viewer gets every frame, in order.
func TestFanOutHTTPAndRTSP(t *testing.T) {
	const httpViewers, rtspReaders, frames = 100, 10, 40
	hub := stream.NewHub()

	jpegs, byScan := numberedFrames(t, frames)
	byJPEG := make(map[string]uint16)
	for i := 1; i <= frames; i++ {
		byJPEG[string(jpegs[i])] = uint16(i)
	}

	r := mux.NewRouter()
	cam := &stream.Camera{Video: hub, WriteTimeout: 2 * time.Second, MaxLag: 12}
	cam.Register(r.PathPrefix("/cam1").Subrouter())
	hs := httptest.NewServer(r)
	defer hs.Close()

	srv := &Server{}
	srv.Handle("cam1", Source{Video: hub})
	addr := runServer(t, srv).addr
	rtspURL := "rtsp://" + addr + "/cam1/jpeg"

	// The viewers that never read.
	stuckHTTP, err := net.Dial("tcp", hs.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer stuckHTTP.Close()
	fmt.Fprintf(stuckHTTP, "GET /cam1/stream.mjpeg HTTP/1.1\r\nHost: x\r\n\r\n")
	stuckRTSP := dialRaw(t, addr)
	res := stuckRTSP.do("SETUP", rtspURL+"/trackID=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
	stuckRTSP.session = sessionID(res.header.get("Session"))
	stuckRTSP.do("PLAY", rtspURL)

	got := make([][]uint16, httpViewers+rtspReaders)
	errs := make([]error, httpViewers+rtspReaders)
	var ready, wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: httpViewers}}
	for i := range httpViewers {
		ready.Add(1)
		wg.Go(func() {
			resp, err := client.Get(hs.URL + "/cam1/stream.mjpeg")
			ready.Done()
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			mr := multipart.NewReader(resp.Body, stream.Boundary)
			for len(got[i]) < frames {
				p, err := mr.NextPart()
				if err != nil {
					errs[i] = fmt.Errorf("after %d frames: %w", len(got[i]), err)
					return
				}
				b, _ := io.ReadAll(p)
				got[i] = append(got[i], byJPEG[string(b)])
			}
		})
	}
	for k := range rtspReaders {
		i := httpViewers + k
		c := dialRaw(t, addr)
		res := c.do("SETUP", rtspURL+"/trackID=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
		c.session = sessionID(res.header.get("Session"))
		c.do("PLAY", rtspURL)
		wg.Go(func() {
			var scan []byte
			for len(got[i]) < frames {
				_ = c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
				fr, err := c.readFrame()
				if err != nil {
					errs[i] = fmt.Errorf("after %d frames: %w", len(got[i]), err)
					return
				}
				if fr.ch != 0 {
					continue
				}
				p := fr.data[rtpHeaderLen+8:]
				if fr.data[rtpHeaderLen+1]|fr.data[rtpHeaderLen+2]|fr.data[rtpHeaderLen+3] == 0 {
					p = p[4+128:] // quantization tables in the first packet
					scan = scan[:0]
				}
				scan = append(scan, p...)
				if fr.data[1]&0x80 != 0 {
					got[i] = append(got[i], byScan[string(scan)])
				}
			}
		})
	}
	ready.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for hub.Readers() < httpViewers+1+1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // let the RTSP producer subscribe
	// A camera at 25 fps: frames captured every 40 ms, whenever this
	// loop gets to publish them.
	start := time.Now()
	for i := 1; i <= frames; i++ {
		hub.Publish(&camsession.Frame{JPEG: jpegs[i], Seq: uint64(i), Time: start.Add(time.Duration(i) * 40 * time.Millisecond)})
		time.Sleep(40 * time.Millisecond)
	}
	wg.Wait()
	for i := range got {
		kind := "HTTP"
		if i >= httpViewers {
			kind = "RTSP"
		}
		if errs[i] != nil {
			t.Fatalf("%s viewer %d: %v", kind, i, errs[i])
		}
		for j, n := range got[i] {
			if n != uint16(j+1) {
				t.Fatalf("%s viewer %d: frame %d is %d (%v): frames were skipped", kind, i, j, n, got[i])
			}
		}
	}
}
