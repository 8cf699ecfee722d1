// Package wsdlparse reads the operations of an ONVIF WSDL file: for every
// binding operation, the qualified name of its request element. The wsdl package's tables are generated from it (genops) and
// checked against it (ops_test.go).
package wsdlparse

import (
	"fmt"
	"strings"

	"github.com/beevik/etree"
)

const (
	nsWSDL = "http://schemas.xmlsoap.org/wsdl/"
	// NSWSNT is the WS-BaseNotification namespace of the request elements
	// of operations bound from the imported WS-BaseNotification WSDL.
	NSWSNT = "http://docs.oasis-open.org/wsn/b-2"
)

// Operation is one operation of a WSDL binding.
type Operation struct {
	// Name is the operation name.
	Name string
	// Namespace and Element name the request element.
	Namespace, Element string
}

// Read returns the operations of the WSDL file at path in document order,
// each request element once (the first binding wins). Operations named in
// skip are left out. An operation whose port type or input message lives in
// an imported WSDL (WS-BaseNotification) maps to the wsnt element of the
// same name.
func Read(path string, skip ...string) (targetNamespace string, ops []Operation, err error) {
	d := etree.NewDocument()
	if err := d.ReadFromFile(path); err != nil {
		return "", nil, fmt.Errorf("wsdlparse: %w", err)
	}
	root := d.Root()
	tns := root.SelectAttrValue("targetNamespace", "")
	messages := map[string]*etree.Element{}
	portTypes := map[string]*etree.Element{}
	for _, c := range root.ChildElements() {
		if c.NamespaceURI() != nsWSDL {
			continue
		}
		switch c.Tag {
		case "message":
			messages[c.SelectAttrValue("name", "")] = c
		case "portType":
			portTypes[c.SelectAttrValue("name", "")] = c
		}
	}
	seen := map[[2]string]bool{}
	for _, b := range root.SelectElements("binding") {
		pfx, ptName := split(b.SelectAttrValue("type", ""))
		pt := portTypes[ptName]
		if resolve(b, pfx) != tns {
			pt = nil
		}
	ops:
		for _, o := range b.SelectElements("operation") {
			name := o.SelectAttrValue("name", "")
			for _, s := range skip {
				if s == name {
					continue ops
				}
			}
			op := Operation{Name: name, Namespace: NSWSNT, Element: name}
			if pt != nil {
				for _, po := range pt.SelectElements("operation") {
					if po.SelectAttrValue("name", "") != name {
						continue
					}
					in := po.SelectElement("input")
					if in == nil {
						return "", nil, fmt.Errorf("wsdlparse: %s: operation %s has no input", path, name)
					}
					mp, ml := split(in.SelectAttrValue("message", ""))
					if resolve(in, mp) != tns {
						break
					}
					msg := messages[ml]
					if msg == nil || msg.SelectElement("part") == nil {
						return "", nil, fmt.Errorf("wsdlparse: %s: no message %s", path, ml)
					}
					part := msg.SelectElement("part")
					ep, el := split(part.SelectAttrValue("element", ""))
					op.Namespace, op.Element = resolve(part, ep), el
				}
			}
			key := [2]string{op.Namespace, op.Element}
			if !seen[key] {
				seen[key] = true
				ops = append(ops, op)
			}
		}
	}
	return tns, ops, nil
}

func split(q string) (prefix, local string) {
	p, l, ok := strings.Cut(q, ":")
	if !ok {
		return "", q
	}
	return p, l
}

// resolve returns the namespace bound to prefix at e.
func resolve(e *etree.Element, prefix string) string {
	for p := e; p != nil; p = p.Parent() {
		for _, a := range p.Attr {
			if a.Space == "xmlns" && a.Key == prefix {
				return a.Value
			}
		}
	}
	return ""
}
