package bridge

import (
	"crypto/md5" //nolint:gosec // HTTP Digest MD5, as clients send it
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/chinesium/chinesium/httpauth"
	"github.com/chinesium/chinesium/internal/testutil/soaptest"
)

// dialFrom returns an HTTP client whose connections come from the local
// address ip.
func dialFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// splitEnvelope cuts a request of soapEnvelope into what comes before and
// after the body's content, so that its header (the WS-Security token) can
// be sent again with another body, as a replay would.
func splitEnvelope(env string) (head, tail string) {
	i := strings.Index(env, "<s:Body>") + len("<s:Body>")
	j := strings.Index(env, "</s:Body>")
	return env[:i], env[j:]
}

func postEnvelope(t *testing.T, url, env string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/soap+xml; charset=utf-8", strings.NewReader(env))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestTokenReplayedOnAnotherCamera: a WS-Security token sniffed on one
// camera's traffic (a GetScopes of the administrator) is replayed to
// another camera of the same bridge, where the same administrator exists,
// with a CreateUsers body. Each camera had a nonce cache of its own, so
// the replay created an Administrator there; the bridge now has one
// cache for all its cameras.
func TestTokenReplayedOnAnotherCamera(t *testing.T) {
	t.Parallel()
	b := startBridge(t, testConfig(t, t.TempDir(), "127.0.5.110", "127.0.5.111"))
	a, other := b.Cameras()[0], b.Cameras()[1]
	deviceURL := func(c *Camera) string { return c.DeviceServiceURL(bindIP.String()) }

	sniffed := soaptest.Envelope("admin", "secret", `<tds:GetScopes/>`)
	if status, body := postEnvelope(t, deviceURL(a), sniffed); status != http.StatusOK {
		t.Fatalf("GetScopes on camera A: %d %s", status, body)
	}
	head, tail := splitEnvelope(sniffed)
	createAdmin := `<tds:CreateUsers><tds:User><tt:Username>mallory</tt:Username><tt:Password>pwned123</tt:Password>` +
		`<tt:UserLevel>Administrator</tt:UserLevel></tds:User></tds:CreateUsers>`
	status, body := postEnvelope(t, deviceURL(other), head+createAdmin+tail)
	if status != http.StatusBadRequest || !strings.Contains(body, "NotAuthorized") {
		t.Errorf("replayed token on camera B: %d %s", status, body)
	}
	// The same replay on camera A itself.
	if status, body := postEnvelope(t, deviceURL(a), head+createAdmin+tail); status != http.StatusBadRequest {
		t.Errorf("replayed token on camera A: %d %s", status, body)
	}
	for _, c := range []*Camera{a, other} {
		if _, ok := c.Device.Store.Level("mallory"); ok {
			t.Errorf("camera %s: the replay created user mallory", c.Config.Name)
		}
	}
	// The administrator's own new tokens still work on both.
	for _, c := range []*Camera{a, other} {
		if status, body := soapRequest(t, deviceURL(c), "admin", "secret", `<tds:GetScopes/>`); status != http.StatusOK {
			t.Errorf("camera %s, fresh token: %d %s", c.Config.Name, status, body)
		}
	}
}

// digestChallenge returns the realm and nonce of the MD5 Digest challenge
// of a 401 answer, and whether it says stale=true.
func digestChallenge(t testing.TB, h http.Header) (realm, nonce string, stale bool) {
	t.Helper()
	for _, v := range h.Values("WWW-Authenticate") {
		c, err := httpauth.ParseCredentials(v)
		if err != nil || !strings.EqualFold(c.Scheme, "Digest") {
			continue
		}
		if alg, _ := c.Get("algorithm"); strings.EqualFold(alg, "MD5") {
			realm, _ = c.Get("realm")
			nonce, _ = c.Get("nonce")
			s, _ := c.Get("stale")
			return realm, nonce, strings.EqualFold(s, "true")
		}
	}
	t.Fatalf("no Digest MD5 challenge in %q", h.Values("WWW-Authenticate"))
	return "", "", false
}

// digestHeader signs a POST to uri as curl does (qop=auth, nonce count
// nc), or RFC 2069 style without qop when nc is 0.
func digestHeader(user, password, realm, nonce, uri string, nc int) string {
	md5hex := func(s string) string { return fmt.Sprintf("%x", md5.Sum([]byte(s))) } //nolint:gosec // Digest MD5
	ha1 := md5hex(user + ":" + realm + ":" + password)
	ha2 := md5hex("POST:" + uri)
	if nc == 0 {
		return fmt.Sprintf(`Digest username=%q, realm=%q, nonce=%q, uri=%q, response=%q`, user, realm, nonce, uri, md5hex(ha1+":"+nonce+":"+ha2))
	}
	count, cnonce := fmt.Sprintf("%08x", nc), "0a4f113b"
	response := md5hex(ha1 + ":" + nonce + ":" + count + ":" + cnonce + ":auth:" + ha2)
	return fmt.Sprintf(`Digest username=%q, realm=%q, nonce=%q, uri=%q, algorithm=MD5, qop=auth, nc=%s, cnonce=%q, response=%q`,
		user, realm, nonce, uri, count, cnonce, response)
}

// postDigest posts a SOAP body with an Authorization header through c.
func postDigest(t *testing.T, c *http.Client, url, authorization, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(soaptest.Envelope("", "", body)))
	req.Header.Set("Content-Type", "application/soap+xml; charset=utf-8")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestDigestHeaderReplayedWithAnotherBody: qop=auth does not cover the
// body, so a captured Authorization header of the administrator's
// GetScopes, replayed with a CreateUsers body, created an Administrator
// (and the nonce count was not tracked, so any header worked again for the
// nonce's 5 minutes). Now a header works once, only from the client the
// nonce was issued to, and a change needs a nonce that served nothing
// before: the replays are told stale=true, which a real client answers with
// the new nonce.
func TestDigestHeaderReplayedWithAnotherBody(t *testing.T) {
	t.Parallel()
	b := startBridge(t, testConfig(t, t.TempDir(), "127.0.5.112"))
	c := b.Cameras()[0]
	url := c.DeviceServiceURL(bindIP.String())
	const uri = DeviceServicePath
	victim, attacker := dialFrom("127.0.5.113"), dialFrom("127.0.5.114")
	createAdmin := `<tds:CreateUsers><tds:User><tt:Username>mallory</tt:Username><tt:Password>pwned123</tt:Password>` +
		`<tt:UserLevel>Administrator</tt:UserLevel></tds:User></tds:CreateUsers>`

	for _, nc := range []int{1, 0} { // qop=auth as curl and browsers; no qop as RFC 2069 clients
		resp, _ := postDigest(t, victim, url, "", `<tds:GetScopes/>`)
		realm, nonce, _ := digestChallenge(t, resp.Header)
		captured := digestHeader("admin", "secret", realm, nonce, uri, nc)
		if r, body := postDigest(t, victim, url, captured, `<tds:GetScopes/>`); r.StatusCode != http.StatusOK {
			t.Fatalf("nc %d: the administrator's GetScopes: %d %s", nc, r.StatusCode, body)
		}
		for name, from := range map[string]*http.Client{"the victim's address": victim, "another address": attacker} {
			resp, body := postDigest(t, from, url, captured, createAdmin)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("nc %d, header replayed from %s with CreateUsers: %d %s", nc, name, resp.StatusCode, body)
				continue
			}
			if _, _, stale := digestChallenge(t, resp.Header); !stale {
				t.Errorf("nc %d, replay from %s: challenge without stale=true", nc, name)
			}
		}
		if _, ok := c.Device.Store.Level("mallory"); ok {
			t.Fatalf("nc %d: the replayed header created user mallory", nc)
		}
	}

	// The administrator's client: a change with a used nonce is told
	// stale, and goes through with the new one.
	resp, _ := postDigest(t, victim, url, "", `<tds:GetScopes/>`)
	realm, nonce, _ := digestChallenge(t, resp.Header)
	if r, body := postDigest(t, victim, url, digestHeader("admin", "secret", realm, nonce, uri, 1), `<tds:GetScopes/>`); r.StatusCode != http.StatusOK {
		t.Fatalf("GetScopes: %d %s", r.StatusCode, body)
	}
	add := strings.ReplaceAll(createAdmin, "mallory", "alice")
	resp, _ = postDigest(t, victim, url, digestHeader("admin", "secret", realm, nonce, uri, 2), add)
	realm, nonce, stale := digestChallenge(t, resp.Header)
	if resp.StatusCode != http.StatusUnauthorized || !stale {
		t.Fatalf("CreateUsers with a used nonce: %d, stale %v", resp.StatusCode, stale)
	}
	if r, body := postDigest(t, victim, url, digestHeader("admin", "secret", realm, nonce, uri, 1), add); r.StatusCode != http.StatusOK {
		t.Fatalf("CreateUsers with the new nonce: %d %s", r.StatusCode, body)
	}
	if _, ok := c.Device.Store.Level("alice"); !ok {
		t.Error("CreateUsers answered 200 but alice does not exist")
	}
}
