package onvif

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/internal/xsdcheck"
	"github.com/chinesium/chinesium/soap"
	"github.com/chinesium/chinesium/wsdl"
)

// devFixture is one device served over real HTTP with the device and media
// services on one endpoint, administrator admin/secret.
type devFixture struct {
	*testEndpoint
	d       *Device
	url     string // the device service URL
	reboots atomic.Int32
}

func newDevFixture(t *testing.T, statePath string) *devFixture {
	t.Helper()
	d := NewDevice("Garden cam", "192.0.2.50")
	st, err := OpenStore(statePath)
	if err != nil {
		t.Fatal(err)
	}
	st.SetAdmin("admin", "secret")
	d.Store = st
	d.HTTPPort, d.RTSPPort = 8080, 8554
	f := &devFixture{d: d}
	d.Reboot = func() { f.reboots.Add(1) }
	f.testEndpoint = serve(t, st, DeviceService(d), MediaService(d))
	f.url = f.srv.URL + DeviceServicePath
	return f
}

// call posts body (the request element) with the given header ("" = no
// credentials) and optional Host override.
func (f *devFixture) call(t *testing.T, header, body string, host ...string) result {
	t.Helper()
	c := call{Header: header, Body: body}
	if len(host) > 0 {
		c.Host = host[0]
	}
	return f.do(t, c)
}

// admin calls as the administrator and requires success and a
// schema-valid response.
func (f *devFixture) admin(t *testing.T, body string) *etree.Element {
	t.Helper()
	return f.call(t, securityHeader("admin", "secret"), body).ok(t)
}

func texts(e *etree.Element, path string) []string {
	var out []string
	for _, x := range e.FindElements(path) {
		out = append(out, strings.TrimSpace(x.Text()))
	}
	return out
}

// TestDeviceResponsesValidate calls every implemented read operation (and
// the harmless writes) and validates each response against the schemas.
func TestDeviceResponsesValidate(t *testing.T) {
	f := newDevFixture(t, "")
	bodies := []string{
		`<tds:GetSystemDateAndTime/>`,
		`<tds:SetSystemDateAndTime><tds:DateTimeType>Manual</tds:DateTimeType><tds:DaylightSavings>false</tds:DaylightSavings>` +
			`<tds:TimeZone><tt:TZ>CET-1CEST,M3.5.0,M10.5.0/3</tt:TZ></tds:TimeZone><tds:UTCDateTime><tt:Time><tt:Hour>1</tt:Hour>` +
			`<tt:Minute>2</tt:Minute><tt:Second>3</tt:Second></tt:Time><tt:Date><tt:Year>2026</tt:Year><tt:Month>1</tt:Month>` +
			`<tt:Day>2</tt:Day></tt:Date></tds:UTCDateTime></tds:SetSystemDateAndTime>`,
		`<tds:GetDeviceInformation/>`,
		`<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>`,
		`<tds:GetCapabilities/>`,
		`<tds:GetCapabilities><tds:Category>Media</tds:Category><tds:Category>Device</tds:Category></tds:GetCapabilities>`,
		`<tds:GetServices><tds:IncludeCapability>true</tds:IncludeCapability></tds:GetServices>`,
		`<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>`,
		`<tds:GetServiceCapabilities/>`,
		`<tds:GetScopes/>`,
		`<tds:AddScopes><tds:ScopeItem>onvif://www.onvif.org/location/garden</tds:ScopeItem></tds:AddScopes>`,
		`<tds:RemoveScopes><tds:ScopeItem>onvif://www.onvif.org/location/garden</tds:ScopeItem></tds:RemoveScopes>`,
		`<tds:SetScopes><tds:Scopes>onvif://www.onvif.org/location/shed</tds:Scopes></tds:SetScopes>`,
		`<tds:GetDiscoveryMode/>`,
		`<tds:SetDiscoveryMode><tds:DiscoveryMode>Discoverable</tds:DiscoveryMode></tds:SetDiscoveryMode>`,
		`<tds:GetHostname/>`,
		`<tds:SetHostname><tds:Name>garden-cam</tds:Name></tds:SetHostname>`,
		`<tds:GetHostname/>`,
		`<tds:GetNetworkInterfaces/>`,
		`<tds:GetDNS/>`,
		`<tds:GetNTP/>`,
		`<tds:GetNetworkProtocols/>`,
		`<tds:GetNetworkDefaultGateway/>`,
		`<tds:CreateUsers><tds:User><tt:Username>op</tt:Username><tt:Password>pw1</tt:Password><tt:UserLevel>Operator</tt:UserLevel></tds:User></tds:CreateUsers>`,
		`<tds:GetUsers/>`,
		`<tds:SetUser><tds:User><tt:Username>op</tt:Username><tt:Password>pw2</tt:Password><tt:UserLevel>User</tt:UserLevel></tds:User></tds:SetUser>`,
		`<tds:DeleteUsers><tds:Username>op</tds:Username></tds:DeleteUsers>`,
		`<tds:GetWsdlUrl/>`,
		`<tds:GetEndpointReference/>`,
		`<tds:SystemReboot/>`,
		`<tds:SetSystemFactoryDefault><tds:FactoryDefault>Soft</tds:FactoryDefault></tds:SetSystemFactoryDefault>`,
	}
	for _, b := range bodies {
		f.admin(t, b)
	}
}

