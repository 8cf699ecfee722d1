package onvif

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chinesium/chinesium/soap"
	"github.com/chinesium/chinesium/wsdl"
)

// The structured fuzz of every operation: envelopes for each operation the
// services declare (implemented or not), whose children and attributes are
// generated from the fuzzer's bytes out of the names the handlers read
// and values of the kinds they parse, so that the fuzzer spends its time
// inside the handlers rather than on XML the parser refuses.

// fuzzElements are the element names the handlers look for, and a few
// they do not.
var fuzzElements = []string{
	"ProfileToken", "ConfigurationToken", "Token", "Name", "Configuration", "StreamSetup", "Stream", "Transport",
	"Protocol", "Tunnel", "SourceToken", "Encoding", "Resolution", "Width", "Height", "Quality", "RateControl",
	"FrameRateLimit", "EncodingInterval", "BitrateLimit", "Bitrate", "GovLength", "H264", "Multicast", "SessionTimeout",
	"SampleRate", "Bounds", "ForcePersistence", "Scopes", "ScopeItem", "ScopeDef", "Hostname", "DiscoveryMode",
	"User", "Username", "Password", "UserLevel", "Category", "IncludeCapability", "DateTimeType", "DaylightSavings",
	"TimeZone", "TZ", "UTCDateTime", "Date", "Time", "Year", "Month", "Day", "Hour", "Minute", "Second",
	"FactoryDefault", "Filter", "TopicExpression", "MessageContent", "InitialTerminationTime", "TerminationTime",
	"SubscriptionPolicy", "ChangedOnly", "ConsumerReference", "Address", "Timeout", "MessageLimit",
	"ProfileCapabilities", "Type", "OSDToken", "OSD", "Extension", "Unknown",
}

// fuzzAttributes are attribute names the handlers read.
var fuzzAttributes = []string{"token", "Dialect", "fixed", "x", "y", "width", "height", "Type", "Name", "Value", "other"}

// fuzzPrefixes are the namespace prefixes the envelope declares ("" is
// none: an element in no namespace).
var fuzzPrefixes = []string{"tt:", "trt:", "tds:", "tev:", "wsnt:", "wsa:", ""}

// fuzzTokens are values the handlers know.
var fuzzTokens = []string{
	JPEGProfileToken, H264ProfileToken, VideoSourceToken, VideoSourceConfigToken, JPEGEncoderToken, H264EncoderToken,
	AudioSourceToken, AudioSourceConfigToken, AudioEncoderToken, "JPEG", "H264", "G711", "RTP-Unicast", "RTP-Multicast",
	"UDP", "TCP", "RTSP", "HTTP", "Administrator", "Operator", "User", "Anonymous", "NTP", "Manual", "Discoverable",
	"NonDiscoverable", "All", "Media", "Events", "Hard", "Soft", DialectConcreteSet, DialectConcrete,
	"tns1:VideoSource/MotionAlarm", "tns1:VideoSource//.", "tns1:RuleEngine//.|tns1:VideoSource/SignalLoss",
	"onvif://www.onvif.org/name/x", "onvif://www.onvif.org/location/", "http://127.0.0.1:1/hook", "https://[::1]/",
	"true", "false", "", " ",
}

// fuzzGen turns the fuzzer's bytes into a request element's content.
type fuzzGen struct{ b []byte }

func (g *fuzzGen) next() int {
	if len(g.b) == 0 {
		return 0
	}
	c := g.b[0]
	g.b = g.b[1:]
	return int(c)
}

func (g *fuzzGen) pick(n int) int { return g.next() % n }

