// Package httpauth authenticates HTTP and RTSP requests with HTTP Digest
// (RFC 7616: SHA-256 and MD5, qop=auth, plus the RFC 2069 form without qop
// that some clients still send) and HTTP Basic (RFC 7617).
//
// A nonce is a timestamp and random bytes signed with an HMAC key that lives
// only in memory, over them and the client it was issued to (Request.Bind:
// the client's address, and for RTSP its connection): it is accepted from
// that client only, for NonceLifetime, and an expired or foreign nonce is
// answered with stale=true. Once a response verified, the nonce counts
// used with it are remembered (a quota of nonces per user), so that a
// captured Authorization header is refused when it comes again; a request
// that changes the device can ask for a nonce never used before
// (Request.Fresh), since qop=auth does not cover the body.
//
// The core, Authenticator.Check, takes a Request of plain strings so that
// the same Authenticator serves net/http handlers (Middleware) and the RTSP
// server.
package httpauth

import (
	"context"
	"crypto/hmac"
	"crypto/md5" //nolint:gosec // MD5 is what RFC 7616 digest clients still use
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Errors returned by Check. Callers answer all of them with 401 and
// ChallengesFor(err); they differ only for logging and for stale=true.
var (
	// ErrNoCredentials means the request carried no Authorization header.
	ErrNoCredentials = errors.New("httpauth: no credentials")
	// ErrMalformed means the Authorization header could not be parsed or
	// lacks a required parameter.
	ErrMalformed = errors.New("httpauth: malformed authorization header")
	// ErrUnsupported means an unknown scheme, algorithm or qop.
	ErrUnsupported = errors.New("httpauth: unsupported authentication scheme")
	// ErrBasicNotAllowed means Basic credentials were sent but AllowBasic is false.
	ErrBasicNotAllowed = errors.New("httpauth: basic authentication not allowed")
	// ErrBadCredentials means an unknown user or a wrong password (the two
	// are deliberately not distinguished).
	ErrBadCredentials = errors.New("httpauth: bad credentials")
	// ErrStaleNonce means the digest response was right but its nonce has
	// expired; the client should retry with the fresh nonce of a stale=true
	// challenge without asking the user again.
	ErrStaleNonce = errors.New("httpauth: stale nonce")
	// ErrRealm means the digest realm does not match.
	ErrRealm = errors.New("httpauth: wrong realm")
	// ErrURIMismatch means the digest uri parameter is not the request URI.
	ErrURIMismatch = errors.New("httpauth: digest uri does not match request")
)

// Users looks up a user's password. An Authenticator whose Users is nil, or
// implements Len() int and returns 0, requires no authentication.
type Users interface {
	Password(user string) (password string, ok bool)
}

// StaticUsers is a fixed user → password map.
type StaticUsers map[string]string

// Password implements Users.
func (s StaticUsers) Password(user string) (string, bool) {
	p, ok := s[user]
	return p, ok
}

// Len returns the number of users; 0 means no authentication is required.
func (s StaticUsers) Len() int { return len(s) }

// Defaults of Authenticator's fields.
const (
	// DefaultRealm is the realm of challenges.
	DefaultRealm = "chinesium"
	// DefaultNonceLifetime is how long a digest nonce stays valid.
	DefaultNonceLifetime = 5 * time.Minute
)

// Authenticator checks credentials against Users. The zero value with Users
// set works, but New sets AllowBasic; all methods are safe for concurrent use.
// Set the fields before the first call of a method and do not change them
// afterwards; zero fields take their defaults then.
type Authenticator struct {
	// Realm is sent in challenges and checked in digest responses.
	// It defaults to DefaultRealm.
	Realm string
	// Users holds the accounts; nil or empty means no authentication.
	Users Users
	// AllowBasic accepts Basic credentials and offers a Basic challenge.
	// New sets it to true (NVRs fetching snapshots often use Basic).
	AllowBasic bool
	// Anonymous lets clients in without credentials: a request without an
	// Authorization header from a client address for which it returns
	// true is accepted as the anonymous user "". Credentials a client
	// does send are checked as always. Nil lets nobody in anonymously.
	Anonymous func(client netip.Addr) bool
	// NonceLifetime is how long a nonce is accepted before the client is
	// told stale=true. It defaults to DefaultNonceLifetime (5 min).
	NonceLifetime time.Duration
	// NoncesPerUser bounds the nonces whose counts are remembered per
	// user; a user over it forgets its own oldest nonce, whose client is
	// then told stale=true. It defaults to DefaultNoncesPerUser.
	NoncesPerUser int

	once     sync.Once
	key      [32]byte // HMAC key for nonces, random per process
	now      func() time.Time
	failures atomic.Uint64
	nonces   nonceTracker
}

// Stats are an Authenticator's counters.
type Stats struct {
	// Failures counts the requests refused although they carried
	// credentials: an unknown user, a wrong password, a malformed or
	// unsupported Authorization header, Basic where it is not allowed. A
	// request without credentials (a Digest client's first request) and a
	// stale nonce (renewed by the client without asking the user) are not
	// failures.
	Failures uint64
}

// Stats returns a snapshot of the counters. It may be called from any
// goroutine.
func (a *Authenticator) Stats() Stats { return Stats{Failures: a.failures.Load()} }

// New returns an Authenticator for realm and users that also accepts Basic.
func New(realm string, users Users) *Authenticator {
	return &Authenticator{Realm: realm, Users: users, AllowBasic: true}
}

// setDefaults fills every zero field with its default.
func (a *Authenticator) setDefaults() {
	if a.Realm == "" {
		a.Realm = DefaultRealm
	}
	if a.NonceLifetime <= 0 {
		a.NonceLifetime = DefaultNonceLifetime
	}
	if a.NoncesPerUser <= 0 {
		a.NoncesPerUser = DefaultNoncesPerUser
	}
	if a.now == nil {
		a.now = time.Now
	}
}

// init applies the defaults and draws the nonce key, once; every method
// that reads the configuration calls it first.
func (a *Authenticator) init() {
	a.once.Do(func() {
		a.setDefaults()
		if _, err := rand.Read(a.key[:]); err != nil {
			panic(fmt.Sprintf("httpauth: crypto/rand failed: %v", err))
		}
	})
}

// Required reports whether at least one user is configured, i.e. whether
// requests must authenticate.
func (a *Authenticator) Required() bool {
	if a == nil || a.Users == nil {
		return false
	}
	if l, ok := a.Users.(interface{ Len() int }); ok && l.Len() == 0 {
		return false
	}
	return true
}

// Request is what Check needs of a request, and ChallengesFor of the
// request it answers.
type Request struct {
	// Method is the request method ("GET", "DESCRIBE").
	Method string
	// URI is the request target as sent on the request line.
	URI string
	// Authorization is the Authorization header value.
	Authorization string
	// Bind is the client a challenge's nonce is issued to, and the only
	// one it is accepted from: the client's IP address (RequestOf), and
	// for a protocol whose clients keep one connection, such as RTSP, the
	// connection too. A nonce issued to another Bind is answered with
	// stale=true. "" binds nothing.
	Bind string
	// Client is the client's address, which Authenticator.Anonymous is
	// asked about; the zero Addr is nobody's.
	Client netip.Addr
	// Fresh asks for a digest nonce that served no request before: a
	// request that changes something, whose body qop=auth does not cover,
	// so that a captured Authorization header cannot carry another body.
	// A used nonce gets ErrNonceReused (stale=true), and the client
	// retries at once with the new nonce.
	Fresh bool
}

// RequestOf returns the Request of an HTTP request, bound to its client's
// IP address.
func RequestOf(r *http.Request) Request {
	req := Request{Method: r.Method, URI: r.RequestURI, Authorization: r.Header.Get("Authorization"), Bind: clientIP(r.RemoteAddr)}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		req.Client = ap.Addr().Unmap()
	}
	return req
}

