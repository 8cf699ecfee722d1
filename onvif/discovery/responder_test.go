package discovery

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// client is a test-side UDP socket that sends requests and collects answers.
type client struct {
	t    testing.TB
	conn *net.UDPConn
}

func newClient(t testing.TB, laddr string) *client {
	t.Helper()
	c, err := net.ListenPacket("udp4", laddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, conn: c.(*net.UDPConn)}
}

func (c *client) send(b []byte, to netip.AddrPort) {
	c.t.Helper()
	if _, err := c.conn.WriteToUDPAddrPort(b, to); err != nil {
		c.t.Fatal(err)
	}
}

type received struct {
	msg  *Message
	from netip.AddrPort
	size int
}

// collect reads datagrams until want have arrived (waiting up to 5 s for them, so a
// loaded machine does not fail the test) and then until quiet passes without another.
func (c *client) collect(want int, quiet time.Duration) []received {
	var out []received
	buf := make([]byte, 65536)
	for {
		wait := quiet
		if len(out) < want {
			wait = 5 * time.Second
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(wait))
		n, from, err := c.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return out
			}
			c.t.Fatal(err)
		}
		m, err := Parse(buf[:n])
		if err != nil {
			c.t.Errorf("unparseable answer from %v: %v\n%s", from, err, buf[:n])
			continue
		}
		out = append(out, received{m, netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), n})
	}
}

// freshProbe returns a probe file with a new MessageID, for sending it again.
func freshProbe(t testing.TB, name string) []byte {
	t.Helper()
	b := readProbe(t, name)
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Replace(b, []byte(">"+m.MessageID+"<"), []byte(">urn:uuid:"+uuid.NewString()+"<"), 1)
}