func TestPreAuthOperations(t *testing.T) {
	f := newDevFixture(t, "")
	for _, op := range []string{"GetSystemDateAndTime", "GetCapabilities", "GetServices", "GetServiceCapabilities", "GetHostname", "GetWsdlUrl", "GetEndpointReference"} {
		r := f.call(t, "", "<tds:"+op+"/>")
		if r.status != http.StatusOK || r.root.Tag != op+"Response" {
			t.Errorf("%s without credentials: %d\n%s", op, r.status, r.body)
		}
	}
	for _, op := range []string{"GetDeviceInformation", "GetScopes", "GetNetworkInterfaces", "GetUsers", "SystemReboot", "GetSystemLog"} {
		r := f.call(t, "", "<tds:"+op+"/>")
		r.fault(t, http.StatusUnauthorized, "Sender/NotAuthorized")
	}
	if f.reboots.Load() != 0 {
		t.Error("SystemReboot ran without credentials")
	}
	// The trust-nothing policy: a level-User account may read but not write.
	if err := f.d.Store.CreateUsers([]User{{Name: "viewer", Password: "pw", Level: LevelUser}}); err != nil {
		t.Fatal(err)
	}
	if r := f.call(t, securityHeader("viewer", "pw"), "<tds:GetScopes/>"); r.status != http.StatusOK {
		t.Errorf("GetScopes as User: %d", r.status)
	}
	f.call(t, securityHeader("viewer", "pw"), "<tds:GetUsers/>").fault(t, http.StatusBadRequest, "Sender/NotAuthorized")
	f.call(t, securityHeader("viewer", "pw"), "<tds:SystemReboot/>").fault(t, http.StatusBadRequest, "Sender/NotAuthorized")
}

func TestSystemDateAndTimeIsUTC(t *testing.T) {
	f := newDevFixture(t, "")
	r := f.call(t, "", "<tds:GetSystemDateAndTime/>")
	u := r.root.FindElement("SystemDateAndTime/UTCDateTime")
	if u == nil {
		t.Fatalf("no UTCDateTime: %s", r.body)
	}
	n := func(p string) int {
		v, err := strconv.Atoi(u.FindElement(p).Text())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	got := time.Date(n("Date/Year"), time.Month(n("Date/Month")), n("Date/Day"), n("Time/Hour"), n("Time/Minute"), n("Time/Second"), 0, time.UTC)
	if d := time.Since(got); d < -2*time.Second || d > 5*time.Second {
		t.Errorf("UTCDateTime %v is %v off the real UTC time", got, d)
	}
	if r.root.FindElement("SystemDateAndTime/LocalDateTime") == nil || r.root.FindElement("SystemDateAndTime/TimeZone/TZ") == nil {
		t.Errorf("LocalDateTime or TimeZone missing: %s", r.body)
	}
	// Accepted and ignored.
	f.admin(t, `<tds:SetSystemDateAndTime><tds:DateTimeType>NTP</tds:DateTimeType><tds:DaylightSavings>false</tds:DaylightSavings></tds:SetSystemDateAndTime>`)
	f.call(t, securityHeader("admin", "secret"), `<tds:SetSystemDateAndTime><tds:DateTimeType>Sundial</tds:DateTimeType><tds:DaylightSavings>false</tds:DaylightSavings></tds:SetSystemDateAndTime>`).
		fault(t, 400, "Sender/InvalidArgVal")
}

func TestPosixTZ(t *testing.T) {
	cases := map[string]string{
		"UTC":   "UTC0",
		"CET":   "CET-1",
		"EST":   "EST5",
		"IST":   "IST-5:30",
		"+03":   "<+03>-3",
		"-0330": "<-0330>3:30",
	}
	offsets := map[string]int{"UTC": 0, "CET": 3600, "EST": -5 * 3600, "IST": 5*3600 + 1800, "+03": 3 * 3600, "-0330": -(3*3600 + 1800)}
	for name, want := range cases {
		tm := time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone(name, offsets[name]))
		if got := posixTZ(tm); got != want {
			t.Errorf("posixTZ(%s) = %q, want %q", name, got, want)
		}
	}
}

