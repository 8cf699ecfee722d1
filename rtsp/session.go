package rtsp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
)

// Session tuning.
const (
	// queueLen is how many units (frames or audio blocks) may wait for a
	// session's writer; beyond that new units are dropped for this session
	// only, so a client that stops reading never slows the others.
	queueLen = 64
	// srInterval is the period of RTCP sender reports (RFC 3550 §6.2
	// suggests 5 s as the minimum interval for small sessions).
	srInterval = 5 * time.Second
	// writeTimeout bounds one write to a TCP client; a client that does
	// not read for this long is disconnected. It is longer than
	// srInterval, so that the deadline an interleaved session's last
	// write set (which a producer's direct writes must not have passed)
	// is renewed by the sender reports.
	writeTimeout = 10 * time.Second
)

// sessionTrack is one track set up in a session.
type sessionTrack struct {
	s     *session
	t     *track
	index int // track number in the SDP (trackID=index)

	// UDP destinations (transportUDP).
	rtpAddr, rtcpAddr netip.AddrPort
	// Interleaved channels (transportTCP).
	channels [2]byte

	// waitKey makes the reader skip units until a key unit (H.264 IDR);
	// guarded by t.mu (only dispatch and addReader touch it).
	waitKey bool
	// dropped counts units the session's queue had no room for.
	dropped atomic.Uint64
	// sent counts units written to the client.
	sent atomic.Uint64
	// handed counts the units whose direct write the socket took only a
	// part of (the connection's next writer sent the rest).
	handed atomic.Uint64

	// What the sender reports tell; written by whoever sends a unit
	// (the session's writer, or the producer writing it directly).
	packets, octets atomic.Uint32
	sentAny         atomic.Bool
}

// maxDirect bounds the interleaved sessions a producer writes itself for
// one unit, and so its time per unit while the camera's next frame waits:
// about 15 µs a session for a 30 KB frame, 1 ms for 64. Further sessions
// get the unit from their writers.
const maxDirect = 64

// offer hands u to the session without blocking: an interleaved session
// that is up to date is written at once, in the producer's goroutine
// (direct counts those of this unit); otherwise u is queued for the
// session's writer. Called with t.mu held.
func (st *sessionTrack) offer(u *unit, direct *int) {
	if st.waitKey {
		if !u.key {
			return
		}
		st.waitKey = false
	}
	s := st.s
	var b []byte
	if s.interleaved() {
		b = u.interleaved(st.channels[0])
		// Not the first unit: the writer sends a sender report after
		// that one.
		if *direct < maxDirect && st.sentAny.Load() {
			if sent, partial := s.conn.tryDirect(st, u, b); sent {
				*direct++
				s.path.counters.unitsDirect.Add(1)
				if partial {
					st.handed.Add(1)
					select {
					case s.kick <- struct{}{}:
					default: // a kick is already waiting
					}
				}
				return
			}
		}
	}
	s.pending.Add(1)
	u.hold()
	select {
	case s.queue <- queued{st, u, b}:
	default:
		u.release()
		s.pending.Add(-1)
		st.dropped.Add(1)
		s.path.counters.unitsDropped.Add(1)
		// An H.264 decoder cannot continue after a lost frame until the
		// next IDR; JPEG and audio units stand alone.
		st.waitKey = st.t.kind == kindH264
	}
}

// count records that u (n bytes on the wire) went to the client, or to
// its connection to finish (conn.rest).
func (st *sessionTrack) count(u *unit, n int) {
	st.sentAny.Store(true)
	st.packets.Add(uint32(len(u.ends)))
	st.octets.Add(uint32(u.octets))
	st.sent.Add(1)
	st.s.path.counters.bytesSent.Add(uint64(n))
}

type queued struct {
	st *sessionTrack
	u  *unit  // held until written or drained
	b  []byte // u framed for the session's interleaved channel; nil for UDP
}

// session is an RTSP session (RFC 2326 §3): the tracks of one camera path
// set up by one client, with their transport and state.
type session struct {
	id    string
	srv   *Server
	path  *path
	media mediaKind // kindJPEG or kindH264: which URL the session is for
	user  string
	admin bool   // the user is an administrator of the source (Source.Administrator)
	seq   uint64 // orders the sessions by age; set by addSession
	kind  transportKind
	conn  *conn // the connection that created it; carries TCP interleaved data
	udp   *udpPair

	mu      sync.Mutex
	tracks  []*sessionTrack // guarded by mu; by track index, nil when not set up
	playing bool            // guarded by mu
	closed  bool            // guarded by mu
	cancel  context.CancelFunc
	done    chan struct{}
	timer   *time.Timer

	queue chan queued
	// pending counts the units queued and not yet written: a producer
	// writes an interleaved session itself only when none are, so that
	// a track's units leave in order.
	pending atomic.Int32
	// kick tells the writer that a producer left the rest of a unit in
	// the connection (conn.rest) for it to write.
	kick chan struct{}
}

// interleaved tells whether the session's packets go in its RTSP
// connection.
func (s *session) interleaved() bool { return s.kind == transportTCP && s.conn != nil }

func newSessionID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// touch resets the session timeout (RFC 2326 §12.37; ONVIF Streaming §5.2.1:
// any request and RTCP receiver reports keep a session alive).
func (s *session) touch() { s.timer.Reset(s.srv.SessionTimeout) }

// play starts sending: every set-up track gets s as a reader.
func (s *session) play() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.playing || s.closed {
		return
	}
	s.playing = true
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.done = make(chan struct{})
	go s.writer(ctx, s.done)
	for _, st := range s.tracks {
		if st != nil {
			st.t.addReader(st)
		}
	}
}