func startResponder(t *testing.T, cfg Config, targets ...Target) *Responder {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		r.Add(tg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return r
}

// TestUnicastProbe drives the responder over loopback with directed (unicast) probes.
func TestUnicastProbe(t *testing.T) {
	a, b, hidden := newTestTarget("cam-a", 8001), newTestTarget("cam-b", 8002), newTestTarget("cam-hidden", 8003)
	hidden.setDiscoverable(false)
	srv := netip.MustParseAddr("127.0.6.1")
	r := startResponder(t, Config{Listen: srv, Group: netip.AddrPortFrom(DefaultGroup.Addr(), 0), UnicastOnly: true, MaxDelay: -1, RatePerSource: 1000}, a, b, hidden)
	to := netip.AddrPortFrom(srv, uint16(r.LocalPort()))
	cl := newClient(t, "127.0.6.2:0")

	var lastNum uint64
	for _, ps := range probeStyles {
		probe := readProbe(t, ps.file)
		req, _ := Parse(probe)
		cl.send(probe, to)
		want := 0
		if ps.answer {
			want = 2
		}
		got := cl.collect(want, 300*time.Millisecond)
		if !ps.answer {
			if len(got) != 0 {
				t.Errorf("%s: %d answers, want none", ps.file, len(got))
			}
			continue
		}
		if len(got) != 2 {
			t.Fatalf("%s: %d answers, want one per discoverable target", ps.file, len(got))
		}
		seen := map[string]bool{}
		for _, g := range got {
			m := g.msg
			if m.Action != ActionProbeMatches || len(m.Matches) != 1 {
				t.Fatalf("%s: answer %+v", ps.file, m)
			}
			if m.RelatesTo != req.MessageID {
				t.Errorf("%s: RelatesTo %q, want %q", ps.file, m.RelatesTo, req.MessageID)
			}
			if g.from.Addr() != srv {
				t.Errorf("%s: answer from %v, want %v", ps.file, g.from, srv)
			}
			if m.InstanceID != uint64(r.InstanceID()) || m.MessageNumber <= lastNum {
				t.Errorf("%s: AppSequence %d/%d after %d", ps.file, m.InstanceID, m.MessageNumber, lastNum)
			}
			lastNum = m.MessageNumber
			mt := m.Matches[0]
			seen[mt.Address] = true
			if len(mt.XAddrs) != 1 || !strings.HasPrefix(mt.XAddrs[0], "http://127.0.6.1:800") {
				t.Errorf("%s: XAddrs %q", ps.file, mt.XAddrs)
			}
			if mt.MetadataVersion != 1 || len(mt.Scopes) != 4 {
				t.Errorf("%s: match %+v", ps.file, mt)
			}
		}
		if !seen[a.addr()] || !seen[b.addr()] {
			t.Errorf("%s: answered %v", ps.file, seen)
		}
	}

	// A retransmission (same MessageID from the same source) is not answered again.
	retrans := freshProbe(t, "tds.xml")
	cl.send(retrans, to)
	cl.send(retrans, to)
	if got := cl.collect(2, 300*time.Millisecond); len(got) != 2 {
		t.Errorf("retransmitted probe: %d answers, want 2 (one per target)", len(got))
	}
	if st := r.Stats(); st.Duplicates != 1 {
		t.Errorf("duplicates counted %d, want 1", st.Duplicates)
	}

	// Resolve: only the named, discoverable target answers.
	res := readProbe(t, "resolve.xml")
	cl.send(bytes.Replace(res, []byte("ENDPOINT"), []byte(b.addr()), 1), to)
	got := cl.collect(1, 300*time.Millisecond)
	if len(got) != 1 || got[0].msg.Action != ActionResolveMatches || got[0].msg.Matches[0].Address != b.addr() ||
		len(got[0].msg.Matches[0].XAddrs) != 1 {
		t.Errorf("resolve answers %+v", got)
	}
	cl.send(bytes.Replace(res, []byte("ENDPOINT"), []byte(hidden.addr()), 1), to)
	if got := cl.collect(0, 300*time.Millisecond); len(got) != 0 {
		t.Errorf("non-discoverable target answered Resolve: %+v", got)
	}

	// Hostile input: ignored and counted, never answered.
	before := r.Stats().Malformed
	for _, junk := range []string{"", "garbage", "<x/>", strings.Repeat("<a>", 5000), `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>`} {
		cl.send([]byte(junk), to)
	}
	if got := cl.collect(0, 300*time.Millisecond); len(got) != 0 {
		t.Errorf("junk answered: %+v", got)
	}
	if n := r.Stats().Malformed - before; n != 5 {
		t.Errorf("malformed counted %d, want 5", n)
	}

	// Removing a target stops its answers.
	r.Remove(a)
	cl.send(freshProbe(t, "odm.xml"), to)
	if got := cl.collect(1, 300*time.Millisecond); len(got) != 1 || got[0].msg.Matches[0].Address != b.addr() {
		t.Errorf("after Remove: %+v", got)
	}
}

// TestRateLimitAndSizeBound checks the anti-amplification limits.
func TestRateLimitAndSizeBound(t *testing.T) {
	a := newTestTarget("cam-a", 8001)
	big := newTestTarget("cam-big", 8002)
	for i := range 300 {
		big.scopes = append(big.scopes, "onvif://www.onvif.org/location/"+strings.Repeat("x", 20)+string(rune('a'+i%26)))
	}
	srv := netip.MustParseAddr("127.0.6.1")
	r := startResponder(t, Config{Listen: srv, Group: netip.AddrPortFrom(DefaultGroup.Addr(), 0), UnicastOnly: true, MaxDelay: -1, RatePerSource: 5}, a, big)
	to := netip.AddrPortFrom(srv, uint16(r.LocalPort()))
	cl := newClient(t, "127.0.6.3:0")
	for range 40 {
		cl.send(freshProbe(t, "empty.xml"), to)
	}
	got := cl.collect(10, 300*time.Millisecond)
	// Burst is twice the rate: 10 probes answered, one datagram each (the big target's
	// answer exceeds MaxAnswerSize and is never sent).
	if len(got) != 10 {
		t.Errorf("%d answers to 40 probes at rate 5/s, want the burst of 10", len(got))
	}
	for _, g := range got {
		if g.msg.Matches[0].Address != a.addr() || g.size > 8192 {
			t.Errorf("answer %d bytes for %s", g.size, g.msg.Matches[0].Address)
		}
	}
	st := r.Stats()
	if st.RateLimited != 30 || st.Oversize == 0 {
		t.Errorf("stats %+v", st)
	}
	// Another source still gets answers.
	cl2 := newClient(t, "127.0.6.4:0")
	cl2.send(freshProbe(t, "empty.xml"), to)
	if got := cl2.collect(1, 300*time.Millisecond); len(got) != 1 {
		t.Errorf("other source got %d answers", len(got))
	}
}

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain())
	}
	os.Exit(m.Run())
}
