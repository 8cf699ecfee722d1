package soap

import (
	"net"
	"sync"
)

// gate bounds a quantity in use (requests being parsed, bytes buffered) in
// total and per client address. It never queues: what does not fit is
// refused at once. The zero value refuses everything; set max and perClient.
type gate struct {
	max, perClient int64

	mu   sync.Mutex
	used int64
	per  map[string]int64 // client -> in use; absent when 0
}

// acquire takes n for client and reports whether it fitted.
func (g *gate) acquire(client string, n int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.used+n > g.max || g.per[client]+n > g.perClient {
		return false
	}
	if g.per == nil {
		g.per = map[string]int64{}
	}
	g.used += n
	g.per[client] += n
	return true
}

// release gives back n taken by client.
func (g *gate) release(client string, n int64) {
	if n == 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.used -= n
	if g.per[client] -= n; g.per[client] <= 0 {
		delete(g.per, client)
	}
}

// inUse returns the total in use.
func (g *gate) inUse() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.used
}

// clientOf returns the client address (without port) of an
// http.Request.RemoteAddr.
func clientOf(remoteAddr string) string {
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return h
	}
	return remoteAddr
}
