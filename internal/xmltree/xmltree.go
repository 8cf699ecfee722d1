// Package xmltree parses XML requests (SOAP envelopes, WS-Discovery
// datagrams) into an etree document, several times faster than etree's own
// reader and with far fewer allocations.
//
// Parse builds the same tree that etree.NewDocument and ReadFromBytes build
// with etree's default ReadSettings (strict, CDATA not preserved, a
// duplicate attribute taking the last value) and accepts exactly the inputs
// they accept. It reads the bytes in one pass, takes names, text and
// attribute values as substrings of one copy of the input, and falls back to
// encoding/xml's exact rules only for what is not plain ASCII. The
// differential fuzz test (FuzzParse) holds it to that promise.
//
// What encoding/xml's strict RawToken and etree accept, and so Parse:
//   - names made of encoding/xml's name characters, with at most one colon
//     (a name with a leading or trailing colon is a local name);
//   - only the five predefined entities and character references to
//     characters XML allows (a reference to a surrogate reads as U+FFFD, as
//     encoding/xml converts it);
//   - quoted attribute values without '<'; "]]>" only in CDATA sections and
//     attribute values;
//   - comments without "--"; processing instructions and directives are kept
//     as nodes, unchecked, as encoding/xml keeps them;
//   - text, CDATA and attribute values in valid UTF-8 of XML characters, with
//     "\r\n" and "\r" read as "\n";
//   - an XML declaration of version 1.0 (or none); a declared encoding is
//     ignored, as etree's pass-through charset reader ignores it;
//   - end tags that match their start tags, all elements closed. Text, more
//     than one root element, or none at all are accepted at the top level, as
//     etree accepts them: the caller checks the document's shape.
//
// Each run of text between markup is one CharData node, each CDATA section
// another, flagged as whitespace when it holds only spaces, tabs and line
// ends, as etree flags them.
package xmltree

