//go:build linux

package bridge

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/onvif"
	"github.com/chinesium/chinesium/onvif/discovery"
)

// bridgeHelperEnv makes TestBridgeHelperProcess run a bridge with one fake camera
// inside the server namespace of TestDiscoveryInNamespaces.
const bridgeHelperEnv = "CHINESIUM_BRIDGE_NETNS_HELPER"

// TestBridgeHelperProcess is not a test: run with bridgeHelperEnv set, it runs a fake
// camera on the namespace's loopback and a bridge with WS-Discovery on every
// interface, driven by stdin lines "stop" (camera off), "start" (camera on),
// "add" (a second camera added to the configuration, then Apply), "remove"
// (the second camera removed again) and "quit". It prints "ready <http
// port>", "added <endpoint>" and "ok" after each command.
func TestBridgeHelperProcess(t *testing.T) {
	if os.Getenv(bridgeHelperEnv) == "" {
		t.Skip("helper process for TestDiscoveryInNamespaces")
	}
	camIP := netip.MustParseAddr("127.0.6.70")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	startCam := func() func() {
		_, stop := runFakeCam(t, fakecam.Config{IP: camIP, Name: "NETNS-CAM", FPS: 10})
		return stop
	}
	stopCam := startCam()
	cfg := Config{
		RTSPPort: AnyPort, AdminPort: AnyPort, Users: []onvif.User{{Name: "admin", Password: "secret", Level: onvif.LevelAdministrator}}, StateDir: t.TempDir(),
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Cameras:   []CameraConfig{{IP: camIP, HTTPPort: AnyPort, Name: "netns-cam"}},
		Discovery: &discovery.Config{MaxDelay: 50 * time.Millisecond, RatePerSource: 100},
		Session: func(c *camsession.Config) {
			c.LocalPort = -1
			c.PortTimeout = 200 * time.Millisecond
			c.MaxBackoff = 500 * time.Millisecond
			c.MediaTimeout = time.Second
		},
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("ready %d\n", b.Cameras()[0].HTTPPort())
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "stop":
			stopCam()
		case "start":
			stopCam = startCam()
		case "add":
			_, stop2 := runFakeCam(t, fakecam.Config{IP: netip.MustParseAddr("127.0.21.71"), FPS: 10})
			defer stop2()
			next := cfg
			next.Cameras = append(slices.Clone(cfg.Cameras), CameraConfig{IP: netip.MustParseAddr("127.0.21.71"), HTTPPort: AnyPort})
			if _, err := b.Apply(next); err != nil {
				t.Fatal(err)
			}
			fmt.Printf("added %s\n", b.Cameras()[1].Device.EndpointReference())
		case "remove":
			if _, err := b.Apply(cfg); err != nil {
				t.Fatal(err)
			}
		case "quit":
			if err := b.Close(); err != nil {
				t.Error(err)
			}
			stopCam()
			fmt.Println("ok")
			return
		}
		fmt.Println("ok")
	}
}

// collectDiscovery reads WS-Discovery datagrams until want have arrived (waiting up
// to 5 s for them) and then until quiet passes without another.
func collectDiscovery(t *testing.T, c *net.UDPConn, want int, quiet time.Duration) []*discovery.Message {
	t.Helper()
	var out []*discovery.Message
	buf := make([]byte, 1<<16)
	for {
		wait := quiet
		if len(out) < want {
			wait = 5 * time.Second
		}
		_ = c.SetReadDeadline(time.Now().Add(wait))
		n, err := c.Read(buf)
		if err != nil {
			return out
		}
		m, err := discovery.Parse(buf[:n])
		if err != nil {
			t.Errorf("unparseable datagram: %v\n%s", err, buf[:n])
			continue
		}
		out = append(out, m)
	}
}

// waitAnnouncement waits for a Hello or Bye of endpoint on the listener.
func waitAnnouncement(t *testing.T, c *net.UDPConn, a discovery.Action, endpoint string, within time.Duration) discovery.Match {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		for _, m := range collectDiscovery(t, c, 0, 300*time.Millisecond) {
			if m.Action == a && len(m.Matches) == 1 && (endpoint == "" || m.Matches[0].Address == endpoint) {
				return m.Matches[0]
			}
		}
	}
	t.Fatalf("no %s for %q within %v", a, endpoint, within)
	return discovery.Match{}
}

