package soap

import (
	"context"
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/internal/xsdcheck"
	"github.com/chinesium/chinesium/wsdl"
)

const ct12 = "application/soap+xml; charset=utf-8"

var (
	bodyDate   = `<tds:GetSystemDateAndTime/>`
	bodyScopes = `<tds:GetScopes/>`
	bodyReboot = `<tds:SystemReboot/>`
)

const faultQName = "{" + wsdl.NSSOAP12 + "}Fault"

func TestPreAuthWithoutCredentials(t *testing.T) {
	url := startServer(t, testService(newSecurity()))
	r := post(t, url, ct12, envelope(V12, "", bodyDate))
	if r.status != http.StatusOK {
		t.Fatalf("status %d:\n%s", r.status, r.body)
	}
	if p := r.payload(t); p.Tag != "GetSystemDateAndTimeResponse" || p.NamespaceURI() != wsdl.NSDevice {
		t.Fatalf("wrong response %s", r.body)
	}
	if got := r.header.Get("Content-Type"); got != ct12 {
		t.Errorf("Content-Type %q", got)
	}
	// Wrong credentials on a PRE_AUTH operation are ignored.
	r = post(t, url, ct12, envelope(V12, token("admin", "wrong", time.Now()), bodyDate))
	if r.status != http.StatusOK || r.payload(t).SelectAttrValue("user", "x") != "" {
		t.Fatalf("PRE_AUTH with a bad token: status %d\n%s", r.status, r.body)
	}
}

func TestNoCredentialsGets401WithChallengeAndFault(t *testing.T) {
	url := startServer(t, testService(newSecurity()))
	for _, body := range []string{bodyScopes, bodyReboot, `<tds:GetNoSuchThing/>`} {
		r := post(t, url, ct12, envelope(V12, "", body))
		if r.status != http.StatusUnauthorized {
			t.Fatalf("%s: status %d, want 401", body, r.status)
		}
		ch := r.header.Values("WWW-Authenticate")
		if len(ch) == 0 || !strings.HasPrefix(ch[0], "Digest ") {
			t.Errorf("challenges %q", ch)
		}
		if got := r.faultCodes(t); got != "env:Sender/ter:NotAuthorized" {
			t.Errorf("fault %s", got)
		}
		xsdcheck.Check(t, r.body, faultQName)
	}
}

func TestNoCredentialsWithoutHTTPAuthGets400(t *testing.T) {
	sec := newSecurity()
	sec.NoHTTPAuth = true
	url := startServer(t, testService(sec))
	r := post(t, url, ct12, envelope(V12, "", bodyScopes))
	if r.status != http.StatusBadRequest || r.faultCodes(t) != "env:Sender/ter:NotAuthorized" {
		t.Fatalf("status %d\n%s", r.status, r.body)
	}
	if len(r.header.Values("WWW-Authenticate")) != 0 {
		t.Error("challenge sent although HTTP authentication is off")
	}
	// A digest header is refused too.
	r = post(t, url, ct12, envelope(V12, "", bodyScopes), "Authorization", "Basic YWRtaW46czNjcmV0")
	if r.status != http.StatusBadRequest {
		t.Fatalf("HTTP auth accepted with NoHTTPAuth: %d", r.status)
	}
}

