package discovery

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/internal/xmltree"
)

// Namespaces and URIs of WS-Discovery 2005/04 as ONVIF uses it.
const (
	NSEnvelope   = "http://www.w3.org/2003/05/soap-envelope"
	NSEnvelope11 = "http://schemas.xmlsoap.org/soap/envelope/"
	NSDiscovery  = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
	NSAddressing = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	NSNetwork    = "http://www.onvif.org/ver10/network/wsdl" // dn: NetworkVideoTransmitter
	NSDevice     = "http://www.onvif.org/ver10/device/wsdl"  // tds: Device

	// ToDiscovery is the wsa:To of multicast messages (Hello, Bye, Probe, Resolve).
	ToDiscovery = "urn:schemas-xmlsoap-org:ws:2005:04:discovery"
	// ToAnonymous is the wsa:To of unicast answers.
	ToAnonymous = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"

	// MatchRFC2396 is the default scope matching rule of WS-Discovery 2005/04.
	MatchRFC2396 = NSDiscovery + "/rfc2396"
	// MatchRFC3986 is the rule of the same meaning under its newer name.
	MatchRFC3986 = NSDiscovery + "/rfc3986"
	// MatchStrcmp0 is the case-sensitive string comparison rule.
	MatchStrcmp0 = NSDiscovery + "/strcmp0"
)

// Action is a WS-Discovery message kind, named by the local name of its body element.
type Action string

// The WS-Discovery message kinds.
const (
	ActionHello          Action = "Hello"
	ActionBye            Action = "Bye"
	ActionProbe          Action = "Probe"
	ActionProbeMatches   Action = "ProbeMatches"
	ActionResolve        Action = "Resolve"
	ActionResolveMatches Action = "ResolveMatches"
)

// URI returns the wsa:Action URI of the message kind.
func (a Action) URI() string { return NSDiscovery + "/" + string(a) }

// Limits applied by Parse to untrusted datagrams.
const (
	// MaxMessageSize is the largest datagram Parse accepts.
	MaxMessageSize = 16 << 10
	// maxIDLen bounds identifiers echoed in answers (MessageID → RelatesTo).
	maxIDLen = 256
	// maxListItems bounds the number of Types, Scopes and XAddrs items.
	maxListItems = 64
)

// Errors returned by Parse.
var (
	ErrTooLarge     = errors.New("discovery: message too large")
	ErrNotEnvelope  = errors.New("discovery: not a SOAP envelope")
	ErrNotDiscovery = errors.New("discovery: not a WS-Discovery 2005/04 message")
	ErrBadField     = errors.New("discovery: invalid field")
)

// Match is one endpoint description, as carried by Hello, Bye, ProbeMatch and ResolveMatch.
type Match struct {
	Address         string     // wsa:EndpointReference/wsa:Address, e.g. urn:uuid:...
	Types           []xml.Name // resolved QNames
	Scopes          []string
	XAddrs          []string
	MetadataVersion uint32
}

// Message is a parsed WS-Discovery message. Parse fills what the message kind carries.
type Message struct {
	Action    Action
	MessageID string
	RelatesTo string
	To        string
	ReplyTo   string

	// Probe
	HasTypes bool       // a Types element was present (possibly empty)
	Types    []xml.Name // resolved QNames of the probe
	Scopes   []string
	MatchBy  string // empty = default rule (rfc2396)

	// Resolve: the requested endpoint address.
	Address string

	// Hello, Bye, ProbeMatches, ResolveMatches.
	Matches []Match

	// AppSequence header, when present.
	InstanceID, MessageNumber uint64
}