// clientIP returns the address of a RemoteAddr without its port.
func clientIP(remoteAddr string) string {
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return h
	}
	return remoteAddr
}

// Check authenticates one request and returns the user name. When
// Required is false it returns "", nil for any input.
func (a *Authenticator) Check(r Request) (user string, err error) {
	user, err = a.check(r)
	if err != nil && !errors.Is(err, ErrNoCredentials) && !errors.Is(err, ErrStaleNonce) {
		a.failures.Add(1)
	}
	return user, err
}

func (a *Authenticator) check(r Request) (user string, err error) {
	if !a.Required() {
		return "", nil
	}
	a.init()
	if strings.TrimSpace(r.Authorization) == "" {
		if a.Anonymous != nil && r.Client.IsValid() && a.Anonymous(r.Client) {
			return "", nil
		}
		return "", ErrNoCredentials
	}
	c, err := ParseCredentials(r.Authorization)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	switch {
	case strings.EqualFold(c.Scheme, "Basic"):
		return a.checkBasic(&c)
	case strings.EqualFold(c.Scheme, "Digest"):
		return a.checkDigest(r, &c)
	}
	return "", fmt.Errorf("%w: %q", ErrUnsupported, c.Scheme)
}

// dummyPassword is compared against when the user is unknown so that an
// unknown user costs the same time as a wrong password.
const dummyPassword = "\x00no such user\x00"

