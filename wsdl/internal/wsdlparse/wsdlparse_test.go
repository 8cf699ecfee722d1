package wsdlparse

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

const sample = `<?xml version="1.0"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap12/"
    xmlns:x="urn:x" xmlns:other="urn:other" xmlns:wsntw="http://docs.oasis-open.org/wsn/bw-2" targetNamespace="urn:x">
  <wsdl:message name="DoRequest"><wsdl:part name="parameters" element="x:DoIt"/></wsdl:message>
  <wsdl:message name="PingRequest"><wsdl:part name="parameters" element="other:Ping"/></wsdl:message>
  <wsdl:portType name="P">
    <wsdl:operation name="Do"><wsdl:input message="x:DoRequest"/></wsdl:operation>
    <wsdl:operation name="Ping"><wsdl:input message="x:PingRequest"/></wsdl:operation>
    <wsdl:operation name="Unsubscribe"><wsdl:input message="wsntw:UnsubscribeRequest"/></wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="B" type="x:P">
    <wsdl:operation name="Do"><soap:operation soapAction="urn:x/Do"/></wsdl:operation>
    <wsdl:operation name="Ping"><soap:operation soapAction="urn:x/Ping"/></wsdl:operation>
    <wsdl:operation name="Unsubscribe"><soap:operation soapAction="urn:wsn/Unsubscribe"/></wsdl:operation>
  </wsdl:binding>
  <wsdl:binding name="W" type="wsntw:SubscriptionManager">
    <wsdl:operation name="Unsubscribe"><soap:operation soapAction="urn:wsn/other"/></wsdl:operation>
    <wsdl:operation name="Renew"><soap:operation soapAction="urn:wsn/Renew"/></wsdl:operation>
    <wsdl:operation name="Notify"><soap:operation soapAction="urn:wsn/Notify"/></wsdl:operation>
  </wsdl:binding>
</wsdl:definitions>`

func TestRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.wsdl")
	if err := os.WriteFile(path, []byte(sample), 0o600); err != nil {
		t.Fatal(err)
	}
	tns, ops, err := Read(path, "Notify")
	if err != nil {
		t.Fatal(err)
	}
	want := []Operation{
		{"Do", "urn:x", "DoIt"},                // element name differs from the operation
		{"Ping", "urn:other", "Ping"},          // element in another namespace
		{"Unsubscribe", NSWSNT, "Unsubscribe"}, // imported message; the first binding only
		{"Renew", NSWSNT, "Renew"},             // imported port type
	}
	if tns != "urn:x" || !reflect.DeepEqual(ops, want) {
		t.Errorf("Read = %q\n%+v\nwant\n%+v", tns, ops, want)
	}
	if _, _, err := Read(filepath.Join(t.TempDir(), "missing.wsdl")); err == nil {
		t.Error("missing file accepted")
	}
}
