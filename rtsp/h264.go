package rtsp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/chinesium/chinesium/stream"
)

// ErrNoH264 reports that H.264 cannot be offered: ffmpeg is missing or
// lacks the libx264 encoder.
var ErrNoH264 = errors.New("rtsp: h264 unavailable")

// encoderConfig is what an H.264 encoder is started with. A change of it
// (new settings, or the camera's rate moving) restarts the encoder.
type encoderConfig struct {
	rate    float64 // frames per second declared to the encoder
	gop     int     // frames from keyframe to keyframe
	bitrate int     // kbit/s; 0 for constant quality
	cbr     bool
	profile string // one of H264Profiles
}

// newEncoderConfig derives the encoder's configuration from the stream's
// settings and its frame rate.
func newEncoderConfig(v VideoSettings, rate float64) encoderConfig {
	e := encoderConfig{rate: rate, gop: v.GOP, bitrate: v.BitrateKbps, cbr: v.CBR && v.BitrateKbps > 0, profile: canonicalProfile(v.H264Profile)}
	if e.gop == 0 {
		// About a second: a client joining a running stream waits at
		// most that long for a picture.
		e.gop = max(1, int(math.Round(rate)))
	}
	if e.profile == "" {
		e.profile = DefaultH264Profile
	}
	return e
}

// args are ffmpeg's arguments for turning a pipe of JPEGs into raw H.264
// (Annex B) on stdout with as little delay and memory as x264 allows: one
// thread each for decoding and encoding, no B-frames, no lookahead, one
// slice per picture, packets flushed at once. An encoder then costs about
// 16 MB of memory of its own and 0.04 cores for a 640×480 camera at 15
// frames/s (its 40 MB of shared libraries are shared by all encoders). The input is
// declared at the stream's rate, so the SPS carries the real frame rate and
// x264's rate control spends the bitrate over the frames really sent.
// extra goes before the output (the probe adds -frames:v 1).
func (e encoderConfig) args(extra ...string) []string {
	args := []string{
		"-hide_banner", "-loglevel", "error", "-nostdin",
		// One decoder thread: an ffmpeg whose JPEG decoder uses frame
		// threads starts one per core, each with a frame buffer and a
		// frame of delay, for pictures that take a millisecond to decode.
		"-threads", "1",
		"-f", "mjpeg", "-framerate", strconv.FormatFloat(e.rate, 'f', -1, 64), "-i", "pipe:0",
		"-an", "-fps_mode", "passthrough",
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
		"-threads", "1", "-g", strconv.Itoa(e.gop), "-bf", "0", "-pix_fmt", "yuv420p",
	}
	// x264 writes the lowest profile its tools need, so a profile is
	// chosen by the tools: CABAC makes Main, CABAC and 8x8 transforms
	// High; ultrafast alone is Constrained Baseline.
	switch e.profile {
	case "Main":
		args = append(args, "-x264-params", "cabac=1")
	case "High":
		args = append(args, "-x264-params", "cabac=1:8x8dct=1")
	}
	if e.bitrate > 0 {
		k := strconv.Itoa(e.bitrate) + "k"
		if e.cbr {
			// HRD CBR: x264 pads with filler data up to the rate.
			args = append(args, "-b:v", k, "-minrate", k, "-maxrate", k, "-bufsize", k, "-nal-hrd", "cbr")
		} else {
			// Constant quality, capped by a one-second VBV buffer.
			args = append(args, "-crf", "23", "-maxrate", k, "-bufsize", k)
		}
	}
	args = append(args, extra...)
	return append(args, "-flush_packets", "1", "-f", "h264", "pipe:1")
}

