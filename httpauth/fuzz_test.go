package httpauth

import (
	"reflect"
	"testing"
)

// FuzzParseCredentials checks that the Authorization header parser never
// panics, that whatever it accepts formats back to a header that parses to
// the same value, and that Check survives any header.
func FuzzParseCredentials(f *testing.F) {
	for _, s := range []string{
		`Basic YWRtaW46cGFzcw==`,
		`Digest username="admin", realm="test realm", nonce="abc", uri="/snapshot.jpg", algorithm=MD5, qop=auth, nc=00000001, cnonce="x", response="0123"`,
		`Digest username="a\"b", realm="x, y",, nonce=abc ,`,
		`Digest username*=UTF-8''j%C3%A4ger, realm="r"`,
		`Digest username="a`,
		`Digest`,
		``,
	} {
		f.Add(s)
	}
	a := New("test realm", StaticUsers{"admin": "pw"})
	f.Fuzz(func(t *testing.T, h string) {
		_, _ = a.Check(Request{Method: "GET", URI: "/", Authorization: h})
		c, err := ParseCredentials(h)
		if err != nil {
			return
		}
		s := c.String()
		c2, err := ParseCredentials(s)
		if err != nil {
			t.Fatalf("reparse of %q (from %q): %v", s, h, err)
		}
		for i := range c.Params {
			c.Params[i].Quoted = c.Params[i].Quoted || !isToken(c.Params[i].Value)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip of %q: %#v != %#v", h, c, c2)
		}
	})
}