import (
	"encoding/xml"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// DefaultMaxDepth is the element nesting Parse allows when given none:
// etree's own default.
const DefaultMaxDepth = 1024

// Parse parses b into a document. maxDepth bounds the nesting of elements
// as etree's ReadSettings.MaxDepth does: an element deeper than maxDepth (the
// root is at depth 1) fails the parse with etree.ErrMaxDepth; 0 or less
// means DefaultMaxDepth. Any other error is an *xml.SyntaxError. The
// document's strings share one copy of b, so b may be reused afterwards.
func Parse(b []byte, maxDepth int) (*etree.Document, error) {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	p := parser{s: string(b), maxDepth: maxDepth}
	p.kids, p.open, p.attrs = p.kidsBuf[:0], p.openBuf[:0], p.attrsBuf[:0]
	// Most elements have a start and an end tag.
	p.elemChunk = max(8, min(slab, strings.Count(p.s, "<")/2+1))
	p.eq = -1
	p.textChunk, p.tokenChunk = 8, 32
	if err := p.parse(); err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	p.attach(&doc.Element, 0)
	return doc, nil
}

// parser holds the state of one Parse.
type parser struct {
	s        string
	i        int // next byte of s to read
	maxDepth int

	// kids are the nodes read so far whose parent is still open (or the
	// document), in document order; open[k].first is where the children of
	// the k-th open element start. An element gets its children when it
	// closes, in one slice of the exact length.
	kids []etree.Token
	open []frame

	attrs []attr // the attributes of the start tag being read
	buf   []byte // text being rewritten (entities, line ends)

	// Room for the stacks of a request's usual size.
	kidsBuf  [32]etree.Token
	openBuf  [16]frame
	attrsBuf [8]attr

	// Nodes are allocated in slabs, sized so that little is left over:
	// eq bounds the attributes still to come (-1 before counting them),
	// and the slabs grow from the size a request is likely to need.
	elemChunk  int
	eq         int
	textChunk  int
	tokenChunk int
	elems      []etree.Element
	texts      []etree.CharData
	tokens     []etree.Token
	attrsA     []etree.Attr
}

type frame struct {
	el    *etree.Element
	first int
}

type attr struct {
	space, local, value string
}

// slab is the most nodes of a kind allocated at once.
const slab = 64

func (p *parser) parse() error {
	s := p.s
	for p.i < len(s) {
		if s[p.i] != '<' {
			t, err := p.text(0)
			if err != nil {
				return err
			}
			p.addText(t)
			continue
		}
		if p.i+1 >= len(s) {
			return p.eof()
		}
		var err error
		switch s[p.i+1] {
		case '/':
			err = p.endTag()
		case '?':
			err = p.procInst()
		case '!':
			err = p.bang()
		default:
			err = p.startTag()
		}
		if err != nil {
			return err
		}
	}
	if n := len(p.open); n > 0 {
		return p.fail(len(s), fmt.Sprintf("unexpected EOF: element <%s> not closed", p.open[n-1].el.FullTag()))
	}
	return nil
}

// fail returns a syntax error at byte offset at.
func (p *parser) fail(at int, msg string) error {
	at = min(at, len(p.s))
	return &xml.SyntaxError{Msg: msg, Line: 1 + strings.Count(p.s[:at], "\n")}
}

func (p *parser) eof() error { return p.fail(len(p.s), "unexpected EOF") }

// startTag reads "<name attr='value' ...>" or "<name .../>" at p.i.
func (p *parser) startTag() error {
	s := p.s
	p.i++
	space, local, err := p.nsname("expected element name after <")
	if err != nil {
		return err
	}
	p.attrs = p.attrs[:0]
	empty := false
	for {
		p.skipSpace()
		if p.i >= len(s) {
			return p.eof()
		}
		c := s[p.i]
		if c == '/' {
			p.i++
			if p.i >= len(s) {
				return p.eof()
			}
			if s[p.i] != '>' {
				return p.fail(p.i, "expected /> in element")
			}
			p.i++
			empty = true
			break
		}
		if c == '>' {
			p.i++
			break
		}
		var a attr
		if a.space, a.local, err = p.nsname("expected attribute name in element"); err != nil {
			return err
		}
		p.skipSpace()
		if p.i >= len(s) {
			return p.eof()
		}
		if s[p.i] != '=' {
			return p.fail(p.i, "attribute name without = in element")
		}
		p.i++
		p.skipSpace()
		if p.i >= len(s) {
			return p.eof()
		}
		q := s[p.i]
		if q != '"' && q != '\'' {
			return p.fail(p.i, "unquoted or missing attribute value in element")
		}
		p.i++
		if a.value, err = p.text(q); err != nil {
			return err
		}
		p.attrs = append(p.attrs, a)
	}
	// etree checks the depth once the start tag is read, counting the
	// document as one level of its stack.
	if len(p.open) >= p.maxDepth {
		return etree.ErrMaxDepth
	}
	el := p.element(space, local)
	p.setAttrs(el)
	p.kids = append(p.kids, el)
	if empty {
		el.Child = []etree.Token{}
	} else {
		p.open = append(p.open, frame{el: el, first: len(p.kids)})
	}
	return nil
}

// endTag reads "</name>" at p.i and closes the open element it names.
func (p *parser) endTag() error {
	s := p.s
	at := p.i
	p.i += 2
	space, local, err := p.nsname("expected element name after </")
	if err != nil {
		return err
	}
	p.skipSpace()
	if p.i >= len(s) {
		return p.eof()
	}
	if s[p.i] != '>' {
		return p.fail(p.i, "invalid characters between </"+local+" and >")
	}
	p.i++
	n := len(p.open)
	if n == 0 {
		return p.fail(at, "unexpected end element </"+fullName(space, local)+">")
	}
	f := p.open[n-1]
	if f.el.Tag != local || f.el.Space != space {
		return p.fail(at, "element <"+f.el.FullTag()+"> closed by </"+fullName(space, local)+">")
	}
	p.open = p.open[:n-1]
	p.attach(f.el, f.first)
	return nil
}

func fullName(space, local string) string {
	if space == "" {
		return local
	}
	return space + ":" + local
}

// attach gives el the nodes from kids[first:] as children and drops them
// from kids.
func (p *parser) attach(el *etree.Element, first int) {
	kids := p.kids[first:]
	n := len(kids)
	if n == 0 {
		el.Child = []etree.Token{}
		return
	}
	if len(p.tokens) < n {
		// Every node but text begins with a '<', and text alternates with
		// the others.
		p.tokens = make([]etree.Token, max(n, p.tokenChunk))
		p.tokenChunk = min(2*p.tokenChunk, 4*slab)
	}
	el.Child = p.tokens[:0:n]
	p.tokens = p.tokens[n:]
	for _, k := range kids {
		el.AddChild(k)
	}
	clear(kids)
	p.kids = p.kids[:first]
}

// element returns a new element from the slab.
func (p *parser) element(space, local string) *etree.Element {
	if len(p.elems) == 0 {
		p.elems = make([]etree.Element, p.elemChunk)
		p.elemChunk = min(2*p.elemChunk, slab)
	}
	el := &p.elems[0]
	p.elems = p.elems[1:]
	el.Space, el.Tag = space, local
	return el
}

// addText adds a CharData node holding t, flagged as etree flags it.
func (p *parser) addText(t string) {
	if len(p.texts) == 0 {
		p.texts = make([]etree.CharData, p.textChunk)
		p.textChunk = min(2*p.textChunk, slab)
	}
	c := &p.texts[0]
	p.texts = p.texts[1:]
	c.SetData(t) // sets the whitespace flag as etree's reader does
	p.kids = append(p.kids, c)
}

// setAttrs gives el the attributes of p.attrs, a repeated name taking the
// last value at the place of its first occurrence, as etree does.
func (p *parser) setAttrs(el *etree.Element) {
	as := p.attrs
	if len(as) > 1 {
		as = dedupe(as)
	}
	n := len(as)
	if n == 0 {
		el.Attr = []etree.Attr{}
		return
	}
	if p.eq >= 0 {
		p.eq -= len(p.attrs)
	}
	if len(p.attrsA) < n {
		// Every attribute of the start tags still to come has its '='.
		if p.eq < 0 {
			p.eq = strings.Count(p.s[p.i:], "=")
		}
		p.attrsA = make([]etree.Attr, n+min(slab, p.eq))
	}
	el.Attr = p.attrsA[:0:n]
	p.attrsA = p.attrsA[n:]
	// CreateAttr is the one way to tie an attribute to its element; the
	// others are copies of the first.
	proto := *el.CreateAttr("a", "")
	el.Attr = el.Attr[:0]
	for _, a := range as {
		proto.Space, proto.Key, proto.Value = a.space, a.local, a.value
		el.Attr = append(el.Attr, proto)
	}
}

// dedupe folds repeated attribute names of as into their first occurrence,
// keeping the last value, in place.
func dedupe(as []attr) []attr {
	n := 0
	if len(as) <= 16 {
	next:
		for _, a := range as {
			for j := range n {
				if as[j].local == a.local && as[j].space == a.space {
					as[j].value = a.value
					continue next
				}
			}
			as[n] = a
			n++
		}
		return as[:n]
	}
	// Many attributes: a map keeps a hostile start tag linear.
	seen := make(map[xml.Name]int, len(as))
	for _, a := range as {
		k := xml.Name{Space: a.space, Local: a.local}
		if j, ok := seen[k]; ok {
			as[j].value = a.value
			continue
		}
		seen[k] = n
		as[n] = a
		n++
	}
	return as[:n]
}

// procInst reads "<?target inst?>" at p.i.
func (p *parser) procInst() error {
	p.i += 2
	target, _, _, ok, err := p.name()
	if err != nil {
		return err
	}
	if !ok {
		return p.fail(p.i, "expected target name after <?")
	}
	p.skipSpace()
	k := strings.Index(p.s[p.i:], "?>")
	if k < 0 {
		return p.eof()
	}
	inst := p.s[p.i : p.i+k]
	if target == "xml" {
		// encoding/xml checks the version; etree's charset reader passes
		// every declared encoding through unchanged.
		if v := procInstParam("version", inst); v != "" && v != "1.0" {
			return p.fail(p.i, fmt.Sprintf("unsupported version %q; only version 1.0 is supported", v))
		}
	}
	p.i += k + 2
	p.kids = append(p.kids, etree.NewProcInst(target, inst))
	return nil
}

// procInstParam is encoding/xml's procInst: the value of param="..." or
// param='...' in s, or "" if there is none, found the same inexact way.
func procInstParam(param, s string) string {
	param += "="
	lenp := len(param)
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := strings.Index(sub, param)
		if k < 0 || lenp+k >= len(sub) {
			return ""
		}
		i += lenp + k + 1
		if c := sub[lenp+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], sep)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}

