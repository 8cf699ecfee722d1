package httpauth

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// signed returns the Authorization header of dc for a request method uri
// with nonce, nonce count nc.
func signed(dc *digestClient, method, uri, nonce string, nc int) string {
	req := httptest.NewRequest(method, uri, nil)
	dc.mu.Lock()
	dc.nc = nc - 1
	dc.mu.Unlock()
	return dc.authorization(req, nonce)
}

// TestDigestReplayRefused: an Authorization header that was accepted is
// refused when it comes again (stale=true, so a real client just takes a
// new nonce); nonce counts may arrive out of order within a window, never
// twice.
func TestDigestReplayRefused(t *testing.T) {
	t.Parallel()
	a := New("test realm", users)
	dc := &digestClient{user: "admin", pass: "s3cret pass", algorithm: "MD5"}
	bind := "192.0.2.1"
	nonce := a.newNonce(bind)
	check := func(nc int) error {
		_, err := a.Check(Request{Method: "POST", URI: "/onvif/device_service", Authorization: signed(dc, "POST", "/onvif/device_service", nonce, nc), Bind: bind})
		return err
	}
	captured := signed(dc, "POST", "/onvif/device_service", nonce, 1)
	if _, err := a.Check(Request{Method: "POST", URI: "/onvif/device_service", Authorization: captured, Bind: bind}); err != nil {
		t.Fatalf("first use: %v", err)
	}
	_, err := a.Check(Request{Method: "POST", URI: "/onvif/device_service", Authorization: captured, Bind: bind})
	if !errors.Is(err, ErrNonceReused) || !errors.Is(err, ErrStaleNonce) {
		t.Fatalf("replayed header: %v, want ErrNonceReused", err)
	}
	for _, c := range []struct {
		nc   int
		want error
	}{{3, nil}, {2, nil}, {3, ErrNonceReused}, {100, nil}, {40, nil}, {36, ErrNonceReused}, {40, ErrNonceReused}, {99, nil}} {
		if err := check(c.nc); !errors.Is(err, c.want) {
			t.Errorf("nc %d: %v, want %v", c.nc, err, c.want)
		}
	}
	if f := a.Stats().Failures; f != 0 {
		t.Errorf("Failures = %d: a replay is answered stale, not counted", f)
	}
}

// TestNonceBoundToClient: a nonce issued to one client is stale from any
// other, even with the right response.
func TestNonceBoundToClient(t *testing.T) {
	t.Parallel()
	a := New("test realm", users)
	dc := &digestClient{user: "admin", pass: "s3cret pass", algorithm: "SHA-256"}
	nonce := a.newNonce("192.0.2.1")
	h := signed(dc, "GET", "/snapshot.jpg", nonce, 1)
	if _, err := a.Check(Request{Method: "GET", URI: "/snapshot.jpg", Authorization: h, Bind: "192.0.2.66"}); !errors.Is(err, ErrStaleNonce) {
		t.Fatalf("nonce of another client: %v, want ErrStaleNonce", err)
	}
	if _, err := a.Check(Request{Method: "GET", URI: "/snapshot.jpg", Authorization: h, Bind: "192.0.2.1"}); err != nil {
		t.Fatalf("nonce of this client: %v", err)
	}
	// Through Middleware: the binding is the client's address.
	srv := testServer(t, a)
	client := &http.Client{Transport: dc}
	if code, body, _ := get(t, client, srv.URL+"/x"); code != http.StatusOK {
		t.Fatalf("client through Middleware: %d %s", code, body)
	}
}

