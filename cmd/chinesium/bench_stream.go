package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
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
	h264Cam    = netip.MustParseAddr("127.0.29.50") // and the next 3
)

// latencyBlock is how long the latency section measures the bridge or
// the bare relay before it switches to the other.
const latencyBlock = time.Second

// minLatencyTurns is the fewest turns the latency section takes each,
// whatever -window says (but -quick).
const minLatencyTurns = 10

// latency: the last UDP packet of a frame → the whole frame at each of 50
// HTTP MJPEG and 10 RTSP readers of a "chinesium serve" process, beside a
// bare relay process that, for one UDP datagram, writes a message of the
// frame's size to 60 loopback TCP sockets. The fake camera and the readers
// run in this process, the bridge in its own, as with real viewers: the
// readers' work does not share the bridge's scheduler.
//
// A frame is at a reader when its last bytes are in the reader's socket,
// by the kernel's receive timestamp: what the bridge did. When the
// reader's goroutine then gets to read it depends on this process's
// scheduling, not the bridge's; it is reported too ("as read").
//
// Both stay connected all along and take turns, a second each (the fake
// camera is frozen while the relay runs), so that whatever else the
// machine does in the run weighs on both alike.
func (b *bench) latency(ctx context.Context) error {
	const fps, nHTTP, nRTSP = 25, 50, 10
	sent := &sendLog{times: map[uint64]time.Time{}}
	cam, err := fakecam.New(fakecam.Config{IP: latencyCam, FPS: fps, Name: "BENCH", OnLastPacket: sent.add})
	if err != nil {
		return err
	}
	cam.SetMotion(true)
	cam.Prepare()
	cctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	wg.Go(func() { _ = cam.Run(cctx) })
	dir, err := os.MkdirTemp("", "chinesium-bench-")
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(dir)
	srv, urls, err := b.serveChild(ctx, []netip.Addr{latencyCam}, true, false, dir)
	if err != nil {
		return err
	}
	defer srv.stop()
	if len(urls["MJPEG"]) == 0 || len(urls["RTSP"]) == 0 {
		return fmt.Errorf("bench: serve printed no MJPEG or RTSP URL: %v", urls)
	}
	var readers []*reader
	defer func() {
		for _, r := range readers {
			r.close()
		}
	}()
	for i := range nHTTP + nRTSP {
		var r *reader
		var derr error
		if i < nHTTP {
			r, derr = dialMJPEG(urls["MJPEG"][0], false)
		} else {
			r, derr = benchDialRTSP(urls["RTSP"][0])
		}
		if derr != nil {
			return derr
		}
		readers = append(readers, r)
	}
	for _, r := range readers {
		if werr := r.waitFirst(ctx, 10*time.Second); werr != nil {
			return werr
		}
	}
	relay, err := b.startRelayRig(ctx, nHTTP+nRTSP, sent.meanSize(), fps)
	if err != nil {
		return err
	}
	defer relay.close()

	// The bridge's turns: frames whose last packet left inside one count.
	type span struct{ from, to time.Time }
	var turns []span
	per := max(1, int(b.window/latencyBlock))
	if !b.quick {
		// A p99 needs frames: with 25 a turn, 10 turns give 250 frames
		// of 50 readers, and the p99 is not just the worst frame.
		per = max(per, minLatencyTurns)
	}
	for range per {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		cam.SetFrozen(false)
		from := time.Now()
		time.Sleep(latencyBlock)
		cam.SetFrozen(true)
		turns = append(turns, span{from, time.Now()})
		// Until the turn's last frame is at every reader (or lost).
		last := sent.last()
		waitReaders(readers, 2*time.Second, func(a arrival, i int) bool {
			if i < nHTTP {
				return a.seq >= last.seq
			}
			return !a.at.Before(last.at)
		})
		if err := relay.turn(ctx, int(latencyBlock.Seconds()*fps)); err != nil {
			return err
		}
	}
	cam.SetFrozen(false)

	counted := func(t0 time.Time) bool {
		for _, s := range turns {
			if t0.After(s.from) && t0.Before(s.to) {
				return true
			}
		}
		return false
	}
	// Two times of each frame at each reader: written into its socket
	// (the bridge's latency), and read by it (the readers' scheduling
	// too, which is this process's, not the bridge's).
	var httpLat, rtspLat, httpRead, rtspRead []time.Duration
	for i, r := range readers {
		for _, a := range r.arrivals() {
			var t0 time.Time
			var ok bool
			if i < nHTTP {
				t0, ok = sent.time(a.seq)
			} else {
				t0, ok = sent.before(a.at)
			}
			if ok && counted(t0) {
				if i < nHTTP {
					httpLat = append(httpLat, a.written.Sub(t0))
					httpRead = append(httpRead, a.at.Sub(t0))
				} else {
					rtspLat = append(rtspLat, a.written.Sub(t0))
					rtspRead = append(rtspRead, a.at.Sub(t0))
				}
			}
		}
	}
	bare, bareRead := relay.latencies()
	if len(httpLat) == 0 || len(rtspLat) == 0 || len(bare) == 0 {
		return fmt.Errorf("bench: no frame measured (%d HTTP, %d RTSP, %d bare relay)", len(httpLat), len(rtspLat), len(bare))
	}
	b.note(fmt.Sprintf("latency: the bridge and the bare relay took %d turns of %v each, one after the other", per, latencyBlock))
	b.note("latency: from the camera's last packet to the frame's last bytes in each reader's socket (the kernel's receive timestamp); \"as read\" adds the readers' own wake-up")
	relayName := fmt.Sprintf("bare relay, %d sockets", nHTTP+nRTSP)
	for _, s := range []struct {
		name      string
		lat, read []time.Duration
		goal      string
	}{
		{fmt.Sprintf("HTTP MJPEG, %d readers", nHTTP), httpLat, httpRead, "≤ 2 ms and ≤ 1×"},
		{fmt.Sprintf("RTSP JPEG (TCP), %d readers", nRTSP), rtspLat, rtspRead, ""},
	} {
		for _, p := range []struct {
			name string
			q    float64
			goal string
		}{{"p50", 0.50, ""}, {"p99", 0.99, s.goal}, {"max", 1, ""}} {
			b.add(figure{Section: "latency", Name: s.name + ": " + p.name, Unit: "ms",
				Value: msOf(quantile(s.lat, p.q)), Baseline: msOf(quantile(bare, p.q)),
				BaselineName: relayName, Goal: p.goal})
		}
		b.add(figure{Section: "latency", Name: s.name + ": p99 as read", Unit: "ms",
			Value: msOf(quantile(s.read, 0.99)), Baseline: msOf(quantile(bareRead, 0.99)),
			BaselineName: relayName})
	}
	return nil
}

