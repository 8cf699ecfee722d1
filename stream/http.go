package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"

	"github.com/chinesium/chinesium/audio"
	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/httpauth"
)

// Defaults of Camera's fields.
const (
	// DefaultMaxSnapshotAge is how old the newest frame may be for
	// /snapshot.jpg to serve it.
	DefaultMaxSnapshotAge = 5 * time.Second
	// DefaultWriteTimeout is how long one frame may take to reach a
	// viewer before the connection is dropped.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultMaxLag is how many frames a viewer may fall behind before it
	// skips to the newest one.
	DefaultMaxLag = 2
)

// Boundary separates the parts of /stream.mjpeg.
const Boundary = "chinesiumframe"

// Content types of the endpoints.
const (
	// MultipartContentType is the Content-Type of /stream.mjpeg.
	MultipartContentType = "multipart/x-mixed-replace;boundary=" + Boundary
	// RawMJPEGContentType is the Content-Type of /raw.mjpeg: JPEGs back to
	// back with nothing in between, what `ffmpeg -f mjpeg` (and ffmpeg's
	// probe, helped by the .mjpeg extension) reads.
	RawMJPEGContentType = "video/x-motion-jpeg"
)

// Camera serves one camera's hubs over HTTP. Set the fields before
// Register and do not change them afterwards; Register fills zero fields
// with their defaults.
type Camera struct {
	// Video is the camera's frame hub (required: Register panics without).
	Video *Hub
	// Audio is the camera's audio hub; nil when the camera has no audio.
	Audio *AudioHub
	// MaxSnapshotAge is how recent the newest frame must be for
	// /snapshot.jpg. It defaults to DefaultMaxSnapshotAge (5 s).
	MaxSnapshotAge time.Duration
	// Auth, when it has users, protects every endpoint with HTTP Digest or
	// Basic. nil means open access.
	Auth *httpauth.Authenticator
	// SnapshotAuth, when not nil, protects /snapshot.jpg in Auth's place
	// (Register only), for a camera whose snapshot some clients may read
	// without credentials (httpauth.Authenticator.Anonymous).
	SnapshotAuth *httpauth.Authenticator
	// Logger receives one line per viewer that leaves, tagged
	// component=stream. Nil discards them.
	Logger *slog.Logger

	// WriteTimeout bounds the time one frame or audio packet may take to
	// be written to a viewer; a viewer that stops reading is disconnected
	// after it. The deadline is pushed forward only when less than half of
	// it is left (setting it costs a runtime timer update per frame and
	// viewer), so a write that blocks is cut off after between half of
	// WriteTimeout and all of it. It defaults to DefaultWriteTimeout (10 s).
	WriteTimeout time.Duration
	// MaxLag is how many frames a viewer may be behind before it skips to
	// the newest frame. It defaults to DefaultMaxLag (2).
	MaxLag int

	log *slog.Logger     // Logger with component=stream; set by Register
	now func() time.Time // the clock; tests set it before Register

	// Counters behind Stats.
	multipart, raw, listeners atomic.Int64
	snapshots, bytesSent      atomic.Uint64
	framesSent, framesSkip    atomic.Uint64

	// part is the multipart part (headers, JPEG, boundary) of the newest
	// frame, built by the first viewer that needs it and written as is by
	// all the others, so that a frame is copied once rather than once per
	// viewer. partMu serialises building it.
	part   atomic.Pointer[builtPart]
	partMu sync.Mutex

	// parked are the stream viewers that the publisher writes to
	// directly (see direct.go), guarded by dmu; deliver, the hub
	// listener that does it, is added by the first viewer that parks.
	dmu          sync.Mutex
	parked       map[*viewer]struct{}
	listenOnce   sync.Once
	framesDirect atomic.Uint64 // frames the publisher wrote whole
	framesHanded atomic.Uint64 // frames it left to the viewer's goroutine to finish

	// viewers are the authenticated requests in progress by user, so
	// that CloseUser can end them.
	viewersMu sync.Mutex
	viewers   map[string]map[*context.CancelCauseFunc]struct{}
}

