package rtsp

import "sync/atomic"

// Stats are the server's counters, read with Server.Stats.
type Stats struct {
	// Conns is the number of TCP connections served now (each half of
	// an HTTP tunnel counts).
	Conns int
	// Sessions is the number of sessions open now, playing or not.
	Sessions int
	// SessionsStarted counts the sessions set up since the server was
	// created.
	SessionsStarted uint64
	// Paths has one entry per path registered with Handle (one per
	// camera), by path name.
	Paths map[string]PathStats
}

// PathStats counts one path's sessions and what they were sent.
type PathStats struct {
	// JPEG and H264 are the sessions playing the path's jpeg and h264
	// URLs now, by transport.
	JPEG, H264 Viewers
	// BytesSent counts the RTP bytes (headers included, and the 4-byte
	// framing of interleaved packets) sent to the path's sessions.
	BytesSent uint64
	// UnitsDropped counts the frames and audio blocks not sent to a
	// session because it could not keep up.
	UnitsDropped uint64
	// UnitsDirect counts the frames and audio blocks that the path's
	// producers wrote to an interleaved session that was up to date
	// themselves, instead of waking the session's writer (a unit the
	// socket took only a part of counts too; the connection's next
	// writer sends the rest).
	UnitsDirect uint64
}

// Viewers counts playing sessions by transport.
type Viewers struct {
	UDP  int // RTP over UDP
	TCP  int // RTP interleaved on the RTSP connection
	HTTP int // RTP interleaved in an RTSP-over-HTTP tunnel
}

// Total returns the number of viewers over all transports.
func (v Viewers) Total() int { return v.UDP + v.TCP + v.HTTP }

// pathCounters are the totals of one path, kept across Handle calls that
// replace its source.
type pathCounters struct {
	bytesSent, unitsDropped, unitsDirect atomic.Uint64
}

// Stats returns a snapshot of the counters. It may be called from any
// goroutine at any time.
func (s *Server) Stats() Stats {
	s.init()
	s.mu.Lock()
	st := Stats{
		Conns:           s.limiter.Stats().Conns,
		Sessions:        len(s.sessions),
		SessionsStarted: s.started,
		Paths:           make(map[string]PathStats, len(s.paths)),
	}
	for name, p := range s.paths {
		st.Paths[name] = PathStats{BytesSent: p.counters.bytesSent.Load(), UnitsDropped: p.counters.unitsDropped.Load(),
			UnitsDirect: p.counters.unitsDirect.Load()}
	}
	sessions := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		sessions = append(sessions, ss)
	}
	s.mu.Unlock()

	for _, ss := range sessions {
		ss.mu.Lock()
		on := ss.playing && !ss.closed
		ss.mu.Unlock()
		ps, ok := st.Paths[ss.path.name]
		if !on || !ok {
			continue
		}
		v := &ps.JPEG
		if ss.media == kindH264 {
			v = &ps.H264
		}
		switch {
		case ss.kind == transportUDP:
			v.UDP++
		case ss.conn.tunnel:
			v.HTTP++
		default:
			v.TCP++
		}
		st.Paths[ss.path.name] = ps
	}
	return st
}