// waitReaders waits until done holds for the newest arrival at every
// reader (i is the reader's index), or timeout.
func waitReaders(readers []*reader, timeout time.Duration, done func(a arrival, i int) bool) {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		all := true
		for i, r := range readers {
			got := r.arrivals()
			all = all && len(got) > 0 && done(got[len(got)-1], i)
		}
		if all {
			return
		}
	}
}

// sendLog is what the latency section's fake camera sent: when each
// frame's last packet was about to leave, by sequence number and in order.
type sendLog struct {
	mu     sync.Mutex
	times  map[uint64]time.Time
	order  []time.Time
	newest arrival // the last frame sent
	bytes  int
}

func (l *sendLog) add(f fakecam.FrameSent) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.times[f.Seq] = now
	l.order = append(l.order, now)
	l.newest = arrival{seq: f.Seq, at: now}
	l.bytes += len(f.JPEG)
}

// last returns the newest frame sent: its sequence number and when its
// last packet left.
func (l *sendLog) last() arrival {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.newest
}

// time returns when the last packet of frame seq was sent.
func (l *sendLog) time(seq uint64) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.times[seq]
	return t, ok
}

// before returns when the last packet of the newest frame sent before at
// was sent.
func (l *sendLog) before(at time.Time) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i, _ := slices.BinarySearchFunc(l.order, at, func(t, at time.Time) int { return t.Compare(at) })
	if i == 0 {
		return time.Time{}, false
	}
	return l.order[i-1], true
}

func (l *sendLog) meanSize() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bytes / max(len(l.order), 1)
}

// relayRig is the bare relay with its readers, fed by this process.
type relayRig struct {
	c       *child
	send    *net.UDPConn
	to      netip.AddrPort
	readers []*reader
	fps     float64
	times   map[uint64]time.Time // when each datagram was sent
	seq     uint64               // the last one sent
	warm    uint64               // the last one sent before the measurement
}

