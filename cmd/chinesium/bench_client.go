package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/chinesium/chinesium/bridge"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/sockopt"
	"github.com/chinesium/chinesium/stream"
)

// benchBind is the address of the bridges the benchmark runs in process.
var benchBind = netip.MustParseAddr("127.0.29.1")

// inBridge is a bridge run in this process on fake cameras of its own.
type inBridge struct {
	br       *bridge.Bridge
	cams     []*fakecam.Camera
	ctx      context.Context
	cancel   context.CancelFunc
	camStops []context.CancelFunc
	wg       sync.WaitGroup
	dir      string
	log      *slog.Logger
}

// startBridge runs fake cameras in this process and a bridge on them, on
// benchBind, and waits for every camera's first frame. adjust, if not
// nil, changes the bridge's configuration before it starts.
func (b *bench) startBridge(ctx context.Context, cams []fakecam.Config, adjust func(*bridge.Config)) (*inBridge, error) {
	dir, err := os.MkdirTemp("", "chinesium-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	ib := &inBridge{ctx: ctx, cancel: cancel, dir: dir, log: b.log}
	cfg := bridge.Config{
		Bind:      benchBind,
		RTSPPort:  bridge.AnyPort,
		NoAdmin:   true,
		StateDir:  dir,
		FFmpeg:    b.ffmpeg,
		Logger:    slog.New(slog.NewTextHandler(b.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Discovery: nil,
	}
	for _, cc := range cams {
		cfg.Cameras = append(cfg.Cameras, bridge.CameraConfig{
			IP: cc.IP, HTTPPort: bridge.AnyPort, NoH264: true, LocalIP: benchBind, LocalPort: -1,
		})
	}
	if adjust != nil {
		adjust(&cfg)
	}
	for _, cc := range cams {
		if cerr := ib.startCam(cc); cerr != nil {
			ib.close()
			return nil, cerr
		}
	}
	ib.br, err = bridge.New(cfg)
	if err == nil {
		err = ib.br.Start(ctx)
	}
	if err != nil {
		ib.br = nil
		ib.close()
		return nil, err
	}
	end := time.Now().Add(20 * time.Second)
	for _, c := range ib.br.Cameras() {
		for c.Video.Latest() == nil {
			if time.Now().After(end) {
				ib.close()
				return nil, fmt.Errorf("bench: no frame from camera %s", c.Config.IP)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return ib, nil
}

// startCam runs one fake camera until the bridge closes or stopCam.
func (ib *inBridge) startCam(cc fakecam.Config) error {
	if cc.Name == "" {
		cc.Name = "BENCH"
	}
	c, err := fakecam.New(cc)
	if err != nil {
		return err
	}
	c.SetMotion(true)
	cctx, stop := context.WithCancel(ib.ctx)
	ib.cams = append(ib.cams, c)
	ib.camStops = append(ib.camStops, stop)
	ib.wg.Go(func() {
		if err := c.Run(cctx); err != nil && !errors.Is(err, context.Canceled) {
			ib.log.Warn("fake camera", "err", err)
		}
	})
	return nil
}

// stopCam stops fake camera i (an outage); startCam runs it again.
func (ib *inBridge) stopCam(i int) {
	ib.camStops[i]()
	ib.cams[i].Close()
}

func (ib *inBridge) close() {
	if ib.br != nil {
		_ = ib.br.Close()
	}
	ib.cancel()
	for _, c := range ib.cams {
		c.Close()
	}
	ib.wg.Wait()
	os.RemoveAll(ib.dir)
}

// arrival is one frame having arrived whole at a reader.
type arrival struct {
	seq uint64    // the fake camera's sequence number; 0 for RTSP
	at  time.Time // when the reader had it
	// written is when the frame's last bytes came into the reader's
	// socket (the kernel's receive timestamp): the sender's write, before
	// the reader's process got to run.
	written time.Time
}

// reader is one HTTP MJPEG or RTSP client reading a stream.
type reader struct {
	conn net.Conn
	mu   sync.Mutex
	got  []arrival
	// first is closed when the first frame has arrived.
	first     chan struct{}
	firstOnce sync.Once
	done      chan struct{}
}

func (r *reader) add(a arrival) {
	r.mu.Lock()
	r.got = append(r.got, a)
	r.mu.Unlock()
	r.firstOnce.Do(func() { close(r.first) })
}

func (r *reader) arrivals() []arrival {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func (r *reader) close() {
	r.conn.Close()
	<-r.done
}

// waitFirst waits for the reader's first frame.
func (r *reader) waitFirst(ctx context.Context, timeout time.Duration) error {
	select {
	case <-r.first:
		return nil
	case <-r.done:
		return errors.New("bench: the stream ended before its first frame")
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(timeout):
		return fmt.Errorf("bench: no frame after %v", timeout)
	}
}

// benchSources hands out the readers' source addresses.
var benchSources atomic.Uint32

// benchSource is the local address of the next reader: 127.0.30.1 to
// 127.0.30.254 in turn. The bridge bounds the connections of one client
// address (bridge.MaxHTTPConnsPerAddr, rtsp.DefaultMaxConnsPerAddr), and
// the bench's hundreds of readers are meant as as many viewers, not as one
// client opening hundreds of connections.
func benchSource() *net.TCPAddr {
	n := benchSources.Add(1)
	return &net.TCPAddr{IP: net.IPv4(127, 0, 30, byte(n%254+1))}
}

// dialMJPEG opens an HTTP MJPEG viewer of rawURL. With stall it reads
// nothing after the request: a client that stopped reading.
func dialMJPEG(rawURL string, stall bool) (*reader, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	d := net.Dialer{LocalAddr: benchSource(), Control: stampDial}
	if stall {
		// A small receive buffer, so that the bridge meets the stalled
		// client within the first seconds.
		d.Control = sockopt.Int(syscall.SOL_SOCKET, syscall.SO_RCVBUF, 8192)
	}
	c, err := d.Dial("tcp", u.Host)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	sc, err := newStampedConn(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	r := &reader{conn: c, first: make(chan struct{}), done: make(chan struct{})}
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", u.RequestURI(), u.Host); err != nil {
		c.Close()
		return nil, fmt.Errorf("bench: %w", err)
	}
	if stall {
		close(r.done)
		return r, nil
	}
	go func() {
		defer close(r.done)
		pr := stream.NewPartReader(sc)
		if pr.SkipHeader() != nil {
			return
		}
		for {
			b, err := pr.Next()
			if err != nil {
				return
			}
			at := time.Now()
			_, seq, _ := fakecam.FrameSeq(b)
			r.add(arrival{seq, at, sc.written})
		}
	}()
	return r, nil
}

// benchDialRTSP plays rawURL over RTSP with RTP interleaved in the TCP
// connection and reports each frame when its last RTP packet (the one
// with the marker bit) has arrived.
func benchDialRTSP(rawURL string) (*reader, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	d := net.Dialer{LocalAddr: benchSource(), Control: stampDial}
	c, err := d.Dial("tcp", u.Host)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	sc, err := newStampedConn(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(sc, 64<<10)
	cseq := 0
	do := func(method, target string, hdr ...string) (map[string]string, error) {
		cseq++
		var sb strings.Builder
		fmt.Fprintf(&sb, "%s %s RTSP/1.0\r\nCSeq: %d\r\nUser-Agent: chinesium-bench\r\n", method, target, cseq)
		for _, h := range hdr {
			sb.WriteString(h + "\r\n")
		}
		sb.WriteString("\r\n")
		if _, werr := io.WriteString(c, sb.String()); werr != nil {
			return nil, werr
		}
		return readRTSPResponse(br)
	}
	fail := func(err error) (*reader, error) {
		c.Close()
		return nil, fmt.Errorf("bench: RTSP %s: %w", rawURL, err)
	}
	if _, derr := do("DESCRIBE", rawURL, "Accept: application/sdp"); derr != nil {
		return fail(derr)
	}
	h, err := do("SETUP", rawURL+"/trackID=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
	if err != nil {
		return fail(err)
	}
	session, _, _ := strings.Cut(h["session"], ";")
	if _, err := do("PLAY", rawURL, "Session: "+session); err != nil {
		return fail(err)
	}
	r := &reader{conn: c, first: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		buf := make([]byte, 65536)
		for {
			b, err := br.Peek(1)
			if err != nil {
				return
			}
			if b[0] != '$' { // an RTSP message
				if _, err := readRTSPResponse(br); err != nil {
					return
				}
				continue
			}
			if _, err := io.ReadFull(br, buf[:4]); err != nil {
				return
			}
			ch, n := buf[1], int(buf[2])<<8|int(buf[3])
			if _, err := io.ReadFull(br, buf[:n]); err != nil {
				return
			}
			if ch == 0 && n >= 12 && buf[1]&0x80 != 0 {
				r.add(arrival{at: time.Now(), written: sc.written})
			}
		}
	}()
	return r, nil
}

// readRTSPResponse reads one RTSP response (headers and body) and returns
// its headers, lower case, failing unless the status is 200.
func readRTSPResponse(br *bufio.Reader) (map[string]string, error) {
	status, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	h := map[string]string{}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		line = strings.TrimSpace(line)
		if line == "" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			h[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	if n, _ := strconv.Atoi(h["content-length"]); n > 0 {
		if _, err := io.CopyN(io.Discard, br, int64(n)); err != nil {
			return nil, err
		}
	}
	if f := strings.Fields(status); len(f) < 2 || f[1] != "200" {
		return nil, fmt.Errorf("answer %q", strings.TrimSpace(status))
	}
	return h, nil
}

// quantile returns the p-quantile (0..1) of d.
func quantile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
