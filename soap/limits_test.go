package soap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chinesium/chinesium/wsdl"
)

// The tests that need client addresses of their own use 127.0.19.x.

// attrs returns n attributes named <prefix>a<i>="".
func attrs(prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, ` %sa%d=""`, prefix, i)
	}
	return b.String()
}

// hostileBody is the attack of the limits: an envelope of about size bytes
// that is one element with ever more unique attributes, prefixed ones
// (whose namespace lookup walked every attribute) when prefixed is set.
func hostileBody(size int, prefixed bool) []byte {
	head := `<s:Envelope xmlns:s="` + wsdl.NSSOAP12 + `" xmlns:p="urn:p"><s:Body><tds:GetScopes xmlns:tds="` + wsdl.NSDevice + `"`
	tail := `/></s:Body></s:Envelope>`
	prefix := ""
	if prefixed {
		prefix = "p:"
	}
	var b bytes.Buffer
	b.WriteString(head)
	for i := 0; b.Len() < size-len(tail)-20; i++ {
		fmt.Fprintf(&b, ` %sa%d=""`, prefix, i)
	}
	b.WriteString(tail)
	return b.Bytes()
}

// ordinaryBody is a well-formed request of about size bytes within every
// limit: a GetScopes with many elements of text.
func ordinaryBody(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`<s:Envelope xmlns:s="` + wsdl.NSSOAP12 + `"><s:Body><tds:GetScopes xmlns:tds="` + wsdl.NSDevice + `">`)
	text := strings.Repeat("x", 1000)
	for b.Len() < size-1100 {
		b.WriteString("<tds:X>" + text + "</tds:X>")
	}
	b.WriteString(`</tds:GetScopes></s:Body></s:Envelope>`)
	return b.Bytes()
}

// gsoapHeader is an Envelope start tag as gSOAP-based clients send it:
// every namespace they know declared on the Envelope.
func gsoapHeader(n int) string {
	var b strings.Builder
	b.WriteString(`<SOAP-ENV:Envelope xmlns:SOAP-ENV="` + wsdl.NSSOAP12 + `" xmlns:tds="` + wsdl.NSDevice + `"`)
	for i := range n {
		fmt.Fprintf(&b, ` xmlns:ns%d="http://www.example.com/ns%d"`, i, i)
	}
	return b.String() + ">"
}

