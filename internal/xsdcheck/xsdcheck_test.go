package xsdcheck

import (
	"strings"
	"testing"
)

const good = `<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema"><s:Body><tds:GetHostnameResponse><tds:HostnameInformation><tt:FromDHCP>false</tt:FromDHCP><tt:Name>cam</tt:Name></tds:HostnameInformation></tds:GetHostnameResponse></s:Body></s:Envelope>`

func TestValidateAcceptsValidResponse(t *testing.T) {
	v := Require(t)
	if err := v.Validate([]byte(good), "{http://www.onvif.org/ver10/device/wsdl}GetHostnameResponse"); err != nil {
		t.Fatal(err)
	}
}

func TestValidateRejects(t *testing.T) {
	v := Require(t)
	cases := map[string]struct {
		doc, expect, want string
	}{
		"wrong expected element": {good, "{http://www.onvif.org/ver10/device/wsdl}GetScopesResponse", "expected"},
		"missing required child": {strings.Replace(good, "<tt:FromDHCP>false</tt:FromDHCP>", "", 1), "", "FromDHCP"},
		"bad boolean":            {strings.Replace(good, ">false<", ">maybe<", 1), "", "boolean"},
		// Body content is lax: only the stand-alone body check catches this.
		"wrong namespace":    {strings.Replace(good, `xmlns:tds="http://www.onvif.org/ver10/device/wsdl"`, `xmlns:tds="http://www.onvif.org/ver10/media/wsdl"`, 1), "", "body"},
		"leading whitespace": {"\n" + good, "", "whitespace"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := v.Validate([]byte(c.doc), c.expect)
			if err == nil {
				t.Fatal("invalid document accepted")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func TestDirFound(t *testing.T) {
	Require(t)
	d, err := Dir()
	if err != nil || !strings.HasSuffix(d, "onvif-wsdl") {
		t.Fatalf("Dir() = %q, %v", d, err)
	}
}

func TestValidateAllReportsPerDocument(t *testing.T) {
	v := Require(t)
	bad := strings.Replace(good, "<tt:FromDHCP>false</tt:FromDHCP>", "", 1)
	docs := make([]Doc, 12)
	for i := range docs {
		docs[i] = Doc{XML: []byte(good)}
	}
	docs[1].XML = []byte(bad)   // body-1 is a prefix of body-10: errors must not leak
	docs[11].XML = []byte("<x") // not XML
	errs := v.ValidateAll(docs)
	for i, err := range errs {
		if want := i == 1 || i == 11; (err != nil) != want {
			t.Errorf("document %d: error %v", i, err)
		}
	}
}

func TestBatch(t *testing.T) {
	b := NewBatch(t)
	b.Add([]byte(good), "{http://www.onvif.org/ver10/device/wsdl}GetHostnameResponse")
	b.Add([]byte(good), "")
}

// recordingTB captures what Batch reports.
type recordingTB struct {
	testing.TB
	errs     []string
	cleanups []func()
}

func (r *recordingTB) Helper()                   {}
func (r *recordingTB) Cleanup(f func())          { r.cleanups = append(r.cleanups, f) }
func (r *recordingTB) Errorf(f string, a ...any) { r.errs = append(r.errs, f) }

func TestBatchReportsInvalid(t *testing.T) {
	Require(t)
	rec := &recordingTB{TB: t}
	b := NewBatch(rec)
	b.Add([]byte(good), "")
	b.Add([]byte(strings.Replace(good, ">false<", ">maybe<", 1)), "")
	for _, f := range rec.cleanups {
		f()
	}
	if len(rec.errs) != 1 {
		t.Fatalf("Batch reported %d errors, want 1", len(rec.errs))
	}
}

func TestSOAP11(t *testing.T) {
	v := Require(t)
	fault := `<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body><env:Fault><faultcode>env:Client</faultcode><faultstring>ter:NotAuthorized: x</faultstring></env:Fault></env:Body></env:Envelope>`
	if err := v.Validate([]byte(fault), "{http://schemas.xmlsoap.org/soap/envelope/}Fault"); err != nil {
		t.Fatal(err)
	}
	swapped := strings.Replace(strings.Replace(fault, "<faultcode>env:Client</faultcode>", "", 1), "</faultstring>", "</faultstring><faultcode>env:Client</faultcode>", 1)
	if err := v.Validate([]byte(swapped), ""); err == nil {
		t.Error("SOAP 1.1 fault with faultcode after faultstring accepted")
	}
	resp := strings.Replace(strings.Replace(good, "http://www.w3.org/2003/05/soap-envelope", "http://schemas.xmlsoap.org/soap/envelope/", 1), ">false<", ">maybe<", 1)
	if err := v.Validate([]byte(resp), ""); err == nil {
		t.Error("invalid SOAP 1.1 response body accepted")
	}
}
