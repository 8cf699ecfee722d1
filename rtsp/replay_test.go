package rtsp

import (
	"strings"
	"testing"

	"github.com/chinesium/chinesium/httpauth"
)

// TestDigestHeaderOnAnotherConnection: a DESCRIBE's Authorization header
// captured on the wire worked from a new connection (an attacker's) for
// the nonce's 5 minutes. Nonces are now bound to the connection they were
// issued on: elsewhere the header is answered 401 stale=true, while the
// client that owns it goes on using it (live555 signs every request with
// one nonce, without nonce counts).
func TestDigestHeaderOnAnotherConnection(t *testing.T) {
	t.Parallel()
	f := startFixture(t, fixtureOpts{users: httpauth.StaticUsers{"admin": "s3cret"}, noBasic: true})
	url := f.url(StreamJPEG)
	vlc := dialLive555(t, f.addr, url, "admin", "s3cret")
	if res := vlc.request("DESCRIBE", url, "Accept: application/sdp\r\n"); res.status != 200 {
		t.Fatalf("live555 DESCRIBE: %d", res.status)
	}
	captured := strings.TrimSuffix(strings.TrimPrefix(vlc.authorization("DESCRIBE"), "Authorization: "), "\r\n")

	attacker := dialRaw(t, f.addr)
	attacker.authz = func(string, string) string { return captured }
	res := attacker.do("DESCRIBE", url, "Accept: application/sdp")
	if res.status != 401 {
		t.Fatalf("captured DESCRIBE header on a new connection: %d", res.status)
	}
	if ch := strings.Join(res.all("WWW-Authenticate"), " "); !strings.Contains(ch, "stale=true") {
		t.Errorf("challenge without stale=true: %q", ch)
	}
	// The owner's connection still works with it.
	if res := vlc.request("DESCRIBE", url, "Accept: application/sdp\r\n"); res.status != 200 {
		t.Errorf("live555 DESCRIBE again with its nonce: %d", res.status)
	}
}
