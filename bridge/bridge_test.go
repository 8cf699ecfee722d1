package bridge

import (
	"context"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/google/uuid"

	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/onvif"
	"github.com/chinesium/chinesium/onvif/discovery"
	"github.com/chinesium/chinesium/rtsp"
)

const getStreamURIBody = `<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport>` +
	`<tt:Protocol>TCP</tt:Protocol></tt:Transport></trt:StreamSetup><trt:ProfileToken>jpeg</trt:ProfileToken></trt:GetStreamUri>`

// TestBridgeServesEachCamera runs two fake cameras through the bridge and
// checks, per camera, what a user checks: the snapshot is that camera's
// latest frame and needs credentials, the media service hands out a
// stream URI built from the address used, and ffprobe reads frames from it.
func TestBridgeServesEachCamera(t *testing.T) {
	t.Parallel()
	startFakeCams(t, "127.0.5.2", "127.0.5.3")
	b := startBridge(t, testConfig(t, t.TempDir(), "127.0.5.2", "127.0.5.3"))
	cams := b.Cameras()
	if len(cams) != 2 {
		t.Fatalf("%d cameras", len(cams))
	}
	if cams[0].Device.UUID == cams[1].Device.UUID || cams[0].Device.MAC.String() == cams[1].Device.MAC.String() ||
		cams[0].Device.Serial == cams[1].Device.Serial || cams[0].HTTPPort() == cams[1].HTTPPort() {
		t.Fatal("two cameras share an identity or a port")
	}
	for i, c := range cams {
		waitFrame(t, c)
		host := bindIP.String()

		// Snapshot: refused without credentials, the camera's own frame with them.
		snap := c.SnapshotURL(host)
		resp, err := http.Get(snap)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("snapshot without credentials: %d", resp.StatusCode)
		}
		req, _ := http.NewRequest(http.MethodGet, snap, nil)
		req.SetBasicAuth("admin", "secret")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		jpg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("snapshot: %d", resp.StatusCode)
		}
		name, seq, ok := fakecam.FrameSeq(jpg)
		if want := []string{"E2E-1", "E2E-2"}[i]; !ok || name != want || seq == 0 {
			t.Errorf("camera %d snapshot is from %q seq %d (ok %v), want %s", i, name, seq, ok, want)
		}

		// Media service: GetStreamUri with WS-Security.
		status, body := soapRequest(t, c.DeviceServiceURL(host), "admin", "secret", getStreamURIBody)
		if status != http.StatusOK {
			t.Fatalf("GetStreamUri: %d %s", status, body)
		}
		uri := elementText(body, "Uri")
		if want := c.RTSPURL(host, "jpeg"); uri != want || !strings.HasPrefix(uri, "rtsp://"+host+":") {
			t.Errorf("stream URI %q, want %q", uri, want)
		}
		status, body = soapRequest(t, c.DeviceServiceURL(host), "admin", "wrong", getStreamURIBody)
		if status == http.StatusOK || !strings.Contains(body, "NotAuthorized") {
			t.Errorf("GetStreamUri with a wrong password: %d %s", status, body)
		}

		// RTSP: frames over each transport GetStreamUri was asked for; for
		// HTTP the same URL, opened through the RTSP-over-HTTP tunnel.
		ffTransport := map[string]string{"TCP": "tcp", "UDP": "udp", "HTTP": "http"}
		for _, proto := range []string{"TCP", "UDP", "HTTP"} {
			_, body := soapRequest(t, c.DeviceServiceURL(host), "admin", "secret",
				strings.Replace(getStreamURIBody, ">TCP<", ">"+proto+"<", 1))
			if got := elementText(body, "Uri"); got != uri {
				t.Errorf("GetStreamUri for %s: %q, want %q", proto, got, uri)
			}
			frames, out := probeRTSPOver(t, withUser(uri, "admin", "secret"), ffTransport[proto])
			if frames < 3 || !strings.Contains(out, "codec_name=mjpeg") || !strings.Contains(out, "width=640") {
				t.Errorf("%s: ffprobe read %d frames:\n%s", proto, frames, out)
			}
		}
	}
	// RTSP without credentials is refused.
	ffprobe := testutil.NeedTool(t, "ffprobe")
	if out, err := exec.Command(ffprobe, "-v", "error", "-rtsp_transport", "tcp", cams[0].RTSPURL(bindIP.String(), "jpeg")).CombinedOutput(); err == nil {
		t.Errorf("RTSP without credentials accepted: %s", out)
	}
}

