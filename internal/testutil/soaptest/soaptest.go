// Package soaptest builds the SOAP requests of ONVIF clients for the
// tests of several packages and for chinesium bench's SOAP clients.
//
// It is a package of its own, not part of internal/testutil, because it
// imports soap and wsdl, whose tests import internal/testutil.
package soaptest

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/chinesium/chinesium/soap"
	"github.com/chinesium/chinesium/wsdl"
)

// Envelope wraps body in a SOAP 1.2 envelope with a WS-Security
// PasswordDigest UsernameToken (a fresh nonce, created now) for
// user/password; user "" sends no token. The envelope declares the
// prefixes s, tds, trt, tt, tev and wsnt for body.
func Envelope(user, password, body string) string {
	header := ""
	if user != "" {
		nonce := make([]byte, 16)
		_, _ = rand.Read(nonce)
		created := time.Now().UTC().Format(time.RFC3339)
		header = fmt.Sprintf(`<s:Header><wsse:Security xmlns:wsse=%q xmlns:wsu=%q><wsse:UsernameToken>`+
			`<wsse:Username>%s</wsse:Username><wsse:Password Type=%q>%s</wsse:Password>`+
			`<wsse:Nonce>%s</wsse:Nonce><wsu:Created>%s</wsu:Created></wsse:UsernameToken></wsse:Security></s:Header>`,
			wsdl.NSWSSE, wsdl.NSWSU, user, wsdl.PasswordDigest, soap.PasswordDigest(nonce, created, password),
			base64.StdEncoding.EncodeToString(nonce), created)
	}
	return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ` +
		`xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" ` +
		`xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:tev="http://www.onvif.org/ver10/events/wsdl" ` +
		`xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2">` + header + `<s:Body>` + body + `</s:Body></s:Envelope>`
}
