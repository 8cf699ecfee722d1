package discovery

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/chinesium/chinesium/internal/testutil"
)

// sourceClient is a probe socket bound to src inside ns, sending on c0.
func sourceClient(t *testing.T, ns testutil.NetNS, src string) *client {
	t.Helper()
	var c *client
	if err := ns.Do(func() error {
		pc, err := net.ListenPacket("udp4", src+":0")
		if err != nil {
			return err
		}
		ifi, err := net.InterfaceByName("c0")
		if err == nil {
			err = ipv4.NewPacketConn(pc).SetMulticastInterface(ifi)
		}
		if err != nil {
			pc.Close()
			return err
		}
		c = &client{t: t, conn: pc.(*net.UDPConn)}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.conn.Close() })
	return c
}

// TestOffLinkSourcesNotAnswered: a Probe whose source is not in the
// subnet of the interface it arrived on (routed, or spoofed to aim the
// answers at a third party) gets no answer, multicast or unicast, while a
// source on the link's subnet and a link-local one do. Before, every
// source was answered: the responder reflected each Probe, several times
// larger, to any address a route led to.
func TestOffLinkSourcesNotAnswered(t *testing.T) {
	tp := newTopology(t)
	// The client's link also carries an address of another subnet and a
	// link-local one, which the server can reach (and would answer) over
	// that link.
	tp.c1.IP(t, "addr", "add", "10.79.0.2/24", "dev", "c0")
	tp.c1.IP(t, "addr", "add", "169.254.7.2/16", "dev", "c0")
	tp.srv.IP(t, "route", "add", "10.79.0.0/24", "dev", "s0")
	tp.srv.IP(t, "route", "add", "169.254.0.0/16", "dev", "s0")
	h := tp.startHelper(t, 0, "add cam-a 8001", "add cam-b 8002")
	group := netip.AddrPortFrom(DefaultGroup.Addr(), DefaultGroup.Port())
	unicast := netip.AddrPortFrom(srvIP1, DefaultGroup.Port())

	for _, tc := range []struct {
		src    string
		answer bool
	}{
		{"10.77.0.2", true},
		{"169.254.7.2", true},
		{"10.79.0.2", false},
	} {
		cl := sourceClient(t, tp.c1, tc.src)
		for _, to := range []netip.AddrPort{group, unicast} {
			cl.send(freshProbe(t, "odm.xml"), to)
			want := 0
			if tc.answer {
				want = 2
			}
			if got := cl.collect(want, 300*time.Millisecond); len(got) != want {
				t.Errorf("probe from %s to %v: %d answers, want %d", tc.src, to, len(got), want)
			}
		}
	}
	if st := h.stats(); st.OffLink != 2 {
		t.Errorf("stats %+v, want the 2 off-link probes counted", st)
	}
}

// TestAnswerRateOfAllSources: many sources, each within its own rate,
// together get no more answers than MaxAnswerRate allows (its burst plus
// what refills while they probe). Before, only the rate per source was
// bounded, so a flood from many (spoofed) addresses was answered in full.
func TestAnswerRateOfAllSources(t *testing.T) {
	const rate, sources, probes = 5.0, 8, 5
	srv := netip.MustParseAddr("127.0.25.1")
	r := startResponder(t, Config{Listen: srv, Group: netip.AddrPortFrom(DefaultGroup.Addr(), 0), UnicastOnly: true, MaxDelay: -1, MaxAnswerRate: rate},
		newTestTarget("cam-a", 8001), newTestTarget("cam-b", 8002))
	to := netip.AddrPortFrom(srv, uint16(r.LocalPort()))
	start := time.Now()
	var cls []*client
	for i := range sources {
		cl := newClient(t, fmt.Sprintf("127.0.25.%d:0", 10+i))
		cls = append(cls, cl)
		for range probes {
			cl.send(freshProbe(t, "empty.xml"), to)
		}
	}
	total := 0
	for _, cl := range cls {
		total += len(cl.collect(0, 300*time.Millisecond))
	}
	// Answers are taken from the bucket in pairs (one per camera).
	limit := int(2*rate + rate*time.Since(start).Seconds())
	if total > limit {
		t.Errorf("%d answers to %d probes from %d sources, want at most %d at %v/s", total, sources*probes, sources, limit, rate)
	}
	if total < 2 {
		t.Errorf("no answer at all")
	}
	if st := r.Stats(); st.RateLimited == 0 {
		t.Errorf("stats %+v: nothing counted as rate limited", st)
	}
}