// TestIdentityAndStateSurviveRestart restarts the bridge on the same state
// directory: the device keeps UUID, serial and MAC, and a profile an ONVIF
// client created is still there.
func TestIdentityAndStateSurviveRestart(t *testing.T) {
	t.Parallel()
	startFakeCams(t, "127.0.5.4")
	dir := t.TempDir()
	cfg := testConfig(t, dir, "127.0.5.4")

	b1, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := b1.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := b1.Cameras()[0]
	host := bindIP.String()
	status, body := soapRequest(t, c.DeviceServiceURL(host), "admin", "secret",
		`<trt:CreateProfile><trt:Name>SynoProfile</trt:Name><trt:Token>syno</trt:Token></trt:CreateProfile>`)
	if status != http.StatusOK {
		t.Fatalf("CreateProfile: %d %s", status, body)
	}
	uuid, serial, mac := c.Device.UUID, c.Device.Serial, c.Device.MAC.String()
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b1.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	b2 := startBridge(t, cfg)
	c = b2.Cameras()[0]
	if c.Device.UUID != uuid || c.Device.Serial != serial || c.Device.MAC.String() != mac {
		t.Errorf("identity changed across a restart")
	}
	status, body = soapRequest(t, c.DeviceServiceURL(host), "admin", "secret",
		`<trt:GetProfile><trt:ProfileToken>syno</trt:ProfileToken></trt:GetProfile>`)
	if status != http.StatusOK || !strings.Contains(body, "SynoProfile") {
		t.Errorf("created profile lost across a restart: %d %s", status, body)
	}
	if want := onvif.NewIdentity("127.0.5.4").UUID; c.Device.UUID != want {
		t.Errorf("UUID %s is not derived from the camera IP (%s)", c.Device.UUID, want)
	}
}