func TestLimits(t *testing.T) {
	t.Parallel()
	lim := Limits{}
	lim.setDefaults()
	wrap := func(inner string) string { return envelope(V12, "", "<tds:GetScopes>"+inner+"</tds:GetScopes>") }
	long := func(n int) string { return strings.Repeat("y", n) }
	cases := []struct {
		name string
		body string
		err  error // nil: accepted
	}{
		{"ordinary", envelope(V12, "", bodyScopes), nil},
		{"declaration comment cdata pi", `<?xml version='1.0' encoding='UTF-8'?><!-- a - comment --><s:Envelope xmlns:s = '` + wsdl.NSSOAP12 + `' ><s:Body><tds:GetScopes xmlns:tds="` + wsdl.NSDevice + `"><![CDATA[<a>]]]]><?pi x?></tds:GetScopes ></s:Body></s:Envelope>`, nil},
		{"gSOAP namespaces", gsoapHeader(60) + `<SOAP-ENV:Body><tds:GetScopes/></SOAP-ENV:Body></SOAP-ENV:Envelope>`, nil},
		{"attributes at the limit", wrap("<a" + attrs("", lim.MaxAttributes) + "/>"), nil},
		{"attributes per element", wrap("<a" + attrs("", lim.MaxAttributes+1) + "/>"), ErrTooMany},
		{"attributes in total", wrap(strings.Repeat("<a"+attrs("", 100)+"/>", lim.MaxTotalAttributes/100+1)), ErrTooMany},
		{"namespace declarations", wrap(strings.Repeat(`<a xmlns:q="urn:q" xmlns="urn:d"/>`, lim.MaxNamespaces/2+1)), ErrTooMany},
		{"xmlns-like names are attributes", wrap(strings.Repeat(`<a xmlnsx="1" xmlns_y="2"/>`, lim.MaxNamespaces/2+1)), nil},
		{"elements", wrap(strings.Repeat("<a/>", lim.MaxElements)), ErrTooMany},
		{"comments", wrap(strings.Repeat("<!---->", lim.MaxElements)), ErrTooMany},
		{"element name", wrap("<" + long(lim.MaxNameLength+1) + "/>"), ErrTooLong},
		{"attribute name", wrap("<a " + long(lim.MaxNameLength+1) + `="1"/>`), ErrTooLong},
		{"end tag name", wrap("<a></" + long(lim.MaxNameLength+1) + ">"), ErrTooLong},
		{"text at the limit", wrap(long(lim.MaxTextLength)), nil},
		{"text", wrap(long(lim.MaxTextLength + 1)), ErrTooLong},
		{"attribute value", wrap(`<a b="` + long(lim.MaxTextLength+1) + `"/>`), ErrTooLong},
		{"comment", wrap("<!--" + long(lim.MaxTextLength+1) + "-->"), ErrTooLong},
		{"cdata", wrap("<![CDATA[" + long(lim.MaxTextLength+1) + "]]>"), ErrTooLong},
		{"processing instruction", wrap("<?x " + long(lim.MaxTextLength+1) + "?>"), ErrTooLong},
		{"depth", wrap(strings.Repeat("<a>", lim.MaxDepth) + strings.Repeat("</a>", lim.MaxDepth)), ErrTooDeep},
		{"doctype", `<!DOCTYPE x [<!ENTITY a "b">]>` + envelope(V12, "", bodyScopes), ErrDoctype},
		{"unquoted value", wrap("<a b=c/>"), ErrMalformed},
		{"lt in value", wrap(`<a b="<"/>`), ErrMalformed},
		{"ends in a tag", envelope(V12, "", bodyScopes) + "<a b", ErrMalformed},
	}
	url := startServer(t, testService(nil))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseEnvelope([]byte(c.body), Limits{})
			if c.err == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
			} else if !errors.Is(err, c.err) {
				t.Fatalf("error %v, want %v", err, c.err)
			}
			// The endpoint applies the same limits while the body arrives.
			r := post(t, url, ct12, c.body)
			switch {
			case c.err == nil && r.status != http.StatusOK:
				t.Errorf("endpoint: %d\n%s", r.status, r.body)
			case c.err != nil && (r.status != http.StatusBadRequest || r.faultCodes(t) != "env:Sender/ter:WellFormed"):
				t.Errorf("endpoint: %d %s", r.status, r.body)
			}
		})
	}
}

// TestScanInPieces feeds the scanner a message cut at every byte: the
// verdict does not depend on how the body arrives.
func TestScanInPieces(t *testing.T) {
	t.Parallel()
	msgs := []string{
		`<?xml version="1.0"?><!-- c --><s:Envelope xmlns:s="` + wsdl.NSSOAP12 + `"><s:Body><x:A xmlns:x="urn:x" b='1' xmlns="urn:y"><![CDATA[]]>]]></x:A></s:Body></s:Envelope>`,
		`<a><b c="1"/></a>`,
		`<a xmlns:p="1" xmlns:q="2" xmlns:r="3"/>`,
		`<a x="1" y="2" z="3"/>`,
		`<a><b><c/></b></a>`,
		`<!DOCTYPE a><a/>`,
	}
	lim := Limits{MaxNamespaces: 2, MaxAttributes: 2, MaxDepth: 2}
	lim.setDefaults()
	for _, m := range msgs {
		want := lim.Scan([]byte(m))
		for cut := range len(m) + 1 {
			s := scanner{lim: lim}
			err := s.write([]byte(m[:cut]))
			if err == nil {
				err = s.write([]byte(m[cut:]))
			}
			if err == nil {
				err = s.close()
			}
			if (err == nil) != (want == nil) || (err != nil && !errors.Is(err, errors.Unwrap(want))) {
				t.Errorf("%s cut at %d: %v, whole: %v", m, cut, err, want)
			}
		}
	}
}

