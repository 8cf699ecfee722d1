package soap

// Defaults of Limits. ONVIF requests are a few KiB: tens of elements,
// a handful of attributes, at most a few dozen namespace declarations
// (gSOAP-based clients declare every namespace they know on the
// Envelope), names of a few dozen bytes and short texts. The defaults are
// far above that and far below what makes a parse expensive.
const (
	// DefaultMaxElements bounds the elements, comments, processing
	// instructions and CDATA sections of a request: a MiB of "<a/>" would
	// otherwise become a quarter of a million elements in memory.
	DefaultMaxElements = 4096
	// DefaultMaxDepth is the default element nesting limit of a request.
	// ONVIF requests nest about ten levels deep.
	DefaultMaxDepth = 64
	// DefaultMaxAttributes bounds the attributes of one element,
	// namespace declarations included.
	DefaultMaxAttributes = 128
	// DefaultMaxTotalAttributes bounds the attributes of a whole request.
	DefaultMaxTotalAttributes = 1024
	// DefaultMaxNamespaces bounds the namespace declarations of a whole
	// request.
	DefaultMaxNamespaces = 256
	// DefaultMaxNameLength bounds an element or attribute name, prefix
	// included, in bytes.
	DefaultMaxNameLength = 256
	// DefaultMaxTextLength bounds one run of character data, one CDATA
	// section, comment or processing instruction and one attribute value,
	// in bytes. A certificate in base64 is a few KiB.
	DefaultMaxTextLength = 64 << 10
)

// Limits bound the shape of a request. They are checked on the raw bytes,
// in one linear pass and without allocating, before anything is parsed
// (ParseEnvelope, and Endpoint while the body arrives), so that no request
// can make the parser build a large tree or the namespace checks take more
// than linear time. The zero value of every field means its default.
type Limits struct {
	// MaxElements bounds the elements, comments, processing instructions
	// and CDATA sections. It defaults to DefaultMaxElements.
	MaxElements int
	// MaxDepth bounds the element nesting. It defaults to DefaultMaxDepth.
	MaxDepth int
	// MaxAttributes bounds the attributes of one element, namespace
	// declarations included. It defaults to DefaultMaxAttributes.
	MaxAttributes int
	// MaxTotalAttributes bounds the attributes of the whole request. It
	// defaults to DefaultMaxTotalAttributes.
	MaxTotalAttributes int
	// MaxNamespaces bounds the namespace declarations (xmlns and
	// xmlns:prefix attributes) of the whole request. It defaults to
	// DefaultMaxNamespaces.
	MaxNamespaces int
	// MaxNameLength bounds element and attribute names, prefix included.
	// It defaults to DefaultMaxNameLength.
	MaxNameLength int
	// MaxTextLength bounds one run of character data, one CDATA section,
	// comment or processing instruction, and one attribute value. It
	// defaults to DefaultMaxTextLength.
	MaxTextLength int
}

// setDefaults fills every zero field with its default.
func (l *Limits) setDefaults() {
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultMaxElements
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxAttributes <= 0 {
		l.MaxAttributes = DefaultMaxAttributes
	}
	if l.MaxTotalAttributes <= 0 {
		l.MaxTotalAttributes = DefaultMaxTotalAttributes
	}
	if l.MaxNamespaces <= 0 {
		l.MaxNamespaces = DefaultMaxNamespaces
	}
	if l.MaxNameLength <= 0 {
		l.MaxNameLength = DefaultMaxNameLength
	}
	if l.MaxTextLength <= 0 {
		l.MaxTextLength = DefaultMaxTextLength
	}
}

// Scan checks b against the limits (defaults filled in for zero fields)
// and the rough shape of XML markup. It returns nil or a *Fault
// (env:Sender/ter:WellFormed) wrapping ErrTooMany, ErrTooLong, ErrTooDeep,
// ErrDoctype or ErrMalformed. A message Scan accepts may still be
// malformed; one it refuses is never parsed.
func (l Limits) Scan(b []byte) error {
	l.setDefaults()
	s := scanner{lim: l}
	if err := s.write(b); err != nil {
		return err
	}
	return s.close()
}

// scanner states.
const (
	scText        = iota // character data
	scOpen               // after '<'
	scStartName          // in a start tag's name
	scInTag              // in a start tag, between attributes
	scAttrName           // in an attribute name
	scAttrEq             // after an attribute name, before '='
	scAttrQuote          // after '=', before the opening quote
	scAttrValue          // in a quoted attribute value
	scEmptyClose         // after '/' in a start tag
	scEndName            // in an end tag's name
	scEndTail            // in an end tag after its name
	scPI                 // in a processing instruction (the XML declaration)
	scBang               // after "<!"
	scCommentOpen        // after "<!-"
	scComment            // in a comment
	scCDATAOpen          // in "<![CDATA["
	scCDATA              // in a CDATA section
)

