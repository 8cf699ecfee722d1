package wsdl

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/internal/xsdcheck"
)

const nsWSDL = "http://schemas.xmlsoap.org/wsdl/"
const nsWSDLSOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"

// wsdlOps reads every binding operation of a WSDL file and returns the
// request element of each (resolved through portType and message) with its
// soapAction. Operations whose input message lives in the imported
// WS-BaseNotification WSDL map to wsnt elements of the same name.
func wsdlOps(t *testing.T, file string) map[Op]string {
	t.Helper()
	dir, err := xsdcheck.Dir()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("WSDL set not found: %v", err)
	}
	d := etree.NewDocument()
	if err := d.ReadFromFile(filepath.Join(dir, file)); err != nil {
		t.Fatal(err)
	}
	root := d.Root()
	tns := root.SelectAttrValue("targetNamespace", "")
	local := func(q string) (string, string) {
		p, l, ok := strings.Cut(q, ":")
		if !ok {
			return "", q
		}
		return p, l
	}
	resolve := func(e *etree.Element, prefix string) string {
		for p := e; p != nil; p = p.Parent() {
			for _, a := range p.Attr {
				if a.Space == "xmlns" && a.Key == prefix {
					return a.Value
				}
			}
		}
		return ""
	}
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
	out := map[Op]string{}
	for _, b := range root.SelectElements("binding") {
		pfx, ptName := local(b.SelectAttrValue("type", ""))
		pt := portTypes[ptName]
		if resolve(b, pfx) != tns {
			pt = nil // WS-BaseNotification port type from the imported WSDL
		}
		for _, o := range b.SelectElements("operation") {
			name := o.SelectAttrValue("name", "")
			if name == "Notify" {
				continue // sent by the device, never received
			}
			var action string
			for _, c := range o.ChildElements() {
				if c.Tag == "operation" && c.NamespaceURI() == nsWSDLSOAP12 {
					action = c.SelectAttrValue("soapAction", "")
				}
			}
			op := Op{NSWSNT, name}
			if pt != nil {
				for _, po := range pt.SelectElements("operation") {
					if po.SelectAttrValue("name", "") != name {
						continue
					}
					in := po.SelectElement("input")
					mp, ml := local(in.SelectAttrValue("message", ""))
					if resolve(in, mp) != tns {
						break
					}
					part := messages[ml].SelectElement("part")
					ep, el := local(part.SelectAttrValue("element", ""))
					op = Op{resolve(part, ep), el}
				}
			}
			if _, dup := out[op]; !dup {
				out[op] = action
			}
		}
	}
	return out
}

func TestTablesMatchWSDL(t *testing.T) {
	cases := []struct {
		file  string
		table []OpInfo
		want  int
	}{
		{"ver10/device/wsdl/devicemgmt.wsdl", DeviceOperations(), 103},
		{"ver10/media/wsdl/media.wsdl", MediaOperations(), 79},
		{"ver10/events/wsdl/event.wsdl", EventsOperations(), 18},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			fromWSDL := wsdlOps(t, c.file)
			if len(c.table) != c.want || len(fromWSDL) != c.want {
				t.Errorf("table has %d operations, WSDL %d, want %d", len(c.table), len(fromWSDL), c.want)
			}
			seen := map[Op]bool{}
			for _, o := range c.table {
				a, ok := fromWSDL[o.Op]
				switch {
				case !ok:
					t.Errorf("%v is not in the WSDL", o.Op)
				case a != o.Action:
					t.Errorf("%v: action %q, WSDL says %q", o.Op, o.Action, a)
				}
				if Action(o.Op) != o.Action {
					t.Errorf("Action(%v) = %q", o.Op, Action(o.Op))
				}
				seen[o.Op] = true
			}
			for op := range fromWSDL {
				if !seen[op] {
					t.Errorf("WSDL operation %v missing from the table", op)
				}
			}
			if !sort.SliceIsSorted(c.table, func(i, j int) bool { return c.table[i].Op.Name < c.table[j].Op.Name }) {
				t.Error("table not sorted by name")
			}
		})
	}
}

func TestOpHelpers(t *testing.T) {
	if DeviceOp(DeviceGetScopes) != (Op{NSDevice, "GetScopes"}) {
		t.Error("DeviceOp")
	}
	if got := MediaOp(MediaGetProfiles).String(); got != "{http://www.onvif.org/ver10/media/wsdl}GetProfiles" {
		t.Errorf("String() = %q", got)
	}
	if Action(WSNTOp(WSNTRenew)) != ActionWSNTRenew || Action(EventsOp(EventsPullMessages)) != ActionEventsPullMessages {
		t.Error("Action of events operations")
	}
	if Action(Op{NSDevice, "NoSuchOperation"}) != "" {
		t.Error("Action of an unknown operation")
	}
	// The known mistake in media.wsdl (onvif/specs#251) is kept as is.
	if ActionMediaGetProfile != "http://www.onvif.org/ver10/media/wsdlGetProfile/" {
		t.Errorf("ActionMediaGetProfile = %q", ActionMediaGetProfile)
	}
	tbl := DeviceOperations()
	tbl[0].Op.Name = "changed"
	if DeviceOperations()[0].Op.Name == "changed" {
		t.Error("DeviceOperations returns the internal table")
	}
}