// bang reads a comment, a CDATA section or a directive at p.i ("<!").
func (p *parser) bang() error {
	s := p.s
	p.i += 2
	if p.i >= len(s) {
		return p.eof()
	}
	switch s[p.i] {
	case '-':
		p.i++
		if p.i >= len(s) {
			return p.eof()
		}
		if s[p.i] != '-' {
			return p.fail(p.i, "invalid sequence <!- not part of <!--")
		}
		p.i++
		body := s[p.i:]
		k := strings.Index(body, "--")
		if k < 0 || k+2 >= len(body) {
			return p.eof()
		}
		if body[k+2] != '>' {
			return p.fail(p.i+k, `invalid sequence "--" not allowed in comments`)
		}
		p.i += k + 3
		p.kids = append(p.kids, etree.NewComment(body[:k]))
		return nil
	case '[':
		p.i++
		for k := range len("CDATA[") {
			if p.i >= len(s) {
				return p.eof()
			}
			if s[p.i] != "CDATA["[k] {
				return p.fail(p.i, "invalid <![ sequence")
			}
			p.i++
		}
		t, err := p.cdata()
		if err != nil {
			return err
		}
		p.addText(t)
		return nil
	}
	d, err := p.directive()
	if err != nil {
		return err
	}
	p.kids = append(p.kids, etree.NewDirective(d))
	return nil
}

