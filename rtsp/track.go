package rtsp

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"
)

// mediaKind is the payload format of a track.
type mediaKind int

const (
	kindJPEG mediaKind = iota // RFC 2435, payload type 26, 90 kHz
	kindH264                  // RFC 6184, dynamic payload type 96, 90 kHz
	kindPCMU                  // G.711 µ-law, payload type 0, 8 kHz
)

func (k mediaKind) String() string {
	switch k {
	case kindJPEG:
		return "jpeg"
	case kindH264:
		return "h264"
	}
	return "pcmu"
}

// RTP constants.
const (
	rtpHeaderLen = 12
	// maxPayload keeps every RTP packet inside one Ethernet frame:
	// 1500 (MTU) - 20 (IPv4) - 8 (UDP) - 12 (RTP) - 60 (room for tunnels).
	maxPayload = 1400
	// payloadTypeH264 is the dynamic payload type announced in the SDP.
	payloadTypeH264 = 96
	// interleavedLen is the framing of a packet in an RTSP connection
	// (RFC 2326 §10.12): '$', the channel, the length (16 bits).
	interleavedLen = 4
	// packetRoom is what a producer leaves in front of every payload of a
	// unit: the interleaved framing, then the RTP header.
	packetRoom = interleavedLen + rtpHeaderLen
)

// unit is one frame (or audio block) packetized once and sent to every
// reader: buf holds the complete RTP packets back to back, each behind
// interleavedLen bytes of room for its interleaved framing, and ends[i]
// is the offset just past packet i. So buf is also the whole unit as it
// goes into an RTSP connection, and it is written with one call. A unit is
// immutable once dispatched, until its last holder releases it.
//
// A unit from a track's pool (track.startUnit) is filled again for a later
// frame once every holder of its memory has released it: the producer
// that dispatches it, each session queue it waits in, and a connection
// that holds the end of it (conn.rest). Each takes its hold before it can
// be seen holding the unit, and releases it when it no longer reads buf.
// A unit whose holds are never all released (a connection that closed
// with a rest) is left to the garbage collector.
type unit struct {
	buf  []byte
	ends []int
	// refs counts the holders; pool, when set, takes the unit back when
	// the last one releases it.
	refs atomic.Int32
	pool *unitPool
	// framed is set once buf carries the framing for channel ch;
	// others holds copies framed for other channels. Both are set by
	// dispatch only, under the track's lock: buf before any session
	// sees the unit, a copy before the session it is for.
	framed bool
	ch     byte
	others []framedCopy
	// key is true when a decoder can start with this unit (always for JPEG
	// and audio; H.264 IDR access units).
	key bool
	// octets is the payload byte count, for RTCP sender reports.
	octets int
}

// framedCopy is a unit framed for another interleaved channel.
type framedCopy struct {
	ch  byte
	buf []byte
}

// packets calls fn for every RTP packet of u.
func (u *unit) packets(fn func(p []byte) error) error {
	start := 0
	for _, e := range u.ends {
		if err := fn(u.buf[start+interleavedLen : e]); err != nil {
			return err
		}
		start = e
	}
	return nil
}

// rtpBytes is the size of u's RTP packets, without their framing.
func (u *unit) rtpBytes() int { return len(u.buf) - interleavedLen*len(u.ends) }

// interleaved returns u's packets framed for interleaved channel ch, as
// they go into an RTSP connection: buf itself for the first channel asked
// for, a copy for others. Called by dispatch, under the track's lock.
func (u *unit) interleaved(ch byte) []byte {
	if !u.framed {
		u.framed, u.ch = true, ch
		setChannel(u.buf, u.ends, ch)
	}
	if ch == u.ch {
		return u.buf
	}
	for _, c := range u.others {
		if c.ch == ch {
			return c.buf
		}
	}
	// A recycled unit keeps the buffers of its earlier copies.
	var b []byte
	if n := len(u.others); n < cap(u.others) {
		b = u.others[:n+1][n].buf[:0]
	}
	b = append(b, u.buf...)
	setChannel(b, u.ends, ch)
	u.others = append(u.others, framedCopy{ch, b})
	return b
}

// hold adds a holder of u's memory.
func (u *unit) hold() { u.refs.Add(1) }