func TestHTTPDigestAccepted(t *testing.T) {
	url := startServer(t, testService(newSecurity()))
	first := post(t, url, ct12, envelope(V12, "", bodyScopes))
	path := "/onvif/device_service"
	auth := digestAuthorization(t, first.header.Values("WWW-Authenticate"), "admin", "s3cret", "POST", path)
	r := post(t, url, ct12, envelope(V12, "", bodyScopes), "Authorization", auth)
	if r.status != http.StatusOK || r.payload(t).SelectAttrValue("user", "") != "admin" {
		t.Fatalf("digest refused: %d\n%s", r.status, r.body)
	}
	// The same header again is a replay: stale=true, a new nonce.
	r = post(t, url, ct12, envelope(V12, "", bodyScopes), "Authorization", auth)
	if r.status != http.StatusUnauthorized || !strings.Contains(strings.Join(r.header.Values("WWW-Authenticate"), " "), "stale=true") {
		t.Fatalf("replayed digest: %d %q\n%s", r.status, r.header.Values("WWW-Authenticate"), r.body)
	}
	// A stale token beside valid Digest credentials: the Digest wins.
	stale := token("admin", "s3cret", time.Now().Add(-72*time.Hour))
	auth = digestAuthorizationNC(t, first.header.Values("WWW-Authenticate"), "admin", "s3cret", "POST", path, 2)
	r = post(t, url, ct12, envelope(V12, stale, bodyScopes), "Authorization", auth)
	if r.status != http.StatusOK {
		t.Fatalf("valid digest with a stale token: %d\n%s", r.status, r.body)
	}
	bad := digestAuthorization(t, first.header.Values("WWW-Authenticate"), "admin", "nope", "POST", path)
	r = post(t, url, ct12, envelope(V12, stale, bodyScopes), "Authorization", bad)
	if r.status != http.StatusBadRequest || r.faultCodes(t) != "env:Sender/ter:NotAuthorized" {
		t.Fatalf("bad digest and stale token: %d\n%s", r.status, r.body)
	}
	r = post(t, url, ct12, envelope(V12, "", bodyScopes), "Authorization", bad)
	if r.status != http.StatusUnauthorized || r.faultCodes(t) != "env:Sender/ter:NotAuthorized" {
		t.Fatalf("wrong digest password: %d\n%s", r.status, r.body)
	}
}

func TestUsernameToken(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	sec := newSecurity()
	sec.Now = func() time.Time { return now }
	sec.MaxSkew = time.Hour
	url := startServer(t, testService(sec))
	fixedNonce := []byte("0123456789abcdef")
	replayed := tokenWith("admin", "s3cret", fixedNonce, "2026-11-25T12:00:00Z")
	textToken := `<wsse:Security xmlns:wsse="` + wsdl.NSWSSE + `"><wsse:UsernameToken><wsse:Username>admin</wsse:Username>` +
		`<wsse:Password Type="` + wsdl.PasswordText + `">s3cret</wsse:Password></wsse:UsernameToken></wsse:Security>`
	noNonce := strings.Replace(token("admin", "s3cret", now), "<wsse:Nonce", "<wsse:Ignored", 1)
	noNonce = strings.Replace(noNonce, "</wsse:Nonce>", "</wsse:Ignored>", 1)

	cases := []struct {
		name   string
		header string
		body   string
		status int
	}{
		{"digest", token("admin", "s3cret", now), bodyScopes, 200},
		{"digest, fresh nonce", replayed, bodyScopes, 200},
		{"replayed nonce", replayed, bodyScopes, 400},
		{"wrong password", token("admin", "s3cret!", now), bodyScopes, 400},
		{"unknown user", token("root", "s3cret", now), bodyScopes, 400},
		{"created too old", token("admin", "s3cret", now.Add(-61*time.Minute)), bodyScopes, 400},
		{"created in the future", token("admin", "s3cret", now.Add(61*time.Minute)), bodyScopes, 400},
		{"skew within the window", token("admin", "s3cret", now.Add(-59*time.Minute)), bodyScopes, 200},
		{"digest without nonce", noNonce, bodyScopes, 400},
		{"password text", textToken, bodyScopes, 200},
		{"level User may read", token("viewer", "view", now), bodyScopes, 200},
		{"level User may not reboot", token("viewer", "view", now), bodyReboot, 400},
		{"administrator may reboot", token("admin", "s3cret", now), bodyReboot, 200},
		{"malformed token", `<wsse:Security xmlns:wsse="` + wsdl.NSWSSE + `"><wsse:UsernameToken/></wsse:Security>`, bodyScopes, 400},
	}
	for _, c := range cases {
		r := post(t, url, ct12, envelope(V12, c.header, c.body))
		if r.status != c.status {
			t.Errorf("%s: status %d, want %d\n%s", c.name, r.status, c.status, r.body)
			continue
		}
		if c.status == 400 {
			if got := r.faultCodes(t); got != "env:Sender/ter:NotAuthorized" {
				t.Errorf("%s: fault %s", c.name, got)
			}
			if len(r.header.Values("WWW-Authenticate")) != 0 {
				t.Errorf("%s: a bad token must not get a digest challenge", c.name)
			}
		}
	}
}

