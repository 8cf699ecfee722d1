package discovery

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/chinesium/chinesium/internal/testutil"
)

// helperEnv makes the test binary run helperMain instead of the tests: a responder
// process started inside the server network namespace.
const helperEnv = "CHINESIUM_DISCOVERY_HELPER"

// helperMain runs a Responder with test targets, driven by lines on stdin:
// "add NAME PORT", "remove NAME", "hide NAME", "stats", "quit". It answers "ok" (or a
// JSON Stats line) after each command and "ready" once running.
func helperMain() int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	delay, _ := time.ParseDuration(os.Getenv(helperEnv + "_DELAY"))
	if delay == 0 {
		delay = -1
	}
	r, err := New(Config{MaxDelay: delay, Logger: log, RatePerSource: 1000, Rescan: 200 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	targets := map[string]*testTarget{}
	fmt.Println("ready")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "add":
			port, _ := strconv.Atoi(f[2])
			tg := newTestTarget(f[1], port)
			targets[f[1]] = tg
			r.Add(tg)
		case "remove":
			r.Remove(targets[f[1]])
		case "hide":
			targets[f[1]].setDiscoverable(false)
			r.Bye(targets[f[1]])
		case "stats":
			b, _ := json.Marshal(r.Stats())
			fmt.Println(string(b))
			continue
		case "quit":
			cancel()
			if err := <-done; err != nil {
				fmt.Fprintln(os.Stderr, "helper: run:", err)
				return 1
			}
			fmt.Println("ok")
			return 0
		}
		fmt.Println("ok")
	}
	cancel()
	<-done
	return 0
}

// topology is a server namespace with two veth links, each to its own client namespace:
//
//	client1 c0 10.77.0.2/24 <-> s0 10.77.0.1/24 server s1 10.78.0.1/24 <-> c0 10.78.0.2/24 client2
type topology struct {
	srv, c1, c2 testutil.NetNS
}

var (
	srvIP1 = netip.MustParseAddr("10.77.0.1")
	srvIP2 = netip.MustParseAddr("10.78.0.1")
)

func newTopology(t *testing.T) *topology {
	t.Helper()
	id := testutil.NetNSID()
	tp := &topology{
		srv: testutil.NewNetNS(t, "chd-"+id+"-s"),
		c1:  testutil.NewNetNS(t, "chd-"+id+"-c1"),
		c2:  testutil.NewNetNS(t, "chd-"+id+"-c2"),
	}
	tp.srv.IP(t, "link", "add", "s0", "type", "veth", "peer", "name", "c0", "netns", string(tp.c1))
	tp.srv.IP(t, "link", "add", "s1", "type", "veth", "peer", "name", "c0", "netns", string(tp.c2))
	tp.srv.IP(t, "addr", "add", "10.77.0.1/24", "dev", "s0")
	tp.srv.IP(t, "addr", "add", "10.78.0.1/24", "dev", "s1")
	tp.srv.IP(t, "link", "set", "s0", "up")
	tp.srv.IP(t, "link", "set", "s1", "up")
	for _, c := range []struct {
		ns   testutil.NetNS
		addr string
	}{{tp.c1, "10.77.0.2/24"}, {tp.c2, "10.78.0.2/24"}} {
		c.ns.IP(t, "addr", "add", c.addr, "dev", "c0")
		c.ns.IP(t, "link", "set", "c0", "up")
		c.ns.IP(t, "route", "add", "224.0.0.0/4", "dev", "c0")
	}
	return tp
}

// nsClient is a client inside a client namespace: a probe socket on an ephemeral port
// and a listener on the discovery port joined to the group (for Hello and Bye).
type nsClient struct {
	probe  *client
	listen *client
}

func (tp *topology) client(t *testing.T, ns testutil.NetNS) *nsClient {
	t.Helper()
	var nc nsClient
	if err := ns.Do(func() error {
		ifi, err := net.InterfaceByName("c0")
		if err != nil {
			return err
		}
		pc, err := net.ListenPacket("udp4", "0.0.0.0:0")
		if err != nil {
			return err
		}
		if err := ipv4.NewPacketConn(pc).SetMulticastInterface(ifi); err != nil {
			pc.Close()
			return err
		}
		nc.probe = &client{t: t, conn: pc.(*net.UDPConn)}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.probe.conn.Close() })
	nc.listen = &client{t: t, conn: ns.ListenGroup(t, "c0", DefaultGroup)}
	return &nc
}

// helper is the responder process inside the server namespace.
type helper struct {
	t   *testing.T
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func (tp *topology) startHelper(t *testing.T, delay time.Duration, initial ...string) *helper {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", string(tp.srv), exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1", helperEnv+"_DELAY="+delay.String())
	cmd.Stderr = &testWriter{t: t}
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helper{t: t, cmd: cmd, in: in, out: bufio.NewScanner(out)}
	t.Cleanup(func() {
		in.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper: %v", err)
		}
	})
	h.expect("ready")
	for _, c := range initial {
		h.do(c)
	}
	return h
}