// release drops a hold on u; the last one gives u back to its pool.
func (u *unit) release() {
	switch n := u.refs.Add(-1); {
	case n == 0 && u.pool != nil:
		u.pool.put(u)
	case n < 0:
		panic("rtsp: a unit released more often than held")
	}
}

// unitPool keeps a track's released units for its producer to fill again,
// instead of allocating about a frame's worth of memory for each frame.
type unitPool struct {
	mu   sync.Mutex
	free []*unit // guarded by mu; at most unitPoolLen
	// keep is set while the track's producer runs: a track nobody plays
	// keeps no units.
	keep bool // guarded by mu
}

// unitPoolLen is how many released units a track keeps. With readers that
// keep up, a unit is released as soon as it is dispatched, and one is
// enough; the others are for a unit some queue or connection still holds.
const unitPoolLen = 2

// unitRecycled, when set (by tests only, before any track exists), is
// called with every unit its pool takes back, before any producer can
// fill it again.
var unitRecycled func(*unit)

func (p *unitPool) put(u *unit) {
	if unitRecycled != nil {
		unitRecycled(u)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.keep && len(p.free) < unitPoolLen {
		p.free = append(p.free, u)
	}
}

// get returns a released unit with room for size bytes and packets
// packets, or a new one, held once (by the producer).
func (p *unitPool) get(size, packets int) *unit {
	p.mu.Lock()
	var u *unit
	if n := len(p.free); n > 0 {
		u, p.free[n-1] = p.free[n-1], nil
		p.free = p.free[:n-1]
	}
	p.mu.Unlock()
	switch {
	case u == nil:
		u = &unit{pool: p, buf: make([]byte, 0, size), ends: make([]int, 0, packets)}
	case cap(u.buf) < size || cap(u.ends) < packets:
		// Frames vary in size: room for a slightly bigger one next time.
		u.buf = make([]byte, 0, max(size+size/8, cap(u.buf)))
		u.ends = make([]int, 0, max(packets+packets/8, cap(u.ends)))
	}
	u.buf, u.ends = u.buf[:0], u.ends[:0]
	u.framed, u.ch, u.others = false, 0, u.others[:0]
	u.key, u.octets = false, 0
	u.refs.Store(1)
	return u
}

// open makes p keep released units (the producer starts).
func (p *unitPool) open() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keep = true
}

// close forgets the units p keeps, and those released later (the
// producer stopped).
func (p *unitPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keep = false
	clear(p.free)
	p.free = p.free[:0]
}

// setChannel writes channel ch into the framing of every packet of buf.
func setChannel(buf []byte, ends []int, ch byte) {
	start := 0
	for _, e := range ends {
		buf[start+1] = ch
		start = e
	}
}

// producer turns a camera's frames into units for a track until ctx ends.
type producer func(ctx context.Context, t *track) error

// track is one RTP stream of a camera (its JPEG video, its H.264 video or
// its audio), shared by every session that plays it. Its producer runs only
// while at least one session plays the track.
type track struct {
	srv         *Server
	kind        mediaKind
	payloadType uint8
	clockRate   int
	ssrc        uint32
	produce     producer

	// The RTP clock: rtpTime(t) = baseRTP + (t - baseTime) * clockRate.
	baseTime time.Time
	baseRTP  uint32
	// seq is the sequence number of the next packet.
	seq atomic.Uint32

	mu sync.Mutex
	// pool keeps the units released by every holder (unit).
	pool unitPool

	readers map[*sessionTrack]struct{} // guarded by mu
	cancel  context.CancelFunc         // guarded by mu; non-nil while the producer runs
	done    chan struct{}              // guarded by mu; closed when the producer returned
}

func random32() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}

func newTrack(srv *Server, kind mediaKind, pt uint8, rate int, p producer) *track {
	srv.init()
	t := &track{
		srv: srv, kind: kind, payloadType: pt, clockRate: rate, produce: p,
		ssrc: random32(), baseTime: time.Now(), baseRTP: random32(),
		readers: make(map[*sessionTrack]struct{}),
	}
	t.seq.Store(random32() & 0xFFFF)
	return t
}

// rtpTime converts a wall-clock time to the track's RTP clock.
func (t *track) rtpTime(at time.Time) uint32 {
	d := at.Sub(t.baseTime)
	sec, frac := d/time.Second, d%time.Second
	ticks := int64(sec)*int64(t.clockRate) + int64(frac)*int64(t.clockRate)/int64(time.Second)
	return t.baseRTP + uint32(ticks)
}