// directive reads a directive's body at p.i (after "<!") exactly as
// encoding/xml does: quoted '>' and nested <...> do not end it, and each
// comment inside becomes one space.
func (p *parser) directive() (string, error) {
	s := p.s
	start := p.i
	// The first byte is taken as it is, whatever it is.
	out := append(make([]byte, 0, 64), s[start])
	p.i++
	rewritten := false
	var inquote byte
	depth := 0
	for {
		if p.i >= len(s) {
			return "", p.eof()
		}
		b := s[p.i]
		p.i++
		if inquote == 0 && b == '>' && depth == 0 {
			break
		}
		for again := true; again; {
			again = false
			out = append(out, b)
			switch {
			case b == inquote:
				inquote = 0
			case inquote != 0:
			case b == '\'' || b == '"':
				inquote = b
			case b == '>':
				depth--
			case b == '<':
				const open = "!--"
				k := 0
				for ; k < len(open); k++ {
					if p.i >= len(s) {
						return "", p.eof()
					}
					b = s[p.i]
					p.i++
					if b != open[k] {
						break
					}
				}
				if k < len(open) {
					out = append(out, open[:k]...)
					depth++
					again = true
					continue
				}
				// A comment: skip to "-->" and put one space in its place.
				out = out[:len(out)-1]
				var b0, b1 byte
				for {
					if p.i >= len(s) {
						return "", p.eof()
					}
					b = s[p.i]
					p.i++
					if b0 == '-' && b1 == '-' && b == '>' {
						break
					}
					b0, b1 = b1, b
				}
				out = append(out, ' ')
				rewritten = true
			}
		}
	}
	if !rewritten {
		return s[start : p.i-1], nil
	}
	return string(out), nil
}

// Byte classes of text and attribute values.
const (
	clPlain = iota // taken as it is
	clLt
	clGt
	clAmp
	clQuote
	clCR
	clHigh    // the first byte of a multi-byte UTF-8 sequence (or not UTF-8)
	clIllegal // a control character XML does not allow
)

var textClass = func() (t [256]byte) {
	for c := range 256 {
		switch {
		case c == '<':
			t[c] = clLt
		case c == '>':
			t[c] = clGt
		case c == '&':
			t[c] = clAmp
		case c == '"' || c == '\'':
			t[c] = clQuote
		case c == '\r':
			t[c] = clCR
		case c == '\t' || c == '\n':
			t[c] = clPlain
		case c < 0x20:
			t[c] = clIllegal
		case c >= utf8.RuneSelf:
			t[c] = clHigh
		}
	}
	return t
}()

