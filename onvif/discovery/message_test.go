package discovery

import (
	"encoding/xml"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/chinesium/chinesium/internal/xsdcheck"
)

// testTarget is a virtual device for tests.
type testTarget struct {
	mu           sync.Mutex
	id           uuid.UUID
	name         string
	port         int
	scopes       []string
	discoverable bool
	version      uint32
}

func newTestTarget(name string, port int) *testTarget {
	return &testTarget{
		id:   uuid.NewSHA1(uuid.NameSpaceURL, []byte("chinesium-test/"+name)),
		name: name,
		port: port,
		scopes: []string{
			"onvif://www.onvif.org/Profile/Streaming",
			"onvif://www.onvif.org/hardware/IWFCam",
			"onvif://www.onvif.org/name/" + name,
			"onvif://www.onvif.org/type/video_encoder",
		},
		discoverable: true,
		version:      1,
	}
}

func (t *testTarget) EndpointUUID() uuid.UUID { return t.id }
func (t *testTarget) Scopes() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.scopes)
}
func (t *testTarget) XAddrs(local netip.Addr) []string {
	return []string{"http://" + netip.AddrPortFrom(local, uint16(t.port)).String() + "/onvif/device_service"}
}
func (t *testTarget) Discoverable() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.discoverable
}
func (t *testTarget) setDiscoverable(v bool) {
	t.mu.Lock()
	t.discoverable = v
	t.mu.Unlock()
}
func (t *testTarget) MetadataVersion() uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.version
}
func (t *testTarget) addr() string { return "urn:uuid:" + t.id.String() }

func readProbe(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "probes", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// probeStyles are the Probe variants real clients send, with whether we must answer.
var probeStyles = []struct {
	file   string
	answer bool
}{
	{"odm.xml", true},         // dn declared on the Envelope, empty <Scopes />
	{"usego.xml", true},       // prefix dp0 declared on Types itself
	{"tds.xml", true},         // tds:Device
	{"empty.xml", true},       // empty Types
	{"scope-ha.xml", true},    // Home Assistant: scope Profile/Streaming, no Types
	{"other-type.xml", false}, // dn:NetworkVideoDisplay is not us
}

func TestParseProbeStyles(t *testing.T) {
	for _, ps := range probeStyles {
		t.Run(ps.file, func(t *testing.T) {
			m, err := Parse(readProbe(t, ps.file))
			if err != nil {
				t.Fatal(err)
			}
			if m.Action != ActionProbe {
				t.Fatalf("action %q", m.Action)
			}
			if m.MessageID == "" {
				t.Error("no MessageID")
			}
			ok := MatchTypes(m.Types) && MatchScopes(m.MatchBy, m.Scopes, newTestTarget("x", 1).Scopes())
			if ok != ps.answer {
				t.Errorf("match = %v, want %v (types %v, scopes %v)", ok, ps.answer, m.Types, m.Scopes)
			}
		})
	}
	m, _ := Parse(readProbe(t, "usego.xml"))
	if want := []xml.Name{TypeNVT}; !slices.Equal(m.Types, want) {
		t.Errorf("use-go types %v, want %v", m.Types, want)
	}
	if m.ReplyTo != ToAnonymous {
		t.Errorf("ReplyTo %q", m.ReplyTo)
	}
}

func TestParseRejects(t *testing.T) {
	cases := map[string]string{
		"not xml":         "hello",
		"not envelope":    `<a xmlns="x"/>`,
		"soap no body":    `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"/>`,
		"other body":      `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><x:Probe xmlns:x="urn:other"/></s:Body></s:Envelope>`,
		"undeclared type": `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><d:Probe xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><d:Types>zz:Device</d:Types></d:Probe></s:Body></s:Envelope>`,
		"long id":         `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"><s:Header><a:MessageID>` + strings.Repeat("x", 300) + `</a:MessageID></s:Header><s:Body><d:Probe xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"/></s:Body></s:Envelope>`,
		"huge":            strings.Repeat(" ", MaxMessageSize+1),
		"unclosed":        `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><d:Probe xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery">`,
		"resolve no epr":  `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><d:Resolve xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"/></s:Body></s:Envelope>`,
	}
	for name, in := range cases {
		if m, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: parsed as %+v", name, m)
		}
	}
}