func TestNoUsersConfiguredIsOpen(t *testing.T) {
	for name, sec := range map[string]*Security{"nil": nil, "no users": {}, "empty store": {Auth: newSecurity().Auth}} {
		if name == "empty store" {
			sec.Auth.Users = levelUsers{}
		}
		url := startServer(t, testService(sec))
		r := post(t, url, ct12, envelope(V12, "", bodyReboot))
		if r.status != http.StatusOK {
			t.Errorf("%s: status %d", name, r.status)
		}
	}
}

func TestSOAP11AnsweredIn11(t *testing.T) {
	url := startServer(t, testService(newSecurity()))
	r := post(t, url, "text/xml; charset=utf-8", envelope(V11, "", bodyDate), "SOAPAction", `"http://www.onvif.org/ver10/device/wsdl/GetSystemDateAndTime"`)
	if r.status != 200 || r.doc.Root().NamespaceURI() != wsdl.NSSOAP11 {
		t.Fatalf("status %d\n%s", r.status, r.body)
	}
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/xml") {
		t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
	}
	// A SOAP 1.1 fault: faultcode/faultstring, subcode in the text.
	r = post(t, url, "text/xml", envelope(V11, "", bodyScopes))
	f := r.payload(t)
	if f.Tag != "Fault" || f.NamespaceURI() != wsdl.NSSOAP11 {
		t.Fatalf("not a SOAP 1.1 fault:\n%s", r.body)
	}
	if code := f.SelectElement("faultcode").Text(); code != "env:Client" {
		t.Errorf("faultcode %q", code)
	}
	if s := f.SelectElement("faultstring").Text(); !strings.Contains(s, "ter:NotAuthorized") {
		t.Errorf("faultstring %q", s)
	}
	xsdcheck.Check(t, r.body, "{"+wsdl.NSSOAP11+"}Fault")
}

func TestLenientContentTypesAndPrefixes(t *testing.T) {
	url := startServer(t, testService(nil))
	odd := `<?xml version="1.0"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope">
  <SOAP-ENV:Body>
    <GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>
  </SOAP-ENV:Body>
</SOAP-ENV:Envelope>`
	prefixOnBody := `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><x:GetSystemDateAndTime xmlns:x="http://www.onvif.org/ver10/device/wsdl"/></e:Body></e:Envelope>`
	bom := "\xef\xbb\xbf" + envelope(V12, "", bodyDate)
	for _, ct := range []string{
		"application/soap+xml; charset=utf-8",
		`application/soap+xml;charset=utf-8;action="http://www.onvif.org/ver10/device/wsdl/GetSystemDateAndTime"`,
		"application/soap+xml; charset=utf-8;",
		"application/xml",
		"text/xml",
		"",
		`application/soap+xml; action="http://wrong.example/Whatever"`,
	} {
		for name, body := range map[string]string{"default namespace": odd, "prefix on element": prefixOnBody, "byte-order mark": bom} {
			r := post(t, url, ct, body, "SOAPAction", "http://wrong.example/Action")
			if r.status != 200 || r.payload(t).Tag != "GetSystemDateAndTimeResponse" {
				t.Errorf("%q, %s: status %d\n%s", ct, name, r.status, r.body)
			}
		}
	}
}