// checkH264 finds out once whether ffmpeg with libx264 can be run.
func (s *Server) checkH264() error {
	s.init()
	s.h264Once.Do(func() {
		path, err := exec.LookPath(s.FFmpeg)
		if err != nil {
			s.h264Err = fmt.Errorf("%w: ffmpeg not found (%q): %w", ErrNoH264, s.FFmpeg, err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, path, "-hide_banner", "-encoders").Output()
		if err != nil {
			s.h264Err = fmt.Errorf("%w: %s -encoders: %w", ErrNoH264, path, err)
			return
		}
		if !bytes.Contains(out, []byte("libx264")) {
			s.h264Err = fmt.Errorf("%w: %s has no libx264 encoder", ErrNoH264, path)
		}
	})
	if s.h264Err != nil {
		return s.h264Err
	}
	return nil
}

// H264Available reports whether ffmpeg with libx264 was found, i.e.
// whether the /h264 URLs work.
func (s *Server) H264Available() bool { return s.checkH264() == nil }

// H264Error says why the /h264 URLs do not work (ffmpeg not found, or
// without libx264; it wraps ErrNoH264), or returns nil when they do.
func (s *Server) H264Error() error { return s.checkH264() }

// h264Track is a camera's H.264 track: an ffmpeg child process encodes the
// camera's JPEGs while at least one session plays it.
type h264Track struct {
	*track
	hub      *stream.Hub
	settings *settingsBox
	// clock paces and stamps the frames fed to the encoder; used by one
	// feeder at a time, and kept across encoders so that timestamps never
	// go back.
	clock videoClock

	mu       sync.Mutex
	sps, pps []byte // guarded by mu; the latest parameter sets seen
}

func newH264Track(srv *Server, hub *stream.Hub, settings *settingsBox) *h264Track {
	h := &h264Track{hub: hub, settings: settings}
	h.track = newTrack(srv, kindH264, payloadTypeH264, 90000, h.produce)
	return h
}

// setParams records parameter sets from the encoder; nil for both forgets
// them (the settings changed).
func (h *h264Track) setParams(sps, pps []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if sps == nil && pps == nil {
		h.sps, h.pps = nil, nil
	}
	if sps != nil {
		h.sps = sps
	}
	if pps != nil {
		h.pps = pps
	}
}

func (h *h264Track) params() (sps, pps []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sps, h.pps
}

// parameterSets returns the SPS and PPS for the SDP. Before the encoder
// has run, it encodes one camera frame with the same settings to learn
// them (the SDP must be ready at DESCRIBE time).
func (h *h264Track) parameterSets(ctx context.Context) (sps, pps []byte, err error) {
	if sps, pps = h.params(); sps != nil && pps != nil {
		return sps, pps, nil
	}
	srv := h.srv
	if err = srv.checkH264(); err != nil {
		return nil, nil, err
	}
	srv.probeMu.Lock()
	defer srv.probeMu.Unlock()
	if sps, pps = h.params(); sps != nil && pps != nil {
		return sps, pps, nil
	}
	f := h.hub.Latest()
	if f == nil {
		r := h.hub.NewReader()
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		f, err = r.Next(wctx)
		cancel()
		r.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("no frame from the camera yet: %w", err)
		}
	}
	// The encoder that runs later starts from the same settings and the
	// same measured rate, so its parameter sets match these.
	var clock videoClock
	clock.learnRate(ctx, h.hub, learnWait)
	v := h.settings.load()
	cfg := newEncoderConfig(v, clock.rate(v.FrameRateLimit))
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(pctx, srv.FFmpeg, cfg.args("-frames:v", "1")...)
	cmd.Stdin = bytes.NewReader(f.JPEG)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: probe encode: %w: %s", ErrNoH264, err, strings.TrimSpace(stderr.String()))
	}
	for _, nal := range splitAnnexB(out) {
		switch nal[0] & 0x1F {
		case nalSPS:
			h.setParams(bytes.Clone(nal), nil)
		case nalPPS:
			h.setParams(nil, bytes.Clone(nal))
		}
	}
	if sps, pps = h.params(); sps == nil || pps == nil {
		return nil, nil, fmt.Errorf("%w: probe encode produced no SPS/PPS", ErrNoH264)
	}
	return sps, pps, nil
}