// value is a text of a kind some handler parses.
func (g *fuzzGen) value() string {
	switch g.pick(9) {
	case 0, 1:
		return fuzzTokens[g.pick(len(fuzzTokens))]
	case 2:
		return strconv.Itoa(g.next()*g.next() - 128*g.next())
	case 3:
		return []string{"PT0S", "PT0.01S", "PT1S", "-PT5S", "P1D", "PT99999999999H", "P1Y2M3DT4H5M6.7S", "PT", "1"}[g.pick(9)]
	case 4:
		return []string{"2026-11-25T12:00:00Z", "2026-11-25T12:00:00", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59+14:00", "x"}[g.pick(5)]
	case 5:
		return []string{"0.5", "-1", "1e309", "NaN", "Inf", "100", "65536", "4294967296"}[g.pick(8)]
	case 6:
		return strings.Repeat("a", g.next()*g.next()/16)
	default:
		// Raw bytes, escaped so that the envelope stays XML.
		n := g.pick(32)
		var b strings.Builder
		for range n {
			c := byte(g.next())
			switch {
			case c == '<':
				b.WriteString("&lt;")
			case c == '&':
				b.WriteString("&amp;")
			case c == '"':
				b.WriteString("&quot;")
			case c < 0x20 && c != '\t' && c != '\n', c >= 0x80:
				b.WriteString("&#" + strconv.Itoa(int(c)+0x100) + ";")
			default:
				b.WriteByte(c)
			}
		}
		return b.String()
	}
}

// children appends up to three generated elements, nested depth deep.
func (g *fuzzGen) children(b *strings.Builder, depth int) {
	for range g.pick(4) {
		name := fuzzPrefixes[g.pick(len(fuzzPrefixes))] + fuzzElements[g.pick(len(fuzzElements))]
		b.WriteString("<" + name)
		for range g.pick(3) {
			fmt.Fprintf(b, ` %s="%s"`, fuzzAttributes[g.pick(len(fuzzAttributes))], g.value())
		}
		b.WriteString(">")
		if depth > 0 && g.pick(2) == 0 {
			g.children(b, depth-1)
		} else {
			b.WriteString(g.value())
		}
		b.WriteString("</" + name + ">")
	}
}

// prefixOf is the prefix the envelope declares for a namespace.
var prefixOf = map[string]string{wsdl.NSDevice: "tds", wsdl.NSMedia: "trt", wsdl.NSEvents: "tev", wsdl.NSWSNT: "wsnt"}

// fuzzDevice returns the services of a fresh device with every service,
// open (no users), whose push notifications reach nobody.
func fuzzDevice(t testing.TB) (*soap.Endpoint, []wsdl.Op) {
	d := NewDevice("fuzz", "127.0.6.99")
	d.Store, _ = OpenStore("")
	d.Media = testURLs{}
	d.HasAudio, d.HasH264 = true, true
	noNetwork := &http.Client{Transport: &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no network in the fuzz test")
	}}}
	ev := NewEvents(EventsConfig{Client: noNetwork, NotifyRetries: 1, NotifyBackoff: time.Millisecond})
	t.Cleanup(ev.Close)
	ev.SetMotion(true)
	services := []soap.Service{DeviceService(d), MediaService(d), EventsService(ev)}
	ep, err := soap.NewEndpoint(soap.EndpointConfig{Services: services})
	if err != nil {
		t.Fatal(err)
	}
	var ops []wsdl.Op
	for _, s := range services {
		ops = append(ops, s.Declared...)
	}
	return ep, ops
}

// FuzzOperations sends every operation of the device, media and events
// services an envelope with generated content: the answer is the
// operation's response or a fault with ONVIF subcodes, never a panic or
// another internal error (a bare env:Receiver).
func FuzzOperations(f *testing.F) {
	_, ops := fuzzDevice(f)
	for i := range ops {
		f.Add(uint16(i), []byte{})
		f.Add(uint16(i), []byte{3, 1, 0, 1, 2, 0, 7, 5, 8, 200, 3, 9, 1, 0, 0, 4, 2, 1})
	}
	f.Fuzz(func(t *testing.T, which uint16, data []byte) {
		ep, ops := fuzzDevice(t)
		op := ops[int(which)%len(ops)]
		g := &fuzzGen{b: data}
		var b strings.Builder
		name := prefixOf[op.Namespace] + ":" + op.Name
		b.WriteString("<" + name + ">")
		g.children(&b, 3)
		b.WriteString("</" + name + ">")
		body := soapEnvelope(envelopeNS, "", b.String())
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, DeviceServicePath, strings.NewReader(body)).WithContext(ctx)
		req.RemoteAddr = "127.0.0.1:40000"
		ep.ServeHTTP(rec, req)
		if ctx.Err() != nil && rec.Body.Len() == 0 {
			return // a PullMessages waiting longer than the test does
		}
		r := parseResult(t, rec.Code, rec.Body.Bytes())
		if rec.Code != http.StatusOK && !strings.Contains(r.codes(), "/") {
			t.Fatalf("%s: internal error %d %q\nrequest: %s\nanswer: %s", op.Name, rec.Code, r.codes(), body, rec.Body)
		}
	})
}