func TestDeviceInformation(t *testing.T) {
	f := newDevFixture(t, "")
	r := f.admin(t, "<tds:GetDeviceInformation/>")
	want := map[string]string{"Manufacturer": DefaultManufacturer, "Model": DefaultModel, "SerialNumber": f.d.Serial, "HardwareId": DefaultHardwareID, "FirmwareVersion": f.d.Firmware}
	for k, v := range want {
		if got := texts(r, k); len(got) != 1 || got[0] != v || v == "" {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	other := NewDevice("other", "192.0.2.51")
	if other.Serial == f.d.Serial {
		t.Error("two cameras share a serial number")
	}
}

func TestXAddrsFollowTheHostUsed(t *testing.T) {
	f := newDevFixture(t, "")
	local := strings.TrimPrefix(f.srv.URL, "http://")
	for _, host := range []string{local, "192.0.2.10:8000", "[2001:db8::1]:8080", "cam.example"} {
		r := f.call(t, "", "<tds:GetCapabilities/>", host)
		xaddrs := texts(r.root, ".//XAddr")
		if len(xaddrs) != 2 { // Device and Media; no Events service composed here
			t.Errorf("%s: XAddrs %q", host, xaddrs)
		}
		for _, x := range xaddrs {
			if !strings.HasPrefix(x, "http://"+host+"/onvif/") {
				t.Errorf("GetCapabilities for Host %s: XAddr %s", host, x)
			}
		}
		r = f.call(t, "", "<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>", host)
		for _, x := range texts(r.root, "Service/XAddr") {
			if !strings.HasPrefix(x, "http://"+host+"/onvif/") {
				t.Errorf("GetServices for Host %s: XAddr %s", host, x)
			}
		}
	}
}

func TestServicesAndCapabilitiesConsistent(t *testing.T) {
	f := newDevFixture(t, "")
	r := f.admin(t, "<tds:GetServices><tds:IncludeCapability>true</tds:IncludeCapability></tds:GetServices>")
	ns := texts(r, "Service/Namespace")
	if strings.Join(ns, " ") != wsdl.NSDevice+" "+wsdl.NSMedia {
		t.Errorf("services %q, want device and media (ver10) only", ns)
	}
	for _, s := range r.SelectElements("Service") {
		caps := s.FindElement("Capabilities/Capabilities")
		if caps == nil {
			t.Errorf("%s: no capabilities with IncludeCapability", s.SelectElement("Namespace").Text())
		}
	}
	if c := r.FindElement("Service/Capabilities/Capabilities/System"); c == nil || c.SelectAttrValue("NetworkConfigNotSupported", "") != "true" {
		t.Error("device capabilities do not declare NetworkConfigNotSupported")
	}
	// Media2 (ver20) is never advertised, media ver10 is.
	if strings.Contains(string(f.call(t, "", "<tds:GetServices><tds:IncludeCapability>true</tds:IncludeCapability></tds:GetServices>").body), "http://www.onvif.org/ver20/media/wsdl") {
		t.Error("media2 advertised")
	}
	c := f.admin(t, "<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>")
	if c.FindElement("Capabilities/Media/XAddr") == nil || c.FindElement("Capabilities/Device/XAddr") == nil {
		t.Errorf("capabilities lack Media or Device")
	}
	if c.FindElement("Capabilities/PTZ") != nil || c.FindElement("Capabilities/Imaging") != nil {
		t.Error("PTZ or Imaging advertised")
	}
	if got := texts(c, "Capabilities/Media/Extension/ProfileCapabilities/MaximumNumberOfProfiles"); len(got) != 1 {
		t.Errorf("MaximumNumberOfProfiles %q", got)
	}
	f.call(t, "", "<tds:GetCapabilities><tds:Category>PTZ</tds:Category></tds:GetCapabilities>").
		fault(t, 500, "Receiver/ActionNotSupported/NoSuchService")
	f.call(t, "", "<tds:GetCapabilities><tds:Category>Events</tds:Category></tds:GetCapabilities>").
		fault(t, 500, "Receiver/ActionNotSupported/NoSuchService")
	f.call(t, "", "<tds:GetCapabilities><tds:Category>Teleport</tds:Category></tds:GetCapabilities>").
		fault(t, 400, "Sender/InvalidArgVal")
}

// TestEventsAdvertisedWhenComposed checks that an events service in the
// endpoint appears in GetServices and GetCapabilities with its own
// capabilities.
func TestEventsAdvertisedWhenComposed(t *testing.T) {
	d := NewDevice("cam", "192.0.2.52")
	d.Store, _ = OpenStore("")
	ev := NewEvents(EventsConfig{MaxPullPoints: 8})
	t.Cleanup(ev.Close)
	f := &devFixture{d: d, testEndpoint: serve(t, nil, DeviceService(d), EventsService(ev))}
	r := f.admin(t, "<tds:GetServices><tds:IncludeCapability>true</tds:IncludeCapability></tds:GetServices>")
	if ns := texts(r, "Service/Namespace"); strings.Join(ns, " ") != wsdl.NSDevice+" "+wsdl.NSEvents {
		t.Errorf("services %q", ns)
	}
	c := f.admin(t, "<tds:GetCapabilities><tds:Category>Events</tds:Category></tds:GetCapabilities>")
	if x := texts(c, "Capabilities/Events/XAddr"); len(x) != 1 || !strings.HasSuffix(x[0], EventsServicePath) {
		t.Errorf("events XAddr %q", x)
	}
	if v := texts(c, "Capabilities/Events/WSSubscriptionPolicySupport"); len(v) != 1 || v[0] != "true" {
		t.Errorf("WSSubscriptionPolicySupport %q", v)
	}
}

func TestScopes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	f := newDevFixture(t, path)
	fixed := f.d.FixedScopes()
	if !strings.Contains(strings.Join(fixed, " "), "onvif://www.onvif.org/Profile/Streaming") {
		t.Fatalf("no Profile S scope in %q", fixed)
	}
	scopes := func() (fixedOnes, conf []string) {
		r := f.admin(t, "<tds:GetScopes/>")
		for _, s := range r.SelectElements("Scopes") {
			item := s.SelectElement("ScopeItem").Text()
			if s.SelectElement("ScopeDef").Text() == "Fixed" {
				fixedOnes = append(fixedOnes, item)
			} else {
				conf = append(conf, item)
			}
		}
		return
	}
	fx, conf := scopes()
	if strings.Join(fx, " ") != strings.Join(fixed, " ") || strings.Join(conf, " ") != strings.Join(DefaultScopes(), " ") {
		t.Fatalf("scopes: fixed %q, configurable %q", fx, conf)
	}
	loc := "onvif://www.onvif.org/location/garden"
	f.admin(t, "<tds:AddScopes><tds:ScopeItem>"+loc+"</tds:ScopeItem><tds:ScopeItem>"+loc+"</tds:ScopeItem></tds:AddScopes>")
	if _, conf = scopes(); len(conf) != 2 || conf[1] != loc {
		t.Fatalf("after AddScopes: %q", conf)
	}
	admin := securityHeader("admin", "secret")
	f.call(t, admin, "<tds:RemoveScopes><tds:ScopeItem>"+fixed[0]+"</tds:ScopeItem></tds:RemoveScopes>").
		fault(t, 400, "Sender/OperationProhibited/FixedScope")
	f.call(t, securityHeader("admin", "secret"), "<tds:RemoveScopes><tds:ScopeItem>onvif://www.onvif.org/location/moon</tds:ScopeItem></tds:RemoveScopes>").
		fault(t, 400, "Sender/InvalidArgVal/NoScope")
	f.call(t, securityHeader("admin", "secret"), "<tds:AddScopes><tds:ScopeItem>not a uri</tds:ScopeItem></tds:AddScopes>").
		fault(t, 400, "Sender/InvalidArgVal")
	r := f.admin(t, "<tds:RemoveScopes><tds:ScopeItem>"+loc+"</tds:ScopeItem></tds:RemoveScopes>")
	if got := texts(r, "ScopeItem"); len(got) != 1 || got[0] != loc {
		t.Errorf("RemoveScopesResponse %q", got)
	}
	// SetScopes replaces the configurable scopes and leaves the fixed ones.
	f.admin(t, "<tds:SetScopes><tds:Scopes>onvif://www.onvif.org/location/shed</tds:Scopes><tds:Scopes>"+fixed[0]+"</tds:Scopes></tds:SetScopes>")
	fx, conf = scopes()
	if len(fx) != len(fixed) || strings.Join(conf, " ") != "onvif://www.onvif.org/location/shed" {
		t.Errorf("after SetScopes: fixed %q configurable %q", fx, conf)
	}
	var many strings.Builder
	for i := range MaxScopes + 1 {
		fmt.Fprintf(&many, "<tds:ScopeItem>onvif://www.onvif.org/x/%d</tds:ScopeItem>", i)
	}
	f.call(t, securityHeader("admin", "secret"), "<tds:AddScopes>"+many.String()+"</tds:AddScopes>").
		fault(t, 500, "Receiver/Action/TooManyScopes")

	// Persisted: a new store on the same file sees the scopes.
	st, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Get().Scopes; strings.Join(got, " ") != "onvif://www.onvif.org/location/shed" {
		t.Errorf("persisted scopes %q", got)
	}
}

func TestDiscoveryModeAndHostname(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	f := newDevFixture(t, path)
	if got := texts(f.admin(t, "<tds:GetDiscoveryMode/>"), "DiscoveryMode"); got[0] != Discoverable {
		t.Errorf("default discovery mode %q", got)
	}
	f.admin(t, "<tds:SetDiscoveryMode><tds:DiscoveryMode>NonDiscoverable</tds:DiscoveryMode></tds:SetDiscoveryMode>")
	if got := texts(f.admin(t, "<tds:GetDiscoveryMode/>"), "DiscoveryMode"); got[0] != NonDiscoverable {
		t.Errorf("discovery mode %q", got)
	}
	f.call(t, securityHeader("admin", "secret"), "<tds:SetDiscoveryMode><tds:DiscoveryMode>Shy</tds:DiscoveryMode></tds:SetDiscoveryMode>").
		fault(t, 400, "Sender/InvalidArgVal")

	if got := texts(f.admin(t, "<tds:GetHostname/>"), "HostnameInformation/Name"); len(got) != 0 {
		t.Errorf("hostname before SetHostname: %q", got)
	}
	f.admin(t, "<tds:SetHostname><tds:Name>garden-cam</tds:Name></tds:SetHostname>")
	if got := texts(f.call(t, "", "<tds:GetHostname/>").root, "HostnameInformation/Name"); len(got) != 1 || got[0] != "garden-cam" {
		t.Errorf("hostname %q", got)
	}
	f.call(t, securityHeader("admin", "secret"), "<tds:SetHostname><tds:Name>-bad_name</tds:Name></tds:SetHostname>").
		fault(t, 400, "Sender/InvalidArgVal/InvalidHostname")
	st, _ := OpenStore(path)
	if s := st.Get(); s.DiscoveryMode != NonDiscoverable || s.Hostname != "garden-cam" {
		t.Errorf("not persisted: %+v", s)
	}
}

func TestNetworkOperations(t *testing.T) {
	f := newDevFixture(t, "")
	r := f.admin(t, "<tds:GetNetworkInterfaces/>")
	if got := texts(r, "NetworkInterfaces/Info/HwAddress"); len(got) != 1 || got[0] != f.d.MAC.String() {
		t.Errorf("HwAddress %q, want %s", got, f.d.MAC)
	}
	if f.d.MAC[0]&0x02 == 0 || f.d.MAC[0]&0x01 != 0 {
		t.Errorf("MAC %s is not locally administered unicast", f.d.MAC)
	}
	if got := texts(r, "NetworkInterfaces/IPv4/Config/Manual/Address"); len(got) != 1 || got[0] != "127.0.0.1" {
		t.Errorf("IPv4 address %q, want the address the client used", got)
	}
	if got := texts(r, "NetworkInterfaces/Enabled"); got[0] != "true" {
		t.Error("interface not enabled (Home Assistant takes the first enabled one)")
	}
	p := f.admin(t, "<tds:GetNetworkProtocols/>")
	protos := map[string]string{}
	for _, np := range p.SelectElements("NetworkProtocols") {
		protos[np.SelectElement("Name").Text()] = np.SelectElement("Port").Text()
	}
	if protos["HTTP"] != "8080" || protos["RTSP"] != "8554" {
		t.Errorf("protocols %v", protos)
	}
	f.admin(t, "<tds:GetDNS/>")
	f.admin(t, "<tds:GetNTP/>")
	f.admin(t, "<tds:GetNetworkDefaultGateway/>")
	// Changing the network is not supported (NetworkConfigNotSupported).
	f.call(t, securityHeader("admin", "secret"), "<tds:SetNetworkDefaultGateway><tds:IPv4Address>192.0.2.1</tds:IPv4Address></tds:SetNetworkDefaultGateway>").
		fault(t, 500, "Receiver/ActionNotSupported")
}

func TestUsers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	f := newDevFixture(t, path)
	user := func(name, pass, level string) string {
		return "<tds:User><tt:Username>" + name + "</tt:Username><tt:Password>" + pass + "</tt:Password><tt:UserLevel>" + level + "</tt:UserLevel></tds:User>"
	}
	f.admin(t, "<tds:CreateUsers>"+user("alice", "pw-a", "Operator")+user("bob", "pw-b", "User")+"</tds:CreateUsers>")
	r := f.admin(t, "<tds:GetUsers/>")
	if got := strings.Join(texts(r, "User/Username"), " "); got != "admin alice bob" {
		t.Errorf("users %q", got)
	}
	if len(r.FindElements("User/Password")) != 0 {
		t.Error("GetUsers returns passwords")
	}
	// The new user can authenticate (WS-Security and the shared Users).
	if r := f.call(t, securityHeader("alice", "pw-a"), "<tds:GetDeviceInformation/>"); r.status != 200 {
		t.Errorf("new user refused: %d", r.status)
	}
	f.call(t, securityHeader("admin", "secret"), "<tds:CreateUsers>"+user("alice", "x", "User")+"</tds:CreateUsers>").
		fault(t, 400, "Sender/OperationProhibited/UsernameClash")
	f.call(t, securityHeader("admin", "secret"), "<tds:CreateUsers>"+user(strings.Repeat("n", 65), "x", "User")+"</tds:CreateUsers>").
		fault(t, 400, "Sender/InvalidArgVal/UsernameTooLong")
	f.call(t, securityHeader("admin", "secret"), "<tds:CreateUsers>"+user("carol", "x", "Anonymous")+"</tds:CreateUsers>").
		fault(t, 400, "Sender/OperationProhibited/AnonymousNotAllowed")
	f.call(t, securityHeader("admin", "secret"), "<tds:SetUser>"+user("nobody", "x", "User")+"</tds:SetUser>").
		fault(t, 400, "Sender/InvalidArgVal/UsernameMissing")
	f.call(t, securityHeader("admin", "secret"), "<tds:SetUser>"+user("admin", "x", "User")+"</tds:SetUser>").
		fault(t, 400, "Sender/OperationProhibited/FixedUser")
	f.call(t, securityHeader("admin", "secret"), "<tds:DeleteUsers><tds:Username>admin</tds:Username></tds:DeleteUsers>").
		fault(t, 400, "Sender/InvalidArgVal/FixedUser")

	f.admin(t, "<tds:SetUser>"+user("alice", "pw-new", "Operator")+"</tds:SetUser>")
	if r := f.call(t, securityHeader("alice", "pw-a"), "<tds:GetDeviceInformation/>"); r.status != 400 {
		t.Errorf("old password still accepted: %d", r.status)
	}
	if r := f.call(t, securityHeader("alice", "pw-new"), "<tds:GetDeviceInformation/>"); r.status != 200 {
		t.Errorf("new password refused: %d", r.status)
	}
	f.admin(t, "<tds:DeleteUsers><tds:Username>bob</tds:Username></tds:DeleteUsers>")
	if r := f.call(t, securityHeader("bob", "pw-b"), "<tds:GetDeviceInformation/>"); r.status != 400 {
		t.Errorf("deleted user accepted: %d", r.status)
	}
	st, _ := OpenStore(path)
	if u := st.Get().Users; len(u) != 1 || u[0].Name != "alice" || u[0].Password != "pw-new" {
		t.Errorf("persisted users %+v", u)
	}
}