// TestFreshNonce: a request that changes something needs a nonce that
// served no request before; a client that reuses one is told stale=true
// and succeeds with the new nonce.
func TestFreshNonce(t *testing.T) {
	t.Parallel()
	a := New("test realm", users)
	dc := &digestClient{user: "admin", pass: "s3cret pass", algorithm: "MD5", noQop: true}
	nonce := a.newNonce("")
	req := func(n string, fresh bool) error {
		_, err := a.Check(Request{Method: "POST", URI: "/onvif/device_service", Authorization: signed(dc, "POST", "/onvif/device_service", n, 1), Fresh: fresh})
		return err
	}
	if err := req(nonce, false); err != nil {
		t.Fatalf("read with a new nonce: %v", err)
	}
	// Without qop there is no count: a read may reuse the nonce (the
	// client's address binds it), a change may not.
	if err := req(nonce, false); err != nil {
		t.Fatalf("second read with the nonce, no qop: %v", err)
	}
	if err := req(nonce, true); !errors.Is(err, ErrNonceReused) {
		t.Fatalf("change with a used nonce: %v, want ErrNonceReused", err)
	}
	fresh := a.newNonce("")
	if err := req(fresh, true); err != nil {
		t.Fatalf("change with a new nonce: %v", err)
	}
	if err := req(fresh, true); !errors.Is(err, ErrNonceReused) {
		t.Fatalf("second change with that nonce: %v, want ErrNonceReused", err)
	}
}

// TestNonceQuotaPerUser: a user who burns through nonces forgets only its
// own oldest ones (whose clients are told stale=true); another user's
// nonce keeps its counts, so its captured headers stay refused.
func TestNonceQuotaPerUser(t *testing.T) {
	t.Parallel()
	a := New("test realm", users)
	a.NoncesPerUser = 4
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	a.now = func() time.Time { return now }
	admin := &digestClient{user: "admin", pass: "s3cret pass", algorithm: "MD5"}
	other := &digestClient{user: `we"ird\user`, pass: "pw,with,commas", algorithm: "MD5"}
	adminNonce := a.newNonce("")
	captured := signed(admin, "GET", "/x", adminNonce, 1)
	if _, err := a.Check(Request{Method: "GET", URI: "/x", Authorization: captured}); err != nil {
		t.Fatal(err)
	}
	var first string
	for i := range 50 {
		now = now.Add(time.Millisecond)
		n := a.newNonce("")
		if i == 0 {
			first = n
		}
		if _, err := a.Check(Request{Method: "GET", URI: "/x", Authorization: signed(other, "GET", "/x", n, 1)}); err != nil {
			t.Fatalf("other user's nonce %d: %v", i, err)
		}
	}
	if n := a.nonces.tracked(); n != 5 {
		t.Errorf("%d nonces tracked, want 4 of the other user and 1 of admin", n)
	}
	if _, err := a.Check(Request{Method: "GET", URI: "/x", Authorization: captured}); !errors.Is(err, ErrNonceReused) {
		t.Errorf("admin's captured header after the other user's flood: %v", err)
	}
	if _, err := a.Check(Request{Method: "GET", URI: "/x", Authorization: signed(other, "GET", "/x", first, 2)}); !errors.Is(err, ErrNonceReused) {
		t.Errorf("the other user's forgotten nonce: %v, want stale", err)
	}
	// Unknown users and wrong passwords leave nothing behind.
	for i := range 100 {
		bad := &digestClient{user: fmt.Sprint("u", i), pass: "x", algorithm: "MD5"}
		if _, err := a.Check(Request{Method: "GET", URI: "/x", Authorization: signed(bad, "GET", "/x", a.newNonce(""), 1)}); !errors.Is(err, ErrBadCredentials) {
			t.Fatal(err)
		}
	}
	if n := a.nonces.tracked(); n != 5 {
		t.Errorf("%d nonces tracked after refused requests, want 5", n)
	}
	// After the nonce lifetime everything is forgotten.
	now = now.Add(DefaultNonceLifetime + time.Minute)
	if _, err := a.Check(Request{Method: "GET", URI: "/x", Authorization: signed(admin, "GET", "/x", a.newNonce(""), 1)}); err != nil {
		t.Fatal(err)
	}
	if n := a.nonces.tracked(); n != 1 {
		t.Errorf("%d nonces tracked after the lifetime, want 1", n)
	}
}
