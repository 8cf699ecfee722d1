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