func TestRebootAndFactoryDefault(t *testing.T) {
	f := newDevFixture(t, "")
	f.admin(t, "<tds:SystemReboot/>")
	if f.reboots.Load() != 1 {
		t.Errorf("Reboot called %d times", f.reboots.Load())
	}
	f.admin(t, "<tds:AddScopes><tds:ScopeItem>onvif://www.onvif.org/location/x</tds:ScopeItem></tds:AddScopes>")
	f.admin(t, "<tds:CreateUsers><tds:User><tt:Username>u</tt:Username><tt:Password>p</tt:Password><tt:UserLevel>User</tt:UserLevel></tds:User></tds:CreateUsers>")
	f.admin(t, "<tds:SetSystemFactoryDefault><tds:FactoryDefault>Hard</tds:FactoryDefault></tds:SetSystemFactoryDefault>")
	st := f.d.Store.Get()
	if len(st.Users) != 0 || strings.Join(st.Scopes, " ") != strings.Join(DefaultScopes(), " ") {
		t.Errorf("state after factory default: %+v", st)
	}
	// The configured administrator survives a factory reset.
	f.admin(t, "<tds:GetDeviceInformation/>")
}

func TestUnimplementedDeviceOperations(t *testing.T) {
	f := newDevFixture(t, "")
	svc := DeviceService(f.d)
	if len(svc.Declared) != len(wsdl.DeviceOperations()) {
		t.Errorf("the device service declares %d operations, devicemgmt.wsdl %d", len(svc.Declared), len(wsdl.DeviceOperations()))
	}
	for _, op := range svc.Ops {
		if !slices.Contains(svc.Declared, wsdl.Op{Namespace: wsdl.NSDevice, Name: op.Name}) {
			t.Errorf("%s is not an operation of devicemgmt.wsdl", op.Name)
		}
	}
	for _, op := range []string{"GetSystemLog", "GetZeroConfiguration", "UpgradeSystemFirmware", "GetRelayOutputs", "GetSystemUris"} {
		f.call(t, securityHeader("admin", "secret"), "<tds:"+op+"/>").fault(t, 500, "Receiver/ActionNotSupported")
	}
}