// TestHostileBodyCost: a body of unique prefixed attributes (ONVIF's
// requests have a handful) cost seconds of CPU when every attribute's
// namespace was looked up through all the attributes before it. Refused by
// the limits as it arrives, it must cost less than parsing an ordinary
// request of the same size, measured in the same run.
func TestHostileBodyCost(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, testService(nil))
	serve := func(body []byte) (time.Duration, int) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/onvif/device_service", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct12)
		start := time.Now()
		ep.ServeHTTP(rec, req)
		return time.Since(start), rec.Code
	}
	const size = DefaultMaxBodySize - 1024
	ordinary, hostile, hostilePlain := ordinaryBody(size), hostileBody(size, true), hostileBody(size, false)
	if _, code := serve(ordinary); code != http.StatusOK {
		t.Fatalf("ordinary %d-byte request: status %d", len(ordinary), code)
	}
	median := func(body []byte, wantCode int) time.Duration {
		var ds []time.Duration
		for range 5 {
			d, code := serve(body)
			if code != wantCode {
				t.Fatalf("status %d, want %d", code, wantCode)
			}
			ds = append(ds, d)
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	base := median(ordinary, http.StatusOK)
	for _, c := range []struct {
		name string
		body []byte
	}{{"prefixed", hostile}, {"unprefixed", hostilePlain}} {
		d := median(c.body, http.StatusBadRequest)
		t.Logf("%s attributes, %d bytes: %v; ordinary request of %d bytes: %v (ratio %.3f)", c.name, len(c.body), d, len(ordinary), base, float64(d)/float64(base))
		if d > base {
			t.Errorf("a body of %s attributes costs %v, more than an ordinary request of the same size (%v)", c.name, d, base)
		}
	}
}

// dialFrom returns an HTTP client whose connections come from local, a
// loopback address of the test's own.
func dialFrom(local string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// TestBusyPerClient: one client address holding its share of the body
// buffers (two large bodies that stall halfway) gets a fast 503 for the
// next request, while another client's request is served. When the stalled
// requests end, the first client is served again.
func TestBusyPerClient(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp4", "127.0.19.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ep := newEndpoint(t, testService(nil))
	srv := httptest.NewUnstartedServer(ep)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	url := srv.URL + "/onvif/device_service"

	// Two bodies of 1 MiB sent in part: each holds a 1 MiB buffer, the
	// client's share.
	var stalled []net.Conn
	for range 2 {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.19.2")}}
		nc, err := d.Dial("tcp4", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		body := ordinaryBody(DefaultMaxBodySize - 1024)
		fmt.Fprintf(nc, "POST /onvif/device_service HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", ct12, len(body))
		if _, err := nc.Write(body[:len(body)*3/4]); err != nil {
			t.Fatal(err)
		}
		stalled = append(stalled, nc)
	}
	held := int64(DefaultMaxBufferedBytesPerClient)
	for end := time.Now().Add(10 * time.Second); ep.buffered.inUse() < held; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("the stalled requests hold %d bytes, want %d", ep.buffered.inUse(), held)
		}
	}
	send := func(from string) *http.Response {
		resp, err := dialFrom(from).Post(url, ct12, strings.NewReader(envelope(V12, "", bodyScopes)))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if r := send("127.0.19.2"); r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
		t.Errorf("third request of the client: %s (Retry-After %q), want 503", r.Status, r.Header.Get("Retry-After"))
	}
	if r := send("127.0.19.3"); r.StatusCode != http.StatusOK {
		t.Errorf("request of another client: %s", r.Status)
	}
	if st := ep.Stats(); st.Busy != 1 {
		t.Errorf("Stats().Busy = %d, want 1", st.Busy)
	}
	for _, nc := range stalled {
		nc.Close()
	}
	for end := time.Now().Add(10 * time.Second); ep.buffered.inUse() != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%d bytes still held after the stalled clients left", ep.buffered.inUse())
		}
	}
	if r := send("127.0.19.2"); r.StatusCode != http.StatusOK {
		t.Errorf("the client after its stalled requests ended: %s", r.Status)
	}
}

func TestGate(t *testing.T) {
	t.Parallel()
	g := gate{max: 3, perClient: 2}
	if !g.acquire("a", 2) || g.acquire("a", 1) || !g.acquire("b", 1) || g.acquire("c", 1) {
		t.Fatal("limits not applied")
	}
	g.release("a", 2)
	if !g.acquire("c", 2) || g.inUse() != 3 {
		t.Fatal("release did not free the slots")
	}
	g.release("b", 1)
	g.release("c", 2)
	if g.inUse() != 0 || len(g.per) != 0 {
		t.Fatalf("in use %d, clients %v", g.inUse(), g.per)
	}
}