// ErrCredentialsChanged ends the streams of a user whose credentials
// changed or who was deleted (CloseUser).
var ErrCredentialsChanged = errors.New("stream: the user's credentials changed")

// tracked wraps h, behind authentication, so that CloseUser ends its
// request: the request's context is cancelled with ErrCredentialsChanged.
func (c *Camera) tracked(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		user := httpauth.User(req.Context())
		ctx, cancel := context.WithCancelCause(req.Context())
		key := &cancel
		c.viewersMu.Lock()
		if c.viewers == nil {
			c.viewers = map[string]map[*context.CancelCauseFunc]struct{}{}
		}
		if c.viewers[user] == nil {
			c.viewers[user] = map[*context.CancelCauseFunc]struct{}{}
		}
		c.viewers[user][key] = struct{}{}
		c.viewersMu.Unlock()
		defer func() {
			c.viewersMu.Lock()
			delete(c.viewers[user], key)
			if len(c.viewers[user]) == 0 {
				delete(c.viewers, user)
			}
			c.viewersMu.Unlock()
			cancel(nil)
		}()
		h.ServeHTTP(w, req.WithContext(ctx))
	})
}

// CloseUser ends the streams (MJPEG, raw MJPEG, WAV) of user, "" for
// those served without authentication, and returns how many it ended: the
// user was deleted or its credentials changed, and it must log in again.
// Only the endpoints of Register are tracked; those of Handler belong to
// a server that authenticates by itself.
func (c *Camera) CloseUser(user string) int {
	c.viewersMu.Lock()
	defer c.viewersMu.Unlock()
	n := 0
	for cancel := range c.viewers[user] {
		(*cancel)(ErrCredentialsChanged)
		n++
	}
	return n
}

// builtPart is one frame's multipart part. Immutable.
type builtPart struct {
	frame *camsession.Frame
	bytes []byte
}

// Pieces of a multipart part around the JPEG.
const (
	partHead    = "Content-Type: image/jpeg\r\nContent-Length: "
	partTrailer = "\r\n--" + Boundary + "\r\n"
)

// partTrailerBytes is partTrailer for Frame.Framed.
var partTrailerBytes = []byte(partTrailer)

// PartRoom is the room a camera session should leave around each frame
// (camsession.Config.FrameRoom) for the Camera to make the frame's
// multipart part in the frame's own memory, without copying the JPEG: the
// part's header with a length of up to 10 digits, and its trailer.
var PartRoom = camsession.FrameRoom{Head: len(partHead) + 10 + len("\r\n\r\n"), Tail: len(partTrailer)}

// appendPartHead appends the header of a part of n bytes to b.
func appendPartHead(b []byte, n int) []byte {
	b = append(b, partHead...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, "\r\n\r\n"...)
}

// appendPart appends f's multipart part to b.
func appendPart(b []byte, f *camsession.Frame) []byte {
	b = appendPartHead(b, len(f.JPEG))
	b = append(b, f.JPEG...)
	return append(b, partTrailer...)
}

// sharedPart returns f's multipart part when f is the hub's newest frame,
// building it once for all viewers; otherwise (a viewer behind the others)
// nil.
func (c *Camera) sharedPart(f *camsession.Frame) []byte {
	if p := c.part.Load(); p != nil && p.frame == f {
		return p.bytes
	}
	if c.Video.Latest() != f {
		return nil
	}
	c.partMu.Lock()
	defer c.partMu.Unlock()
	if p := c.part.Load(); p != nil && p.frame == f {
		return p.bytes // built while this viewer waited for the lock
	}
	// In the frame's own room when it has one (PartRoom), else a copy.
	var head [len(partHead) + 20 + 4]byte
	b, ok := f.Framed(appendPartHead(head[:0], len(f.JPEG)), partTrailerBytes)
	if !ok {
		b = appendPart(make([]byte, 0, len(partHead)+20+len(f.JPEG)+len(partTrailer)), f)
	}
	c.part.Store(&builtPart{frame: f, bytes: b})
	return b
}