func TestUnknownOperationIsActionNotSupported(t *testing.T) {
	url := startServer(t, testService(nil))
	for _, body := range []string{
		`<tds:GetSystemLog><tds:LogType>System</tds:LogType></tds:GetSystemLog>`, // in the WSDL, not implemented
		`<tds:CompletelyMadeUp/>`,
		`<x:GetSystemDateAndTime xmlns:x="http://www.onvif.org/ver20/media/wsdl"/>`, // right name, wrong namespace
	} {
		r := post(t, url, ct12, envelope(V12, "", body))
		if r.status != http.StatusInternalServerError {
			t.Errorf("%s: status %d", body, r.status)
		}
		if got := r.faultCodes(t); got != "env:Receiver/ter:ActionNotSupported" {
			t.Errorf("%s: fault %s", body, got)
		}
		xsdcheck.Check(t, r.body, faultQName)
	}
}

func TestHandlerErrors(t *testing.T) {
	url := startServer(t, testService(nil))
	cases := []struct {
		body, fault string
		status      int
	}{
		{`<tds:GetHostname/>`, "env:Receiver", 500}, // panics
		{`<tds:GetDNS/>`, "env:Receiver", 500},      // plain error
		{`<tds:GetNTP/>`, "env:Sender/ter:InvalidArgVal/ter:NoProfile", 400},
	}
	for _, c := range cases {
		r := post(t, url, ct12, envelope(V12, "", c.body))
		if r.status != c.status || r.faultCodes(t) != c.fault {
			t.Errorf("%s: %d %s\n%s", c.body, r.status, r.faultCodes(t), r.body)
		}
		if strings.Contains(string(r.body), "boom") || strings.Contains(string(r.body), "unexpected EOF") {
			t.Errorf("internal error text leaked: %s", r.body)
		}
		xsdcheck.Check(t, r.body, faultQName)
	}
}

func TestHostileInput(t *testing.T) {
	s := testService(nil)
	s.MaxBodySize = 64 << 10
	url := startServer(t, s)
	deep := strings.Repeat("<a>", 200) + strings.Repeat("</a>", 200)
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>` +
		`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><tds:GetSystemDateAndTime xmlns:tds="` + wsdl.NSDevice + `">&lol2;</tds:GetSystemDateAndTime></s:Body></s:Envelope>`
	xxe := `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><x>&xxe;</x></s:Body></s:Envelope>`
	cases := []struct {
		name, body, fault string
		status            int
	}{
		{"empty", "", "env:Sender/ter:WellFormed", 400},
		{"not xml", "hello", "env:Sender/ter:WellFormed", 400},
		{"truncated", envelope(V12, "", bodyDate)[:80], "env:Sender/ter:WellFormed", 400},
		{"mismatched tags", `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body></s:Bodi></s:Envelope>`, "env:Sender/ter:WellFormed", 400},
		{"not an envelope", `<tds:GetScopes xmlns:tds="` + wsdl.NSDevice + `"/>`, "env:Sender/ter:WellFormed", 400},
		{"no body", `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"/>`, "env:Sender/ter:WellFormed", 400},
		{"empty body", envelope(V12, "", ""), "env:Sender/ter:InvalidArgs", 400},
		{"unknown envelope version", `<s:Envelope xmlns:s="urn:soap-3"><s:Body/></s:Envelope>`, "env:VersionMismatch", 500},
		{"undeclared prefix", `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><tds:GetScopes/></s:Body></s:Envelope>`, "env:Sender/ter:Namespace", 400},
		{"two roots", envelope(V12, "", bodyDate) + "<x/>", "env:Sender/ter:WellFormed", 400},
		{"too many elements", envelope(V12, "", "<tds:GetScopes>"+strings.Repeat("<a/>", 5000)+"</tds:GetScopes>"), "env:Sender/ter:WellFormed", 400},
		{"deep nesting", envelope(V12, "", "<tds:GetScopes>"+deep+"</tds:GetScopes>"), "env:Sender/ter:WellFormed", 400},
		{"entity expansion", laughs, "env:Sender/ter:WellFormed", 400},
		{"external entity", xxe, "env:Sender/ter:WellFormed", 400},
		{"too big", envelope(V12, "", "<tds:GetScopes>"+strings.Repeat("x", 70<<10)+"</tds:GetScopes>"), "env:Sender", 413},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := post(t, url, ct12, c.body)
			if r.status != c.status {
				t.Errorf("status %d, want %d", r.status, c.status)
			}
			if got := r.faultCodes(t); got != c.fault {
				t.Errorf("fault %s, want %s", got, c.fault)
			}
			if strings.Contains(string(r.body), "root:") {
				t.Error("external entity resolved")
			}
			xsdcheck.Check(t, r.body, faultQName)
		})
	}
	// GET gets a fault too, never plain text.
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	r := do(t, req)
	if r.status != http.StatusMethodNotAllowed || r.faultCodes(t) != "env:Sender" || r.header.Get("Allow") != "POST" {
		t.Errorf("GET: %d %s", r.status, r.body)
	}
}

