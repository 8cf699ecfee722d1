package soap

import (
	"crypto/sha1" //nolint:gosec // WS-Security PasswordDigest is defined with SHA-1
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/httpauth"
	"github.com/chinesium/chinesium/wsdl"
)

// Access is the access class of an operation (ONVIF Core "User-based
// access control"). The zero value is ReadSystem, so an operation whose
// class was forgotten still needs credentials.
type Access int

// Access classes of ONVIF Core, in the order of the Core's default policy
// table.
const (
	// ReadSystem reads non-sensitive configuration (GetScopes, GetDNS).
	ReadSystem Access = iota
	// ReadSystemSensitive reads sensitive configuration.
	ReadSystemSensitive
	// ReadSystemSecret reads secrets such as user lists (GetUsers).
	ReadSystemSecret
	// WriteSystem changes configuration (SetScopes, CreateUsers).
	WriteSystem
	// Unrecoverable may make the device unusable (SystemReboot,
	// SetSystemFactoryDefault).
	Unrecoverable
	// ReadMedia reads media configuration and stream URIs.
	ReadMedia
	// Actuate moves or triggers something (PTZ, relays).
	Actuate
	// PreAuth needs no credentials (GetSystemDateAndTime, GetCapabilities,
	// GetServices, GetServiceCapabilities, GetHostname, GetWsdlUrl,
	// GetEndpointReference).
	PreAuth
)

// String returns the Core name of the class, e.g. "READ_SYSTEM".
func (a Access) String() string {
	switch a {
	case ReadSystem:
		return "READ_SYSTEM"
	case ReadSystemSensitive:
		return "READ_SYSTEM_SENSITIVE"
	case ReadSystemSecret:
		return "READ_SYSTEM_SECRET"
	case WriteSystem:
		return "WRITE_SYSTEM"
	case Unrecoverable:
		return "UNRECOVERABLE"
	case ReadMedia:
		return "READ_MEDIA"
	case Actuate:
		return "ACTUATE"
	case PreAuth:
		return "PRE_AUTH"
	}
	return fmt.Sprintf("Access(%d)", int(a))
}

// ONVIF user levels (tt:UserLevel) as Allowed takes them.
const (
	LevelAdministrator = "Administrator"
	LevelOperator      = "Operator"
	LevelUser          = "User"
)

// Allowed reports whether a user of the given level may call an operation
// of class a, per the Core's default access policy: Administrator
// everything; Operator all but READ_SYSTEM_SECRET, WRITE_SYSTEM and
// UNRECOVERABLE; User PRE_AUTH, READ_SYSTEM and READ_MEDIA; anyone else
// (level "") only PRE_AUTH.
func (a Access) Allowed(level string) bool {
	switch level {
	case LevelAdministrator:
		return true
	case LevelOperator:
		return a != ReadSystemSecret && a != WriteSystem && a != Unrecoverable
	case LevelUser:
		return a == PreAuth || a == ReadSystem || a == ReadMedia
	}
	return a == PreAuth
}

// Levels is implemented by Users stores that know each user's level
// (onvif.Store does). Without it every authenticated user is an
// Administrator.
type Levels interface {
	Level(user string) (level string, ok bool)
}

// DefaultMaxSkew is how far a UsernameToken's Created may be from the
// device clock, either way: the five minutes the UsernameToken profile
// suggests. The device clock is the host's, normally NTP-disciplined.
// Clients that read the device's clock first and sign with it (agsh/onvif
// through its timeShift, Home Assistant's onvif-zeep-async through
// dt_diff, ONVIF Device Manager) are never off; clients that sign with
// their own clock (use-go/onvif, plain zeep) need their host's clock within
// the window. A wider window costs memory: every nonce is remembered for
// the whole window (NonceCache).
const DefaultMaxSkew = 5 * time.Minute

// Errors a UsernameToken is refused with; they are wrapped in a
// NotAuthorized fault.
var (
	// ErrBadToken means the Security header or its UsernameToken is
	// malformed.
	ErrBadToken = errors.New("soap: malformed WS-Security UsernameToken")
	// ErrNoNonce means a PasswordDigest token lacks Nonce or Created,
	// which ONVIF Core requires the device to reject.
	ErrNoNonce = errors.New("soap: PasswordDigest without Nonce or Created")
	// ErrStale means Created is outside the allowed clock skew.
	ErrStale = errors.New("soap: UsernameToken Created outside the allowed window")
	// ErrReplay means the nonce was seen before, by this device or any
	// other sharing the NonceCache.
	ErrReplay = errors.New("soap: UsernameToken nonce replayed")
	// ErrBadPassword means the user is unknown or the password wrong.
	ErrBadPassword = errors.New("soap: wrong user name or password")
	// ErrNoCredentials means a request needing credentials had none.
	ErrNoCredentials = errors.New("soap: no credentials")
	// ErrLevel means the user's level does not allow the operation.
	ErrLevel = errors.New("soap: user level does not allow the operation")
)