// Stats are a Camera's counters: viewers now, and totals since the Camera
// was created. All its endpoints count, wherever they are registered.
type Stats struct {
	Multipart int // viewers of /stream.mjpeg now
	Raw       int // viewers of /raw.mjpeg now
	Audio     int // listeners of /audio.wav now

	Snapshots     uint64 // snapshots served
	BytesSent     uint64 // bytes of streams and snapshots written to clients (bodies only)
	FramesSent    uint64 // frames written to stream viewers
	FramesDropped uint64 // frames stream viewers skipped because they could not keep up
	// FramesDirect counts the frames of FramesSent that the camera's
	// publisher wrote itself, to viewers that were up to date (see
	// ConnContext).
	FramesDirect uint64
}

// Stats returns a snapshot of the counters. It may be called from any
// goroutine.
func (c *Camera) Stats() Stats {
	return Stats{
		Multipart:     int(c.multipart.Load()),
		Raw:           int(c.raw.Load()),
		Audio:         int(c.listeners.Load()),
		Snapshots:     c.snapshots.Load(),
		BytesSent:     c.bytesSent.Load(),
		FramesSent:    c.framesSent.Load(),
		FramesDropped: c.framesSkip.Load(),
		FramesDirect:  c.framesDirect.Load(),
	}
}

// Register adds the camera's endpoints to r under paths relative to r
// (use a mux subrouter per camera), each protected by Auth:
//
//	/stream.mjpeg  multipart/x-mixed-replace MJPEG (browsers' <img>, VLC, ffmpeg)
//	/raw.mjpeg     concatenated JPEGs (ffmpeg -f mjpeg)
//	/snapshot.jpg  the newest frame, or 503 when it is older than MaxSnapshotAge
//	/audio.wav     the camera's audio as an endless 8 kHz mono float WAV
func (c *Camera) Register(r *mux.Router) { c.register(r, c.Auth) }

// Handler returns the same endpoints as Register, at the same paths, for a
// server that authenticates every request itself (the admin server): Auth
// is not applied. Mount it with the prefix stripped. Viewers and bytes are
// counted in the same Stats as those of Register's routes. Like Register,
// call it before the camera serves requests.
func (c *Camera) Handler() http.Handler {
	r := mux.NewRouter()
	c.register(r, nil)
	return r
}

func (c *Camera) register(r *mux.Router, auth *httpauth.Authenticator) {
	if c.Video == nil {
		panic("stream: Camera.Video is nil")
	}
	c.setDefaults()
	r.Handle(MJPEGPath, c.wrap(c.serveMultipart, auth))
	r.Handle(RawMJPEGPath, c.wrap(c.serveRaw, auth))
	snapAuth := auth
	if auth != nil && c.SnapshotAuth != nil {
		snapAuth = c.SnapshotAuth
	}
	r.Handle(SnapshotPath, c.wrap(c.serveSnapshot, snapAuth))
	r.Handle(AudioPath, c.wrap(c.serveAudio, auth))
}

// wrap protects h with auth (nil: none) and answers only GET and HEAD.
func (c *Camera) wrap(h http.HandlerFunc, auth *httpauth.Authenticator) http.Handler {
	var hh http.Handler = h
	if auth != nil {
		hh = auth.Middleware(c.tracked(h))
	}
	// Methods are checked here rather than with mux's Methods so that
	// other methods get 405 (mux answers 404 in subrouters).
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			textError(w, http.StatusMethodNotAllowed, "405 method not allowed: use GET")
			return
		}
		hh.ServeHTTP(w, req)
	})
}

