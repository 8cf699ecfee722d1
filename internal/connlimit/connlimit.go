// Package connlimit bounds the connections a server holds, in total and
// per client address, and makes room for a new client by closing first the
// connections that have not proven themselves: not authenticated yet, or
// idle between requests. One client address cannot take every slot, and
// many addresses holding silent connections cannot lock out a client that
// authenticates.
package connlimit

import (
	"container/list"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
)

// Limiter counts the connections of one server. Set Max and MaxPerAddr
// before the first Admit; zero means no bound. Safe for concurrent use.
type Limiter struct {
	// Max bounds the connections held at once.
	Max int
	// MaxPerAddr bounds the connections of one client address.
	MaxPerAddr int

	mu    sync.Mutex
	total int                      // guarded by mu
	seq   uint64                   // guarded by mu; numbers the slots
	addrs map[netip.Addr]*addrSlot // guarded by mu

	refused, evicted atomic.Uint64
}

// addrSlot is what the Limiter knows of one client address.
type addrSlot struct {
	n         int
	evictable list.List // of *Slot, longest evictable first
}

// oldest returns the admission number of the address's longest evictable
// connection. Called with the Limiter's mu held, on a non-empty list.
func (a *addrSlot) oldest() uint64 { return a.evictable.Front().Value.(*Slot).seq }

// Slot is one admitted connection.
type Slot struct {
	l     *Limiter
	addr  netip.Addr
	close func()
	// In the address's list while evictable; nil otherwise. Guarded by
	// l.mu, as is gone.
	el   *list.Element
	gone bool   // released or evicted
	seq  uint64 // the order of admission
}

// Stats are a Limiter's counters.
type Stats struct {
	// Conns is the number of connections held now.
	Conns int
	// Refused counts the connections refused for a bound that no
	// evictable connection could make room in.
	Refused uint64
	// Evicted counts the connections closed to make room for another.
	Evicted uint64
}

// Stats returns the counters.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	n := l.total
	l.mu.Unlock()
	return Stats{Conns: n, Refused: l.refused.Load(), Evicted: l.evicted.Load()}
}

// Admit takes a slot for a new connection from addr, whose close function
// ends it if it has to make room for another; the connection starts
// evictable. When addr holds MaxPerAddr connections its own longest
// evictable one is closed, and when the server holds Max, the longest
// evictable one of the address that holds the most evictable ones; if
// there is none, Admit returns nil and the caller closes the new
// connection. close is called without locks
// held, before Admit returns; it must not block.
func (l *Limiter) Admit(addr netip.Addr, close func()) *Slot {
	addr = addr.Unmap()
	var victims []*Slot
	defer func() {
		for _, v := range victims {
			v.close()
		}
	}()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.addrs == nil {
		l.addrs = make(map[netip.Addr]*addrSlot)
	}
	if a := l.addrs[addr]; a != nil && l.MaxPerAddr > 0 && a.n >= l.MaxPerAddr {
		f := a.evictable.Front()
		if f == nil {
			l.refused.Add(1)
			return nil
		}
		victims = append(victims, l.evict(f.Value.(*Slot)))
	}
	if l.Max > 0 && l.total >= l.Max {
		// The address holding the most evictable connections gives
		// one up: an attacker's churn then evicts its own connections,
		// not the one a client just opened to authenticate.
		var most *addrSlot
		for _, o := range l.addrs {
			if most == nil || o.evictable.Len() > most.evictable.Len() ||
				o.evictable.Len() == most.evictable.Len() && o.evictable.Len() > 0 && o.oldest() < most.oldest() {
				most = o
			}
		}
		if most == nil || most.evictable.Len() == 0 {
			l.refused.Add(1)
			return nil
		}
		victims = append(victims, l.evict(most.evictable.Front().Value.(*Slot)))
	}
	a := l.addrs[addr] // after the evictions, which may have dropped it
	if a == nil {
		a = &addrSlot{}
		l.addrs[addr] = a
	}
	l.seq++
	s := &Slot{l: l, addr: addr, close: close, seq: l.seq}
	l.total++
	a.n++
	s.el = a.evictable.PushBack(s)
	return s
}

// evict removes s from the counts; the caller closes it. Called with mu
// held.
func (l *Limiter) evict(s *Slot) *Slot {
	l.evicted.Add(1)
	l.remove(s)
	return s
}

// remove takes s out of the counts and lists. Called with mu held.
func (l *Limiter) remove(s *Slot) {
	if s.gone {
		return
	}
	s.gone = true
	a := l.addrs[s.addr]
	if s.el != nil {
		a.evictable.Remove(s.el)
		s.el = nil
	}
	l.total--
	a.n--
	l.dropIfEmpty(s.addr, a)
}

func (l *Limiter) dropIfEmpty(addr netip.Addr, a *addrSlot) {
	if a.n == 0 {
		delete(l.addrs, addr)
	}
}

// SetEvictable says whether the connection may be closed to make room for
// another: false once it authenticated or while it serves a request, true
// while it waits. A connection that becomes evictable again goes to the
// end of the line.
func (s *Slot) SetEvictable(v bool) {
	if s == nil {
		return
	}
	l := s.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.gone || v == (s.el != nil) {
		return
	}
	a := l.addrs[s.addr]
	if v {
		s.el = a.evictable.PushBack(s)
		return
	}
	a.evictable.Remove(s.el)
	s.el = nil
}

// Release gives the slot back when the connection ends. Calling it again,
// or after the slot was evicted, does nothing.
func (s *Slot) Release() {
	if s == nil {
		return
	}
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	s.l.remove(s)
}

// Listener admits the connections of an HTTP server through a Limiter:
// Accept closes a connection that the Limiter refuses and waits for the
// next. Set the server's ConnState to ConnState, so that connections
// serving a request are not evicted.
type Listener struct {
	net.Listener
	Limiter *Limiter
}

// Accept returns the next admitted connection.
func (ln *Listener) Accept() (net.Conn, error) {
	for {
		nc, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		c := &Conn{Conn: nc}
		ap, _ := netip.ParseAddrPort(nc.RemoteAddr().String())
		c.slot = ln.Limiter.Admit(ap.Addr(), c.evict)
		if c.slot == nil {
			_ = nc.Close()
			continue
		}
		return c, nil
	}
}

// Conn is a connection admitted by a Listener; closing it gives its slot
// back.
type Conn struct {
	net.Conn
	slot *Slot
}

// evict ends the connection to make room for another: the server's
// pending Read or Write fails, and its goroutine ends the connection.
func (c *Conn) evict() {
	_ = c.Conn.Close()
}

// NetConn returns the connection it wraps, as tls.Conn's does: code that
// needs the socket itself (stream's direct delivery) looks through it.
func (c *Conn) NetConn() net.Conn { return c.Conn }

// Close closes the connection and releases its slot.
func (c *Conn) Close() error {
	c.slot.Release()
	return c.Conn.Close()
}

// ConnState is an http.Server's ConnState for connections of a Listener:
// a connection is evictable while it has not sent a request yet or waits
// idle between requests, and not while it serves one (a stream).
func ConnState(nc net.Conn, st http.ConnState) {
	c, ok := nc.(*Conn)
	if !ok {
		return
	}
	switch st {
	case http.StateNew, http.StateIdle:
		c.slot.SetEvictable(true)
	case http.StateActive:
		c.slot.SetEvictable(false)
	case http.StateHijacked, http.StateClosed:
		c.slot.Release()
	}
}
