package soap

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/internal/xsdcheck"
	"github.com/chinesium/chinesium/wsdl"
)

// envelopeSeeds are requests as real clients send them, plus the hostile
// shapes the unit tests use. The committed corpus in
// testdata/fuzz/FuzzEnvelope holds more.
var envelopeSeeds = []string{
	envelope(V12, "", bodyDate),
	envelope(V11, "", bodyScopes),
	envelope(V12, tokenWith("admin", "s3cret", []byte("0123456789abcdef"), "2026-11-25T12:00:00Z"), bodyScopes),
	`<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>`,
	`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&a;</s:Body></s:Envelope>`,
	`<s:Envelope xmlns:s="urn:x"><s:Body/></s:Envelope>`,
	`<a><b><c><d><e/></d></c></b></a>`,
	"\xef\xbb\xbf<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Header/><s:Body><x:Y xmlns:x=\"urn:y\"/></s:Body></s:Envelope>",
	"",
}

// FuzzEnvelope feeds arbitrary bytes to ParseEnvelope and to a whole
// Service: parsing either fails with a *Fault that serializes, or yields an
// envelope whose payload survives a round trip; the service always answers
// with a SOAP message and never panics.
func FuzzEnvelope(f *testing.F) {
	for _, s := range envelopeSeeds {
		f.Add([]byte(s))
	}
	svc := newEndpoint(f, testService(&Security{Auth: newSecurity().Auth, Nonces: &NonceCache{}, Now: func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }}))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := ParseEnvelope(data, Limits{MaxDepth: 16})
		if err != nil {
			var fault *Fault
			if !errors.As(err, &fault) {
				t.Fatalf("error is not a *Fault: %v", err)
			}
			for _, v := range []Version{V11, V12} {
				if _, err := ParseEnvelope(Marshal(NewResponse(v, fault.Element(v))), Limits{}); err != nil {
					t.Fatalf("fault does not reparse: %v", err)
				}
			}
		} else if env.Payload != nil {
			op := env.Op()
			out := Marshal(NewResponse(env.Version, xsdcheck.WithNamespaces(env.Payload)))
			back, err := ParseEnvelope(out, Limits{})
			if err != nil {
				t.Fatalf("round trip failed: %v\n%s", err, out)
			}
			if back.Version != env.Version || back.Op() != op {
				t.Fatalf("round trip changed %v %v into %v %v", env.Version, op, back.Version, back.Op())
			}
		}

		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/onvif/device_service", bytes.NewReader(data))
		req.Header.Set("Content-Type", "application/soap+xml")
		svc.ServeHTTP(rec, req)
		body := rec.Body.Bytes()
		if !bytes.HasPrefix(body, []byte("<?xml")) {
			t.Fatalf("answer does not start with the XML declaration: %q", body)
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(body); err != nil {
			t.Fatalf("answer is not XML: %v", err)
		}
		if rec.Code != http.StatusOK {
			back, err := ParseEnvelope(body, Limits{})
			if err != nil || back.Payload == nil || back.Payload.Tag != "Fault" {
				t.Fatalf("status %d without a SOAP fault: %s", rec.Code, body)
			}
		}
	})
}

// securitySeeds are Security header contents: well-formed tokens of both
// password types, a Timestamp-only header and malformed variants.
var securitySeeds = []string{
	tokenWith("admin", "s3cret", []byte("0123456789abcdef"), "2026-11-25T12:00:00Z"),
	tokenWith("admin", "wrong", []byte("0123456789abcdef"), "2026-11-25T12:00:00.123Z"),
	tokenWith("viewer", "view", []byte("nonce"), "2026-11-25T13:00:00+01:00"),
	`<wsse:Security xmlns:wsse="` + wsdl.NSWSSE + `"><wsse:UsernameToken><wsse:Username>admin</wsse:Username><wsse:Password>s3cret</wsse:Password></wsse:UsernameToken></wsse:Security>`,
	`<wsse:Security xmlns:wsse="` + wsdl.NSWSSE + `" xmlns:wsu="` + wsdl.NSWSU + `"><wsu:Timestamp><wsu:Created>2026-11-25T12:00:00Z</wsu:Created></wsu:Timestamp></wsse:Security>`,
	`<wsse:Security xmlns:wsse="` + wsdl.NSWSSE + `"><wsse:UsernameToken><wsse:Username>a</wsse:Username><wsse:Password Type="#PasswordDigest">x</wsse:Password><wsse:Nonce>!!</wsse:Nonce></wsse:UsernameToken></wsse:Security>`,
	`<Security xmlns="` + wsdl.NSWSSE + `"><UsernameToken><Username>admin</Username><Password Type="urn:x">s</Password></UsernameToken><UsernameToken/></Security>`,
}

