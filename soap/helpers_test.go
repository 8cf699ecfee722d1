package soap

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/httpauth"
	"github.com/chinesium/chinesium/wsdl"
)

// levelUsers is a Users store with levels, like onvif.Store.
type levelUsers map[string][2]string // name -> {password, level}

func (u levelUsers) Password(n string) (string, bool) { p, ok := u[n]; return p[0], ok }
func (u levelUsers) Level(n string) (string, bool)    { p, ok := u[n]; return p[1], ok }
func (u levelUsers) Len() int                         { return len(u) }

var testUsers = levelUsers{
	"admin":  {"s3cret", LevelAdministrator},
	"viewer": {"view", LevelUser},
}

var (
	opDate   = wsdl.Op{Namespace: wsdl.NSDevice, Name: wsdl.DeviceGetSystemDateAndTime}
	opScopes = wsdl.Op{Namespace: wsdl.NSDevice, Name: wsdl.DeviceGetScopes}
	opReboot = wsdl.Op{Namespace: wsdl.NSDevice, Name: wsdl.DeviceSystemReboot}
	opPanic  = wsdl.Op{Namespace: wsdl.NSDevice, Name: wsdl.DeviceGetHostname}
	opErr    = wsdl.Op{Namespace: wsdl.NSDevice, Name: wsdl.DeviceGetDNS}
	opFault  = wsdl.Op{Namespace: wsdl.NSDevice, Name: wsdl.DeviceGetNTP}
)

// testService serves a few device operations whose responses echo who
// called them; replace overrides operations of the same name.
func testService(sec *Security, replace ...Op) EndpointConfig {
	echo := func(name string) Handler {
		return func(_ context.Context, r *Request) (*etree.Element, error) {
			e := etree.NewElement("tds:" + name + "Response")
			e.CreateAttr("user", r.User) // not schema-valid; these tests check the SOAP layer
			return e, nil
		}
	}
	ops := []Op{
		{Name: opDate.Name, Handle: echo("GetSystemDateAndTime"), Access: PreAuth},
		{Name: opScopes.Name, Handle: echo("GetScopes"), Access: ReadSystem},
		{Name: opReboot.Name, Handle: echo("SystemReboot"), Access: Unrecoverable},
		{Name: opPanic.Name, Handle: func(context.Context, *Request) (*etree.Element, error) { panic("boom") }, Access: PreAuth},
		{Name: opErr.Name, Handle: func(context.Context, *Request) (*etree.Element, error) { return nil, io.ErrUnexpectedEOF }, Access: PreAuth},
		{Name: opFault.Name, Handle: func(context.Context, *Request) (*etree.Element, error) { return nil, NoProfile("x<y") }, Access: PreAuth},
	}
	for _, r := range replace {
		for i := range ops {
			if ops[i].Name == r.Name {
				ops[i] = r
			}
		}
	}
	return EndpointConfig{
		Security: sec,
		Services: []Service{{Namespace: wsdl.NSDevice, Path: "/onvif/device_service", Ops: ops}},
	}
}

