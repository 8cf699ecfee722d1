package xmltree

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// A parse case's want is the tree as dump writes it, or "syntax" for an
// *xml.SyntaxError, or "depth" for etree.ErrMaxDepth.
var parseCases = []struct {
	name  string
	in    string
	depth int
	want  string
}{
	{"empty input", "", 0, ``},
	{"empty element", `<a/>`, 0, `<a></>`},
	{"prefixes", `<s:Envelope xmlns:s="u"><s:Body/></s:Envelope>`, 0, `<{s}Envelope {xmlns}s="u"><{s}Body></></>`},
	{"default namespace", `<a xmlns="u" b='2'>t</a>`, 0, `<a xmlns="u" b="2">"t"</>`},
	{"predefined entities", `<a>&lt;&gt;&amp;&apos;&quot;</a>`, 0, `<a>"<>&'\""</>`},
	{"character references", `<a>&#65;&#x42;&#x62;&#0067;&#x1F600;</a>`, 0, `<a>"ABbC😀"</>`},
	{"reference to a surrogate", `<a>&#xD800;</a>`, 0, `<a>"�"</>`},
	{"entities in attributes", `<a x="&lt;&#x41;&amp;"/>`, 0, `<a x="<A&"></>`},
	{"CDATA is its own node", `<a>x<![CDATA[<&]]>y</a>`, 0, `<a>"x""<&""y"</>`},
	{"empty CDATA", `<a><![CDATA[]]></a>`, 0, `<a>ws""</>`},
	{"CDATA ending in brackets", `<a><![CDATA[x]]]></a>`, 0, `<a>"x]"</>`},
	{"line ends in text", "<a>x\r\ny\rz\n\r</a>", 0, `<a>"x\ny\nz\n\n"</>`},
	{"line ends in CDATA", "<a><![CDATA[x\r\ny\r]]></a>", 0, `<a>"x\ny\n"</>`},
	{"line ends in attributes", "<a x=\"1&#13;\r\n2\r3\t4\n5\"/>", 0, `<a x="1\r\n2\n3\t4\n5"></>`},
	{"byte-order mark", "\xef\xbb\xbf<a/>", 0, `"\ufeff"<a></>`},
	{"whitespace flag", "<a> \n\t<b/> x </a>", 0, `<a>ws" \n\t"<b></>" x "</>`},
	{"text outside the root", `x<a/>y`, 0, `"x"<a></>"y"`},
	{"two roots", `<a/><b/>`, 0, `<a></><b></>`},
	{"duplicate attributes", `<a x="1" y="2" x="3" p:x="4" p:x="5"/>`, 0, `<a x="3" y="2" {p}x="5"></>`},
	{"quotes in values", `<a x='"' y="'"/>`, 0, `<a x="\"" y="'"></>`},
	{"]]> in an attribute", `<a x="]]>"/>`, 0, `<a x="]]>"></>`},
	{"leading and trailing colons", `<:a b:="1" :="2"/>`, 0, `<:a b:="1" :="2"></>`},
	{"attributes without spaces", `<a x="1"y="2"/>`, 0, `<a x="1" y="2"></>`},
	{"spaces around =", "<a x \r\n= \t'1'\n/>", 0, `<a x="1"></>`},
	{"end tag with space", "<a></a \n>", 0, `<a></>`},
	{"non-ASCII names", `<é ü:ß="1"/>`, 0, `<é {ü}ß="1"></>`},
	{"middle dot after the first letter", `<a·/>`, 0, `<a·></>`},
	{"XML declaration", `<?xml version="1.0" encoding="UTF-8"?><a/>`, 0, `<?xml "version=\"1.0\" encoding=\"UTF-8\""?><a></>`},
	{"declared encoding is ignored", `<?xml version='1.0' encoding="ISO-8859-1"?><a/>`, 0, `<?xml "version='1.0' encoding=\"ISO-8859-1\""?><a></>`},
	{"processing instruction", `<a><?pi x y?></a>`, 0, `<a><?pi "x y"?></>`},
	{"comment", "<!-- c\r\n --><a><!----></a>", 0, `<!--" c\r\n "--><a><!--""--></>`},
	{"characters in comments are not checked", "<!--\x01\xff--><a/>", 0, `<!--"\x01\xff"--><a></>`},
	{"directive", `<!DOCTYPE a [<!ENTITY x "y>"><!-- c -->]><a/>`, 0, `<!"DOCTYPE a [<!ENTITY x \"y>\"> ]"><a></>`},
	{"depth within bound", `<a><b/></a>`, 2, `<a><b></></>`},
	{"many attributes with repeats", `<a a="1" b="2" c="3" d="4" e="5" f="6" g="7" h="8" i="9" j="10" k="11" l="12" m="13" n="14" o="15" p="16" q="17" b="x" p:a="y" a="z"/>`, 0,
		`<a a="z" b="x" c="3" d="4" e="5" f="6" g="7" h="8" i="9" j="10" k="11" l="12" m="13" n="14" o="15" p="16" q="17" {p}a="y"></>`},
	{"non-ASCII CDATA", `<a><![CDATA[é😀]]></a>`, 0, `<a>"é😀"</>`},
	{"declaration without a version", `<?xml encoding="latin1"?><a/>`, 0, `<?xml "encoding=\"latin1\""?><a></>`},
	{"unquoted version is not seen", `<?xml version=1.1?><a/>`, 0, `<?xml "version=1.1"?><a></>`},
	{"declaration later in the document", `<a><?xml version="1.0"?></a>`, 0, `<a><?xml "version=\"1.0\""?></>`},

	{"unclosed", `<a>`, 0, "syntax"},
	{"control character in CDATA", "<a><![CDATA[\x00]]></a>", 0, "syntax"},
	{"invalid UTF-8 in CDATA", "<a><![CDATA[\xc3]]></a>", 0, "syntax"},
	{"invalid UTF-8 in a name", "<a\xc3/>", 0, "syntax"},
	{"name character outside the tables", `<a€/>`, 0, "syntax"},
	{"declaration of XML 1.1 later", `<a><?xml version="1.1"?></a>`, 0, "syntax"},
	{"unterminated processing instruction", `<a/><?x`, 0, "syntax"},
	{"mismatched", `<a></b>`, 0, "syntax"},
	{"mismatched prefix", `<p:a></q:a>`, 0, "syntax"},
	{"end without start", `</a>`, 0, "syntax"},
	{"unquoted value", `<a x=1/>`, 0, "syntax"},
	{"missing value", `<a x/>`, 0, "syntax"},
	{"< in a value", `<a x="<"/>`, 0, "syntax"},
	{"]]> in text", `<a>]]></a>`, 0, "syntax"},
	{"undeclared entity", `<a>&foo;</a>`, 0, "syntax"},
	{"entity without semicolon", `<a>&amp</a>`, 0, "syntax"},
	{"reference to NUL", `<a>&#0;</a>`, 0, "syntax"},
	{"reference to U+FFFE", `<a>&#xFFFE;</a>`, 0, "syntax"},
	{"reference beyond Unicode", `<a>&#x110000;</a>`, 0, "syntax"},
	{"capital X reference", `<a>&#X41;</a>`, 0, "syntax"},
	{"empty reference", `<a>&#;</a>`, 0, "syntax"},
	{"control character", "<a>\x01</a>", 0, "syntax"},
	{"invalid UTF-8 in text", "<a>\xff</a>", 0, "syntax"},
	{"invalid UTF-8 in a value", "<a b=\"\xc3\"/>", 0, "syntax"},
	{"encoded surrogate", "<a>\xed\xa0\x80</a>", 0, "syntax"},
	{"space in />", `<a/ >`, 0, "syntax"},
	{"space after <", `< a/>`, 0, "syntax"},
	{"name starting with a digit", `<1a/>`, 0, "syntax"},
	{"name starting with a middle dot", `<·a/>`, 0, "syntax"},
	{"two colons", `<a:b:c/>`, 0, "syntax"},
	{"two colons in an attribute", `<a x:y:z="1"/>`, 0, "syntax"},
	{"XML 1.1", `<?xml version="1.1"?><a/>`, 0, "syntax"},
	{"unterminated CDATA", `<a><![CDATA[x</a>`, 0, "syntax"},
	{"not CDATA", `<a><![CDATX[x]]></a>`, 0, "syntax"},
	{"-- in a comment", `<!-- a -- b --><a/>`, 0, "syntax"},
	{"<!- not a comment", `<!-x--><a/>`, 0, "syntax"},
	{"unterminated comment", `<a/><!--->`, 0, "syntax"},
	{"unterminated directive", `<!DOCTYPE a <b>`, 0, "syntax"},
	{"name at the end", `<a`, 0, "syntax"},
	{"too deep", `<a><b><c/></b></a>`, 2, "depth"},
	{"too deep before a syntax error", `<a><b><c/>&bad;`, 2, "depth"},
}

