package soap

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/internal/xmltree"
	"github.com/chinesium/chinesium/wsdl"
)

// Version is a SOAP version.
type Version int

const (
	// V12 is SOAP 1.2, the version ONVIF specifies.
	V12 Version = iota
	// V11 is SOAP 1.1, still sent by some clients and firmwares.
	V11
)

// String returns "SOAP 1.2" or "SOAP 1.1".
func (v Version) String() string {
	if v == V11 {
		return "SOAP 1.1"
	}
	return "SOAP 1.2"
}

// Namespace returns the envelope namespace URI of v.
func (v Version) Namespace() string {
	if v == V11 {
		return wsdl.NSSOAP11
	}
	return wsdl.NSSOAP12
}

// ContentType returns the Content-Type of a message in version v.
func (v Version) ContentType() string {
	if v == V11 {
		return "text/xml; charset=utf-8"
	}
	return "application/soap+xml; charset=utf-8"
}

// Errors of ParseEnvelope; all of them are wrapped in a *Fault.
var (
	// ErrMalformed means the body is not well-formed XML or not a SOAP
	// envelope.
	ErrMalformed = errors.New("soap: malformed message")
	// ErrDoctype means the message contains a DOCTYPE (or another
	// directive), which SOAP forbids; entities are never expanded.
	ErrDoctype = errors.New("soap: DOCTYPE not allowed")
	// ErrTooDeep means the element nesting exceeds the depth limit.
	ErrTooDeep = errors.New("soap: element nesting too deep")
	// ErrTooMany means the request has more elements, attributes or
	// namespace declarations than the Limits allow.
	ErrTooMany = errors.New("soap: too many elements or attributes")
	// ErrTooLong means a name, text or attribute value of the request is
	// longer than the Limits allow.
	ErrTooLong = errors.New("soap: name or text too long")
	// ErrVersion means the root element is an Envelope in an unknown
	// namespace.
	ErrVersion = errors.New("soap: unknown envelope version")
)

// Envelope is a parsed SOAP message.
type Envelope struct {
	// Version is the SOAP version of the envelope's namespace.
	Version Version
	// Header is the SOAP Header element, nil when absent.
	Header *etree.Element
	// Body is the SOAP Body element.
	Body *etree.Element
	// Payload is the first element child of Body, nil when Body is empty.
	Payload *etree.Element
}

// Op returns the qualified name of the payload element, the zero Op when
// the Body is empty.
func (e *Envelope) Op() wsdl.Op {
	if e.Payload == nil {
		return wsdl.Op{}
	}
	return wsdl.Op{Namespace: e.Payload.NamespaceURI(), Name: e.Payload.Tag}
}

// ParseEnvelope parses a SOAP 1.2 or 1.1 message after checking it against
// lim (zero fields take their defaults; see Limits.Scan). Errors are
// *Fault values (env:Sender/ter:WellFormed, env:Sender/ter:Namespace for an
// undeclared prefix, or env:VersionMismatch for an envelope in an unknown
// namespace) wrapping ErrMalformed, ErrDoctype, ErrTooDeep, ErrTooMany,
// ErrTooLong or ErrVersion.
func ParseEnvelope(b []byte, lim Limits) (*Envelope, error) {
	lim.setDefaults()
	if err := lim.Scan(b); err != nil {
		return nil, err
	}
	return parseScanned(b, lim.MaxDepth)
}

// parseScanned parses a message that Limits.Scan accepted.
func parseScanned(b []byte, maxDepth int) (*Envelope, error) {
	// A UTF-8 byte-order mark is legal XML; skip it rather than fail.
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	// Scan has bounded the depth already; Parse's bound is the backstop.
	doc, err := xmltree.Parse(b, maxDepth)
	if err != nil {
		if errors.Is(err, etree.ErrMaxDepth) {
			return nil, wellFormed(ErrTooDeep, "element nesting deeper than %d", maxDepth)
		}
		return nil, wellFormed(ErrMalformed, "not well-formed XML: %v", err)
	}
	var root *etree.Element
	for _, t := range doc.Child {
		switch t := t.(type) {
		case *etree.Directive:
			return nil, wellFormed(ErrDoctype, "DOCTYPE and other directives are not allowed")
		case *etree.CharData:
			if !t.IsWhitespace() {
				return nil, wellFormed(ErrMalformed, "text outside the root element")
			}
		case *etree.Element:
			if root != nil {
				return nil, wellFormed(ErrMalformed, "more than one root element")
			}
			root = t
		}
	}
	if root == nil {
		return nil, wellFormed(ErrMalformed, "no root element")
	}
	if err := checkTree(root); err != nil {
		return nil, err
	}
	if root.Tag != "Envelope" {
		return nil, wellFormed(ErrMalformed, "root element is %q, not a SOAP Envelope", root.Tag)
	}
	env := &Envelope{}
	switch root.NamespaceURI() {
	case wsdl.NSSOAP12:
		env.Version = V12
	case wsdl.NSSOAP11:
		env.Version = V11
	default:
		f := &Fault{Code: CodeVersionMismatch, Reason: fmt.Sprintf("envelope namespace %q is neither SOAP 1.2 nor SOAP 1.1", root.NamespaceURI()), Err: ErrVersion}
		return nil, f
	}
	ns := env.Version.Namespace()
	for _, c := range root.ChildElements() {
		if c.NamespaceURI() != ns {
			return nil, wellFormed(ErrMalformed, "unexpected element %q in the Envelope", c.Tag)
		}
		switch {
		case c.Tag == "Header" && env.Header == nil && env.Body == nil:
			env.Header = c
		case c.Tag == "Body" && env.Body == nil:
			env.Body = c
		default:
			return nil, wellFormed(ErrMalformed, "unexpected element %q in the Envelope", c.Tag)
		}
	}
	if env.Body == nil {
		return nil, wellFormed(ErrMalformed, "no SOAP Body")
	}
	for _, c := range env.Body.ChildElements() {
		env.Payload = c
		break
	}
	return env, nil
}

