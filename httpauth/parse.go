package httpauth

import (
	"errors"
	"strings"
)

// maxHeaderLen bounds the Authorization header we are willing to parse.
// Real digest headers are a few hundred bytes.
const maxHeaderLen = 8 << 10

// maxParams bounds the number of auth-params in one header.
const maxParams = 32

// errSyntax is wrapped by ErrMalformed for parse failures.
var errSyntax = errors.New("syntax error")

// Credentials is a parsed Authorization (or WWW-Authenticate) header value:
// an auth-scheme followed by either a token68 (Basic) or auth-params
// (Digest). Specification: RFC 9110 §11.4.
type Credentials struct {
	// Scheme is the auth-scheme as sent ("Digest", "basic", ...).
	Scheme string
	// Token68 is the single token after the scheme (Basic), "" otherwise.
	Token68 string
	// Params holds the auth-params in order; names are lower-cased,
	// quoted-string values are unquoted.
	Params []Param
}

// Param is one auth-param.
type Param struct {
	Name, Value string
	// Quoted reports whether the value was sent as a quoted-string.
	Quoted bool
}

// Get returns the value of the named parameter (lower-case name).
func (c *Credentials) Get(name string) (string, bool) {
	for _, p := range c.Params {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

// ParseCredentials parses an Authorization header value. It accepts
// quoted-strings with backslash escapes and commas inside quotes, optional
// whitespace around "=" and ",", and empty list elements; it rejects
// duplicate parameters, unterminated quotes and oversize input.
func ParseCredentials(h string) (Credentials, error) {
	var c Credentials
	if len(h) > maxHeaderLen {
		return c, errors.New("header too long")
	}
	s := trimOWS(h)
	i := 0
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	if i == 0 {
		return c, errSyntax
	}
	c.Scheme = s[:i]
	s = s[i:]
	if s == "" {
		return c, nil
	}
	if s[0] != ' ' && s[0] != '\t' {
		return c, errSyntax
	}
	s = trimOWS(s)
	if s == "" {
		return c, nil
	}
	// token68: token68 chars then optional '=' padding, and nothing else.
	if t, ok := token68(s); ok {
		c.Token68 = t
		return c, nil
	}
	for {
		// Skip empty list elements.
		for s != "" && (s[0] == ',' || s[0] == ' ' || s[0] == '\t') {
			s = s[1:]
		}
		if s == "" {
			break
		}
		j := 0
		for j < len(s) && isTokenChar(s[j]) {
			j++
		}
		if j == 0 {
			return c, errSyntax
		}
		name := strings.ToLower(s[:j])
		s = trimLeftOWS(s[j:])
		if s == "" || s[0] != '=' {
			return c, errSyntax
		}
		s = trimLeftOWS(s[1:])
		var p Param
		p.Name = name
		if s != "" && s[0] == '"' {
			v, rest, ok := quoted(s)
			if !ok {
				return c, errSyntax
			}
			p.Value, p.Quoted, s = v, true, rest
		} else {
			k := 0
			for k < len(s) && isTokenChar(s[k]) {
				k++
			}
			if k == 0 {
				return c, errSyntax
			}
			p.Value, s = s[:k], s[k:]
		}
		if _, dup := c.Get(name); dup {
			return c, errors.New("duplicate parameter " + name)
		}
		if len(c.Params) >= maxParams {
			return c, errors.New("too many parameters")
		}
		c.Params = append(c.Params, p)
		s = trimLeftOWS(s)
		if s == "" {
			break
		}
		if s[0] != ',' {
			return c, errSyntax
		}
	}
	return c, nil
}

// String formats c back into a header value; ParseCredentials(c.String())
// returns c again (quoting normalised).
func (c *Credentials) String() string {
	var b strings.Builder
	b.WriteString(c.Scheme)
	if c.Token68 != "" {
		b.WriteByte(' ')
		b.WriteString(c.Token68)
		return b.String()
	}
	for i, p := range c.Params {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteString(", ")
		}
		b.WriteString(p.Name)
		b.WriteByte('=')
		if p.Quoted || !isToken(p.Value) {
			b.WriteString(quote(p.Value))
		} else {
			b.WriteString(p.Value)
		}
	}
	return b.String()
}

// token68 reports whether s is a whole token68 (RFC 9110 §11.2).
func token68(s string) (string, bool) {
	i := 0
	for i < len(s) && isToken68Char(s[i]) {
		i++
	}
	if i == 0 {
		return "", false
	}
	j := i
	for j < len(s) && s[j] == '=' {
		j++
	}
	if trimOWS(s[j:]) != "" {
		return "", false
	}
	return s[:j], true
}

// quoted parses a quoted-string at the start of s (which begins with '"').
func quoted(s string) (val, rest string, ok bool) {
	var b []byte
	esc := false
	for i := 1; i < len(s); i++ {
		ch := s[i]
		switch {
		case esc:
			b = append(b, ch)
			esc = false
		case ch == '\\':
			esc = true
		case ch == '"':
			return string(b), s[i+1:], true
		default:
			b = append(b, ch)
		}
	}
	return "", "", false
}

// quote returns v as a quoted-string, escaping '"' and '\'.
func quote(v string) string {
	var b strings.Builder
	b.Grow(len(v) + 2)
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if v[i] == '"' || v[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('"')
	return b.String()
}

func trimOWS(s string) string { return strings.Trim(s, " \t") }

func trimLeftOWS(s string) string { return strings.TrimLeft(s, " \t") }

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// isTokenChar reports whether c is a tchar (RFC 9110 §5.6.2).
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken68Char(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-._~+/", c) >= 0
}