// text reads character data at p.i: up to the next '<' (quote 0) or up to
// and including the closing quote of an attribute value.
func (p *parser) text(quote byte) (string, error) {
	s := p.s
	start := p.i
	i := start
	seg := i // the raw bytes from seg to i are not in p.buf yet
	rewrite := false
	for i < len(s) {
		c := s[i]
		switch textClass[c] {
		case clPlain:
			i++
			continue
		case clLt:
			if quote != 0 {
				return "", p.fail(i, "unescaped < inside quoted string")
			}
			p.i = i
			return p.textValue(rewrite, start, seg, i), nil
		case clQuote:
			if c == quote {
				p.i = i + 1
				return p.textValue(rewrite, start, seg, i), nil
			}
			i++
		case clGt:
			// "]]>" may not appear in text (an entity before it would have
			// ended in ';', so looking at the raw bytes is exact).
			if quote == 0 && i-2 >= start && s[i-1] == ']' && s[i-2] == ']' {
				return "", p.fail(i, "unescaped ]]> not in CDATA section")
			}
			i++
		case clAmp:
			r, n, err := p.entity(i)
			if err != nil {
				return "", err
			}
			if !rewrite {
				p.buf, rewrite = p.buf[:0], true
			}
			p.buf = utf8.AppendRune(append(p.buf, s[seg:i]...), r)
			i += n
			seg = i
		case clCR:
			if !rewrite {
				p.buf, rewrite = p.buf[:0], true
			}
			p.buf = append(append(p.buf, s[seg:i]...), '\n')
			i++
			if i < len(s) && s[i] == '\n' {
				i++
			}
			seg = i
		case clHigh:
			n, err := p.checkRune(s, i)
			if err != nil {
				return "", err
			}
			i += n
		default:
			return "", p.fail(i, fmt.Sprintf("illegal character code %U", rune(c)))
		}
	}
	if quote != 0 {
		return "", p.eof()
	}
	p.i = i
	return p.textValue(rewrite, start, seg, i), nil
}

func (p *parser) textValue(rewrite bool, start, seg, end int) string {
	if !rewrite {
		return p.s[start:end]
	}
	return string(append(p.buf, p.s[seg:end]...))
}

// checkRune checks the UTF-8 sequence at s[i] and returns its length.
func (p *parser) checkRune(s string, i int) (int, error) {
	r, n := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && n == 1 {
		return 0, p.fail(i, "invalid UTF-8")
	}
	if !isInCharacterRange(r) {
		return 0, p.fail(i, fmt.Sprintf("illegal character code %U", r))
	}
	return n, nil
}