// TestUnimplementedOperationsByLevel: an operation the bridge does not
// implement is classed by what it would do, so a user whose level may not
// call it gets NotAuthorized and never learns whether it is supported.
func TestUnimplementedOperationsByLevel(t *testing.T) {
	f := newDevFixture(t, "")
	if err := f.d.Store.CreateUsers([]User{
		{Name: "viewer", Password: "pw", Level: LevelUser},
		{Name: "operator", Password: "pw", Level: LevelOperator},
	}); err != nil {
		t.Fatal(err)
	}
	const notAuthorized, notSupported = "Sender/NotAuthorized", "Receiver/ActionNotSupported"
	cases := []struct {
		body            string
		user, op, admin string // the fault each level gets
	}{
		{"<tds:GetZeroConfiguration/>", notSupported, notSupported, notSupported},
		{"<tds:GetRelayOutputs/>", notSupported, notSupported, notSupported},
		{"<tds:SetNTP><tds:FromDHCP>false</tds:FromDHCP></tds:SetNTP>", notAuthorized, notAuthorized, notSupported},
		{"<tds:SetDNS><tds:FromDHCP>false</tds:FromDHCP></tds:SetDNS>", notAuthorized, notAuthorized, notSupported},
		{"<tds:CreateCertificate/>", notAuthorized, notAuthorized, notSupported},
		{"<tds:DeleteGeoLocation/>", notAuthorized, notAuthorized, notSupported},
		{"<tds:UpgradeSystemFirmware/>", notAuthorized, notAuthorized, notSupported},
		{"<tds:RestoreSystem/>", notAuthorized, notAuthorized, notSupported},
		{"<tds:GetSystemLog><tds:LogType>System</tds:LogType></tds:GetSystemLog>", notAuthorized, notAuthorized, notSupported},
		{"<tds:GetSystemBackup/>", notAuthorized, notAuthorized, notSupported},
		{"<tds:GetCertificates/>", notAuthorized, notAuthorized, notSupported},
		{"<tds:GetAccessPolicy/>", notAuthorized, notAuthorized, notSupported},
		{"<trt:GetMetadataConfigurations/>", notSupported, notSupported, notSupported},
		{"<trt:AddPTZConfiguration><trt:ProfileToken>jpeg</trt:ProfileToken><trt:ConfigurationToken>p</trt:ConfigurationToken></trt:AddPTZConfiguration>", notAuthorized, notSupported, notSupported},
		{"<trt:StartMulticastStreaming><trt:ProfileToken>jpeg</trt:ProfileToken></trt:StartMulticastStreaming>", notAuthorized, notSupported, notSupported},
	}
	status := map[string]int{notAuthorized: http.StatusBadRequest, notSupported: http.StatusInternalServerError}
	for _, c := range cases {
		for _, u := range []struct{ name, password, want string }{
			{"viewer", "pw", c.user}, {"operator", "pw", c.op}, {"admin", "secret", c.admin},
		} {
			f.call(t, securityHeader(u.name, u.password), c.body).fault(t, status[u.want], u.want)
		}
	}
}

