package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chinesium/chinesium/bridge"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/rtsp"
)

// Fake cameras of the sections that run a bridge in this process.
var (
	latencyCam = netip.MustParseAddr("127.0.29.10")
	fanoutCam  = netip.MustParseAddr("127.0.29.11")
	ttffCam    = netip.MustParseAddr("127.0.29.12")
	h264Cam    = netip.MustParseAddr("127.0.29.13")
)

// latency: the last UDP packet of a frame → the whole frame at each of 50
// HTTP MJPEG and 10 RTSP readers, beside a bare loop writing a frame of
// the same size to 60 loopback TCP sockets at the same rate.
func (b *bench) latency(ctx context.Context) error {
	const fps, nHTTP, nRTSP = 25, 50, 10
	ib, err := b.startBridge(ctx, []fakecam.Config{{IP: latencyCam, FPS: fps}}, nil)
	if err != nil {
		return err
	}
	defer ib.close()
	c := ib.br.Cameras()[0]
	host := benchBind.String()
	var https, rtsps []*reader
	defer func() {
		for _, r := range append(https, rtsps...) {
			r.close()
		}
	}()
	for range nHTTP {
		r, derr := dialMJPEG(c.MJPEGURL(host), false)
		if derr != nil {
			return derr
		}
		https = append(https, r)
	}
	for range nRTSP {
		r, derr := benchDialRTSP(c.RTSPURL(host, rtsp.StreamJPEG))
		if derr != nil {
			return derr
		}
		rtsps = append(rtsps, r)
	}
	for _, r := range append(https, rtsps...) {
		if werr := r.waitFirst(ctx, 10*time.Second); werr != nil {
			return werr
		}
	}
	frames := int(b.window.Seconds() * fps)
	start := time.Now()
	time.Sleep(time.Duration(frames) * time.Second / fps)
	end := time.Now()
	var httpLat, rtspLat []time.Duration
	for _, r := range https {
		for _, a := range r.arrivals() {
			if t0, ok := ib.frameTime(a.seq); ok && t0.After(start) && t0.Before(end) {
				httpLat = append(httpLat, a.at.Sub(t0))
			}
		}
	}
	for _, r := range rtsps {
		for _, a := range r.arrivals() {
			if t0, ok := ib.frameBefore(a.at); ok && t0.After(start) && t0.Before(end) {
				rtspLat = append(rtspLat, a.at.Sub(t0))
			}
		}
	}
	size := len(c.Video.Latest().JPEG)
	for _, r := range append(https, rtsps...) {
		r.close()
	}
	https, rtsps = nil, nil
	ib.close()
	if len(httpLat) == 0 || len(rtspLat) == 0 {
		return fmt.Errorf("bench: no frame measured (%d HTTP, %d RTSP)", len(httpLat), len(rtspLat))
	}

	bare, err := bareWriteLatency(ctx, nHTTP+nRTSP, size, frames, fps)
	if err != nil {
		return err
	}
	for _, s := range []struct {
		name string
		lat  []time.Duration
		goal string
	}{
		{fmt.Sprintf("HTTP MJPEG, %d readers", nHTTP), httpLat, "≤ 2 ms and ≤ 1×"},
		{fmt.Sprintf("RTSP JPEG (TCP), %d readers", nRTSP), rtspLat, ""},
	} {
		for _, p := range []struct {
			name string
			q    float64
			goal string
		}{{"p50", 0.50, ""}, {"p99", 0.99, s.goal}, {"max", 1, ""}} {
			b.add(figure{Section: "latency", Name: s.name + ": " + p.name, Unit: "ms",
				Value: msOf(quantile(s.lat, p.q)), Baseline: msOf(quantile(bare, p.q)),
				BaselineName: fmt.Sprintf("bare write loop, %d sockets", nHTTP+nRTSP), Goal: p.goal})
		}
	}
	return nil
}

// bareWriteLatency writes a size-byte message to n loopback TCP
// connections from one goroutine, frames times at fps, and returns the
// times from the first write to the message's arrival at each reader.
func bareWriteLatency(ctx context.Context, n, size, frames int, fps float64) ([]time.Duration, error) {
	ln, err := net.Listen("tcp", netip.AddrPortFrom(benchBind, 0).String())
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer ln.Close()
	ws := make([]net.Conn, n)
	got := make([]chan time.Time, n)
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := range ws {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		defer c.Close()
		s, err := ln.Accept()
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		defer s.Close()
		ws[i] = s
		ch := make(chan time.Time, frames+1)
		got[i] = ch
		wg.Go(func() {
			br := bufio.NewReaderSize(c, 64<<10)
			buf := make([]byte, size)
			for {
				if _, err := io.ReadFull(br, buf); err != nil {
					return
				}
				ch <- time.Now()
			}
		})
	}
	msg := bytes.Repeat([]byte{0x55}, size)
	lat := make([]time.Duration, 0, n*frames)
	tick := time.NewTicker(time.Duration(float64(time.Second) / fps))
	defer tick.Stop()
	for range frames {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
		t0 := time.Now()
		for _, w := range ws {
			if _, err := w.Write(msg); err != nil {
				return nil, fmt.Errorf("bench: %w", err)
			}
		}
		for _, ch := range got {
			lat = append(lat, (<-ch).Sub(t0))
		}
	}
	return lat, nil
}