func TestFaultErrors(t *testing.T) {
	f := NotAuthorized(ErrReplay)
	if !errors.Is(f, ErrNotAuthorized) || !errors.Is(f, ErrReplay) {
		t.Error("NotAuthorized does not match ErrNotAuthorized and its cause")
	}
	if errors.Is(NoProfile("a"), ErrNotAuthorized) {
		t.Error("NoProfile matches ErrNotAuthorized")
	}
	if !errors.Is(NoProfile("a"), NoProfile("b")) {
		t.Error("faults with the same codes do not match")
	}
	if f.HTTPStatus() != 400 || ActionNotSupported(opDate).HTTPStatus() != 500 {
		t.Error("HTTP status of faults")
	}
	if AsFault(errors.New("x")).Code != CodeReceiver {
		t.Error("plain errors become Receiver faults")
	}
	if got := OperationProhibited("r", "FixedScope").Subcode(); got != "FixedScope" {
		t.Errorf("Subcode() = %q", got)
	}
	if s := ConfigModify("bad").Error(); !strings.Contains(s, "Sender/InvalidArgVal/ConfigModify") {
		t.Errorf("Error() = %q", s)
	}
}

func TestWSAddressingRelatesTo(t *testing.T) {
	s := testService(nil, Op{Name: opScopes.Name, Access: PreAuth, Handle: func(_ context.Context, r *Request) (*etree.Element, error) {
		a := etree.NewElement("wsa:Action")
		a.SetText("http://www.onvif.org/ver10/device/wsdl/GetScopesResponse")
		r.AddResponseHeader(a)
		return etree.NewElement("tds:GetScopesResponse"), nil
	}})
	url := startServer(t, s)
	hdr := `<wsa:MessageID xmlns:wsa="http://www.w3.org/2005/08/addressing">urn:uuid:1234</wsa:MessageID>`
	r := post(t, url, ct12, envelope(V12, hdr, bodyScopes))
	env, err := ParseEnvelope(r.body, Limits{})
	if err != nil || env.Header == nil {
		t.Fatalf("no response header: %v\n%s", err, r.body)
	}
	var rel, action string
	for _, h := range env.Header.ChildElements() {
		if h.NamespaceURI() != wsdl.NSWSA {
			continue
		}
		switch h.Tag {
		case "RelatesTo":
			rel = h.Text()
		case "Action":
			action = h.Text()
		}
	}
	if rel != "urn:uuid:1234" || action == "" {
		t.Errorf("RelatesTo %q, Action %q\n%s", rel, action, r.body)
	}
	// Without a MessageID and without handler headers there is no Header.
	r = post(t, url, ct12, envelope(V12, "", bodyDate))
	if env, _ := ParseEnvelope(r.body, Limits{}); env.Header != nil {
		t.Errorf("unexpected Header: %s", r.body)
	}
}