// checkTree refuses directives (<!DOCTYPE ...>) inside elements, which
// etree would otherwise keep (encoding/xml never expands entities declared
// there, but refusing them is simpler to reason about), and prefixes that
// are not declared, which etree's parser lets through. It walks the tree
// once with the prefixes in scope, so its cost is linear in the number of
// elements and attributes (asking etree for each attribute's namespace
// would search every attribute of every ancestor each time).
func checkTree(root *etree.Element) error {
	scope := map[string]string{"xml": "xml", "xmlns": "xmlns"}
	type saved struct{ prefix, uri string }
	var undo []saved
	var walk func(e *etree.Element) error
	walk = func(e *etree.Element) error {
		mark := len(undo)
		for _, a := range e.Attr {
			if a.Space == "xmlns" {
				undo = append(undo, saved{a.Key, scope[a.Key]})
				scope[a.Key] = a.Value
			}
		}
		if e.Space != "" && scope[e.Space] == "" {
			return namespaceFault(e.Space)
		}
		for _, a := range e.Attr {
			if a.Space != "" && scope[a.Space] == "" {
				return namespaceFault(a.Space)
			}
		}
		for _, t := range e.Child {
			switch t := t.(type) {
			case *etree.Directive:
				return wellFormed(ErrDoctype, "DOCTYPE and other directives are not allowed")
			case *etree.Element:
				if err := walk(t); err != nil {
					return err
				}
			}
		}
		for i := len(undo) - 1; i >= mark; i-- {
			scope[undo[i].prefix] = undo[i].uri
		}
		undo = undo[:mark]
		return nil
	}
	return walk(root)
}

func namespaceFault(prefix string) *Fault {
	return &Fault{Code: CodeSender, Subcodes: []string{"Namespace"}, Reason: fmt.Sprintf("namespace prefix %q is not declared", prefix), Err: ErrMalformed}
}

func wellFormed(err error, format string, args ...any) *Fault {
	return &Fault{Code: CodeSender, Subcodes: []string{"WellFormed"}, Reason: fmt.Sprintf(format, args...), Err: err}
}

// responsePrefixes are declared on every response Envelope so that handlers
// can build elements with these prefixes without declaring them.
var responsePrefixes = [][2]string{
	{"ter", wsdl.NSError},
	{"tt", wsdl.NSSchema},
	{"tds", wsdl.NSDevice},
	{"trt", wsdl.NSMedia},
	{"tev", wsdl.NSEvents},
	{"wsnt", wsdl.NSWSNT},
	{"wsa", wsdl.NSWSA},
	{"wstop", wsdl.NSWSNTopics},
	{"tns1", wsdl.NSTopics},
}

// EnvPrefix is the prefix of the SOAP envelope namespace in responses.
const EnvPrefix = "env"

// NewResponse returns an envelope document in version v whose Body holds
// payload (which may be nil for an empty Body). The Envelope declares the
// prefixes env (SOAP), ter, tt, tds, trt, tev, wsnt, wsa, wstop and tns1.
func NewResponse(v Version, payload *etree.Element) *etree.Document {
	doc := etree.NewDocument()
	env := doc.CreateElement(EnvPrefix + ":Envelope")
	env.CreateAttr("xmlns:"+EnvPrefix, v.Namespace())
	for _, p := range responsePrefixes {
		env.CreateAttr("xmlns:"+p[0], p[1])
	}
	body := env.CreateElement(EnvPrefix + ":Body")
	if payload != nil {
		body.AddChild(payload)
	}
	return doc
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// xmlDecl starts every message: nothing may come before it (UniFi Protect's
// strict parser fails on leading whitespace or a BOM).
const xmlDecl = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// writeDoc serializes doc into a pooled buffer, XML declaration first.
// The caller returns the buffer with putBuf.
func writeDoc(doc *etree.Document) *bytes.Buffer {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	buf.WriteString(xmlDecl)
	for _, c := range doc.Child {
		if e, ok := c.(*etree.Element); ok {
			e.WriteTo(buf, &doc.WriteSettings)
		}
	}
	return buf
}

func putBuf(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 {
		bufPool.Put(b)
	}
}

// Marshal serializes a message document as sent on the wire: the XML
// declaration, then the root element, nothing before them.
func Marshal(doc *etree.Document) []byte {
	buf := writeDoc(doc)
	out := bytes.Clone(buf.Bytes())
	putBuf(buf)
	return out
}

// versionFromContentType guesses the SOAP version from a Content-Type for
// faults about messages that could not be parsed: text/xml is SOAP 1.1's
// media type, everything else is answered in SOAP 1.2.
func versionFromContentType(ct string) Version {
	mt, _, _ := strings.Cut(ct, ";")
	if strings.EqualFold(strings.TrimSpace(mt), "text/xml") {
		return V11
	}
	return V12
}