// newEndpoint builds the endpoint of cfg.
func newEndpoint(t testing.TB, cfg EndpointConfig) *Endpoint {
	t.Helper()
	e, err := NewEndpoint(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func newSecurity() *Security {
	// A nonce cache of its own: tests reuse fixed nonces.
	return &Security{Auth: httpauth.New("test", testUsers), Nonces: &NonceCache{}}
}

func startServer(t *testing.T, cfg EndpointConfig) string {
	t.Helper()
	srv := httptest.NewServer(newEndpoint(t, cfg))
	t.Cleanup(srv.Close)
	return srv.URL + "/onvif/device_service"
}

// envelope builds a request in version v with an optional Header content.
func envelope(v Version, header, body string) string {
	ns := v.Namespace()
	h := ""
	if header != "" {
		h = "<s:Header>" + header + "</s:Header>"
	}
	return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="` + ns + `" xmlns:tds="` + wsdl.NSDevice + `">` + h + "<s:Body>" + body + "</s:Body></s:Envelope>"
}

// token is a UsernameToken header as agsh/onvif and ODM send it.
func token(user, password string, created time.Time) string {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	return tokenWith(user, password, nonce, created.UTC().Format("2006-01-02T15:04:05.000Z"))
}

func tokenWith(user, password string, nonce []byte, created string) string {
	return `<wsse:Security s:mustUnderstand="1" xmlns:wsse="` + wsdl.NSWSSE + `" xmlns:wsu="` + wsdl.NSWSU + `"><wsse:UsernameToken>` +
		`<wsse:Username>` + user + `</wsse:Username>` +
		`<wsse:Password Type="` + wsdl.PasswordDigest + `">` + PasswordDigest(nonce, created, password) + `</wsse:Password>` +
		`<wsse:Nonce EncodingType="` + wsdl.Base64Binary + `">` + base64.StdEncoding.EncodeToString(nonce) + `</wsse:Nonce>` +
		`<wsu:Created>` + created + `</wsu:Created></wsse:UsernameToken></wsse:Security>`
}

type response struct {
	status int
	header http.Header
	body   []byte
	doc    *etree.Document
}

func post(t *testing.T, url, contentType, body string, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: b}
	if !strings.HasPrefix(string(b), "<?xml") {
		t.Fatalf("response does not start with the XML declaration: %q", b)
	}
	r.doc = etree.NewDocument()
	if err := r.doc.ReadFromBytes(b); err != nil {
		t.Fatalf("response is not XML: %v\n%s", err, b)
	}
	return r
}

// payload returns the first Body child of a response.
func (r response) payload(t *testing.T) *etree.Element {
	t.Helper()
	env, err := ParseEnvelope(r.body, Limits{})
	if err != nil {
		t.Fatalf("response is not a SOAP envelope: %v\n%s", err, r.body)
	}
	if env.Payload == nil {
		t.Fatalf("empty response body:\n%s", r.body)
	}
	return env.Payload
}

// faultCodes returns the code and subcodes of a SOAP 1.2 fault response
// as "Sender/ter:InvalidArgVal/ter:NoProfile" style local names.
func (r response) faultCodes(t *testing.T) string {
	t.Helper()
	p := r.payload(t)
	if p.Tag != "Fault" || p.NamespaceURI() != wsdl.NSSOAP12 {
		t.Fatalf("not a SOAP 1.2 fault:\n%s", r.body)
	}
	var parts []string
	for c := p.FindElement("Code"); c != nil; c = c.SelectElement("Subcode") {
		v := c.SelectElement("Value")
		if v == nil {
			t.Fatalf("fault code without Value:\n%s", r.body)
		}
		prefix, local, _ := strings.Cut(v.Text(), ":")
		ns := ""
		for e := v; e != nil; e = e.Parent() {
			if a := e.SelectAttr("xmlns:" + prefix); a != nil {
				ns = a.Value
				break
			}
		}
		switch ns {
		case wsdl.NSSOAP12:
			parts = append(parts, "env:"+local)
		case wsdl.NSError:
			parts = append(parts, "ter:"+local)
		default:
			t.Fatalf("fault code %q in namespace %q", v.Text(), ns)
		}
	}
	return strings.Join(parts, "/")
}

// digestAuthorization answers an MD5 digest challenge like curl does, with
// nonce count 1.
func digestAuthorization(t *testing.T, challenges []string, user, password, method, uri string) string {
	t.Helper()
	return digestAuthorizationNC(t, challenges, user, password, method, uri, 1)
}

// digestAuthorizationNC is digestAuthorization with nonce count nc.
func digestAuthorizationNC(t *testing.T, challenges []string, user, password, method, uri string, count int) string {
	t.Helper()
	var params map[string]string
	for _, c := range challenges {
		if strings.HasPrefix(c, "Digest ") && strings.Contains(c, "algorithm=MD5") {
			params = map[string]string{}
			for _, kv := range strings.Split(strings.TrimPrefix(c, "Digest "), ",") {
				k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
				params[k] = strings.Trim(v, `"`)
			}
		}
	}
	if params == nil {
		t.Fatalf("no MD5 digest challenge in %q", challenges)
	}
	h := func(s string) string { x := md5.Sum([]byte(s)); return hex.EncodeToString(x[:]) }
	cnonce, nc := "0a4f113b", fmt.Sprintf("%08x", count)
	ha1 := h(user + ":" + params["realm"] + ":" + password)
	ha2 := h(method + ":" + uri)
	resp := h(ha1 + ":" + params["nonce"] + ":" + nc + ":" + cnonce + ":auth:" + ha2)
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=MD5, qop=auth, nc=%s, cnonce="%s", response="%s"`,
		user, params["realm"], params["nonce"], uri, nc, cnonce, resp)
}