// H.264 NAL unit types (ITU-T H.264 Table 7-1) and RFC 6184 packet types.
const (
	nalSlice = 1
	nalIDR   = 5
	nalSEI   = 6
	nalSPS   = 7
	nalPPS   = 8
	nalAUD   = 9
	nalFUA   = 28
)

// splitAnnexB returns the NAL units of a complete Annex B byte stream.
func splitAnnexB(b []byte) [][]byte {
	var nals [][]byte
	for {
		i := startCode(b)
		if i < 0 {
			if n := trimZeros(b); len(n) > 0 && len(nals) > 0 {
				nals = append(nals, n)
			}
			return nals
		}
		if n := trimZeros(b[:i]); len(n) > 0 {
			nals = append(nals, n)
		}
		b = b[i+3:]
	}
}

// startCode returns the index of the first 00 00 01 in b, or -1.
func startCode(b []byte) int { return bytes.Index(b, []byte{0, 0, 1}) }

// trimZeros drops the trailing zero bytes that belong to a following
// four-byte start code (or are trailing_zero_8bits).
func trimZeros(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// feederGrace is how long the goroutine feeding ffmpeg may take to notice
// that the encoder's output ended before ffmpeg is killed.
const feederGrace = 2 * time.Second

// errReconfigure ends an encoder whose configuration no longer matches the
// stream's settings or the camera's rate.
var errReconfigure = errors.New("encoder configuration changed")

// produce runs ffmpeg encoders until ctx ends or one fails (or its output
// cannot be read), starting a new one at once when the configuration
// changes.
func (h *h264Track) produce(ctx context.Context, t *track) error {
	if err := h.srv.checkH264(); err != nil {
		return err
	}
	h.clock.learnRate(ctx, h.hub, learnWait)
	for {
		v := h.settings.load()
		err := h.encode(ctx, t, newEncoderConfig(v, h.clock.rate(v.FrameRateLimit)))
		if !errors.Is(err, errReconfigure) {
			return err
		}
	}
}

// encode runs one ffmpeg encoder with cfg until ctx ends, ffmpeg fails (or
// its output cannot be read), or the configuration changes
// (errReconfigure).
func (h *h264Track) encode(ctx context.Context, t *track, cfg encoderConfig) error {
	srv := h.srv
	cmd := exec.CommandContext(ctx, srv.FFmpeg, cfg.args()...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr := &tailBuffer{max: 2048}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%w: start ffmpeg: %w", ErrNoH264, err)
	}
	srv.log.Info("h264 encoder started", "pid", cmd.Process.Pid, "fps", cfg.rate, "gop", cfg.gop,
		"bitrate_kbps", cfg.bitrate, "cbr", cfg.cbr, "profile", cfg.profile)
	times := &frameTimes{}
	feedCtx, stopFeed := context.WithCancel(ctx)
	var (
		wg          sync.WaitGroup
		feedErr     error // a feeder panic; read after wg.Wait
		reconfigure bool  // the feeder stopped for a new configuration; read after wg.Wait
	)
	wg.Go(func() {
		defer func() {
			// Closing stdin (below, first) lets ffmpeg finish and exit;
			// the track then starts a new encoder.
			if v := recover(); v != nil {
				feedErr = srv.recovered("panic in h264 feeder, restarting the encoder", v)
			}
		}()
		defer stdin.Close()
		reconfigure = h.feed(feedCtx, stdin, times, cfg)
	})
	readErr := h.readRecovered(stdout, t, times)
	stopFeed()
	if readErr != nil {
		// ffmpeg may still be alive but nobody reads its output any
		// more: it would stop reading its input, and the feeder would
		// block in Write until the last viewer left. Kill it; the track
		// starts a new encoder while viewers remain.
		_ = cmd.Process.Kill()
	}
	fed := make(chan struct{})
	go func() { wg.Wait(); close(fed) }()
	select {
	case <-fed:
	case <-time.After(feederGrace):
		// ffmpeg closed its output without exiting and without reading
		// its input.
		_ = cmd.Process.Kill()
		<-fed
	}
	waitErr := cmd.Wait()
	srv.log.Info("h264 encoder stopped", "pid", cmd.Process.Pid)
	if ctx.Err() != nil {
		return nil //nolint:nilerr // the last viewer left: a clean stop, not a failure
	}
	if readErr == nil && feedErr == nil && waitErr == nil && reconfigure {
		return errReconfigure
	}
	if readErr == nil {
		readErr = feedErr
	}
	if readErr == nil {
		readErr = waitErr
	}
	return fmt.Errorf("ffmpeg exited: %w: %s", readErr, strings.TrimSpace(stderr.String()))
}

// feed writes the camera's frames to the encoder, paced by the stream's
// frame-rate limit, with each frame's RTP timestamp queued in times, until
// ctx ends, a write fails or the configuration the encoder was started
// with (cfg) is out of date, which it reports by returning true.
func (h *h264Track) feed(ctx context.Context, w io.Writer, times *frameTimes, cfg encoderConfig) (reconfigure bool) {
	r := h.hub.NewReader()
	defer r.Close()
	for {
		// Always encode the newest frame: when ffmpeg falls behind,
		// frames are skipped rather than queued.
		r.SkipToLatest()
		f, err := r.Next(ctx)
		if err != nil {
			return false
		}
		at := f.Time
		if at.IsZero() {
			at = time.Now()
		}
		h.clock.observe(at, f.Index, f.Seq)
		v := h.settings.load()
		rate := h.clock.rate(v.FrameRateLimit)
		if newEncoderConfig(v, rate) != cfg {
			return true
		}
		if !h.clock.pace(at, v.FrameRateLimit) {
			continue
		}
		ts, ok := h.clock.stamp(h.track, at, rate)
		if !ok {
			continue
		}
		times.push(ts)
		if _, err := w.Write(f.JPEG); err != nil {
			return false
		}
	}
}

// readAccessUnits cuts ffmpeg's Annex B output into access units and
// dispatches each as RTP packets. A NAL unit is complete when the next
// start code arrives; with one slice per picture, a picture's slice ends
// its access unit.
func (h *h264Track) readAccessUnits(r io.Reader, t *track, times *frameTimes) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		pending []byte   // bytes after the last start code seen
		au      [][]byte // NAL units of the access unit being collected
		started bool
		chunk   = make([]byte, 64<<10)
	)
	for {
		n, err := br.Read(chunk)
		if n > 0 {
			pending = append(pending, chunk[:n]...)
			for {
				i := startCode(pending)
				if i < 0 {
					break
				}
				if started {
					if nal := trimZeros(pending[:i]); len(nal) > 0 {
						au = h.collect(t, au, bytes.Clone(nal), times)
					}
				}
				started = true
				pending = pending[i+3:]
			}
			if !started && len(pending) > 1<<20 {
				return fmt.Errorf("no H.264 start code in ffmpeg output")
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				// The encoder ended (a new configuration, or the
				// last viewer left): its last NAL unit is complete.
				if nal := trimZeros(pending); started && len(nal) > 0 {
					h.collect(t, au, bytes.Clone(nal), times)
				}
				return nil
			}
			return err
		}
	}
}