// TestStartFailsCleanly: a busy HTTP port makes Start fail, and nothing it
// bound stays bound (the same configuration starts once the port is free).
func TestStartFailsCleanly(t *testing.T) {
	busy, err := net.Listen("tcp4", "127.0.5.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := busy.Addr().(*net.TCPAddr).Port
	cfg := testConfig(t, t.TempDir(), "127.0.5.5", "127.0.5.6")
	cfg.RTSPPort = port + 1
	cfg.Cameras[1].HTTPPort = port
	cfg.Cameras[0].HTTPPort = port + 2
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("Start on a busy port: %v", err)
	}
	busy.Close()
	b = startBridge(t, cfg)
	if b.Cameras()[1].HTTPPort() != port {
		t.Errorf("second camera on port %d, want %d", b.Cameras()[1].HTTPPort(), port)
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := Config{Cameras: []CameraConfig{
		{IP: netip.MustParseAddr("10.0.0.5")},
		{IP: netip.MustParseAddr("10.0.0.6"), Name: "Front door", HTTPPort: 9000},
	}, StateDir: "/tmp/x"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	c0, c1 := cfg.Cameras[0], cfg.Cameras[1]
	if c0.Name != "cam-10-0-0-5" || c0.ID != "10.0.0.5" || c0.HTTPPort != DefaultHTTPBasePort {
		t.Errorf("camera 0 defaults: %+v", c0)
	}
	if c1.HTTPPort != 9000 || rtsp.PathName(c1.Name) != "Front-door" {
		t.Errorf("camera 1: %+v, path %q", c1, rtsp.PathName(c1.Name))
	}
	// Automatic ports skip the explicit ones.
	auto, err := Config{Cameras: []CameraConfig{
		{IP: netip.MustParseAddr("10.0.0.5"), HTTPPort: DefaultHTTPBasePort + 1},
		{IP: netip.MustParseAddr("10.0.0.6")},
		{IP: netip.MustParseAddr("10.0.0.7")},
	}, StateDir: "/tmp/x"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if p1, p2 := auto.Cameras[1].HTTPPort, auto.Cameras[2].HTTPPort; p1 != DefaultHTTPBasePort || p2 != DefaultHTTPBasePort+2 {
		t.Errorf("automatic ports %d, %d beside an explicit %d", p1, p2, DefaultHTTPBasePort+1)
	}
	if cfg.RTSPPort != DefaultRTSPPort {
		t.Errorf("RTSP port %d", cfg.RTSPPort)
	}
	for _, bad := range []Config{
		{},
		{Cameras: []CameraConfig{{}}},
		{Cameras: []CameraConfig{{IP: netip.MustParseAddr("::1")}}},
		{Cameras: []CameraConfig{{IP: netip.MustParseAddr("10.0.0.5")}, {IP: netip.MustParseAddr("10.0.0.5")}}},
		{Cameras: []CameraConfig{{IP: netip.MustParseAddr("10.0.0.5")}}, Users: []onvif.User{{Password: "x", Level: onvif.LevelAdministrator}}},
		{Cameras: []CameraConfig{{IP: netip.MustParseAddr("10.0.0.5")}}, Users: []onvif.User{{Name: "x", Level: onvif.LevelAdministrator}}},
		{Cameras: []CameraConfig{{IP: netip.MustParseAddr("10.0.0.5")}}, Users: []onvif.User{{Name: "x", Password: "y", Level: "Root"}}},
	} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}

func TestDefaultStateDir(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/var/tmp/st")
	if d, _ := DefaultStateDir(); d != "/var/tmp/st/chinesium" {
		t.Errorf("with XDG_STATE_HOME: %s", d)
	}
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/u")
	if d, _ := DefaultStateDir(); d != "/home/u/.local/state/chinesium" {
		t.Errorf("without XDG_STATE_HOME: %s", d)
	}
}

// TestDiscovery probes the bridge (unicast, as through a container bridge)
// and gets one ProbeMatch per camera, each with its own endpoint and
// device service XAddr; a camera switched to NonDiscoverable stays silent.
func TestDiscovery(t *testing.T) {
	t.Parallel()
	startFakeCams(t, "127.0.5.12", "127.0.5.13")
	cfg := testConfig(t, t.TempDir(), "127.0.5.12", "127.0.5.13")
	cfg.Discovery = &discovery.Config{UnicastOnly: true, Listen: bindIP, Group: netip.AddrPortFrom(netip.MustParseAddr("239.255.255.250"), 0), MaxDelay: -1}
	b := startBridge(t, cfg)
	port := b.DiscoveryPort()
	if port == 0 {
		t.Fatal("discovery not running")
	}
	probe := func() map[string]discovery.Match {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 5, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		msg := discovery.AppendMessage(nil, discovery.ActionProbe, discovery.Header{
			MessageID: "urn:uuid:" + uuid.NewString(), To: "urn:schemas-xmlsoap-org:ws:2005:04:discovery",
		}, discovery.Match{Types: []xml.Name{{Space: "http://www.onvif.org/ver10/network/wsdl", Local: "NetworkVideoTransmitter"}}})
		if _, err := conn.WriteToUDP(msg, &net.UDPAddr{IP: net.IPv4(127, 0, 5, 1), Port: port}); err != nil {
			t.Fatal(err)
		}
		got := map[string]discovery.Match{}
		buf := make([]byte, 1<<16)
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		for {
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				return got
			}
			m, err := discovery.Parse(buf[:n])
			if err != nil || m.Action != discovery.ActionProbeMatches || len(m.Matches) != 1 {
				t.Fatalf("answer %v: %s", err, buf[:n])
			}
			got[m.Matches[0].Address] = m.Matches[0]
		}
	}
	cams := b.Cameras()
	got := probe()
	if len(got) != 2 {
		t.Fatalf("%d ProbeMatches, want 2: %v", len(got), got)
	}
	for _, c := range cams {
		m, ok := got[c.Device.EndpointReference()]
		if !ok {
			t.Fatalf("no ProbeMatch for %s", c.Config.Name)
		}
		if len(m.XAddrs) != 1 || m.XAddrs[0] != c.DeviceServiceURL(bindIP.String()) {
			t.Errorf("%s XAddrs %v", c.Config.Name, m.XAddrs)
		}
		if !slices.Contains(m.Scopes, "onvif://www.onvif.org/mac/"+c.Device.MAC.String()) {
			t.Errorf("%s scopes %v", c.Config.Name, m.Scopes)
		}
	}
	v := cams[1].MetadataVersion()
	if err := cams[1].Device.Store.Update(func(st *onvif.State) error {
		st.DiscoveryMode = onvif.NonDiscoverable
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if cams[1].MetadataVersion() <= v {
		t.Error("MetadataVersion did not grow with the discovery mode")
	}
	got = probe()
	if _, ok := got[cams[1].Device.EndpointReference()]; ok || len(got) != 1 {
		t.Errorf("after NonDiscoverable: %d answers", len(got))
	}
}

// TestPerCameraAddress gives a camera an address of its own: its ONVIF
// endpoint, the stream URI it hands out and the RTSP stream behind it are
// all on that address.
func TestPerCameraAddress(t *testing.T) {
	t.Parallel()
	own := netip.MustParseAddr("127.0.5.17")
	_, c := startCamera(t, "127.0.5.16", func(cfg *Config) { cfg.Cameras[0].BindIP = own })
	if c.Host() != own.String() {
		t.Errorf("printed host %s, want %s", c.Host(), own)
	}
	status, body := soapRequest(t, c.DeviceServiceURL(own.String()), "admin", "secret", getStreamURIBody)
	if status != http.StatusOK {
		t.Fatalf("GetStreamUri at %s: %d %s", own, status, body)
	}
	uri := elementText(body, "Uri")
	if !strings.HasPrefix(uri, "rtsp://"+own.String()+":") {
		t.Fatalf("stream URI %q not on the camera's address", uri)
	}
	if frames, out := probeRTSP(t, withUser(uri, "admin", "secret")); frames < 3 {
		t.Errorf("ffprobe read %d frames from %s:\n%s", frames, uri, out)
	}
	if _, err := http.Get(c.DeviceServiceURL(bindIP.String())); err == nil {
		t.Errorf("the camera's endpoint also answers on the bridge address")
	}
}

// TestHomeAssistantSequence replays the calls Home Assistant's ONVIF
// integration makes when a device is added (WS-Security digest on each):
// GetCapabilities for the XAddrs, GetNetworkInterfaces for the unique id
// (the MAC), GetProfiles needing an H.264 profile, GetStreamUri with
// Protocol RTSP per profile, GetSnapshotUri.
func TestHomeAssistantSequence(t *testing.T) {
	t.Parallel()
	testutil.NeedTool(t, "ffmpeg")
	startFakeCams(t, "127.0.5.18")
	b := startBridge(t, testConfig(t, t.TempDir(), "127.0.5.18"))
	c := b.Cameras()[0]
	if !c.Device.HasH264 {
		t.Fatal("no H.264 profile although ffmpeg is installed (Home Assistant aborts with no_h264)")
	}
	host := bindIP.String()
	call := func(body string) string {
		t.Helper()
		status, resp := soapRequest(t, c.DeviceServiceURL(host), "admin", "secret", body)
		if status != http.StatusOK {
			t.Fatalf("%s: %d %s", body, status, resp)
		}
		return resp
	}
	caps := call(`<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>`)
	d := etree.NewDocument()
	if err := d.ReadFromString(caps); err != nil {
		t.Fatal(err)
	}
	media := d.FindElement("//Capabilities/Media/XAddr")
	if media == nil || !strings.HasPrefix(media.Text(), "http://"+host+":") {
		t.Fatalf("media XAddr in GetCapabilities: %s", caps)
	}
	mediaURL := media.Text()
	if mac := elementText(call(`<tds:GetNetworkInterfaces/>`), "HwAddress"); !strings.EqualFold(mac, c.Device.MAC.String()) {
		t.Errorf("HwAddress %q, want %s", mac, c.Device.MAC)
	}
	status, profiles := soapRequest(t, mediaURL, "admin", "secret", `<trt:GetProfiles/>`)
	if status != http.StatusOK {
		t.Fatalf("GetProfiles: %d %s", status, profiles)
	}
	d = etree.NewDocument()
	if err := d.ReadFromString(profiles); err != nil {
		t.Fatal(err)
	}
	h264 := ""
	for _, p := range d.FindElements("//Profiles") {
		if e := p.FindElement("VideoEncoderConfiguration/Encoding"); e != nil && e.Text() == "H264" {
			h264 = p.SelectAttrValue("token", "")
			if w := p.FindElement("VideoEncoderConfiguration/Resolution/Width"); w == nil || w.Text() != "640" {
				t.Errorf("H.264 profile width %v", w)
			}
		}
	}
	if h264 == "" {
		t.Fatalf("no H264 profile: %s", profiles)
	}
	_, resp := soapRequest(t, mediaURL, "admin", "secret", strings.Replace(
		strings.Replace(getStreamURIBody, ">TCP<", ">RTSP<", 1), ">jpeg<", ">"+h264+"<", 1))
	if uri := elementText(resp, "Uri"); uri != c.RTSPURL(host, "h264") {
		t.Errorf("H.264 stream URI %q, want %q", uri, c.RTSPURL(host, "h264"))
	}
	_, resp = soapRequest(t, mediaURL, "admin", "secret", `<trt:GetSnapshotUri><trt:ProfileToken>`+h264+`</trt:ProfileToken></trt:GetSnapshotUri>`)
	if uri := elementText(resp, "Uri"); uri != c.SnapshotURL(host) {
		t.Errorf("snapshot URI %q", uri)
	}
}
