package wsdl

import (
	"path/filepath"
	"sort"
	"testing"

	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/internal/xsdcheck"
	"github.com/chinesium/chinesium/wsdl/internal/wsdlparse"
)

// wsdlOps reads the operations of a WSDL file of the shared set.
func wsdlOps(t *testing.T, file string, skip ...string) map[Op]bool {
	t.Helper()
	dir, err := xsdcheck.Dir()
	if err != nil {
		testutil.Unavailable(t, "WSDL set not found: %v", err)
	}
	_, ops, err := wsdlparse.Read(filepath.Join(dir, file), skip...)
	if err != nil {
		t.Fatal(err)
	}
	out := map[Op]bool{}
	for _, o := range ops {
		out[Op{o.Namespace, o.Element}] = true
	}
	return out
}

func TestTablesMatchWSDL(t *testing.T) {
	cases := []struct {
		file  string
		table []Op
		want  int
	}{
		{"ver10/device/wsdl/devicemgmt.wsdl", DeviceOperations(), 103},
		{"ver10/media/wsdl/media.wsdl", MediaOperations(), 79},
		{"ver10/events/wsdl/event.wsdl", EventsOperations(), 18},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			fromWSDL := wsdlOps(t, c.file, "Notify") // Notify is only sent by a device
			if len(c.table) != c.want || len(fromWSDL) != c.want {
				t.Errorf("table has %d operations, WSDL %d, want %d", len(c.table), len(fromWSDL), c.want)
			}
			seen := map[Op]bool{}
			for _, o := range c.table {
				if !fromWSDL[o] {
					t.Errorf("%v is not in the WSDL", o)
				}
				seen[o] = true
			}
			for op := range fromWSDL {
				if !seen[op] {
					t.Errorf("WSDL operation %v missing from the table", op)
				}
			}
			if !sort.SliceIsSorted(c.table, func(i, j int) bool { return c.table[i].Name < c.table[j].Name }) {
				t.Error("table not sorted by name")
			}
		})
	}
}

func TestOpHelpers(t *testing.T) {
	if got := (Op{NSMedia, MediaGetProfiles}).String(); got != "{http://www.onvif.org/ver10/media/wsdl}GetProfiles" {
		t.Errorf("String() = %q", got)
	}
	tbl := DeviceOperations()
	tbl[0].Name = "changed"
	if DeviceOperations()[0].Name == "changed" {
		t.Error("DeviceOperations returns the internal table")
	}
}