// readRecovered runs readAccessUnits, turning a panic into an error (logged
// with its stack) so that produce still kills and reaps ffmpeg.
func (h *h264Track) readRecovered(r io.Reader, t *track, times *frameTimes) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = h.srv.recovered("panic in h264 reader, restarting the encoder", v)
		}
	}()
	return h.readAccessUnits(r, t, times)
}

// collect adds a NAL unit to the access unit and sends the unit when the
// NAL is the picture's slice.
func (h *h264Track) collect(t *track, au [][]byte, nal []byte, times *frameTimes) [][]byte {
	switch typ := nal[0] & 0x1F; typ {
	case nalAUD:
		return au
	case nalSPS:
		h.setParams(nal, nil)
	case nalPPS:
		h.setParams(nil, nal)
	case nalSlice, nalIDR:
		au = append(au, nal)
		key := false
		hasSPS := false
		for _, n := range au {
			switch n[0] & 0x1F {
			case nalIDR:
				key = true
			case nalSPS:
				hasSPS = true
			}
		}
		if key && !hasSPS {
			// Every IDR carries its parameter sets in-band, so a client
			// that joins at this IDR can decode without the SDP.
			if sps, pps := h.params(); sps != nil && pps != nil {
				au = append([][]byte{sps, pps}, au...)
			}
		}
		u := t.packetizeH264(au)
		u.key = key
		t.finish(u, times.pop(t))
		t.dispatch(u)
		return au[:0]
	}
	return append(au, nal)
}