// UsernameToken is a parsed wsse:UsernameToken.
type UsernameToken struct {
	Username string
	// Password is the password (PasswordText) or the base64 digest as sent.
	Password string
	// Digest reports a PasswordDigest token.
	Digest bool
	// Nonce is the decoded nonce, nil when absent.
	Nonce []byte
	// Created is the wsu:Created string as sent ("" when absent); the digest
	// covers these exact bytes.
	Created string
}

// ParseSecurity finds the wsse:Security header among the children of the
// SOAP Header header (which may be nil) and parses its UsernameToken. It
// returns nil, nil when there is no Security header or it holds no
// UsernameToken (e.g. only a wsu:Timestamp), and an error wrapping
// ErrBadToken when the token is malformed.
func ParseSecurity(header *etree.Element) (*UsernameToken, error) {
	if header == nil {
		return nil, nil
	}
	var ut *etree.Element
	for _, sec := range header.ChildElements() {
		wsse := sec.NamespaceURI()
		if sec.Tag != "Security" || !isWSSE(wsse) {
			continue
		}
		for _, c := range sec.ChildElements() {
			if c.Tag == "UsernameToken" && c.NamespaceURI() == wsse {
				if ut != nil {
					return nil, fmt.Errorf("%w: more than one UsernameToken", ErrBadToken)
				}
				ut = c
			}
		}
	}
	if ut == nil {
		return nil, nil
	}
	tok := &UsernameToken{}
	wsse := ut.NamespaceURI()
	var haveUser, havePass bool
	for _, c := range ut.ChildElements() {
		ns := c.NamespaceURI()
		switch {
		case c.Tag == "Username" && ns == wsse:
			tok.Username, haveUser = strings.TrimSpace(c.Text()), true
		case c.Tag == "Password" && ns == wsse:
			tok.Password, havePass = c.Text(), true
			switch typ := strings.TrimSpace(c.SelectAttrValue("Type", "")); {
			case typ == "" || typ == wsdl.PasswordText || strings.HasSuffix(typ, "#PasswordText"):
				tok.Digest = false
			case typ == wsdl.PasswordDigest || strings.HasSuffix(typ, "#PasswordDigest"):
				tok.Digest = true
			default:
				return nil, fmt.Errorf("%w: unknown password type %q", ErrBadToken, typ)
			}
		case c.Tag == "Nonce" && ns == wsse:
			n, err := decodeNonce(c)
			if err != nil {
				return nil, err
			}
			tok.Nonce = n
		case c.Tag == "Created" && (ns == wsdl.NSWSU || ns == wsse):
			// Some clients put Created in the wsse namespace.
			tok.Created = strings.TrimSpace(c.Text())
		}
	}
	if !haveUser || !havePass {
		return nil, fmt.Errorf("%w: Username or Password missing", ErrBadToken)
	}
	return tok, nil
}

// legacyWSSE are pre-OASIS WS-Security namespaces that old clients and
// firmwares still send; their UsernameToken has the same shape.
var legacyWSSE = []string{
	"http://schemas.xmlsoap.org/ws/2002/07/secext",
	"http://schemas.xmlsoap.org/ws/2003/06/secext",
}

func isWSSE(ns string) bool {
	return ns == wsdl.NSWSSE || slices.Contains(legacyWSSE, ns)
}

func decodeNonce(c *etree.Element) ([]byte, error) {
	text := strings.TrimSpace(c.Text())
	enc := strings.TrimSpace(c.SelectAttrValue("EncodingType", ""))
	if enc != "" && !strings.HasSuffix(enc, "#Base64Binary") {
		// Only Base64Binary is defined for nonces; anything else (e.g. a
		// hex encoding some clients claim) is used as the raw bytes.
		return []byte(text), nil
	}
	n, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		n, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(text, "="))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: nonce is not base64", ErrBadToken)
	}
	return n, nil
}