// FuzzWSSecurity feeds arbitrary Header contents to ParseSecurity and
// VerifyToken: no panics; a token that verifies really carries the user's
// password (digest recomputed here), and a verified digest token is refused
// the second time.
func FuzzWSSecurity(f *testing.F) {
	for _, s := range securitySeeds {
		f.Add(s)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, inner string) {
		doc := etree.NewDocument()
		if err := doc.ReadFromString(`<s:Header xmlns:s="` + wsdl.NSSOAP12 + `">` + inner + `</s:Header>`); err != nil {
			return
		}
		tok, err := ParseSecurity(doc.Root())
		if err != nil {
			if !errors.Is(err, ErrBadToken) {
				t.Fatalf("parse error does not wrap ErrBadToken: %v", err)
			}
			return
		}
		if tok == nil {
			return
		}
		sec := &Security{Auth: newSecurity().Auth, Nonces: &NonceCache{}, Now: func() time.Time { return now }}
		user, err := sec.VerifyToken(tok)
		if err != nil {
			return
		}
		password, ok := testUsers.Password(user)
		if !ok || user != tok.Username {
			t.Fatalf("verified unknown user %q", user)
		}
		if tok.Digest {
			if PasswordDigest(tok.Nonce, tok.Created, password) != strings.TrimSpace(tok.Password) {
				t.Fatalf("wrong digest accepted")
			}
			if _, err := sec.VerifyToken(tok); !errors.Is(err, ErrReplay) {
				t.Fatalf("replayed token: %v", err)
			}
		} else if tok.Password != password {
			t.Fatalf("wrong password accepted")
		}
	})
}

// FuzzScan checks the pre-parse limits against the parser: whatever Scan
// accepts, cut anywhere, gets the same verdict, and the tree etree builds
// from it stays within every limit (small ones here, so that the fuzzer
// reaches them).
func FuzzScan(f *testing.F) {
	for _, s := range envelopeSeeds {
		f.Add([]byte(s), 7)
	}
	f.Add([]byte(`<a xmlns:p="u" p:b="1" c='2'><!-- x --><![CDATA[y]]><?p i?>text</a>`), 3)
	lim := Limits{MaxElements: 8, MaxDepth: 4, MaxAttributes: 3, MaxTotalAttributes: 5, MaxNamespaces: 2, MaxNameLength: 8, MaxTextLength: 16}
	lim.setDefaults()
	f.Fuzz(func(t *testing.T, data []byte, cut int) {
		err := lim.Scan(data)
		s := scanner{lim: lim}
		cut = min(max(cut, 0), len(data))
		perr := s.write(data[:cut])
		if perr == nil {
			perr = s.write(data[cut:])
		}
		if perr == nil {
			perr = s.close()
		}
		if (err == nil) != (perr == nil) {
			t.Fatalf("whole: %v; cut at %d: %v", err, cut, perr)
		}
		if err != nil {
			return
		}
		doc := etree.NewDocument()
		if doc.ReadFromBytes(data) != nil {
			return
		}
		var elements, attrs, namespaces int
		var walk func(tokens []etree.Token, depth int)
		walk = func(tokens []etree.Token, depth int) {
			for _, tok := range tokens {
				switch tok := tok.(type) {
				case *etree.Element:
					elements++
					if depth > lim.MaxDepth {
						t.Fatalf("depth %d accepted", depth)
					}
					if len(tok.FullTag()) > lim.MaxNameLength {
						t.Fatalf("name %q accepted", tok.FullTag())
					}
					if len(tok.Attr) > lim.MaxAttributes {
						t.Fatalf("%d attributes on one element accepted", len(tok.Attr))
					}
					for _, a := range tok.Attr {
						attrs++
						if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
							namespaces++
						}
						if len(a.FullKey()) > lim.MaxNameLength || len(a.Value) > lim.MaxTextLength {
							t.Fatalf("attribute %q=%q accepted", a.FullKey(), a.Value)
						}
					}
					walk(tok.Child, depth+1)
				case *etree.Comment, *etree.ProcInst:
					elements++
				case *etree.CharData:
					if len(tok.Data) > lim.MaxTextLength*2 {
						// Entities and CDATA next to text join in one
						// CharData; each piece is bounded.
						t.Fatalf("text of %d bytes accepted", len(tok.Data))
					}
				}
			}
		}
		walk(doc.Child, 1)
		if elements > lim.MaxElements || attrs > lim.MaxTotalAttributes || namespaces > lim.MaxNamespaces {
			t.Fatalf("%d elements, %d attributes, %d namespace declarations accepted", elements, attrs, namespaces)
		}
	})
}
