package xmltree

import (
	"errors"
	"fmt"
	"testing"

	"github.com/beevik/etree"
)

// etreeParse is what Parse stands in for: etree's own reader with its
// default settings and the same depth bound.
func etreeParse(b []byte, maxDepth int) (*etree.Document, error) {
	doc := etree.NewDocument()
	doc.ReadSettings.MaxDepth = maxDepth
	if err := doc.ReadFromBytes(b); err != nil {
		return nil, err
	}
	return doc, nil
}

// FuzzParse checks that Parse and etree accept the same inputs, fail the
// same ones for depth, and build the same trees.
func FuzzParse(f *testing.F) {
	for _, c := range parseCases {
		f.Add([]byte(c.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, depth := range []int{0, 3} {
			compare(t, b, depth)
		}
	})
}

func compare(t *testing.T, b []byte, depth int) {
	t.Helper()
	want, werr := etreeParse(b, depth)
	got, gerr := Parse(b, depth)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("depth %d: %q: etree says %v, Parse says %v", depth, b, werr, gerr)
	}
	if werr != nil {
		if errors.Is(werr, etree.ErrMaxDepth) != errors.Is(gerr, etree.ErrMaxDepth) {
			t.Fatalf("depth %d: %q: etree says %v, Parse says %v", depth, b, werr, gerr)
		}
		return
	}
	if d := diffElement(&want.Element, &got.Element, "/"); d != "" {
		t.Fatalf("depth %d: %q: %s", depth, b, d)
	}
	if d := checkLinks(&got.Element, "/"); d != "" {
		t.Fatalf("depth %d: %q: Parse's tree: %s", depth, b, d)
	}
}

// diffElement returns the first difference between the trees below want
// and got, or "".
func diffElement(want, got *etree.Element, path string) string {
	if want.Space != got.Space || want.Tag != got.Tag {
		return fmt.Sprintf("%s: element %q:%q, want %q:%q", path, got.Space, got.Tag, want.Space, want.Tag)
	}
	path += want.FullTag()
	if (want.Attr == nil) != (got.Attr == nil) || (want.Child == nil) != (got.Child == nil) {
		return fmt.Sprintf("%s: nil Attr %v Child %v, want %v %v", path, got.Attr == nil, got.Child == nil, want.Attr == nil, want.Child == nil)
	}
	if len(want.Attr) != len(got.Attr) {
		return fmt.Sprintf("%s: attributes %v, want %v", path, got.Attr, want.Attr)
	}
	for i, w := range want.Attr {
		g := got.Attr[i]
		if w.Space != g.Space || w.Key != g.Key || w.Value != g.Value {
			return fmt.Sprintf("%s: attribute %d %q:%q=%q, want %q:%q=%q", path, i, g.Space, g.Key, g.Value, w.Space, w.Key, w.Value)
		}
	}
	if len(want.Child) != len(got.Child) {
		return fmt.Sprintf("%s: %d children, want %d: %s / %s", path, len(got.Child), len(want.Child), describe(got.Child), describe(want.Child))
	}
	for i, w := range want.Child {
		g := got.Child[i]
		at := fmt.Sprintf("%s[%d]", path, i)
		switch w := w.(type) {
		case *etree.Element:
			g, ok := g.(*etree.Element)
			if !ok {
				return fmt.Sprintf("%s: %T, want an element", at, got.Child[i])
			}
			if d := diffElement(w, g, at+"/"); d != "" {
				return d
			}
		case *etree.CharData:
			g, ok := g.(*etree.CharData)
			if !ok {
				return fmt.Sprintf("%s: %T, want CharData", at, got.Child[i])
			}
			if w.Data != g.Data || w.IsWhitespace() != g.IsWhitespace() || w.IsCData() != g.IsCData() {
				return fmt.Sprintf("%s: CharData %q ws %v cdata %v, want %q ws %v cdata %v", at,
					g.Data, g.IsWhitespace(), g.IsCData(), w.Data, w.IsWhitespace(), w.IsCData())
			}
		case *etree.Comment:
			g, ok := g.(*etree.Comment)
			if !ok || w.Data != g.Data {
				return fmt.Sprintf("%s: %s, want comment %q", at, describe([]etree.Token{got.Child[i]}), w.Data)
			}
		case *etree.Directive:
			g, ok := g.(*etree.Directive)
			if !ok || w.Data != g.Data {
				return fmt.Sprintf("%s: %s, want directive %q", at, describe([]etree.Token{got.Child[i]}), w.Data)
			}
		case *etree.ProcInst:
			g, ok := g.(*etree.ProcInst)
			if !ok || w.Target != g.Target || w.Inst != g.Inst {
				return fmt.Sprintf("%s: %s, want procinst %q %q", at, describe([]etree.Token{got.Child[i]}), w.Target, w.Inst)
			}
		default:
			return fmt.Sprintf("%s: etree made a %T", at, w)
		}
	}
	return ""
}

// checkLinks returns what is wrong with the parent, index and attribute
// links below el, or "".
func checkLinks(el *etree.Element, path string) string {
	for i := range el.Attr {
		if el.Attr[i].Element() != el {
			return fmt.Sprintf("%s: attribute %d does not point to its element", path, i)
		}
	}
	for i, c := range el.Child {
		if c.Parent() != el || c.Index() != i {
			return fmt.Sprintf("%s[%d]: parent or index wrong (index %d)", path, i, c.Index())
		}
		if e, ok := c.(*etree.Element); ok {
			if d := checkLinks(e, fmt.Sprintf("%s[%d]/", path, i)); d != "" {
				return d
			}
		}
	}
	return ""
}

func describe(ts []etree.Token) string {
	s := ""
	for _, t := range ts {
		switch t := t.(type) {
		case *etree.Element:
			s += fmt.Sprintf("<%s> ", t.FullTag())
		case *etree.CharData:
			s += fmt.Sprintf("text %q ", t.Data)
		case *etree.Comment:
			s += fmt.Sprintf("comment %q ", t.Data)
		case *etree.Directive:
			s += fmt.Sprintf("directive %q ", t.Data)
		case *etree.ProcInst:
			s += fmt.Sprintf("procinst %q %q ", t.Target, t.Inst)
		}
	}
	return s
}