// startRelayRig runs the bare relay for size-byte messages, connects n
// readers and waits until every one has a message.
func (b *bench) startRelayRig(ctx context.Context, n, size int, fps float64) (*relayRig, error) {
	c, send, to, readers, err := b.startRelay(ctx, n, size)
	if err != nil {
		return nil, err
	}
	r := &relayRig{c: c, send: send, to: to, readers: readers, fps: fps, times: map[uint64]time.Time{}}
	tick := time.NewTicker(time.Duration(float64(time.Second) / fps))
	defer tick.Stop()
	for end := time.Now().Add(10 * time.Second); ; {
		all := true
		for _, rd := range readers {
			select {
			case <-rd.first:
			default:
				all = false
			}
		}
		if all {
			break
		}
		if time.Now().After(end) {
			r.close()
			return nil, errors.New("bench: the bare relay's readers got nothing")
		}
		if err := r.sendOne(); err != nil {
			r.close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			r.close()
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
	r.warm = r.seq
	return r, nil
}

func (r *relayRig) sendOne() error {
	r.seq++
	var p [8]byte
	binary.BigEndian.PutUint64(p[:], r.seq)
	r.times[r.seq] = time.Now()
	if _, err := r.send.WriteToUDPAddrPort(p[:], r.to); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

// turn sends frames datagrams at the rig's rate, then waits until the last
// message is at every reader (or has been lost).
func (r *relayRig) turn(ctx context.Context, frames int) error {
	tick := time.NewTicker(time.Duration(float64(time.Second) / r.fps))
	defer tick.Stop()
	for range frames {
		if err := r.sendOne(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	last := r.seq
	waitReaders(r.readers, 2*time.Second, func(a arrival, _ int) bool { return a.seq >= last })
	return nil
}

// latencies returns the times from each measured datagram's sending to
// its message's last bytes in each reader's socket, and to its reading.
func (r *relayRig) latencies() (written, read []time.Duration) {
	for _, rd := range r.readers {
		for _, a := range rd.arrivals() {
			if a.seq > r.warm {
				written = append(written, a.written.Sub(r.times[a.seq]))
				read = append(read, a.at.Sub(r.times[a.seq]))
			}
		}
	}
	return written, read
}

func (r *relayRig) close() {
	for _, rd := range r.readers {
		rd.close()
	}
	r.send.Close()
	r.c.stop()
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

// h264: the H.264 transcode of watched cameras: one ffmpeg per camera,
// four cameras watched at once, so that the memory the encoders share (the
// libraries of Debian's ffmpeg, about 40 MB) is shared as it is in use.
// Per camera: CPU, the proportional set size (shared pages divided among
// the processes that map them) and the private memory each encoder adds;
// RSS, which counts every shared page whole in every process, beside them.
func (b *bench) h264(ctx context.Context) error {
	const n = 4
	cams, ips, err := b.fakecams(ctx, h264Cam, n, 15)
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
	if len(urls["RTSP H264"]) < n {
		b.note("h264: skipped: serve offers no H.264 stream (ffmpeg with libx264 missing?)")
		return nil
	}
	for _, u := range urls["RTSP H264"][:n] {
		r, derr := benchDialRTSP(u)
		if derr != nil {
			return derr
		}
		defer r.close()
		if werr := r.waitFirst(ctx, 20*time.Second); werr != nil {
			return werr
		}
	}
	ffs, err := childrenNamed(srv.pid(), "ffmpeg")
	if err != nil {
		return err
	}
	if len(ffs) != n {
		return fmt.Errorf("bench: %d ffmpeg processes for %d watched cameras", len(ffs), n)
	}
	time.Sleep(settle)
	us, err := measure(ctx, b.window, ffs, []int{srv.pid()})
	if err != nil {
		return err
	}
	var pss, private float64
	for _, pid := range ffs {
		m, merr := readSmaps(pid)
		if merr != nil {
			return merr
		}
		pss += m.pss
		private += m.private
	}
	b.add(figure{Section: "h264", Name: "ffmpeg CPU per watched camera, 15 fps", Unit: "cores", Value: us[0].cores / n,
		Baseline: us[1].cores, BaselineName: "serve itself"})
	b.add(figure{Section: "h264", Name: fmt.Sprintf("ffmpeg memory per watched camera (PSS, %d encoders)", n), Unit: "MB", Value: pss / n,
		Baseline: us[0].rss / n, BaselineName: "its RSS, shared pages whole", Goal: "≤ 30 MB"})
	b.add(figure{Section: "h264", Name: "ffmpeg private memory per encoder", Unit: "MB", Value: private / n,
		Baseline: us[1].rss, BaselineName: "serve's RSS"})
	return nil
}

// smaps is a process's memory from /proc/PID/smaps_rollup, in MB.
type smaps struct {
	pss     float64 // proportional set size
	private float64 // pages no other process maps
}

func readSmaps(pid int) (smaps, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return smaps{}, fmt.Errorf("bench: %w", err)
	}
	var m smaps
	for l := range strings.SplitSeq(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		kb, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "Pss:":
			m.pss = kb * 1024 / 1e6
		case "Private_Clean:", "Private_Dirty:":
			m.private += kb * 1024 / 1e6
		}
	}
	return m, nil
}

// childrenNamed returns the pids of parent's children called name.
func childrenNamed(parent int, name string) ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	var pids []int
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
			pids = append(pids, pid)
		}
	}
	if len(pids) == 0 {
		return nil, fmt.Errorf("bench: no %s process under %d", name, parent)
	}
	return pids, nil
}