// PasswordDigest computes Base64(SHA-1(nonce ‖ created ‖ password)), the
// UsernameToken Profile 1.0 digest.
func PasswordDigest(nonce []byte, created, password string) string {
	h := sha1.New() //nolint:gosec // mandated by the UsernameToken profile
	h.Write(nonce)
	h.Write([]byte(created))
	h.Write([]byte(password))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// ParseCreated parses a wsu:Created value: an xs:dateTime with a zone (or
// without one, taken as UTC, as some clients send).
func ParseCreated(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: bad Created %q", ErrBadToken, s)
}

// Security authenticates SOAP requests. The zero value (or a nil
// *Security) requires nothing. It is safe for concurrent use once serving
// has started; set the fields before. Zero fields get their defaults on
// first use.
//
// Rules (ONVIF Core "Security"):
//   - With no user configured (Auth nil or Auth.Required() false) every
//     request is served anonymously (Request.User is "").
//   - PreAuth operations are served without credentials; credentials that
//     are sent but wrong are ignored for them (clients such as ODM sign
//     GetSystemDateAndTime before they know the device's time).
//   - A request with a WS-Security UsernameToken is authenticated by it; a
//     bad token gets HTTP 400 with env:Sender/ter:NotAuthorized, unless the
//     request also carries valid HTTP credentials.
//   - Otherwise an Authorization header is checked by Auth (HTTP Digest
//     MD5/SHA-256, or Basic if Auth allows it); a bad or missing one gets
//     HTTP 401 with Auth's challenges and a NotAuthorized fault body. With
//     NoHTTPAuth, a request without a token gets HTTP 400 instead.
//   - If Auth.Users implements Levels, the user's level must allow the
//     operation's Access class (Access.Allowed).
type Security struct {
	// Auth holds the users (shared with the streams and RTSP) and checks
	// HTTP Digest/Basic credentials. nil means no authentication.
	Auth *httpauth.Authenticator
	// NoHTTPAuth refuses HTTP authentication on the SOAP endpoint, so only
	// WS-Security tokens are accepted and missing credentials get HTTP 400.
	NoHTTPAuth bool
	// MaxSkew is how far Created may be from the device clock, either way.
	// It defaults to DefaultMaxSkew. A PasswordDigest token's nonce is
	// remembered until its Created is MaxSkew old.
	MaxSkew time.Duration
	// Nonces remembers the nonces of verified tokens. nil means the cache
	// every Security of the process shares, which is what a device wants:
	// a token sniffed on one device must not work on another.
	Nonces *NonceCache
	// Now returns the device time; it defaults to time.Now.
	Now func() time.Time
	// NoCredentialsFaults answers requests for the listed operations that
	// carry no credentials at all with the given fault instead of
	// NotAuthorized. It exists for one client quirk: Synology
	// Surveillance Station sends one CreateProfile without credentials and
	// takes NotAuthorized for a wrong password, while
	// env:Receiver/ter:Action/ter:MaxNVTProfiles lets it carry on. The
	// operation is still not executed.
	NoCredentialsFaults map[wsdl.Op]*Fault

	initOnce sync.Once
	scope    uint64 // tells this Security's users from other Securities' in Nonces
}

// scopes numbers the Securities of the process.
var scopes atomic.Uint64

// setDefaults fills every zero field with its default; it runs once, on
// first use.
func (s *Security) setDefaults() {
	if s.MaxSkew <= 0 {
		s.MaxSkew = DefaultMaxSkew
	}
	if s.Nonces == nil {
		s.Nonces = &sharedNonces
	}
	s.scope = scopes.Add(1)
	if s.Now == nil {
		s.Now = time.Now
	}
}

func (s *Security) required() bool { return s != nil && s.Auth.Required() }

// HTTPAuth reports whether requests may authenticate with HTTP Digest
// (true unless NoHTTPAuth is set; true for a nil Security, which checks
// nothing).
func (s *Security) HTTPAuth() bool { return s == nil || !s.NoHTTPAuth }

// VerifyToken checks tok against the users and returns the user name. A
// PasswordDigest token needs Nonce and Created; Created, when present,
// must be within MaxSkew of the device clock; a digest token's nonce must
// not have been used before, here or by any Security sharing Nonces (it is
// remembered once the digest verified, under the user's quota).
func (s *Security) VerifyToken(tok *UsernameToken) (string, error) {
	if s == nil || s.Auth == nil || s.Auth.Users == nil {
		return "", ErrBadPassword
	}
	s.initOnce.Do(s.setDefaults)
	now := s.Now()
	if tok.Digest && (len(tok.Nonce) == 0 || tok.Created == "") {
		return "", ErrNoNonce
	}
	var created time.Time
	if tok.Created != "" {
		var err error
		if created, err = ParseCreated(tok.Created); err != nil {
			return "", err
		}
		if max := s.MaxSkew; created.Before(now.Add(-max)) || created.After(now.Add(max)) {
			return "", fmt.Errorf("%w: Created %s, device time %s", ErrStale, tok.Created, now.UTC().Format(time.RFC3339))
		}
	}
	password, known := s.Auth.Users.Password(tok.Username)
	if !known {
		password = "\x00no such user\x00" // same work as a wrong password
	}
	var ok bool
	if tok.Digest {
		want := PasswordDigest(tok.Nonce, tok.Created, password)
		got := strings.TrimSpace(tok.Password)
		ok = subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
	} else {
		ok = subtle.ConstantTimeCompare([]byte(password), []byte(tok.Password)) == 1
	}
	if !ok || !known {
		return "", ErrBadPassword
	}
	if tok.Digest {
		// The token is accepted until Created is MaxSkew old: remember
		// its nonce until then.
		owner := nonceOwner{scope: s.scope, user: tok.Username}
		if err := s.Nonces.add(owner, tok.Nonce, created.Add(s.MaxSkew), now); err != nil {
			return "", err
		}
	}
	return tok.Username, nil
}

// authError is the outcome of authenticate for a refused request.
type authError struct {
	fault  *Fault
	status int
	// challenge is set when the answer is 401 with WWW-Authenticate.
	challenge bool
	httpErr   error
}

func (e *authError) Error() string { return e.fault.Error() }

// authenticate applies the rules documented on Security. hr is the HTTP
// request as httpauth sees it, header the SOAP Header (may be nil).
func (s *Security) authenticate(hr httpauth.Request, header *etree.Element, op wsdl.Op, access Access) (string, *authError) {
	if !s.required() {
		return "", nil // no users: nothing to check a claimed name against
	}
	// qop=auth does not cover the body: a change needs a digest nonce that
	// served no request before, so that a captured Authorization header
	// cannot carry another body.
	hr.Fresh = access == WriteSystem || access == Unrecoverable
	tok, tokErr := ParseSecurity(header)
	user, err := s.credentials(hr, tok, tokErr)
	if access == PreAuth {
		if err != nil {
			return "", nil //nolint:nilerr // pre-auth operations answer anyone; bad credentials only leave the user unnamed
		}
		return user, nil
	}
	if err != nil {
		if f, ok := s.NoCredentialsFaults[op]; ok && f != nil && errors.Is(err.fault, ErrNoCredentials) {
			return "", &authError{fault: f, status: f.HTTPStatus()}
		}
		return "", err
	}
	if lv, ok := s.Auth.Users.(Levels); ok {
		level, _ := lv.Level(user)
		if !access.Allowed(level) {
			return "", &authError{fault: NotAuthorized(fmt.Errorf("%w: %s for %s", ErrLevel, level, access)), status: 400}
		}
	}
	return user, nil
}

func (s *Security) credentials(hr httpauth.Request, tok *UsernameToken, tokErr error) (string, *authError) {
	httpAuth := !s.NoHTTPAuth && strings.TrimSpace(hr.Authorization) != ""
	if tokErr == nil && tok != nil {
		user, err := s.VerifyToken(tok)
		if err == nil {
			return user, nil
		}
		tokErr = err
	}
	if tokErr != nil {
		// A bad token is forgiven when the same request also carries valid
		// HTTP credentials (agsh/onvif keeps its token when it retries
		// with Digest after a 401).
		if httpAuth {
			user, err := s.Auth.Check(hr)
			if err == nil {
				return user, nil
			}
			if errors.Is(err, httpauth.ErrStaleNonce) {
				// Right password, used or expired nonce: the challenge
				// lets the client carry on.
				return "", &authError{fault: NotAuthorized(err), status: 401, challenge: true, httpErr: err}
			}
		}
		return "", &authError{fault: NotAuthorized(tokErr), status: 400}
	}
	if s.NoHTTPAuth {
		return "", &authError{fault: NotAuthorized(ErrNoCredentials), status: 400}
	}
	if !httpAuth {
		return "", &authError{fault: NotAuthorized(ErrNoCredentials), status: 401, challenge: true, httpErr: httpauth.ErrNoCredentials}
	}
	user, err := s.Auth.Check(hr)
	if err != nil {
		return "", &authError{fault: NotAuthorized(err), status: 401, challenge: true, httpErr: err}
	}
	return user, nil
}