// Parse decodes a WS-Discovery datagram. It accepts SOAP 1.2 and 1.1 envelopes, any
// prefixes, and namespace declarations anywhere in scope. It never panics on hostile
// input and bounds sizes of everything it returns.
func Parse(b []byte) (*Message, error) {
	if len(b) > MaxMessageSize {
		return nil, ErrTooLarge
	}
	doc, err := xmltree.Parse(b, 0)
	if err != nil {
		return nil, fmt.Errorf("discovery: xml: %w", err)
	}
	env := doc.Root()
	if env == nil || env.Tag != "Envelope" {
		return nil, ErrNotEnvelope
	}
	ns := env.NamespaceURI()
	if ns != NSEnvelope && ns != NSEnvelope11 {
		return nil, ErrNotEnvelope
	}
	var header, body *etree.Element
	for _, c := range env.ChildElements() {
		if c.NamespaceURI() != ns {
			continue
		}
		switch c.Tag {
		case "Header":
			if header == nil {
				header = c
			}
		case "Body":
			if body == nil {
				body = c
			}
		}
	}
	if body == nil {
		return nil, ErrNotEnvelope
	}
	var op *etree.Element
	for _, c := range body.ChildElements() {
		op = c
		break
	}
	if op == nil || op.NamespaceURI() != NSDiscovery {
		return nil, ErrNotDiscovery
	}
	m := &Message{Action: Action(op.Tag)}
	if header != nil {
		if err = m.parseHeader(header); err != nil {
			return nil, err
		}
	}
	switch m.Action {
	case ActionProbe:
		err = m.parseProbe(op)
	case ActionResolve:
		epr := child(op, NSAddressing, "EndpointReference")
		if epr == nil {
			return nil, fmt.Errorf("%w: Resolve without EndpointReference", ErrBadField)
		}
		m.Address, err = boundedText(child(epr, NSAddressing, "Address"))
		if err == nil && m.Address == "" {
			err = fmt.Errorf("%w: empty Address", ErrBadField)
		}
	case ActionHello, ActionBye:
		var mt Match
		mt, err = parseMatch(op)
		m.Matches = append(m.Matches, mt)
	case ActionProbeMatches, ActionResolveMatches:
		item := strings.TrimSuffix(string(m.Action), "es")
		for _, c := range op.ChildElements() {
			if c.NamespaceURI() != NSDiscovery || c.Tag != item {
				continue
			}
			if len(m.Matches) >= maxListItems {
				return nil, fmt.Errorf("%w: too many matches", ErrBadField)
			}
			var mt Match
			if mt, err = parseMatch(c); err != nil {
				break
			}
			m.Matches = append(m.Matches, mt)
		}
	default:
		return nil, fmt.Errorf("%w: unknown action %q", ErrNotDiscovery, op.Tag)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Message) parseHeader(h *etree.Element) error {
	var err error
	get := func(local string) string {
		if err != nil {
			return ""
		}
		var s string
		s, err = boundedText(child(h, NSAddressing, local))
		return s
	}
	m.MessageID = get("MessageID")
	m.RelatesTo = get("RelatesTo")
	m.To = get("To")
	if rt := child(h, NSAddressing, "ReplyTo"); rt != nil && err == nil {
		m.ReplyTo, err = boundedText(child(rt, NSAddressing, "Address"))
	}
	if err != nil {
		return err
	}
	if seq := child(h, NSDiscovery, "AppSequence"); seq != nil {
		if v := seq.SelectAttrValue("InstanceId", ""); v != "" {
			if m.InstanceID, err = strconv.ParseUint(v, 10, 32); err != nil {
				return fmt.Errorf("%w: InstanceId: %w", ErrBadField, err)
			}
		}
		if v := seq.SelectAttrValue("MessageNumber", ""); v != "" {
			if m.MessageNumber, err = strconv.ParseUint(v, 10, 32); err != nil {
				return fmt.Errorf("%w: MessageNumber: %w", ErrBadField, err)
			}
		}
	}
	return nil
}

func (m *Message) parseProbe(op *etree.Element) error {
	if t := child(op, NSDiscovery, "Types"); t != nil {
		m.HasTypes = true
		names, err := qnames(t)
		if err != nil {
			return err
		}
		m.Types = names
	}
	if s := child(op, NSDiscovery, "Scopes"); s != nil {
		m.MatchBy = strings.TrimSpace(s.SelectAttrValue("MatchBy", ""))
		if len(m.MatchBy) > maxIDLen {
			return fmt.Errorf("%w: MatchBy too long", ErrBadField)
		}
		list, err := uriList(s)
		if err != nil {
			return err
		}
		m.Scopes = list
	}
	return nil
}

func parseMatch(e *etree.Element) (Match, error) {
	var mt Match
	var err error
	epr := child(e, NSAddressing, "EndpointReference")
	if epr == nil {
		return mt, fmt.Errorf("%w: missing EndpointReference", ErrBadField)
	}
	if mt.Address, err = boundedText(child(epr, NSAddressing, "Address")); err != nil {
		return mt, err
	}
	if t := child(e, NSDiscovery, "Types"); t != nil {
		if mt.Types, err = qnames(t); err != nil {
			return mt, err
		}
	}
	if s := child(e, NSDiscovery, "Scopes"); s != nil {
		if mt.Scopes, err = uriList(s); err != nil {
			return mt, err
		}
	}
	if x := child(e, NSDiscovery, "XAddrs"); x != nil {
		if mt.XAddrs, err = uriList(x); err != nil {
			return mt, err
		}
	}
	if v := child(e, NSDiscovery, "MetadataVersion"); v != nil {
		n, err := strconv.ParseUint(strings.TrimSpace(v.Text()), 10, 32)
		if err != nil {
			return mt, fmt.Errorf("%w: MetadataVersion: %w", ErrBadField, err)
		}
		mt.MetadataVersion = uint32(n)
	}
	return mt, nil
}

// child returns the first child element with the namespace and local name.
func child(e *etree.Element, ns, local string) *etree.Element {
	if e == nil {
		return nil
	}
	for _, c := range e.ChildElements() {
		if c.Tag == local && c.NamespaceURI() == ns {
			return c
		}
	}
	return nil
}

func boundedText(e *etree.Element) (string, error) {
	if e == nil {
		return "", nil
	}
	s := strings.TrimSpace(e.Text())
	if len(s) > maxIDLen {
		return "", fmt.Errorf("%w: <%s> too long", ErrBadField, e.Tag)
	}
	return s, nil
}

func uriList(e *etree.Element) ([]string, error) {
	f := strings.Fields(e.Text())
	if len(f) > maxListItems {
		return nil, fmt.Errorf("%w: too many items in <%s>", ErrBadField, e.Tag)
	}
	return f, nil
}

// qnames resolves a whitespace-separated QName list using the namespace declarations in
// scope of e (on e itself or any ancestor).
func qnames(e *etree.Element) ([]xml.Name, error) {
	f := strings.Fields(e.Text())
	if len(f) > maxListItems {
		return nil, fmt.Errorf("%w: too many Types", ErrBadField)
	}
	out := make([]xml.Name, 0, len(f))
	for _, q := range f {
		prefix, local, ok := strings.Cut(q, ":")
		if !ok {
			prefix, local = "", q
		}
		uri, found := lookupPrefix(e, prefix)
		if !found && prefix != "" {
			return nil, fmt.Errorf("%w: undeclared prefix %q", ErrBadField, prefix)
		}
		out = append(out, xml.Name{Space: uri, Local: local})
	}
	return out, nil
}

func lookupPrefix(e *etree.Element, prefix string) (string, bool) {
	for ; e != nil; e = e.Parent() {
		for _, a := range e.Attr {
			if prefix == "" && a.Space == "" && a.Key == "xmlns" {
				return a.Value, true
			}
			if prefix != "" && a.Space == "xmlns" && a.Key == prefix {
				return a.Value, true
			}
		}
	}
	return "", false
}

// Types this package's targets implement.
var (
	TypeNVT    = xml.Name{Space: NSNetwork, Local: "NetworkVideoTransmitter"}
	TypeDevice = xml.Name{Space: NSDevice, Local: "Device"}
)

// MatchTypes reports whether every requested type is one a target implements.
func MatchTypes(requested []xml.Name) bool {
	for _, t := range requested {
		if t != TypeNVT && t != TypeDevice {
			return false
		}
	}
	return true
}

// MatchScopes reports whether every requested scope matches one of have under the rule
// (empty = rfc2396/rfc3986). Unknown rules match nothing.
func MatchScopes(rule string, requested, have []string) bool {
	var eq func(a, b string) bool
	switch rule {
	case "", MatchRFC2396, MatchRFC3986, "http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01/rfc3986":
		eq = matchRFC3986
	case MatchStrcmp0, "http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01/strcmp0":
		eq = func(a, b string) bool { return a == b }
	default:
		return false
	}
next:
	for _, r := range requested {
		for _, h := range have {
			if eq(r, h) {
				continue next
			}
		}
		return false
	}
	return true
}

// matchRFC3986 implements the WS-Discovery RFC 2396/3986 rule: scheme and authority equal
// ignoring case, and the path of probe a a segment-wise prefix of the path of scope b
// (case-sensitive). Query and fragment are ignored; "." and ".." segments never match.
func matchRFC3986(a, b string) bool {
	sa, aa, pa, ok1 := splitURI(a)
	sb, ab, pb, ok2 := splitURI(b)
	if !ok1 || !ok2 || !strings.EqualFold(sa, sb) || !strings.EqualFold(aa, ab) {
		return false
	}
	if len(pa) > len(pb) {
		return false
	}
	for i, s := range pa {
		if s == "." || s == ".." || s != pb[i] {
			return false
		}
	}
	return true
}

// splitURI splits scheme://authority/path into scheme, authority and path segments
// (empty segments dropped).
func splitURI(u string) (scheme, authority string, segs []string, ok bool) {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	scheme, rest, ok := strings.Cut(u, ":")
	if !ok || scheme == "" {
		return "", "", nil, false
	}
	if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
		authority, rest, _ = strings.Cut(rest, "/")
	}
	for _, s := range strings.Split(rest, "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	return scheme, authority, segs, true
}

// Header carries the addressing fields of an outgoing message.
type Header struct {
	MessageID     string // urn:uuid:...
	RelatesTo     string // empty for Hello/Bye
	To            string
	InstanceID    uint32
	MessageNumber uint32
}

// AppendMessage appends a SOAP 1.2 WS-Discovery message of kind a (Hello, Bye,
// ProbeMatches or ResolveMatches) carrying one match, or a Probe when a is ActionProbe
// (types and scopes from m). Values are XML-escaped; spaces inside scopes are encoded
// as %20.
func AppendMessage(b []byte, a Action, h Header, m Match) []byte {
	w := bytes.NewBuffer(b)
	w.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` +
		`<s:Envelope xmlns:s="` + NSEnvelope + `" xmlns:a="` + NSAddressing + `" xmlns:d="` + NSDiscovery +
		`" xmlns:dn="` + NSNetwork + `" xmlns:tds="` + NSDevice + `"><s:Header>`)
	elem(w, "a:MessageID", h.MessageID)
	if h.RelatesTo != "" {
		elem(w, "a:RelatesTo", h.RelatesTo)
	}
	elem(w, "a:To", h.To)
	elem(w, "a:Action", a.URI())
	fmt.Fprintf(w, `<d:AppSequence InstanceId="%d" MessageNumber="%d"/>`, h.InstanceID, h.MessageNumber)
	w.WriteString(`</s:Header><s:Body>`)
	switch a {
	case ActionProbe:
		w.WriteString(`<d:Probe>`)
		if len(m.Types) > 0 {
			elem(w, "d:Types", typesString(m.Types))
		}
		if len(m.Scopes) > 0 {
			elem(w, "d:Scopes", scopesString(m.Scopes))
		}
		w.WriteString(`</d:Probe>`)
	case ActionProbeMatches, ActionResolveMatches:
		item := strings.TrimSuffix(string(a), "es")
		w.WriteString(`<d:` + string(a) + `><d:` + item + `>`)
		matchBody(w, m, true)
		w.WriteString(`</d:` + item + `></d:` + string(a) + `>`)
	case ActionHello:
		w.WriteString(`<d:Hello>`)
		matchBody(w, m, true)
		w.WriteString(`</d:Hello>`)
	case ActionBye:
		w.WriteString(`<d:Bye>`)
		matchBody(w, m, false)
		w.WriteString(`</d:Bye>`)
	}
	w.WriteString(`</s:Body></s:Envelope>`)
	return w.Bytes()
}