func (h *helper) expect(want string) string {
	h.t.Helper()
	if !h.out.Scan() {
		h.t.Fatalf("helper exited (want %q): %v", want, h.out.Err())
	}
	if got := h.out.Text(); want != "" && got != want {
		h.t.Fatalf("helper said %q, want %q", got, want)
	}
	return h.out.Text()
}

func (h *helper) do(cmd string) {
	h.t.Helper()
	fmt.Fprintln(h.in, cmd)
	h.expect("ok")
}

func (h *helper) stats() Stats {
	h.t.Helper()
	fmt.Fprintln(h.in, "stats")
	var st Stats
	if err := json.Unmarshal([]byte(h.expect("")), &st); err != nil {
		h.t.Fatal(err)
	}
	return st
}

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(b []byte) (int, error) {
	w.t.Logf("helper: %s", strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// announcements returns the Hello/Bye messages a listener got, keyed "Action address".
func announcements(got []received) map[string]Match {
	out := map[string]Match{}
	for _, g := range got {
		if g.msg.Action == ActionHello || g.msg.Action == ActionBye {
			out[string(g.msg.Action)+" "+g.msg.Matches[0].Address] = g.msg.Matches[0]
		}
	}
	return out
}

// TestNamespaces runs the responder in its own network namespace with two interfaces
// and probes it from two client namespaces over real multicast.
func TestNamespaces(t *testing.T) {
	tp := newTopology(t)
	cl1, cl2 := tp.client(t, tp.c1), tp.client(t, tp.c2)
	camA, camB := newTestTarget("cam-a", 8001), newTestTarget("cam-b", 8002)
	h := tp.startHelper(t, 50*time.Millisecond, "add cam-a 8001")

	// Hello for cam-a on each link, advertising that link's address.
	for _, c := range []struct {
		cl *nsClient
		ip netip.Addr
	}{{cl1, srvIP1}, {cl2, srvIP2}} {
		got := c.cl.listen.collect(2, 500*time.Millisecond)
		// Each Hello is sent twice (SOAP-over-UDP repeat), as the same message.
		if len(got) != 2 || got[0].msg.MessageID != got[1].msg.MessageID || got[0].msg.MessageNumber != got[1].msg.MessageNumber {
			t.Errorf("Hello datagrams on %v: %d, want the message and its repeat", c.ip, len(got))
		}
		ann := announcements(got)
		hello, ok := ann["Hello "+camA.addr()]
		if !ok || len(ann) != 1 {
			t.Fatalf("announcements on %v: %v", c.ip, ann)
		}
		if want := fmt.Sprintf("http://%s:8001/onvif/device_service", c.ip); len(hello.XAddrs) != 1 || hello.XAddrs[0] != want {
			t.Errorf("Hello XAddrs %q, want %q", hello.XAddrs, want)
		}
	}
	h.do("add cam-b 8002")
	if ann := announcements(cl1.listen.collect(1, 500*time.Millisecond)); len(ann) != 1 || ann["Hello "+camB.addr()].MetadataVersion != 1 {
		t.Errorf("after add cam-b: %v", ann)
	}
	cl2.listen.collect(1, 100*time.Millisecond)

	group := netip.AddrPortFrom(DefaultGroup.Addr(), DefaultGroup.Port())
	for _, ps := range probeStyles {
		for _, c := range []struct {
			cl *nsClient
			ip netip.Addr
		}{{cl1, srvIP1}, {cl2, srvIP2}} {
			probe := readProbe(t, ps.file)
			req, _ := Parse(probe)
			c.cl.probe.send(probe, group)
			want := 0
			if ps.answer {
				want = 2
			}
			got := c.cl.probe.collect(want, 300*time.Millisecond)
			if len(got) != want {
				t.Fatalf("%s via %v: %d answers, want %d", ps.file, c.ip, len(got), want)
			}
			seen := map[string]int{}
			for _, g := range got {
				m := g.msg
				if m.Action != ActionProbeMatches || len(m.Matches) != 1 || m.RelatesTo != req.MessageID {
					t.Fatalf("%s: answer %+v", ps.file, m)
				}
				if g.from.Addr() != c.ip || g.from.Port() != 3702 {
					t.Errorf("%s: answer from %v, want %v:3702", ps.file, g.from, c.ip)
				}
				mt := m.Matches[0]
				seen[mt.Address]++
				if len(mt.XAddrs) != 1 || !strings.HasPrefix(mt.XAddrs[0], "http://"+c.ip.String()+":") {
					t.Errorf("%s via %v: XAddrs %q", ps.file, c.ip, mt.XAddrs)
				}
			}
			if ps.answer && (seen[camA.addr()] != 1 || seen[camB.addr()] != 1) {
				t.Errorf("%s via %v: matches %v", ps.file, c.ip, seen)
			}
		}
	}

	// The address of the second link changes: a Hello there with the new XAddr.
	tp.srv.IP(t, "addr", "flush", "dev", "s1")
	tp.srv.IP(t, "addr", "add", "10.78.0.5/24", "dev", "s1")
	ann := announcements(cl2.listen.collect(2, 300*time.Millisecond))
	for _, tg := range []*testTarget{camA, camB} {
		if h, ok := ann["Hello "+tg.addr()]; !ok || len(h.XAddrs) != 1 || !strings.HasPrefix(h.XAddrs[0], "http://10.78.0.5:") {
			t.Errorf("after the address change: %v", ann)
		}
	}
	if ann := announcements(cl1.listen.collect(0, 100*time.Millisecond)); len(ann) != 0 {
		t.Errorf("unchanged link re-announced: %v", ann)
	}

	// A camera going offline says Bye; hidden (NonDiscoverable) ones say Bye and then stay silent.
	h.do("remove cam-a")
	if ann := announcements(cl1.listen.collect(1, 300*time.Millisecond)); len(ann) != 1 || !hasKey(ann, "Bye "+camA.addr()) {
		t.Errorf("after remove cam-a: %v", ann)
	}
	h.do("hide cam-b")
	if ann := announcements(cl1.listen.collect(1, 300*time.Millisecond)); len(ann) != 1 || !hasKey(ann, "Bye "+camB.addr()) {
		t.Errorf("after hide cam-b: %v", ann)
	}
	cl1.probe.send(freshProbe(t, "odm.xml"), group)
	if got := cl1.probe.collect(0, 700*time.Millisecond); len(got) != 0 {
		t.Errorf("answers with no discoverable target: %d", len(got))
	}
	h.do("add cam-c 8003")
	cl2.listen.collect(1, 300*time.Millisecond)
	if st := h.stats(); st.Probes == 0 || st.Answers == 0 || st.Malformed != 0 {
		t.Errorf("stats %+v", st)
	}
	// Stopping the responder says Bye for the cameras it still serves.
	h.do("quit")
	camC := newTestTarget("cam-c", 8003)
	if ann := announcements(cl2.listen.collect(1, 300*time.Millisecond)); len(ann) != 1 || !hasKey(ann, "Bye "+camC.addr()) {
		t.Errorf("after quit: %v", ann)
	}
}

func hasKey(m map[string]Match, k string) bool { _, ok := m[k]; return ok }

// TestOnlyLoopbackSaysWhy: in a namespace with only lo (a container
// without a network, a host before its network is up) the responder runs
// and logs that it waits for an interface, saying what an interface needs
// (it used to log "%!w(<nil>)" there).
func TestOnlyLoopbackSaysWhy(t *testing.T) {
	ns := testutil.NewNetNS(t, "chd-"+testutil.NetNSID()+"-lo")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", string(ns), exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		in.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper: %v", err)
		}
	}()
	go func() { _, _ = io.Copy(io.Discard, out) }()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("helper ended without saying why WS-Discovery waits")
			}
			t.Logf("helper: %s", line)
			if !strings.Contains(line, "no multicast interface yet") {
				continue
			}
			if strings.Contains(line, "%!") || !strings.Contains(line, "no usable multicast interface: no interface other than loopback is up with multicast and an IPv4 address") {
				t.Fatalf("log line does not say why: %s", line)
			}
			go func() {
				for range lines { // let the helper finish writing
				}
			}()
			return
		case <-deadline:
			t.Fatal("no line about the missing interface in 20 s")
		}
	}
}

// TestNoInterfaceError: the error names what failed or what is missing.
func TestNoInterfaceError(t *testing.T) {
	for _, tc := range []struct {
		names []string
		errs  []error
		want  string
	}{
		{nil, nil, "no usable multicast interface: no interface other than loopback is up with multicast and an IPv4 address"},
		{[]string{"eth0", "wlan0"}, nil, "none of the configured interfaces (eth0, wlan0) exists with an IPv4 address"},
		{nil, []error{errors.New("join eth0: operation not permitted")}, "no usable multicast interface: join eth0: operation not permitted"},
	} {
		err := noInterfaceError(tc.names, tc.errs)
		if !errors.Is(err, ErrNoInterface) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "%!") {
			t.Errorf("noInterfaceError(%v, %v) = %v, want %q", tc.names, tc.errs, err, tc.want)
		}
	}
}
