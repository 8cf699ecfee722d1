package soap

import (
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/chinesium/chinesium/httpauth"
)

// digestToken is a verified-ready PasswordDigest token with a fresh nonce.
func digestToken(user, password string, created time.Time) *UsernameToken {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	c := created.UTC().Format("2006-01-02T15:04:05.000Z")
	return &UsernameToken{Username: user, Password: PasswordDigest(nonce, c, password), Digest: true, Nonce: nonce, Created: c}
}

// TestTokenNotReplayedAfterFlood: a 'User' account sends tens of thousands
// of valid tokens; the administrator's token, sniffed before, must still be
// refused as a replay. The nonce cache was a 65,536-entry FIFO that the
// account flushed in seconds. Now the account meets its own quota, and
// nobody else's nonces are forgotten before they expire.
func TestTokenNotReplayedAfterFlood(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	sec := newSecurity()
	sec.Now = func() time.Time { return now }
	admin := digestToken("admin", "s3cret", now)
	if _, err := sec.VerifyToken(admin); err != nil {
		t.Fatalf("administrator's token: %v", err)
	}
	accepted := 0
	for range 70000 {
		if _, err := sec.VerifyToken(digestToken("viewer", "view", now)); err == nil {
			accepted++
		} else if !errors.Is(err, ErrNonceQuota) {
			t.Fatalf("viewer's token: %v", err)
		}
	}
	if _, err := sec.VerifyToken(admin); !errors.Is(err, ErrReplay) {
		t.Fatalf("the administrator's token replayed after %d tokens of a 'User' account: %v", accepted, err)
	}
	// The administrator is not held back by the other account's quota.
	if _, err := sec.VerifyToken(digestToken("admin", "s3cret", now)); err != nil {
		t.Errorf("administrator's fresh token: %v", err)
	}
	// Once the window has passed, the account gets room again.
	now = now.Add(2*DefaultMaxSkew + time.Second)
	if _, err := sec.VerifyToken(digestToken("viewer", "view", now)); err != nil {
		t.Errorf("viewer's token after the window: %v", err)
	}
	if n := sec.Nonces.Len(); n != 1 {
		t.Errorf("%d nonces remembered after the window, want 1", n)
	}
}

// TestTokenReplayAcrossDevices: two devices whose users have the same name
// and password share the process's nonce cache: a token accepted by one is
// a replay for the other.
func TestTokenReplayAcrossDevices(t *testing.T) {
	t.Parallel()
	now := time.Now()
	cache := &NonceCache{}
	a := &Security{Auth: httpauth.New("test", testUsers), Nonces: cache}
	b := &Security{Auth: httpauth.New("test", testUsers), Nonces: cache}
	tok := digestToken("admin", "s3cret", now)
	if _, err := a.VerifyToken(tok); err != nil {
		t.Fatalf("device A: %v", err)
	}
	if _, err := b.VerifyToken(tok); !errors.Is(err, ErrReplay) {
		t.Fatalf("device B accepted the token of device A: %v", err)
	}
	// Same name on another device is another account: its quota is its
	// own.
	small := &NonceCache{PerUser: 2}
	a, b = &Security{Auth: a.Auth, Nonces: small}, &Security{Auth: b.Auth, Nonces: small}
	for i := range 2 {
		if _, err := a.VerifyToken(digestToken("viewer", "view", now)); err != nil {
			t.Fatalf("device A, token %d: %v", i, err)
		}
	}
	if _, err := a.VerifyToken(digestToken("viewer", "view", now)); !errors.Is(err, ErrNonceQuota) {
		t.Errorf("device A over the quota: %v", err)
	}
	if _, err := b.VerifyToken(digestToken("viewer", "view", now)); err != nil {
		t.Errorf("device B's viewer held back by device A's: %v", err)
	}
}

// TestTokenWindow: Created more than MaxSkew (5 minutes by default) away
// from the device clock is refused; the window was 24 hours, which every
// nonce had to be remembered for.
func TestTokenWindow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		skew time.Duration
		ok   bool
	}{{0, true}, {-4 * time.Minute, true}, {4 * time.Minute, true}, {-6 * time.Minute, false}, {6 * time.Minute, false}, {-time.Hour, false}} {
		sec := newSecurity()
		sec.Now = func() time.Time { return now }
		_, err := sec.VerifyToken(digestToken("admin", "s3cret", now.Add(c.skew)))
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrStale)) {
			t.Errorf("Created %v from the device clock: %v", c.skew, err)
		}
	}
}

// TestNonceCacheUnknownUsers: tokens that do not verify are not remembered,
// so whoever does not know a password cannot fill the cache.
func TestNonceCacheUnknownUsers(t *testing.T) {
	t.Parallel()
	sec := newSecurity()
	now := time.Now()
	for i := range 1000 {
		if _, err := sec.VerifyToken(digestToken(fmt.Sprint("u", i), "x", now)); !errors.Is(err, ErrBadPassword) {
			t.Fatal(err)
		}
		if _, err := sec.VerifyToken(digestToken("admin", "wrong", now)); !errors.Is(err, ErrBadPassword) {
			t.Fatal(err)
		}
	}
	if n := sec.Nonces.Len(); n != 0 {
		t.Errorf("%d nonces of refused tokens remembered", n)
	}
}