// cdataOpen is what follows "<![" in a CDATA section.
const cdataOpen = "CDATA["

// scanner is Limits.Scan fed in pieces, as a body arrives: a state machine
// over bytes that counts what the parser would build and stops at the
// first limit exceeded, without allocating.
type scanner struct {
	lim   Limits
	state int

	depth, elements, attrs, elemAttrs, namespaces int

	n     int  // length of the current name, value or text
	quote byte // quote of the current attribute value
	run   int  // '-' or ']' just seen (comment and CDATA ends), bytes of cdataOpen matched
	xmlns int  // bytes of "xmlns" the attribute name matches, -1 when it cannot be a declaration
	prevQ bool // '?' just seen in a processing instruction
	err   error
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// isNameByte reports whether c may be part of an XML name here: any byte
// but markup delimiters and white space (names are checked by the parser;
// the scanner only measures them).
func isNameByte(c byte) bool {
	switch c {
	case '<', '>', '/', '=', '"', '\'', '?', '!', '&', ' ', '\t', '\r', '\n':
		return false
	}
	return true
}

func (s *scanner) fail(err error, format string, args ...any) error {
	s.err = wellFormed(err, format, args...)
	return s.err
}

func (s *scanner) malformed(what string) error {
	return s.fail(ErrMalformed, "not well-formed XML: %s", what)
}

// text counts one more byte of a text, value, comment or instruction.
func (s *scanner) text() error {
	s.n++
	if s.n > s.lim.MaxTextLength {
		return s.fail(ErrTooLong, "text longer than %d bytes", s.lim.MaxTextLength)
	}
	return nil
}

// name counts one more byte of a name.
func (s *scanner) name() error {
	s.n++
	if s.n > s.lim.MaxNameLength {
		return s.fail(ErrTooLong, "name longer than %d bytes", s.lim.MaxNameLength)
	}
	return nil
}

// node counts an element, comment, instruction or CDATA section.
func (s *scanner) node() error {
	s.elements++
	if s.elements > s.lim.MaxElements {
		return s.fail(ErrTooMany, "more than %d elements", s.lim.MaxElements)
	}
	return nil
}

// open enters the content of an element (its depth was checked at its
// start).
func (s *scanner) open() error {
	s.depth++
	return nil
}

// attrEnd ends an attribute name: a namespace declaration when it is
// "xmlns" or starts with "xmlns:".
func (s *scanner) attrEnd() error {
	if s.xmlns == len("xmlns") && (s.n == len("xmlns") || s.n > len("xmlns:")) {
		s.namespaces++
		if s.namespaces > s.lim.MaxNamespaces {
			return s.fail(ErrTooMany, "more than %d namespace declarations", s.lim.MaxNamespaces)
		}
	}
	return nil
}

// write scans the next piece of the message.
func (s *scanner) write(b []byte) error {
	if s.err != nil {
		return s.err
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		var err error
		switch s.state {
		case scText:
			// Skip to the next markup at once: text is most of the bytes.
			j := i
			for j < len(b) && b[j] != '<' {
				j++
			}
			s.n += j - i
			if s.n > s.lim.MaxTextLength {
				return s.fail(ErrTooLong, "text longer than %d bytes", s.lim.MaxTextLength)
			}
			if i = j; i < len(b) {
				s.state, s.n = scOpen, 0
			}
		case scOpen:
			switch {
			case c == '/':
				s.state = scEndName
			case c == '?':
				s.state, s.prevQ = scPI, false
				err = s.node()
			case c == '!':
				s.state = scBang
			case isNameByte(c):
				s.state, s.n, s.elemAttrs = scStartName, 0, 0
				if s.depth >= s.lim.MaxDepth {
					err = s.fail(ErrTooDeep, "element nesting deeper than %d", s.lim.MaxDepth)
				} else if err = s.node(); err == nil {
					err = s.name()
				}
			default:
				err = s.malformed("'<' not followed by a name")
			}
		case scStartName:
			switch {
			case isNameByte(c):
				err = s.name()
			case isSpace(c):
				s.state = scInTag
			case c == '>':
				s.state, s.n = scText, 0
				err = s.open()
			case c == '/':
				s.state = scEmptyClose
			default:
				err = s.malformed("bad character in a start tag")
			}
		case scInTag:
			switch {
			case isSpace(c):
			case c == '>':
				s.state, s.n = scText, 0
				err = s.open()
			case c == '/':
				s.state = scEmptyClose
			case isNameByte(c):
				s.elemAttrs++
				s.attrs++
				switch {
				case s.elemAttrs > s.lim.MaxAttributes:
					err = s.fail(ErrTooMany, "more than %d attributes on an element", s.lim.MaxAttributes)
				case s.attrs > s.lim.MaxTotalAttributes:
					err = s.fail(ErrTooMany, "more than %d attributes", s.lim.MaxTotalAttributes)
				}
				s.state, s.n, s.xmlns = scAttrName, 0, 0
				if err == nil {
					err = s.attrByte(c)
				}
			default:
				err = s.malformed("bad character in a start tag")
			}
		case scAttrName:
			switch {
			case isNameByte(c):
				err = s.attrByte(c)
			case isSpace(c):
				s.state = scAttrEq
				err = s.attrEnd()
			case c == '=':
				s.state = scAttrQuote
				err = s.attrEnd()
			default:
				err = s.malformed("attribute without a value")
			}
		case scAttrEq:
			switch {
			case isSpace(c):
			case c == '=':
				s.state = scAttrQuote
			default:
				err = s.malformed("attribute without a value")
			}
		case scAttrQuote:
			switch {
			case isSpace(c):
			case c == '"' || c == '\'':
				s.state, s.quote, s.n = scAttrValue, c, 0
			default:
				err = s.malformed("unquoted attribute value")
			}
		case scAttrValue:
			switch c {
			case s.quote:
				s.state = scInTag
			case '<':
				err = s.malformed("'<' in an attribute value")
			default:
				err = s.text()
			}
		case scEmptyClose:
			if c != '>' {
				err = s.malformed("'/' not followed by '>' in a start tag")
			}
			s.state, s.n = scText, 0
		case scEndName:
			switch {
			case isNameByte(c):
				err = s.name()
			case isSpace(c):
				s.state = scEndTail
			case c == '>':
				err = s.close1()
			default:
				err = s.malformed("bad character in an end tag")
			}
		case scEndTail:
			switch {
			case isSpace(c):
			case c == '>':
				err = s.close1()
			default:
				err = s.malformed("bad character in an end tag")
			}
		case scPI:
			if c == '>' && s.prevQ {
				s.state, s.n = scText, 0
				continue
			}
			s.prevQ = c == '?'
			err = s.text()
		case scBang:
			switch c {
			case '-':
				s.state = scCommentOpen
			case '[':
				s.state, s.run = scCDATAOpen, 0
			default:
				err = s.fail(ErrDoctype, "DOCTYPE and other directives are not allowed")
			}
		case scCommentOpen:
			if c != '-' {
				err = s.fail(ErrDoctype, "DOCTYPE and other directives are not allowed")
				break
			}
			s.state, s.run, s.n = scComment, 0, 0
			err = s.node()
		case scComment:
			if c == '>' && s.run >= 2 {
				s.state, s.n = scText, 0
				continue
			}
			if c == '-' {
				s.run++
			} else {
				s.run = 0
			}
			err = s.text()
		case scCDATAOpen:
			if c != cdataOpen[s.run] {
				err = s.fail(ErrDoctype, "DOCTYPE and other directives are not allowed")
				break
			}
			if s.run++; s.run == len(cdataOpen) {
				s.state, s.run, s.n = scCDATA, 0, 0
				err = s.node()
			}
		case scCDATA:
			if c == '>' && s.run >= 2 {
				s.state, s.n = scText, 0
				continue
			}
			if c == ']' {
				s.run++
			} else {
				s.run = 0
			}
			err = s.text()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// attrByte counts one byte of an attribute name and follows whether the
// name is a namespace declaration.
func (s *scanner) attrByte(c byte) error {
	if s.xmlns >= 0 && s.xmlns < len("xmlns") {
		if c == "xmlns"[s.xmlns] {
			s.xmlns++
		} else {
			s.xmlns = -1
		}
	} else if s.xmlns == len("xmlns") && s.n == len("xmlns") && c != ':' {
		s.xmlns = -1 // "xmlnsfoo"
	}
	return s.name()
}

// close1 ends an end tag.
func (s *scanner) close1() error {
	s.depth--
	if s.depth < 0 {
		return s.malformed("end tag without start tag")
	}
	s.state, s.n = scText, 0
	return nil
}

// close checks that the message did not end inside markup.
func (s *scanner) close() error {
	if s.err != nil {
		return s.err
	}
	if s.state != scText {
		return s.malformed("the message ends inside markup")
	}
	return nil
}
