package bridge

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

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

	sniffed := soapEnvelope("admin", "secret", `<tds:GetScopes/>`)
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