// TestDiscoveryInNamespaces runs the bridge (with a fake camera) in its own network
// namespace and discovers it from a client namespace over a veth link: Hello when it
// starts, one ProbeMatch per probe style with the XAddr of the link's address, which
// answers GetDeviceInformation; the npm onvif client finds it; Bye when the camera
// stops, Hello when it is back, Bye when the bridge stops.
func TestDiscoveryInNamespaces(t *testing.T) {
	id := testutil.NetNSID()
	srv, cli := testutil.NewNetNS(t, "chb-"+id+"-s"), testutil.NewNetNS(t, "chb-"+id+"-c")
	srv.IP(t, "link", "add", "s0", "type", "veth", "peer", "name", "c0", "netns", string(cli))
	srv.IP(t, "addr", "add", "10.77.0.1/24", "dev", "s0")
	srv.IP(t, "link", "set", "s0", "up")
	cli.IP(t, "addr", "add", "10.77.0.2/24", "dev", "c0")
	cli.IP(t, "link", "set", "c0", "up")
	cli.IP(t, "route", "add", "224.0.0.0/4", "dev", "c0")

	// Client sockets: a listener on the discovery port joined to the group, a probe
	// socket, and an HTTP client whose connections start in the client namespace.
	group := discovery.DefaultGroup
	listen := cli.ListenGroup(t, "c0", group)
	var probe *net.UDPConn
	if err := cli.Do(func() error {
		p, err := net.ListenPacket("udp4", "10.77.0.2:0")
		if err == nil {
			probe = p.(*net.UDPConn)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { probe.Close() })
	httpc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			err := cli.Do(func() (err error) {
				c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
				return err
			})
			return c, err
		},
	}}

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", string(srv), exe, "-test.run=^TestBridgeHelperProcess$", "-test.v")
	cmd.Env = append(os.Environ(), bridgeHelperEnv+"=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = testutil.LogWriter{T: t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	out := bufio.NewScanner(stdout)
	expect := func(prefix string) string {
		t.Helper()
		for out.Scan() {
			if line := out.Text(); strings.HasPrefix(line, prefix) {
				return line
			}
		}
		t.Fatalf("helper ended before %q", prefix)
		return ""
	}
	do := func(c string) { t.Helper(); fmt.Fprintln(stdin, c); expect("ok") }
	port, _ := strconv.Atoi(strings.TrimPrefix(expect("ready "), "ready "))
	wantXAddr := fmt.Sprintf("http://10.77.0.1:%d/onvif/device_service", port)

	// Hello when the bridge starts.
	hello := waitAnnouncement(t, listen, discovery.ActionHello, "", 5*time.Second)
	endpoint := hello.Address
	if len(hello.XAddrs) != 1 || hello.XAddrs[0] != wantXAddr {
		t.Errorf("Hello XAddrs %q, want %q", hello.XAddrs, wantXAddr)
	}

	for _, style := range []string{"odm.xml", "usego.xml", "tds.xml", "empty.xml", "scope-ha.xml"} {
		b, err := os.ReadFile(filepath.Join("..", "onvif", "discovery", "testdata", "probes", style))
		if err != nil {
			t.Fatal(err)
		}
		req, _ := discovery.Parse(b)
		if _, err := probe.WriteTo(b, net.UDPAddrFromAddrPort(group)); err != nil {
			t.Fatal(err)
		}
		got := collectDiscovery(t, probe, 1, 300*time.Millisecond)
		if len(got) != 1 || got[0].Action != discovery.ActionProbeMatches || got[0].RelatesTo != req.MessageID {
			t.Fatalf("%s: %d answers %+v, want one ProbeMatches", style, len(got), got)
		}
		m := got[0].Matches[0]
		if m.Address != endpoint || len(m.XAddrs) != 1 || m.XAddrs[0] != wantXAddr {
			t.Errorf("%s: ProbeMatch %+v", style, m)
		}
	}

	// The XAddr answers GetDeviceInformation from the client namespace.
	if status, _ := soapRequestWith(t, httpc, wantXAddr, "", "", `<tds:GetDeviceInformation/>`); status != http.StatusUnauthorized {
		t.Errorf("GetDeviceInformation without credentials: HTTP %d, want 401", status)
	}
	status, info := soapRequestWith(t, httpc, wantXAddr, "admin", "secret", `<tds:GetDeviceInformation/>`)
	if status != http.StatusOK || elementText(info, "Manufacturer") == "" || elementText(info, "SerialNumber") == "" {
		t.Errorf("GetDeviceInformation: HTTP %d\n%s", status, info)
	}

	// A real third-party client: npm onvif's Discovery.probe.
	if node, err := onvifNPM(); err == nil {
		cmd := exec.Command("ip", "netns", "exec", string(cli), node, "discovery_probe.js", "1500")
		cmd.Dir = e2eDir
		b, runErr := cmd.Output()
		if runErr != nil {
			t.Fatalf("node discovery_probe.js: %v", runErr)
		}
		var found []struct {
			URN, Hostname, Path string
			Port                int
			XAddrs              []string
		}
		if jerr := json.Unmarshal(b, &found); jerr != nil {
			t.Fatalf("%v: %s", jerr, b)
		}
		if len(found) != 1 || found[0].URN != endpoint || found[0].Hostname != "10.77.0.1" || found[0].Port != port || found[0].Path != "/onvif/device_service" {
			t.Errorf("npm onvif found %+v", found)
		}
	} else if testutil.InCI() {
		t.Fatalf("required in CI: %v", err)
	} else {
		t.Logf("third-party probe skipped: %v", err)
	}

	// The camera stops: Bye, and probes get no answer; it returns: Hello.
	collectDiscovery(t, listen, 0, 100*time.Millisecond)
	do("stop")
	waitAnnouncement(t, listen, discovery.ActionBye, endpoint, 10*time.Second)
	b, _ := os.ReadFile(filepath.Join("..", "onvif", "discovery", "testdata", "probes", "odm.xml"))
	b = []byte(strings.Replace(string(b), "uuid:5f1bb4c5", "uuid:0ff11e00", 1)) // a new MessageID
	_, _ = probe.WriteTo(b, net.UDPAddrFromAddrPort(group))
	if got := collectDiscovery(t, probe, 0, 700*time.Millisecond); len(got) != 0 {
		t.Errorf("offline camera answered a probe: %+v", got)
	}
	do("start")
	if m := waitAnnouncement(t, listen, discovery.ActionHello, endpoint, 15*time.Second); len(m.XAddrs) != 1 || m.XAddrs[0] != wantXAddr {
		t.Errorf("Hello after the camera came back: %+v", m)
	}
	// A camera added by a reload: Hello; removed again: Bye. The first
	// camera is not announced again.
	collectDiscovery(t, listen, 0, 100*time.Millisecond)
	fmt.Fprintln(stdin, "add")
	added := strings.TrimPrefix(expect("added "), "added ")
	expect("ok")
	if m := waitAnnouncement(t, listen, discovery.ActionHello, added, 5*time.Second); len(m.XAddrs) != 1 || m.XAddrs[0] == wantXAddr {
		t.Errorf("Hello of the added camera: %+v", m)
	}
	do("remove")
	waitAnnouncement(t, listen, discovery.ActionBye, added, 5*time.Second)
	for _, m := range collectDiscovery(t, listen, 0, 300*time.Millisecond) {
		if len(m.Matches) == 1 && m.Matches[0].Address == endpoint && (m.Action == discovery.ActionBye || m.Action == discovery.ActionHello) {
			t.Errorf("the untouched camera was announced again: %s", m.Action)
		}
	}

	// The bridge stops: Bye.
	fmt.Fprintln(stdin, "quit")
	waitAnnouncement(t, listen, discovery.ActionBye, endpoint, 5*time.Second)
}