// setDefaults fills every zero field with its default.
func (c *Camera) setDefaults() {
	if c.MaxSnapshotAge <= 0 {
		c.MaxSnapshotAge = DefaultMaxSnapshotAge
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.log = c.Logger.With("component", "stream")
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.MaxLag <= 0 {
		c.MaxLag = DefaultMaxLag
	}
	if c.now == nil {
		c.now = time.Now
	}
}

// noCache marks a response as live content that nobody may store.
func noCache(h http.Header) {
	h.Set("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "0")
	h.Set("X-Content-Type-Options", "nosniff")
}

// streamHeaders prepares an endless response: no caching, and no chunked
// encoding ("Transfer-Encoding: identity" makes net/http send the body as
// is and close the connection at the end), which also keeps the write path
// free of allocations.
func streamHeaders(w http.ResponseWriter, contentType string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	noCache(h)
	h.Set("Connection", "close")
	h.Set("Transfer-Encoding", "identity")
}

// textError answers with a plain-text explanation.
func textError(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	noCache(h)
	w.WriteHeader(code)
	_, _ = fmt.Fprintln(w, msg)
}

// viewer is the per-connection state of a streaming response.
type viewer struct {
	c     *Camera
	w     http.ResponseWriter
	rc    *http.ResponseController
	fl    http.Flusher // nil when the writer cannot flush
	buf   []byte       // reused buffer for one part (header, JPEG, boundary)
	sent  uint64
	start time.Time
	rearm time.Time // when the write deadline must be pushed forward; zero: none is set

	// Direct delivery (direct.go), for the streams of frames.
	r         *FrameReader
	direct    *directWriter // nil: the viewer's goroutine writes every frame
	multipart bool          // frames go out as multipart parts, not bare JPEGs
	wake      chan handoff  // the publisher hands the viewer back
}

func (c *Camera) newViewer(w http.ResponseWriter) *viewer {
	fl, _ := w.(http.Flusher)
	return &viewer{c: c, w: w, rc: http.NewResponseController(w), fl: fl, buf: make([]byte, 0, 128), start: c.now()}
}

// newFrameViewer returns the viewer of a stream of frames read from r,
// written directly by the publisher when the server allows it.
func (c *Camera) newFrameViewer(w http.ResponseWriter, req *http.Request, r *FrameReader, multipart bool) *viewer {
	v := c.newViewer(w)
	v.r, v.multipart = r, multipart
	if v.direct = newDirectWriter(w, req); v.direct != nil {
		v.wake = make(chan handoff, 1)
	}
	return v
}

// write writes the pieces of one frame and flushes them to the client,
// within the write timeout.
func (v *viewer) write(parts ...[]byte) error {
	// An error means the writer has no deadline support (a recorder in
	// tests): then a stuck client just blocks its own goroutine.
	if now := time.Now(); !now.Before(v.rearm) {
		t := v.c.WriteTimeout
		_ = v.rc.SetWriteDeadline(now.Add(t))
		v.rearm = now.Add(t / 2)
	}
	for _, p := range parts {
		n, err := v.w.Write(p)
		v.c.bytesSent.Add(uint64(n))
		if err != nil {
			return fmt.Errorf("write to viewer: %w", err)
		}
	}
	// A failed flush leaves bytes in net/http's buffer: the stream is
	// over (nothing may be written past them).
	if v.fl != nil {
		if err := v.rc.Flush(); err != nil {
			return fmt.Errorf("flush to viewer: %w", err)
		}
	}
	v.sent++
	return nil
}

// nextFrame waits for the next frame for a live viewer: one that fell
// more than MaxLag frames behind skips to the newest.
func (c *Camera) nextFrame(ctx context.Context, r *FrameReader) (*camsession.Frame, error) {
	before := r.Dropped()
	if r.Lag() > uint64(c.MaxLag) {
		r.SkipToLatest()
	}
	f, err := r.Next(ctx)
	if d := r.Dropped() - before; d > 0 {
		c.framesSkip.Add(d)
	}
	if err != nil {
		return nil, fmt.Errorf("next frame: %w", err)
	}
	return f, nil
}

// done logs how a viewer's stream ended.
func (c *Camera) done(req *http.Request, kind string, v *viewer, dropped uint64, err error) {
	level := slog.LevelDebug
	reason := "client left"
	switch {
	case errors.Is(err, ErrClosed):
		reason = "camera stream closed"
	case errors.Is(context.Cause(req.Context()), ErrCredentialsChanged):
		level = slog.LevelInfo
		reason = "the user's credentials changed"
	case errors.Is(err, context.Canceled):
	default:
		level = slog.LevelInfo
		reason = err.Error()
	}
	c.log.Log(req.Context(), level, "viewer left", "stream", kind, "remote", req.RemoteAddr,
		"user", httpauth.User(req.Context()), "sent", v.sent, "dropped", dropped,
		"duration", c.now().Sub(v.start).Round(time.Millisecond), "reason", reason)
}

// serveMultipart streams multipart/x-mixed-replace MJPEG. Each part is
// "Content-Type: image/jpeg" and "Content-Length: n", the JPEG, then the
// next boundary at once so that browsers show a frame as soon as it is
// complete rather than when the next one starts.
func (c *Camera) serveMultipart(w http.ResponseWriter, req *http.Request) {
	streamHeaders(w, MultipartContentType)
	if req.Method == http.MethodHead {
		return
	}
	c.multipart.Add(1)
	defer c.multipart.Add(-1)
	r := c.Video.NewReader()
	defer r.Close()
	v := c.newFrameViewer(w, req, r, true)
	// The first boundary opens the body.
	err := v.write([]byte(partTrailer[2:]))
	if err == nil {
		err = c.streamFrames(req.Context(), v)
	}
	c.done(req, "multipart", v, r.Dropped(), err)
}

// frameBytes returns what v is sent for f, in one piece so that it
// leaves in a single system call: the bare JPEG, or its multipart part.
// Viewers that are up to date share one copy of the part; one that is
// behind builds its own in its reused buffer.
func (c *Camera) frameBytes(v *viewer, f *camsession.Frame) []byte {
	if !v.multipart {
		return f.JPEG
	}
	if p := c.sharedPart(f); p != nil {
		return p
	}
	v.buf = appendPart(v.buf[:0], f)
	return v.buf
}

// streamFrames writes v's frames until an error: parked, by the publisher,
// while v is up to date and can be written directly; by this goroutine
// otherwise.
func (c *Camera) streamFrames(ctx context.Context, v *viewer) error {
	for {
		if parked, err := c.park(ctx, v); parked || err != nil {
			if err != nil {
				return err
			}
			continue
		}
		f, err := c.nextFrame(ctx, v.r)
		if err != nil {
			return err
		}
		if err := v.write(c.frameBytes(v, f)); err != nil {
			return err
		}
		c.framesSent.Add(1)
	}
}

// serveRaw streams the JPEGs back to back.
func (c *Camera) serveRaw(w http.ResponseWriter, req *http.Request) {
	streamHeaders(w, RawMJPEGContentType)
	if req.Method == http.MethodHead {
		return
	}
	c.raw.Add(1)
	defer c.raw.Add(-1)
	r := c.Video.NewReader()
	defer r.Close()
	v := c.newFrameViewer(w, req, r, false)
	err := c.streamFrames(req.Context(), v)
	c.done(req, "raw", v, r.Dropped(), err)
}

// serveSnapshot answers with the newest frame when it is recent enough,
// otherwise 503 with Retry-After and an explanation: never a stale picture
// without saying so.
func (c *Camera) serveSnapshot(w http.ResponseWriter, req *http.Request) {
	maxAge := c.MaxSnapshotAge
	f := c.Video.Latest()
	now := c.now()
	if f == nil || f.Time.IsZero() || now.Sub(f.Time) > maxAge {
		w.Header().Set("Retry-After", "2")
		msg := "503 no picture: the camera has not sent any frame yet (it may be offline or still connecting)"
		if f != nil && !f.Time.IsZero() {
			msg = fmt.Sprintf("503 no current picture: the newest frame is %s old (limit %s); the camera may be offline",
				now.Sub(f.Time).Round(100*time.Millisecond), maxAge)
		}
		textError(w, http.StatusServiceUnavailable, msg)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/jpeg")
	h.Set("Content-Length", strconv.Itoa(len(f.JPEG)))
	noCache(h)
	h.Set("Last-Modified", f.Time.UTC().Format(http.TimeFormat))
	h.Set("X-Frame-Age-Ms", strconv.FormatInt(now.Sub(f.Time).Milliseconds(), 10))
	w.WriteHeader(http.StatusOK)
	if req.Method != http.MethodHead {
		c.snapshots.Add(1)
		n, _ := w.Write(f.JPEG)
		c.bytesSent.Add(uint64(n))
	}
}

// probeChunks is how many data chunks the first audio of an ffmpeg client
// comes in: ffmpeg makes a packet of each (a WAV has no timestamps, so it
// reads 50 packets, or 5 s of audio, before it returns the first sample).
const probeChunks = 64

// appendProbeChunks appends the WAV header and pcm, the first samples of
// an ffmpeg client, as up to probeChunks data chunks, then the header of
// an endless data chunk for the rest of the stream: ffmpeg then has its
// 50 packets at once and starts with the first audio instead of 5 s later.
func appendProbeChunks(dst []byte, pcm []int16) []byte {
	n := min(probeChunks, len(pcm))
	if n == 0 {
		return audio.AppendFloatWAVHeader(dst, audio.SampleRate, 1, audio.StreamSize)
	}
	for i := range n {
		part := pcm[len(pcm)*i/n : len(pcm)*(i+1)/n]
		size := uint32(4 * len(part))
		if i == 0 {
			dst = audio.AppendFloatWAVHeader(dst, audio.SampleRate, 1, size)
		} else {
			dst = audio.AppendDataChunkHeader(dst, size)
		}
		dst = audio.AppendFloat32LE(dst, part)
	}
	return audio.AppendDataChunkHeader(dst, audio.StreamSize)
}

// staleAudio is how old the newest audio packet may be to start a WAV
// listener with.
const staleAudio = time.Second

// serveAudio streams the camera's audio as an endless WAV: a header with
// the largest sizes, then 32-bit float samples (the 16-bit samples decoded
// from each IMA ADPCM packet, exactly) as soon as they arrive, starting
// with the newest packet already received, so that a client has data at
// once.
//
// Both choices are for ffmpeg and everything built on it (Frigate,
// go2rtc, Scrypted, Home Assistant, ffplay), which used to need 8 s before
// the first sample. Its WAV reader looks into 16-bit PCM for S/PDIF
// (reading 64 KiB first) and for DTS (32 more packets); it does neither
// for float, which browsers, VLC and ffmpeg all play. And a WAV has no
// timestamps, so ffmpeg reads 50 packets or 5 s of audio before it returns
// the first sample; it makes a packet of each data chunk, so a client
// whose User-Agent is libavformat's ("Lavf/...") gets the first packet's
// samples as probeChunks small data chunks before the endless one. Other
// clients get one data chunk, the canonical form.
func (c *Camera) serveAudio(w http.ResponseWriter, req *http.Request) {
	if c.Audio == nil {
		textError(w, http.StatusNotFound, "404 no audio: this camera's audio is not enabled in the bridge")
		return
	}
	streamHeaders(w, "audio/wav")
	if req.Method == http.MethodHead {
		return
	}
	c.listeners.Add(1)
	defer c.listeners.Add(-1)
	r := c.Audio.NewReader()
	defer r.Close()
	v := c.newViewer(w)
	var dec audio.Decoder
	chunked := strings.HasPrefix(req.UserAgent(), "Lavf/")
	var err error
	if !chunked {
		err = v.write(audio.AppendFloatWAVHeader(v.buf[:0], audio.SampleRate, 1, audio.StreamSize))
		v.sent = 0
	}
	var pcm []int16
	out := make([]byte, 0, 8192)
	for err == nil {
		var a *camsession.Audio
		if a, err = r.Next(req.Context()); err != nil {
			err = fmt.Errorf("next audio packet: %w", err)
			break
		}
		if v.sent == 0 && !a.Time.IsZero() && time.Since(a.Time) > staleAudio {
			continue // the camera's audio stopped long ago: not a start
		}
		pcm = dec.Decode(pcm[:0], a.ADPCM)
		if chunked {
			out = appendProbeChunks(out[:0], pcm)
			chunked = false
		} else {
			out = audio.AppendFloat32LE(out[:0], pcm)
		}
		err = v.write(out)
	}
	c.done(req, "audio", v, r.Dropped(), err)
}