// pauseWaited, when set (by tests only, before any session exists), is
// called by pause once the writer it stopped has finished, before it
// drains the queue: where a PLAY from another connection can come in.
var pauseWaited func(*session)

// pause stops sending and waits for the writer to finish.
func (s *session) pause() {
	s.mu.Lock()
	if !s.playing {
		s.mu.Unlock()
		return
	}
	s.playing = false
	for _, st := range s.tracks {
		if st != nil {
			st.t.removeReader(st)
		}
	}
	s.cancel()
	done := s.done
	s.mu.Unlock()
	<-done
	if pauseWaited != nil {
		pauseWaited(s)
	}
	// Drain what the writer left so a later PLAY starts fresh. No
	// producer offers any more: the tracks no longer have s as a reader.
	// Under mu, and only if no PLAY came meanwhile (its writer owns the
	// queue, and pending counts its units; if it was paused again, that
	// pause drains once its writer is gone).
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.playing || s.done != done {
		return
	}
	for {
		select {
		case q := <-s.queue:
			q.u.release()
		case <-s.kick:
		default:
			s.pending.Store(0)
			return
		}
	}
}

// close ends the session for good.
func (s *session) close(reason string) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	// Closed before it pauses, so that no PLAY can start it again.
	s.closed = true
	tracks := s.tracks
	s.mu.Unlock()
	s.pause()
	s.timer.Stop()
	s.srv.removeSession(s, tracks)
	s.conn.forget(s)
	var dropped uint64
	for _, st := range tracks {
		if st != nil {
			dropped += st.dropped.Load()
		}
	}
	s.srv.log.Info("session closed", "session", s.id, "path", s.path.name, "media", s.media.String(),
		"transport", s.kind.String(), "reason", reason, "dropped", dropped)
}

// writer sends queued units and periodic sender reports until ctx ends.
//
// A panic in the writer is logged with its stack and ends this session
// only: an interleaved session also loses its connection, since a
// half-written frame leaves the stream unusable.
func (s *session) writer(ctx context.Context, done chan struct{}) {
	defer close(done)
	defer func() {
		if v := recover(); v != nil {
			_ = s.srv.recovered("panic in session writer, closing the session", v,
				"session", s.id, "path", s.path.name)
			// close waits for done, which closes after this function.
			go func() {
				if s.kind == transportTCP {
					s.conn.close()
				}
				s.close("writer panic")
			}()
		}
	}()
	tick := time.NewTicker(srInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case q := <-s.queue:
			first := !q.st.sentAny.Load()
			err := s.send(q)
			q.u.release()
			if err == nil && first {
				s.sendReport(q.st)
			}
			// Only now may a producer write s directly: after the unit,
			// and after the report that follows the first one.
			s.pending.Add(-1)
			if err != nil {
				s.srv.log.Info("write failed, closing connection", "session", s.id, "err", err)
				s.conn.close()
				return
			}
		case <-s.kick:
			if err := s.conn.writeRest(); err != nil {
				s.srv.log.Info("write failed, closing connection", "session", s.id, "err", err)
				s.conn.close()
				return
			}
		case <-tick.C:
			s.mu.Lock()
			tracks := s.tracks
			s.mu.Unlock()
			for _, st := range tracks {
				if st != nil && st.sentAny.Load() {
					s.sendReport(st)
				}
			}
		}
	}
}

// send writes a queued unit to the client.
func (s *session) send(q queued) error {
	st, u := q.st, q.u
	if q.b != nil {
		return s.conn.writeUnit(st, u, q.b)
	}
	st.count(u, u.rtpBytes())
	_ = u.packets(func(p []byte) error {
		// UDP send errors (an ICMP unreachable, a full socket buffer) lose
		// the packet like the network would; the session timeout ends
		// sessions whose client is gone.
		_, _ = s.udp.rtp.WriteToUDPAddrPort(p, st.rtpAddr)
		return nil
	})
	return nil
}

// sendReport sends an RTCP sender report (RFC 3550 §6.4.1) for st: the
// current wall-clock time and the same instant on the track's RTP clock, so
// receivers can map RTP timestamps to real time.
func (s *session) sendReport(st *sessionTrack) {
	if s.kind == transportTCP {
		if err := s.conn.writeReport(st); err != nil {
			s.conn.close()
		}
		return
	}
	if b, err := st.report(nil); err == nil {
		_, _ = s.udp.rtcp.WriteToUDPAddrPort(b, st.rtcpAddr)
	}
}

// report appends st's sender report, as of now, to dst. An interleaved
// session builds it under the connection's wmu, so that its counts are
// those of the units before it on the wire.
func (st *sessionTrack) report(dst []byte) ([]byte, error) {
	now := time.Now()
	sr := rtcp.SenderReport{
		SSRC:        st.t.ssrc,
		NTPTime:     ntpTime(now),
		RTPTime:     st.t.rtpTime(now),
		PacketCount: st.packets.Load(),
		OctetCount:  st.octets.Load(),
	}
	b, err := sr.Marshal()
	if err != nil {
		return dst, fmt.Errorf("sender report: %w", err)
	}
	return append(dst, b...), nil
}

// ntpEpochOffset is the number of seconds from 1900-01-01 (NTP) to
// 1970-01-01 (Unix).
const ntpEpochOffset = 2208988800

// ntpTime returns t as a 64-bit NTP timestamp (RFC 5905 §6).
func ntpTime(t time.Time) uint64 {
	sec := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return sec<<32 | frac
}
