package onvif

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/httpauth"
	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/internal/xsdcheck"
	"github.com/chinesium/chinesium/soap"
	"github.com/chinesium/chinesium/wsdl"
)

// The one test harness of the package's services: an endpoint serving
// them over real HTTP the way the bridge mounts it (every path), and one
// call that posts an operation and returns the parsed answer or fault.

// testEndpoint serves services over real HTTP on loopback.
type testEndpoint struct {
	ep      *soap.Endpoint
	srv     *httptest.Server
	schemas *xsdcheck.Batch // every response checked with ok or fault is validated when the test ends
}

// serve starts an endpoint for services; with users it authenticates
// requests against them, without (nil) it is open.
func serve(t testing.TB, users httpauth.Users, services ...soap.Service) *testEndpoint {
	t.Helper()
	cfg := soap.EndpointConfig{Services: services}
	if users != nil {
		cfg.Security = &soap.Security{Auth: httpauth.New("test", users)}
	}
	ep, err := soap.NewEndpoint(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ep)
	t.Cleanup(srv.Close)
	return &testEndpoint{ep: ep, srv: srv, schemas: xsdcheck.NewBatch(t)}
}

// call is one request.
type call struct {
	// Body is the request element as XML; the envelope declares the
	// prefixes tds, trt, tt, tev, wsnt and wsa.
	Body string
	// Header is a whole s:Header element (securityHeader), "" for none.
	Header string
	// URL is the full URL to post to; "" means the endpoint's Path.
	URL string
	// Path is the path on the endpoint, "" for DeviceServicePath.
	Path string
	// Host overrides the Host header.
	Host string
}

// result is a parsed answer.
type result struct {
	op      wsdl.Op // the request element
	status  int
	body    []byte
	root    *etree.Element // the first child of the response Body
	schemas *xsdcheck.Batch
}

// envelopeNS are the namespace declarations of every test request.
var envelopeNS = `xmlns:tds="` + wsdl.NSDevice + `" xmlns:trt="` + wsdl.NSMedia + `" xmlns:tt="` + wsdl.NSSchema +
	`" xmlns:tev="` + wsdl.NSEvents + `" xmlns:wsnt="` + wsdl.NSWSNT + `" xmlns:wsa="` + wsdl.NSWSA + `"`

// soapEnvelope returns a SOAP 1.2 envelope declaring the s prefix and the
// namespace declarations ns, holding header (a whole s:Header element or
// "") and body (the inner XML of s:Body).
func soapEnvelope(ns, header, body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="` + wsdl.NSSOAP12 + `" ` + ns + `>` +
		header + `<s:Body>` + body + `</s:Body></s:Envelope>`
}

// do posts c and parses the answer, which must be a SOAP envelope.
func (e *testEndpoint) do(t testing.TB, c call) result {
	t.Helper()
	url := c.URL
	if url == "" {
		path := c.Path
		if path == "" {
			path = DeviceServicePath
		}
		url = e.srv.URL + path
	}
	env := soapEnvelope(envelopeNS, c.Header, c.Body)
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(env))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", `application/soap+xml; charset=utf-8; action="x"`)
	if c.Host != "" {
		req.Host = c.Host
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return e.answer(t, resp, env)
}

// answer reads the answer to the request envelope sent.
func (e *testEndpoint) answer(t testing.TB, resp *http.Response, sent string) result {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := parseResult(t, resp.StatusCode, b)
	r.schemas = e.schemas
	if env, err := soap.ParseEnvelope([]byte(sent), soap.Limits{}); err == nil {
		r.op = env.Op()
	}
	return r
}

// parseResult parses a SOAP answer.
func parseResult(t testing.TB, status int, b []byte) result {
	t.Helper()
	env, err := soap.ParseEnvelope(b, soap.Limits{})
	if err != nil || env.Payload == nil {
		t.Fatalf("not a SOAP answer (HTTP %d, %v): %s", status, err, b)
	}
	return result{status: status, body: b, root: env.Payload}
}

// ok requires HTTP 200 and the operation's response element, queues the
// answer for schema validation and returns the response element.
func (r result) ok(t testing.TB) *etree.Element {
	t.Helper()
	want := r.op.Name + "Response"
	if r.status != http.StatusOK || r.root.Tag != want || r.root.NamespaceURI() != r.op.Namespace {
		t.Fatalf("%s: HTTP %d, want %s\n%s", r.op.Name, r.status, want, r.body)
	}
	if r.schemas != nil {
		r.schemas.Add(r.body, "{"+r.op.Namespace+"}"+want)
	}
	return r.root
}

// codes returns the fault's code and subcodes as local names,
// "Sender/InvalidArgVal/NoProfile", or "" when the answer is no fault.
func (r result) codes() string {
	if r.root.Tag != "Fault" {
		return ""
	}
	var got []string
	for c := r.root.FindElement("Code"); c != nil; c = c.SelectElement("Subcode") {
		v := c.SelectElement("Value")
		if v == nil {
			break
		}
		_, local, _ := strings.Cut(v.Text(), ":")
		got = append(got, local)
	}
	return strings.Join(got, "/")
}

// fault requires HTTP status and a fault with the given codes, e.g.
// "Sender/InvalidArgVal/NoScope", and queues it for schema validation.
func (r result) fault(t testing.TB, status int, codes string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d\n%s", r.op.Name, r.status, status, r.body)
	}
	if got := r.codes(); got != codes {
		t.Errorf("%s: fault %q, want %s\n%s", r.op.Name, got, codes, r.body)
	}
	if r.schemas != nil {
		r.schemas.Add(r.body, "{"+wsdl.NSSOAP12+"}Fault")
	}
}

var nonceCounter atomic.Uint64

// securityHeader returns an s:Header with a WS-Security UsernameToken
// PasswordDigest (a fresh nonce every call).
func securityHeader(user, password string) string {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce[:8])
	n := nonceCounter.Add(1)
	for i := range 8 {
		nonce[8+i] = byte(n >> (8 * i))
	}
	created := time.Now().UTC().Format(time.RFC3339)
	return fmt.Sprintf(`<s:Header><wsse:Security xmlns:wsse=%q xmlns:wsu=%q><wsse:UsernameToken>`+
		`<wsse:Username>%s</wsse:Username><wsse:Password Type=%q>%s</wsse:Password>`+
		`<wsse:Nonce EncodingType=%q>%s</wsse:Nonce><wsu:Created>%s</wsu:Created>`+
		`</wsse:UsernameToken></wsse:Security></s:Header>`,
		wsdl.NSWSSE, wsdl.NSWSU, user, wsdl.PasswordDigest, soap.PasswordDigest(nonce, created, password),
		wsdl.Base64Binary, base64.StdEncoding.EncodeToString(nonce), created)
}

// replay sends raw, a whole HTTP request exactly as a client writes it
// (request line, headers in their order, body), on a new connection and
// returns the parsed answer.
func (e *testEndpoint) replay(t testing.TB, raw string) result {
	t.Helper()
	resp, _ := testutil.ReplayHTTP(t, e.srv.Listener.Addr().String(), raw)
	_, body, _ := strings.Cut(raw, "\r\n\r\n")
	return e.answer(t, resp, body)
}