func TestEndpointReference(t *testing.T) {
	f := newDevFixture(t, "")
	r := f.call(t, "", "<tds:GetEndpointReference/>")
	if got := texts(r.root, "GUID"); len(got) != 1 || got[0] != "urn:uuid:"+f.d.UUID.String() {
		t.Errorf("GUID %q", got)
	}
}

// TestSOAP11Device: a SOAP 1.1 request (text/xml, as some firmwares and
// clients send) gets a schema-valid SOAP 1.1 answer.
func TestSOAP11Device(t *testing.T) {
	f := newDevFixture(t, "")
	env := `<?xml version="1.0"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="` + wsdl.NSSOAP11 + `"><SOAP-ENV:Body>` +
		`<GetSystemDateAndTime xmlns="` + wsdl.NSDevice + `"/></SOAP-ENV:Body></SOAP-ENV:Envelope>`
	resp, err := f.srv.Client().Post(f.url, "text/xml; charset=utf-8", strings.NewReader(env))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") {
		t.Fatalf("%d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	f.schemas.Add(b, "{"+wsdl.NSDevice+"}GetSystemDateAndTimeResponse")
	if e, err := soap.ParseEnvelope(b, soap.Limits{}); err != nil || e.Version != soap.V11 {
		t.Errorf("not a SOAP 1.1 answer: %v %s", err, b)
	}
}

// TestZeepClient drives the device service with zeep, the SOAP library of
// Home Assistant's ONVIF integration, built from the official WSDL: every
// request is built from the WSDL and carries a zeep-made PasswordDigest
// token, and every response goes through zeep's WSDL-driven parser in
// strict mode, as in Home Assistant (testdata/zeep_device.py). Exact value
// types are checked by the xmllint validation of the other tests.
func TestZeepClient(t *testing.T) {
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import zeep").Run(); err != nil {
		testutil.Unavailable(t, "python3-zeep not installed: %v", err)
	}
	wsdlDir, err := xsdcheck.Dir()
	if err != nil {
		testutil.Unavailable(t, "WSDL set not found: %v", err)
	}
	f := newDevFixture(t, "")
	out, err := exec.Command(python, "testdata/zeep_device.py", wsdlDir, f.url, "admin", "secret").Output()
	var res struct {
		Errors           []string
		UTC              string
		Serial, MAC      string
		XAddrs, Services []string
		Users            []string
		FixedScopeFault  []string `json:"fixed_scope_fault"`
		UnsupportedFault []string `json:"unsupported_fault"`
	}
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		t.Fatalf("zeep client: %v %v\n%s", err, jerr, out)
	}
	for _, e := range res.Errors {
		t.Errorf("zeep: %s", e)
	}
	if utc, err := time.Parse(time.RFC3339, res.UTC); err != nil || time.Since(utc).Abs() > 10*time.Second {
		t.Errorf("UTC time %q (%v)", res.UTC, err)
	}
	if res.MAC != f.d.MAC.String() || res.Serial != f.d.Serial {
		t.Errorf("MAC %q serial %q", res.MAC, res.Serial)
	}
	if strings.Join(res.Services, " ") != wsdl.NSDevice+" "+wsdl.NSMedia || len(res.XAddrs) != 2 {
		t.Errorf("services %q, XAddrs %q", res.Services, res.XAddrs)
	}
	if !slices.Contains(res.Users, "zeep") {
		t.Errorf("users %q", res.Users)
	}
	if strings.Join(res.FixedScopeFault, " ") != "env:Sender {"+wsdl.NSError+"}OperationProhibited {"+wsdl.NSError+"}FixedScope" {
		t.Errorf("RemoveScopes fault %q", res.FixedScopeFault)
	}
	if strings.Join(res.UnsupportedFault, " ") != "env:Receiver {"+wsdl.NSError+"}ActionNotSupported" {
		t.Errorf("GetSystemLog fault %q", res.UnsupportedFault)
	}
	if got := f.d.Store.Get().Hostname; got != "zeep-cam" {
		t.Errorf("SetHostname from zeep: %q", got)
	}
}