func TestParseCases(t *testing.T) {
	for _, c := range parseCases {
		t.Run(c.name, func(t *testing.T) {
			doc, err := Parse([]byte(c.in), c.depth)
			var se *xml.SyntaxError
			switch {
			case c.want == "syntax":
				if !errors.As(err, &se) {
					t.Fatalf("Parse(%q) = %v, want a syntax error", c.in, err)
				}
			case c.want == "depth":
				if !errors.Is(err, etree.ErrMaxDepth) {
					t.Fatalf("Parse(%q) = %v, want etree.ErrMaxDepth", c.in, err)
				}
			case err != nil:
				t.Fatalf("Parse(%q): %v", c.in, err)
			default:
				if got := dump(doc.Child); got != c.want {
					t.Errorf("Parse(%q):\n got %s\nwant %s", c.in, got, c.want)
				}
			}
			// And etree agrees.
			compare(t, []byte(c.in), c.depth)
		})
	}
}

// dump writes a tree compactly: elements as <{space}tag {space}key="value">
// children </>, text as "data" (ws"data" when flagged whitespace),
// comments, directives and processing instructions as <!--"data"-->,
// <!"data"> and <?target "inst"?>.
func dump(ts []etree.Token) string {
	var b strings.Builder
	name := func(space, local string) string {
		if space == "" {
			return local
		}
		return "{" + space + "}" + local
	}
	for _, t := range ts {
		switch t := t.(type) {
		case *etree.Element:
			b.WriteString("<" + name(t.Space, t.Tag))
			for _, a := range t.Attr {
				fmt.Fprintf(&b, " %s=%q", name(a.Space, a.Key), a.Value)
			}
			b.WriteString(">" + dump(t.Child) + "</>")
		case *etree.CharData:
			if t.IsWhitespace() {
				b.WriteString("ws")
			}
			fmt.Fprintf(&b, "%q", t.Data)
		case *etree.Comment:
			fmt.Fprintf(&b, "<!--%q-->", t.Data)
		case *etree.Directive:
			fmt.Fprintf(&b, "<!%q>", t.Data)
		case *etree.ProcInst:
			fmt.Fprintf(&b, "<?%s %q?>", t.Target, t.Inst)
		}
	}
	return b.String()
}