func TestMatchScopes(t *testing.T) {
	have := newTestTarget("Front Door", 1).Scopes()
	cases := []struct {
		rule string
		req  []string
		want bool
	}{
		{"", []string{"onvif://www.onvif.org/Profile/Streaming"}, true},
		{"", []string{"ONVIF://WWW.ONVIF.ORG/Profile/Streaming"}, true},  // scheme, authority case-insensitive
		{"", []string{"onvif://www.onvif.org/profile/Streaming"}, false}, // path case-sensitive
		{"", []string{"onvif://www.onvif.org/Profile"}, true},            // segment-wise prefix
		{"", []string{"onvif://www.onvif.org/Profile/"}, true},
		{"", []string{"onvif://www.onvif.org/Prof"}, false}, // not a string prefix
		{"", []string{"onvif://www.onvif.org/"}, true},
		{"", []string{"onvif://www.onvif.org/Profile/Streaming", "onvif://www.onvif.org/hardware/IWFCam"}, true},
		{"", []string{"onvif://www.onvif.org/Profile/Streaming", "onvif://www.onvif.org/hardware/Other"}, false},
		{"", []string{"onvif://www.onvif.org/Profile/Streaming/More"}, false},
		{"", []string{"onvif://www.onvif.org/name/Front%20Door"}, false}, // have holds the raw name
		{MatchRFC3986, []string{"onvif://www.onvif.org/type"}, true},
		{MatchStrcmp0, []string{"onvif://www.onvif.org/type/video_encoder"}, true},
		{MatchStrcmp0, []string{"onvif://www.onvif.org/type"}, false},
		{"urn:unknown-rule", []string{"onvif://www.onvif.org/type"}, false},
		{"", []string{"onvif://www.onvif.org/Profile/../Profile"}, false},
	}
	for _, c := range cases {
		if got := MatchScopes(c.rule, c.req, have); got != c.want {
			t.Errorf("MatchScopes(%q, %q) = %v, want %v", c.rule, c.req, got, c.want)
		}
	}
}

func TestMessagesRoundTripAndValidate(t *testing.T) {
	tg := newTestTarget("Garden <cam> & co", 8081)
	local := netip.MustParseAddr("10.0.0.5")
	m := Match{
		Address:         tg.addr(),
		Types:           []xml.Name{TypeNVT, TypeDevice},
		Scopes:          append(tg.Scopes(), "onvif://www.onvif.org/location/with space"),
		XAddrs:          tg.XAddrs(local),
		MetadataVersion: 7,
	}
	h := Header{MessageID: "urn:uuid:" + uuid.NewString(), RelatesTo: "uuid:abc", To: ToAnonymous, InstanceID: 1700000000, MessageNumber: 3}
	for _, a := range []Action{ActionProbeMatches, ActionResolveMatches, ActionHello, ActionBye, ActionProbe} {
		t.Run(string(a), func(t *testing.T) {
			b := AppendMessage(nil, a, h, m)
			xsdcheck.Check(t, b, "{"+NSDiscovery+"}"+string(a))
			got, err := Parse(b)
			if err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			if got.Action != a || got.MessageID != h.MessageID || got.RelatesTo != h.RelatesTo ||
				got.InstanceID != 1700000000 || got.MessageNumber != 3 {
				t.Errorf("header %+v", got)
			}
			if a == ActionProbe {
				if !got.HasTypes || !slices.Equal(got.Types, m.Types) {
					t.Errorf("probe types %v", got.Types)
				}
				return
			}
			if len(got.Matches) != 1 {
				t.Fatalf("%d matches", len(got.Matches))
			}
			g := got.Matches[0]
			if g.Address != m.Address {
				t.Errorf("address %q", g.Address)
			}
			if a == ActionBye {
				return
			}
			if !slices.Equal(g.Types, m.Types) || !slices.Equal(g.XAddrs, m.XAddrs) || g.MetadataVersion != 7 {
				t.Errorf("match %+v", g)
			}
			if !slices.Contains(g.Scopes, "onvif://www.onvif.org/location/with%20space") || len(g.Scopes) != len(m.Scopes) {
				t.Errorf("scopes %q", g.Scopes)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	entries, err := os.ReadDir(filepath.Join("testdata", "probes"))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		f.Add(readProbe(f, e.Name()))
	}
	tg := newTestTarget("fuzz", 80)
	f.Add(AppendMessage(nil, ActionHello, Header{MessageID: "urn:uuid:1", To: ToDiscovery}, Match{
		Address: tg.addr(), Scopes: tg.Scopes(), XAddrs: tg.XAddrs(netip.MustParseAddr("10.1.1.1")), MetadataVersion: 2,
	}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		if len(m.MessageID) > maxIDLen || len(m.Scopes) > maxListItems || len(m.Types) > maxListItems {
			t.Fatalf("unbounded result: %+v", m)
		}
		// Whatever parses must survive being echoed into an answer and read back.
		out := AppendMessage(nil, ActionProbeMatches, Header{MessageID: "urn:uuid:x", RelatesTo: m.MessageID, To: ToAnonymous}, Match{Address: tg.addr()})
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("answer does not parse: %v\n%s", err, out)
		}
		if back.RelatesTo != strings.TrimSpace(m.MessageID) {
			t.Fatalf("RelatesTo %q, want %q", back.RelatesTo, m.MessageID)
		}
		for _, mt := range m.Matches {
			out := AppendMessage(nil, ActionHello, Header{MessageID: "urn:uuid:y", To: ToDiscovery}, mt)
			back, err := Parse(out)
			if err != nil || len(back.Matches) != 1 {
				t.Fatalf("hello does not parse: %v\n%s", err, out)
			}
			if back.Matches[0].Address != mt.Address || !slices.Equal(back.Matches[0].XAddrs, mt.XAddrs) {
				t.Fatalf("hello round trip %+v != %+v", back.Matches[0], mt)
			}
		}
	})
}