// nextSeq returns the sequence number the next packet will carry.
func (t *track) nextSeq() uint16 { return uint16(t.seq.Load()) }

// startUnit returns a unit of t's pool with room for size bytes, held
// once (by the producer, which releases it after dispatch).
func (t *track) startUnit(size, packets int) *unit { return t.pool.get(size, packets) }

// finish writes the framing and RTP headers into the room left before
// every payload: the interleaved framing but its channel (RFC 2326
// §10.12), then the RTP header (RFC 3550 §5.1): version 2, the marker on
// the last packet, the track's payload type, consecutive sequence numbers,
// timestamp ts and the SSRC.
func (t *track) finish(u *unit, ts uint32) {
	start := 0
	for i, e := range u.ends {
		f := u.buf[start : start+interleavedLen]
		f[0] = '$'
		binary.BigEndian.PutUint16(f[2:], uint16(e-start-interleavedLen))
		h := u.buf[start+interleavedLen : start+packetRoom]
		h[0] = 0x80
		h[1] = t.payloadType
		if i == len(u.ends)-1 {
			h[1] |= 0x80
		}
		seq := uint16(t.seq.Add(1) - 1)
		binary.BigEndian.PutUint16(h[2:], seq)
		binary.BigEndian.PutUint32(h[4:], ts)
		binary.BigEndian.PutUint32(h[8:], t.ssrc)
		u.octets += e - start - packetRoom
		start = e
	}
}

// dispatch hands u to every reader without waiting for any of them: it
// writes u itself to the interleaved sessions that are up to date (at
// most maxDirect of them), and queues it for the others' writers. It
// takes over the producer's hold on u and releases it once every reader
// has u or its own hold. The lock is released by a deferred call so that
// a panic while dispatching (recovered by the producer's owner, which
// restarts the track) cannot leave the track locked.
func (t *track) dispatch(u *unit) {
	defer u.release()
	t.mu.Lock()
	defer t.mu.Unlock()
	// buf gets its framing before any session can see it.
	for st := range t.readers {
		if st.s.interleaved() {
			u.interleaved(st.channels[0])
			break
		}
	}
	direct := 0
	for st := range t.readers {
		st.offer(u, &direct)
	}
}

// readerCount returns how many sessions play the track.
func (t *track) readerCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.readers)
}

// addReader makes st receive the track's units, starting the producer when
// st is the first reader.
func (t *track) addReader(st *sessionTrack) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st.waitKey = true
	t.readers[st] = struct{}{}
	if t.cancel != nil {
		return
	}
	t.pool.open()
	ctx, cancel := context.WithCancel(context.Background())
	prev := t.done
	done := make(chan struct{})
	t.cancel, t.done = cancel, done
	go func() {
		defer close(done)
		if prev != nil {
			<-prev // the previous producer (e.g. an ffmpeg child) must be gone first
		}
		t.run(ctx)
	}()
}

// run keeps the producer going while there are readers, restarting it
// after a failure with a growing pause.
func (t *track) run(ctx context.Context) {
	backoff := 250 * time.Millisecond
	for {
		err := t.produceRecovered(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			t.srv.log.Warn("track producer failed, restarting", "track", t.kind.String(), "err", err, "in", backoff)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// produceRecovered runs the producer once. A panic in it is logged with
// its stack and returned as an error, so run restarts the track (after its
// pause) instead of the panic taking the process down.
func (t *track) produceRecovered(ctx context.Context) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = t.srv.recovered("panic in track producer, restarting it", v, "track", t.kind.String())
		}
	}()
	return t.produce(ctx, t)
}

// removeReader stops sending to st and stops the producer after the last
// reader left. It returns the producer's done channel when it was stopped.
func (t *track) removeReader(st *sessionTrack) <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.readers[st]; !ok {
		return nil
	}
	delete(t.readers, st)
	if len(t.readers) > 0 || t.cancel == nil {
		return nil
	}
	t.cancel()
	t.cancel = nil
	t.pool.close()
	return t.done
}

// stopped returns a channel closed once no producer runs.
func (t *track) stopped() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return t.done
}