// fanoutJPEGs returns four 640×480 JPEGs of about size bytes (a detailed
// picture padded with a comment segment to the size).
func fanoutJPEGs(size int) ([][]byte, error) {
	var out [][]byte
	for k := range 4 {
		img := image.NewRGBA(image.Rect(0, 0, 640, 480))
		for y := range 480 {
			for x := range 640 {
				img.Set(x, y, color.RGBA{uint8(x ^ y + k*7), uint8(x * y >> 5), uint8(x + y + k*40), 255})
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 60}); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		j := buf.Bytes()
		// The fake camera adds its own marker of about 40 bytes.
		for pad := size - len(j) - 40; pad > 4; pad -= 65533 {
			n := min(pad, 65533) // a segment holds at most 65533 bytes
			seg := append([]byte{0xFF, 0xFE, byte((n) >> 8), byte(n)}, make([]byte, n-2)...)
			j = slices.Concat(j[:2], seg, j[2:])
		}
		out = append(out, j)
	}
	return out, nil
}

// fanout: one camera at 25 fps × 50 KB to 200 HTTP readers, one of them
// stalled: frames lost by the others.
func (b *bench) fanout(ctx context.Context) error {
	const fps, n = 25, 200
	frames, err := fanoutJPEGs(50_000)
	if err != nil {
		return err
	}
	ib, err := b.startBridge(ctx, []fakecam.Config{{IP: fanoutCam, FPS: fps, Frames: frames}}, nil)
	if err != nil {
		return err
	}
	defer ib.close()
	c := ib.br.Cameras()[0]
	u := c.MJPEGURL(benchBind.String())
	stalled, err := dialMJPEG(u, true)
	if err != nil {
		return err
	}
	defer stalled.close()
	var rs []*reader
	defer func() {
		for _, r := range rs {
			r.close()
		}
	}()
	for range n - 1 {
		r, err := dialMJPEG(u, false)
		if err != nil {
			return err
		}
		rs = append(rs, r)
	}
	for _, r := range rs {
		if err := r.waitFirst(ctx, 10*time.Second); err != nil {
			return err
		}
	}
	_, first, _ := fakecam.FrameSeq(c.Video.Latest().JPEG)
	time.Sleep(b.window)
	_, last, _ := fakecam.FrameSeq(c.Video.Latest().JPEG)
	// Let the readers that keep up receive the last frame.
	end := time.Now().Add(5 * time.Second)
	for _, r := range rs {
		for time.Now().Before(end) {
			a := r.arrivals()
			if len(a) > 0 && a[len(a)-1].seq >= last {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	var lost, expected int
	for _, r := range rs {
		seen := map[uint64]bool{}
		for _, a := range r.arrivals() {
			seen[a.seq] = true
		}
		for s := first + 1; s <= last; s++ {
			expected++
			if !seen[s] {
				lost++
			}
		}
	}
	if expected == 0 {
		return errors.New("bench: no frame published during the window")
	}
	b.add(figure{Section: "fanout", Name: fmt.Sprintf("frames lost by %d readers, one other stalled", n-1), Unit: "frames",
		Value: float64(lost), Baseline: float64(expected), BaselineName: "frames they should get", Goal: "0"})
	return nil
}

// ttff: time to first frame of a new viewer, and after a camera outage.
func (b *bench) ttff(ctx context.Context) error {
	const fps = 15
	interval := msOf(time.Second / fps)
	ib, err := b.startBridge(ctx, []fakecam.Config{{IP: ttffCam, FPS: fps}}, func(c *bridge.Config) {
		c.Cameras[0].NoH264 = false
	})
	if err != nil {
		return err
	}
	defer ib.close()
	c := ib.br.Cameras()[0]
	h264 := c.Device.HasH264
	host := benchBind.String()
	tries := 10
	if b.quick {
		tries = 3
	}
	first := func(dial func() (*reader, error), n int) (float64, error) {
		var ds []time.Duration
		for range n {
			t0 := time.Now()
			r, derr := dial()
			if derr != nil {
				return 0, derr
			}
			derr = r.waitFirst(ctx, 20*time.Second)
			if derr == nil {
				ds = append(ds, r.arrivals()[0].at.Sub(t0))
			}
			r.close()
			if derr != nil {
				return 0, derr
			}
			time.Sleep(100 * time.Millisecond)
		}
		return msOf(quantile(ds, 0.5)), nil
	}
	base := fmt.Sprintf("the frame interval (%d fps)", fps)
	add := func(name string, v float64) {
		b.add(figure{Section: "ttff", Name: name, Unit: "ms", Value: v, Baseline: interval, BaselineName: base})
	}
	v, err := first(func() (*reader, error) { return dialMJPEG(c.MJPEGURL(host), false) }, tries)
	if err != nil {
		return err
	}
	add("new HTTP MJPEG viewer (median)", v)
	v, err = first(func() (*reader, error) { return benchDialRTSP(c.RTSPURL(host, rtsp.StreamJPEG)) }, tries)
	if err != nil {
		return err
	}
	add("new RTSP JPEG viewer (median)", v)
	if h264 {
		// Each viewer is the only one, so each starts the encoder.
		v, err = first(func() (*reader, error) { return benchDialRTSP(c.RTSPURL(host, rtsp.StreamH264)) }, max(tries/3, 1))
		if err != nil {
			return err
		}
		add("new RTSP H.264 viewer, encoder starting (median)", v)
	} else {
		b.note(fmt.Sprintf("ttff: no H.264 figure: %v", ib.br.H264Error()))
	}

	// Outage: the camera goes away for a while and comes back (a new
	// data port, as after a reboot); a viewer stays connected.
	r, err := dialMJPEG(c.MJPEGURL(host), false)
	if err != nil {
		return err
	}
	defer r.close()
	if err := r.waitFirst(ctx, 10*time.Second); err != nil {
		return err
	}
	outage := 5 * time.Second
	if b.quick {
		outage = 2 * time.Second
	}
	ib.stopCam(0)
	time.Sleep(outage)
	before := len(r.arrivals())
	t0 := time.Now()
	if err := ib.startCam(fakecam.Config{IP: ttffCam, FPS: fps}); err != nil {
		return err
	}
	for len(r.arrivals()) == before {
		select {
		case <-r.done:
			return errors.New("bench: the viewer's stream ended during the camera outage")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
		if time.Since(t0) > 60*time.Second {
			return errors.New("bench: no frame a minute after the camera came back")
		}
	}
	a := r.arrivals()
	add(fmt.Sprintf("first frame after a %v camera outage", outage), msOf(a[len(a)-1].at.Sub(t0)))
	return nil
}

// h264: one watched camera's H.264 transcode in a serve process: ffmpeg's
// CPU and memory, beside serve's own.
func (b *bench) h264(ctx context.Context) error {
	cams, ips, err := b.fakecams(ctx, h264Cam, 1, 15)
	if err != nil {
		return err
	}
	defer stopAll(cams)
	dir, err := os.MkdirTemp("", "chinesium-bench-")
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(dir)
	srv, urls, err := b.serveChild(ctx, ips, true, true, dir)
	if err != nil {
		return err
	}
	defer srv.stop()
	if len(urls["RTSP H264"]) == 0 {
		b.note("h264: skipped: serve offers no H.264 stream (ffmpeg with libx264 missing?)")
		return nil
	}
	r, err := benchDialRTSP(urls["RTSP H264"][0])
	if err != nil {
		return err
	}
	defer r.close()
	if werr := r.waitFirst(ctx, 20*time.Second); werr != nil {
		return werr
	}
	ff, err := childNamed(srv.pid(), "ffmpeg")
	if err != nil {
		return err
	}
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", ff))
	b.log.Debug("encoder", "pid", ff, "cmdline", strings.ReplaceAll(string(cmdline), "\x00", " "))
	time.Sleep(settle)
	us, err := measure(ctx, b.window, []int{ff}, []int{srv.pid()})
	if err != nil {
		return err
	}
	b.add(figure{Section: "h264", Name: "ffmpeg CPU, one camera at 15 fps", Unit: "cores", Value: us[0].cores,
		Baseline: us[1].cores, BaselineName: "serve itself"})
	b.add(figure{Section: "h264", Name: "ffmpeg RSS, one camera", Unit: "MB", Value: us[0].rss,
		Baseline: us[1].rss, BaselineName: "serve itself", Goal: "≤ 30 MB"})
	return nil
}

// childNamed returns the pid of a child of parent whose command is name.
func childNamed(parent int, name string) (int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("bench: %w", err)
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		s, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i, j := bytes.IndexByte(s, '('), bytes.LastIndexByte(s, ')')
		if i < 0 || j < i {
			continue
		}
		f := strings.Fields(string(s[j+2:]))
		if len(f) > 1 && string(s[i+1:j]) == name && f[1] == strconv.Itoa(parent) {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("bench: no %s process under %d", name, parent)
}