func matchBody(w *bytes.Buffer, m Match, full bool) {
	w.WriteString(`<a:EndpointReference>`)
	elem(w, "a:Address", m.Address)
	w.WriteString(`</a:EndpointReference>`)
	if !full {
		return
	}
	elem(w, "d:Types", typesString(m.Types))
	if len(m.Scopes) > 0 {
		elem(w, "d:Scopes", scopesString(m.Scopes))
	}
	if len(m.XAddrs) > 0 {
		elem(w, "d:XAddrs", strings.Join(m.XAddrs, " "))
	}
	elem(w, "d:MetadataVersion", strconv.FormatUint(uint64(m.MetadataVersion), 10))
}

func typesString(types []xml.Name) string {
	if len(types) == 0 {
		return "dn:NetworkVideoTransmitter tds:Device"
	}
	parts := make([]string, 0, len(types))
	for _, t := range types {
		switch t.Space {
		case NSNetwork:
			parts = append(parts, "dn:"+t.Local)
		case NSDevice:
			parts = append(parts, "tds:"+t.Local)
		}
	}
	return strings.Join(parts, " ")
}

func scopesString(scopes []string) string {
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if s = strings.ReplaceAll(strings.TrimSpace(s), " ", "%20"); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

func elem(w *bytes.Buffer, name, text string) {
	w.WriteString("<" + name + ">")
	_ = xml.EscapeText(w, []byte(text))
	w.WriteString("</" + name + ">")
}