func (a *Authenticator) password(user string) (string, bool) {
	p, ok := a.Users.Password(user)
	if !ok {
		return dummyPassword, false
	}
	return p, true
}

func (a *Authenticator) checkBasic(c *Credentials) (string, error) {
	if !a.AllowBasic {
		return "", ErrBasicNotAllowed
	}
	if c.Token68 == "" {
		return "", fmt.Errorf("%w: basic without token", ErrMalformed)
	}
	raw, err := base64.StdEncoding.DecodeString(c.Token68)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", fmt.Errorf("%w: basic without colon", ErrMalformed)
	}
	want, known := a.password(user)
	// Compare fixed-size hashes so the comparison leaks no length.
	w := sha256.Sum256([]byte(want))
	g := sha256.Sum256([]byte(pass))
	if subtle.ConstantTimeCompare(w[:], g[:]) != 1 || !known {
		return "", ErrBadCredentials
	}
	return user, nil
}

// algorithm describes one digest hash algorithm.
type algorithm struct {
	name string
	hash func() hash.Hash
	sess bool
}

func lookupAlgorithm(name string) (algorithm, bool) {
	switch strings.ToUpper(name) {
	case "", "MD5":
		return algorithm{"MD5", md5.New, false}, true
	case "MD5-SESS":
		return algorithm{"MD5-sess", md5.New, true}, true
	case "SHA-256":
		return algorithm{"SHA-256", sha256.New, false}, true
	case "SHA-256-SESS":
		return algorithm{"SHA-256-sess", sha256.New, true}, true
	}
	return algorithm{}, false
}

func (al algorithm) h(parts ...string) string {
	hh := al.hash()
	for i, p := range parts {
		if i > 0 {
			hh.Write([]byte{':'})
		}
		hh.Write([]byte(p))
	}
	return hex.EncodeToString(hh.Sum(nil))
}