func TestNoCredentialsFaultQuirk(t *testing.T) {
	sec := newSecurity()
	sec.NoCredentialsFaults = map[wsdl.Op]*Fault{opReboot: Action("maximum number of profiles reached", "MaxNVTProfiles")}
	url := startServer(t, testService(sec))
	r := post(t, url, ct12, envelope(V12, "", bodyReboot))
	if r.status != 500 || r.faultCodes(t) != "env:Receiver/ter:Action/ter:MaxNVTProfiles" {
		t.Errorf("quirk fault: %d %s", r.status, r.body)
	}
	// Wrong credentials still get NotAuthorized; other operations too.
	r = post(t, url, ct12, envelope(V12, token("admin", "bad", time.Now()), bodyReboot))
	if r.status != 400 || r.faultCodes(t) != "env:Sender/ter:NotAuthorized" {
		t.Errorf("bad credentials: %d %s", r.status, r.body)
	}
	if r := post(t, url, ct12, envelope(V12, "", bodyScopes)); r.status != 401 {
		t.Errorf("other operation: %d", r.status)
	}
	if r := post(t, url, ct12, envelope(V12, token("admin", "s3cret", time.Now()), bodyReboot)); r.status != 200 {
		t.Errorf("with credentials: %d", r.status)
	}
}

func TestLegacyWSSENamespace(t *testing.T) {
	url := startServer(t, testService(newSecurity()))
	tok := strings.ReplaceAll(token("admin", "s3cret", time.Now()), wsdl.NSWSSE, "http://schemas.xmlsoap.org/ws/2002/07/secext")
	if r := post(t, url, ct12, envelope(V12, tok, bodyScopes)); r.status != 200 {
		t.Errorf("2002 secext token refused: %d %s", r.status, r.body)
	}
}

// TestEmptyProbeGetsChallenge: curl --digest first POSTs with an empty body
// and only sends the body again after a 401 challenge.
func TestEmptyProbeGetsChallenge(t *testing.T) {
	url := startServer(t, testService(newSecurity()))
	r := post(t, url, ct12, "")
	if r.status != http.StatusUnauthorized || len(r.header.Values("WWW-Authenticate")) == 0 {
		t.Fatalf("empty probe: %d %v", r.status, r.header)
	}
	auth := digestAuthorization(t, r.header.Values("WWW-Authenticate"), "admin", "s3cret", "POST", "/onvif/device_service")
	r = post(t, url, ct12, envelope(V12, "", bodyScopes), "Authorization", auth)
	if r.status != http.StatusOK {
		t.Fatalf("after the challenge: %d %s", r.status, r.body)
	}
	curl := testutil.NeedTool(t, "curl")
	{
		out, err := exec.Command(curl, "-s", "--digest", "-u", "admin:s3cret", "-H", "Content-Type: application/soap+xml",
			"-d", envelope(V12, "", bodyScopes), url).Output()
		if err != nil || !strings.Contains(string(out), "GetScopesResponse") || !strings.Contains(string(out), `user="admin"`) {
			t.Errorf("curl --digest: %v\n%s", err, out)
		}
	}
}

func TestPrefixedSubcode(t *testing.T) {
	s := testService(nil, Op{Name: opScopes.Name, Access: PreAuth, Handle: func(context.Context, *Request) (*etree.Element, error) {
		return nil, Sender("no such subscription", "InvalidArgVal", "wsnt:ResourceUnknownFault")
	}})
	url := startServer(t, s)
	r := post(t, url, ct12, envelope(V12, "", bodyScopes))
	p := r.payload(t)
	v := p.FindElement("Code/Subcode/Subcode/Value")
	if v == nil || v.Text() != "wsnt:ResourceUnknownFault" {
		t.Fatalf("subcode: %s", r.body)
	}
	xsdcheck.Check(t, r.body, faultQName)
	r = post(t, url, "text/xml", envelope(V11, "", bodyScopes))
	if s := r.payload(t).SelectElement("faultstring").Text(); !strings.HasPrefix(s, "ter:InvalidArgVal/wsnt:ResourceUnknownFault: ") {
		t.Errorf("SOAP 1.1 faultstring %q", s)
	}
}