// isInCharacterRange is the Char production of XML 1.0 section 2.2.
func isInCharacterRange(r rune) bool {
	return r == 0x09 ||
		r == 0x0A ||
		r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

var predefined = [...]struct {
	ref string
	r   rune
}{{"lt;", '<'}, {"gt;", '>'}, {"amp;", '&'}, {"apos;", '\''}, {"quot;", '"'}}

// entity reads the reference at s[i] ('&') and returns the character it
// stands for and the reference's length.
func (p *parser) entity(i int) (rune, int, error) {
	s := p.s[i+1:]
	if len(s) > 0 && s[0] == '#' {
		j, base := 1, uint32(10)
		if j < len(s) && s[j] == 'x' {
			j, base = 2, 16
		}
		first := j
		var n uint32
		for ; j < len(s); j++ {
			d := digit(s[j])
			if d >= base {
				break
			}
			// Past the largest code point the value no longer matters.
			n = min(n*base+d, utf8.MaxRune+1)
		}
		if j >= len(s) {
			return 0, 0, p.eof()
		}
		if s[j] != ';' || j == first || n > utf8.MaxRune {
			return 0, 0, p.fail(i, "invalid character entity "+p.s[i:i+1+j])
		}
		r := rune(n)
		if !utf8.ValidRune(r) {
			r = utf8.RuneError // encoding/xml's string(rune(n)) of a surrogate
		}
		if !isInCharacterRange(r) {
			return 0, 0, p.fail(i, fmt.Sprintf("illegal character code %U", r))
		}
		return r, j + 2, nil
	}
	for _, e := range predefined {
		if strings.HasPrefix(s, e.ref) {
			return e.r, len(e.ref) + 1, nil
		}
	}
	end := min(len(s), 16)
	if k := strings.IndexByte(s[:end], ';'); k >= 0 {
		end = k + 1
	}
	return 0, 0, p.fail(i, "invalid character entity &"+s[:end])
}

// digit is c's value as a hexadecimal digit, or 16 or more.
func digit(c byte) uint32 {
	switch {
	case '0' <= c && c <= '9':
		return uint32(c - '0')
	case 'a' <= c && c <= 'f':
		return uint32(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return uint32(c-'A') + 10
	}
	return 16
}

// cdata reads a CDATA section's content at p.i (after "<![CDATA[") and its
// end "]]>".
func (p *parser) cdata() (string, error) {
	s := p.s
	start := p.i
	k := strings.Index(s[start:], "]]>")
	if k < 0 {
		return "", p.fail(len(s), "unexpected EOF in CDATA section")
	}
	raw := s[start : start+k]
	p.i = start + k + 3
	seg := 0
	rewrite := false
	for i := 0; i < len(raw); {
		c := raw[i]
		switch textClass[c] {
		case clCR:
			if !rewrite {
				p.buf, rewrite = p.buf[:0], true
			}
			p.buf = append(append(p.buf, raw[seg:i]...), '\n')
			i++
			if i < len(raw) && raw[i] == '\n' {
				i++
			}
			seg = i
		case clHigh:
			n, err := p.checkRune(raw, i)
			if err != nil {
				return "", err
			}
			i += n
		case clIllegal:
			return "", p.fail(start+i, fmt.Sprintf("illegal character code %U", rune(c)))
		default:
			i++
		}
	}
	if !rewrite {
		return raw, nil
	}
	return string(append(p.buf, raw[seg:]...)), nil
}

func (p *parser) skipSpace() {
	s := p.s
	for p.i < len(s) {
		switch s[p.i] {
		case ' ', '\r', '\n', '\t':
			p.i++
		default:
			return
		}
	}
}

// nameClass sorts the bytes encoding/xml reads as part of a name: the
// ASCII name characters and every byte of a multi-byte sequence (checked
// after).
const (
	ncNot = iota
	ncASCII
	ncColon
	ncHigh
)

var nameClass = func() (t [256]byte) {
	for c := range 256 {
		switch {
		case c == ':':
			t[c] = ncColon
		case 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '_' || c == '.' || c == '-':
			t[c] = ncASCII
		case c >= utf8.RuneSelf:
			t[c] = ncHigh
		}
	}
	return t
}()

// name reads a name at p.i. ok is false, with no error, when no name
// begins there. colon is the index of the name's first colon (-1 for
// none), colons how many it has.
func (p *parser) name() (name string, colon, colons int, ok bool, err error) {
	s := p.s
	i := p.i
	ascii := true
	colon = -1
scan:
	for ; i < len(s); i++ {
		switch nameClass[s[i]] {
		case ncNot:
			break scan
		case ncColon:
			if colons == 0 {
				colon = i - p.i
			}
			colons++
		case ncHigh:
			ascii = false
		}
	}
	if i == p.i {
		if i >= len(s) {
			return "", 0, 0, false, p.eof()
		}
		return "", 0, 0, false, nil
	}
	if i >= len(s) {
		// encoding/xml needs the byte after a name.
		return "", 0, 0, false, p.eof()
	}
	name = s[p.i:i]
	if ascii {
		// Every ASCII name byte may follow; only the first is restricted.
		c := name[0]
		ok = 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '_' || c == ':'
	} else {
		ok = isName(name)
	}
	if !ok {
		return "", 0, 0, false, p.fail(p.i, "invalid XML name: "+name)
	}
	p.i = i
	return name, colon, colons, true, nil
}

// isName is encoding/xml's isNameString.
func isName(s string) bool {
	c, n := utf8.DecodeRuneInString(s)
	if c == utf8.RuneError && n == 1 {
		return false
	}
	if !unicode.Is(first, c) {
		return false
	}
	for n < len(s) {
		s = s[n:]
		c, n = utf8.DecodeRuneInString(s)
		if c == utf8.RuneError && n == 1 {
			return false
		}
		if !unicode.Is(first, c) && !unicode.Is(second, c) {
			return false
		}
	}
	return true
}

// nsname reads a name and splits it at its colon as encoding/xml's nsname
// does: a name with more than one colon is no name, and one with an empty
// prefix or local part is all local.
func (p *parser) nsname(missing string) (space, local string, err error) {
	at := p.i
	name, c, colons, ok, err := p.name()
	switch {
	case err != nil:
		return "", "", err
	case !ok || colons > 1:
		return "", "", p.fail(at, missing)
	case colons == 0 || c == 0 || c == len(name)-1:
		return "", name, nil
	}
	return name[:c], name[c+1:], nil
}