func (a *Authenticator) checkDigest(r Request, c *Credentials) (string, error) {
	get := func(name string) string { v, _ := c.Get(name); return v }
	user, hasUser := c.Get("username")
	if !hasUser {
		// RFC 7616 §3.4.4: username* carries an RFC 8187 ext-value.
		ext, ok := c.Get("username*")
		if !ok {
			return "", fmt.Errorf("%w: no username", ErrMalformed)
		}
		u, err := decodeExtValue(ext)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		user = u
	}
	if strings.EqualFold(get("userhash"), "true") {
		return "", fmt.Errorf("%w: userhash", ErrUnsupported)
	}
	nonce, response, duri := get("nonce"), get("response"), get("uri")
	if nonce == "" || response == "" {
		return "", fmt.Errorf("%w: nonce and response are required", ErrMalformed)
	}
	if _, ok := c.Get("uri"); !ok {
		return "", fmt.Errorf("%w: no uri", ErrMalformed)
	}
	al, ok := lookupAlgorithm(get("algorithm"))
	if !ok {
		return "", fmt.Errorf("%w: algorithm %q", ErrUnsupported, get("algorithm"))
	}
	if get("realm") != a.Realm {
		return "", ErrRealm
	}
	qop, hasQop := c.Get("qop")
	nc, cnonce := get("nc"), get("cnonce")
	if hasQop {
		if !strings.EqualFold(qop, "auth") {
			return "", fmt.Errorf("%w: qop %q", ErrUnsupported, qop)
		}
		if nc == "" || cnonce == "" {
			return "", fmt.Errorf("%w: qop=auth needs nc and cnonce", ErrMalformed)
		}
	}
	if al.sess && cnonce == "" {
		return "", fmt.Errorf("%w: %s needs cnonce", ErrMalformed, al.name)
	}
	if !uriMatches(duri, r.URI) {
		return "", ErrURIMismatch
	}
	key, issued, fresh := a.verifyNonce(nonce, r.Bind)

	pass, known := a.password(user)
	ha1 := al.h(user, a.Realm, pass)
	if al.sess {
		ha1 = al.h(ha1, nonce, cnonce)
	}
	ha2 := al.h(r.Method, duri)
	var want string
	if hasQop {
		want = al.h(ha1, nonce, nc, cnonce, qop, ha2)
	} else {
		want = al.h(ha1, nonce, ha2)
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(response))) != 1 || !known {
		return "", ErrBadCredentials
	}
	if !fresh {
		return "", ErrStaleNonce
	}
	if err := a.nonces.use(key, issued, user, nc, r.Fresh, a.NoncesPerUser, a.NonceLifetime, a.now()); err != nil {
		return "", err
	}
	return user, nil
}

// uriMatches reports whether the digest uri parameter designates the request
// target. They are normally identical; RTSP clients sometimes send the
// absolute URL in one place and the path in the other, so the path and
// query are compared when the strings differ.
func uriMatches(digestURI, requestURI string) bool {
	if digestURI == requestURI {
		return true
	}
	d, err1 := url.Parse(digestURI)
	r, err2 := url.Parse(requestURI)
	if err1 != nil || err2 != nil {
		return false
	}
	dp, rp := d.EscapedPath(), r.EscapedPath()
	if dp == "" {
		dp = "/"
	}
	if rp == "" {
		rp = "/"
	}
	return dp == rp && d.RawQuery == r.RawQuery
}

// decodeExtValue decodes an RFC 8187 ext-value such as UTF-8'en'%C3%A4 (the language may be empty).
func decodeExtValue(v string) (string, error) {
	charset, rest, ok := strings.Cut(v, "'")
	if !ok || !strings.EqualFold(charset, "UTF-8") {
		return "", errors.New("bad ext-value")
	}
	_, enc, ok := strings.Cut(rest, "'")
	if !ok {
		return "", errors.New("bad ext-value")
	}
	return url.PathUnescape(enc)
}

// Nonce layout, before base64url: 8-byte big-endian issue time (Unix
// nanoseconds), 12 random bytes, 16 bytes of HMAC-SHA256 over the first 20
// and the Bind of the client it was issued to.
const (
	nonceTime = 8
	nonceRand = 12
	nonceMAC  = 16
	nonceLen  = nonceTime + nonceRand + nonceMAC
)

// maxSkew tolerates a nonce whose timestamp is slightly in the future
// (clock steps on the server).
const maxSkew = 5 * time.Second

