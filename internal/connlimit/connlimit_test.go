package connlimit

import (
	"net/netip"
	"testing"
)

// TestAdmit: a full address makes room by closing its own oldest
// evictable connection; a full server by closing one of the address with
// the most evictable connections; protected connections are never closed,
// and when nothing can be closed the new connection is refused.
func TestAdmit(t *testing.T) {
	l := &Limiter{Max: 4, MaxPerAddr: 3}
	closed := map[string]bool{}
	admit := func(addr, name string) *Slot {
		return l.Admit(netip.MustParseAddr(addr), func() { closed[name] = true })
	}
	legit := admit("10.0.0.1", "legit")
	legit.SetEvictable(false)
	admit("10.0.0.2", "a1")
	admit("10.0.0.2", "a2")
	admit("10.0.0.2", "a3")
	// The address is full: its oldest goes.
	if admit("10.0.0.2", "a4") == nil || !closed["a1"] {
		t.Fatalf("a4 not admitted in a1's place: closed %v", closed)
	}
	// The server is full: the address with the most evictable ones
	// gives one up, not the new client's address.
	newcomer := admit("10.0.0.3", "n1")
	if newcomer == nil || !closed["a2"] || closed["legit"] {
		t.Fatalf("n1 not admitted in a2's place: closed %v", closed)
	}
	if st := l.Stats(); st.Conns != 4 || st.Evicted != 2 {
		t.Errorf("stats %+v", st)
	}
	// Nothing evictable: refused.
	l2 := &Limiter{Max: 1}
	p := l2.Admit(netip.MustParseAddr("10.0.0.1"), func() { t.Error("protected connection closed") })
	p.SetEvictable(false)
	if l2.Admit(netip.MustParseAddr("10.0.0.2"), func() {}) != nil {
		t.Error("admitted beyond Max with nothing evictable")
	}
	p.Release()
	p.Release()
	if s := l2.Admit(netip.MustParseAddr("10.0.0.2"), func() {}); s == nil {
		t.Error("refused after the only connection ended")
	}
	if st := l2.Stats(); st.Conns != 1 || st.Refused != 1 {
		t.Errorf("stats %+v", st)
	}
}