// packetizeH264 packs NAL units as RTP payloads (RFC 6184
// packetization-mode 1) into a unit of t's pool: a NAL that fits is a single NAL unit packet,
// larger ones are split into FU-A fragments.
func (t *track) packetizeH264(nals [][]byte) *unit {
	const fuMax = maxPayload - 2 // FU indicator + FU header
	size, count := 0, 0
	for _, n := range nals {
		if len(n) <= maxPayload {
			size += packetRoom + len(n)
			count++
			continue
		}
		k := (len(n) - 1 + fuMax - 1) / fuMax
		size += k*(packetRoom+2) + len(n) - 1
		count += k
	}
	u := t.startUnit(size, count)
	var zero [packetRoom]byte
	for _, n := range nals {
		if len(n) <= maxPayload {
			u.buf = append(u.buf, zero[:]...)
			u.buf = append(u.buf, n...)
			u.ends = append(u.ends, len(u.buf))
			continue
		}
		indicator := n[0]&0xE0 | nalFUA
		typ := n[0] & 0x1F
		data := n[1:]
		for first := true; len(data) > 0; first = false {
			k := min(len(data), fuMax)
			fh := typ
			if first {
				fh |= 0x80
			}
			if k == len(data) {
				fh |= 0x40
			}
			u.buf = append(u.buf, zero[:]...)
			u.buf = append(u.buf, indicator, fh)
			u.buf = append(u.buf, data[:k]...)
			u.ends = append(u.ends, len(u.buf))
			data = data[k:]
		}
	}
	return u
}

// frameTimes hands the RTP timestamps of the frames fed to ffmpeg to the
// pictures that come out, in order: ffmpeg is run with -fps_mode
// passthrough and no B-frames, so pictures come out in input order, one per
// frame.
type frameTimes struct {
	mu   sync.Mutex
	ts   []uint32 // guarded by mu
	last uint32   // last timestamp handed out; used by the reader only
	have bool
}

// maxQueuedTimes bounds the queue; more entries than this mean ffmpeg
// dropped frames (a JPEG it could not decode), and the oldest go.
const maxQueuedTimes = 64

func (ft *frameTimes) push(ts uint32) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if len(ft.ts) >= maxQueuedTimes {
		ft.ts = ft.ts[1:]
	}
	ft.ts = append(ft.ts, ts)
}

// pop returns the RTP timestamp of the next picture, never going backwards.
func (ft *frameTimes) pop(t *track) uint32 {
	ft.mu.Lock()
	var ts uint32
	ok := len(ft.ts) > 0
	if ok {
		ts, ft.ts = ft.ts[0], ft.ts[1:]
	}
	ft.mu.Unlock()
	if !ok {
		// More pictures than frames: should not happen; keep time moving.
		ts = t.rtpTime(time.Now())
	}
	if ft.have && int32(ts-ft.last) <= 0 {
		ts = ft.last + 1
	}
	ft.last, ft.have = ts, true
	return ts
}

// tailBuffer keeps the last max bytes written to it (ffmpeg's stderr, for
// error messages).
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