func (a *Authenticator) newNonce(bind string) string {
	a.init()
	var b [nonceLen]byte
	binary.BigEndian.PutUint64(b[:nonceTime], uint64(a.now().UnixNano()))
	if _, err := rand.Read(b[nonceTime : nonceTime+nonceRand]); err != nil {
		panic(fmt.Sprintf("httpauth: crypto/rand failed: %v", err))
	}
	copy(b[nonceTime+nonceRand:], a.nonceMAC(b[:nonceTime+nonceRand], bind))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// nonceMAC is the MAC of a nonce's time and random bytes issued to bind.
func (a *Authenticator) nonceMAC(head []byte, bind string) []byte {
	m := hmac.New(sha256.New, a.key[:])
	m.Write(head)
	m.Write([]byte(bind))
	return m.Sum(nil)[:nonceMAC]
}

// verifyNonce reports whether nonce was issued by a to bind and is still
// fresh, and returns its key and issue time. Expired nonces, nonces issued
// to another client and nonces we did not issue (for instance before a
// restart, which changes the key) are all "not fresh": the caller checks
// the response first, so a client that knows the password is told
// stale=true and retries with a new nonce, and any other gets a plain 401.
func (a *Authenticator) verifyNonce(nonce, bind string) (key nonceKey, issued time.Time, fresh bool) {
	if len(nonce) != base64.RawURLEncoding.EncodedLen(nonceLen) {
		return key, issued, false
	}
	var b [nonceLen]byte
	if n, err := base64.RawURLEncoding.Decode(b[:], []byte(nonce)); err != nil || n != nonceLen {
		return key, issued, false
	}
	if !hmac.Equal(a.nonceMAC(b[:nonceTime+nonceRand], bind), b[nonceTime+nonceRand:]) {
		return key, issued, false
	}
	copy(key[:], b[:nonceTime+nonceRand])
	issued = time.Unix(0, int64(binary.BigEndian.Uint64(b[:nonceTime])))
	age := a.now().Sub(issued)
	return key, issued, age >= -maxSkew && age <= a.NonceLifetime
}

// ChallengesFor returns the WWW-Authenticate values to send with a 401 to
// request r, which failed with err: a new nonce issued to r.Bind, in order
// of preference Digest SHA-256, Digest MD5, then Basic when AllowBasic.
// Clients that keep only the last Digest challenge (ffmpeg) thus end up
// with MD5, which they all support. When err is ErrStaleNonce (or wraps it)
// the digest challenges carry stale=true so that clients retry with the new
// nonce without asking for the password again.
func (a *Authenticator) ChallengesFor(r Request, err error) []string {
	return a.challenges(r.Bind, errors.Is(err, ErrStaleNonce))
}

// challenges builds the challenge list. Both Digest challenges carry the
// same nonce: clients that fold all WWW-Authenticate headers into one
// parameter list (Python's requests and httpx) then still get a coherent
// nonce, whichever algorithm value they keep.
//
// The parameters come in the order realm, nonce, stale, qop, algorithm:
// live555 (VLC, openRTSP and many NVRs) reads a challenge with the fixed
// patterns `Digest realm="%[^"]", nonce="%[^"]", stale=%[a-zA-Z]` and
// `Digest realm="%[^"]", nonce="%[^"]"` (RTSPClient::
// handleAuthenticationFailure) and never answers a challenge in which
// anything else comes between them.
func (a *Authenticator) challenges(bind string, stale bool) []string {
	a.init()
	head := "Digest realm=" + quote(a.Realm) + `, nonce="` + a.newNonce(bind) + `"`
	if stale {
		head += ", stale=true"
	}
	out := []string{
		head + `, qop="auth", algorithm=SHA-256`,
		head + `, qop="auth", algorithm=MD5`,
	}
	if a.AllowBasic {
		out = append(out, "Basic realm="+quote(a.Realm)+`, charset="UTF-8"`)
	}
	return out
}

type userKey struct{}

// User returns the authenticated user stored in ctx by Middleware, or "".
func User(ctx context.Context) string {
	u, _ := ctx.Value(userKey{}).(string)
	return u
}

// Middleware wraps next so that it is only reached with valid credentials
// when Required; other requests get 401 with ChallengesFor. Nonces are
// bound to the client's IP address (RequestOf). The user name is
// available to next through User(r.Context()).
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.Required() {
			next.ServeHTTP(w, r)
			return
		}
		user, err := a.Check(RequestOf(r))
		if err != nil {
			a.Deny(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, user)))
	})
}

// Deny writes a 401 response to r with the challenges for err.
func (a *Authenticator) Deny(w http.ResponseWriter, r *http.Request, err error) {
	h := w.Header()
	for _, c := range a.ChallengesFor(RequestOf(r), err) {
		h.Add("WWW-Authenticate", c)
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte("401 unauthorized: valid credentials are required (HTTP Digest or Basic)\n"))
}
