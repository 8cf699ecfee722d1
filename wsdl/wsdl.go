// Package wsdl holds the XML namespaces and operation names of the ONVIF
// services the bridge implements: device management (tds, ver10),
// media (trt, ver10), events (tev, with WS-BaseNotification wsnt), plus the
// SOAP, WS-Addressing and WS-Security namespaces around them.
//
// The operation tables (DeviceOperations, MediaOperations,
// EventsOperations) list every operation of the official WSDL files so that a
// service can answer an operation it does not implement with
// ter:ActionNotSupported instead of treating it as unknown XML. They are
// generated from ../shared/onvif-wsdl (go generate, internal/genops) and
// checked against it by the tests.
//
// Operations are identified by the qualified name of the request element,
// the first child of the SOAP Body (Op): never by prefix, URL path or
// SOAPAction, which real clients get wrong.
package wsdl

//go:generate go run ./internal/genops -wsdl ../../shared/onvif-wsdl -o ops.go

// XML namespaces. The prefix in each name is the one the ONVIF Core
// specification uses; documents may use any prefix.
const (
	// NSSOAP12 is the SOAP 1.2 envelope namespace (prefix s or env).
	NSSOAP12 = "http://www.w3.org/2003/05/soap-envelope"
	// NSSOAP11 is the SOAP 1.1 envelope namespace.
	NSSOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
	// NSDevice is the device management service namespace (tds).
	NSDevice = "http://www.onvif.org/ver10/device/wsdl"
	// NSMedia is the media service (ver10) namespace (trt).
	NSMedia = "http://www.onvif.org/ver10/media/wsdl"
	// NSEvents is the event service namespace (tev).
	NSEvents = "http://www.onvif.org/ver10/events/wsdl"
	// NSSchema is the ONVIF types namespace (tt).
	NSSchema = "http://www.onvif.org/ver10/schema"
	// NSError is the ONVIF fault subcode namespace (ter).
	NSError = "http://www.onvif.org/ver10/error"
	// NSTopics is the ONVIF topic namespace (tns1).
	NSTopics = "http://www.onvif.org/ver10/topics"
	// NSWSNT is the WS-BaseNotification namespace (wsnt).
	NSWSNT = "http://docs.oasis-open.org/wsn/b-2"
	// NSWSNTopics is the WS-Topics namespace (wstop).
	NSWSNTopics = "http://docs.oasis-open.org/wsn/t-1"
	// NSWSA is WS-Addressing 1.0 (wsa), used by normal SOAP calls.
	NSWSA = "http://www.w3.org/2005/08/addressing"
	// NSWSSE is the WS-Security 1.0 extension namespace (wsse).
	NSWSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	// NSWSU is the WS-Security utility namespace (wsu).
	NSWSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
	// NSXS is the XML Schema namespace (xs).
	NSXS = "http://www.w3.org/2001/XMLSchema"
)

// WS-Security token type URIs (UsernameToken Profile 1.0).
const (
	// PasswordDigest is the Type of a wsse:Password holding
	// Base64(SHA-1(nonce ‖ created ‖ password)).
	PasswordDigest = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
	// PasswordText is the Type of a wsse:Password holding the password.
	PasswordText = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
	// Base64Binary is the EncodingType of a base64 wsse:Nonce (the default).
	Base64Binary = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)

// Op identifies an operation by the qualified name of its request element
// (the first child of the SOAP Body).
type Op struct {
	// Namespace is the namespace URI of the request element.
	Namespace string
	// Name is its local name, which is the operation name for ONVIF
	// services.
	Name string
}

// String returns the operation in Clark notation, "{namespace}Name".
func (o Op) String() string { return "{" + o.Namespace + "}" + o.Name }

// DeviceOperations returns every operation of devicemgmt.wsdl, sorted by
// name. The slice is a fresh copy.
func DeviceOperations() []Op { return append([]Op(nil), deviceOperations...) }

// MediaOperations returns every operation of media.wsdl (ver10), sorted by
// name. The slice is a fresh copy.
func MediaOperations() []Op { return append([]Op(nil), mediaOperations...) }

// EventsOperations returns every operation a device receives per
// event.wsdl: the tev operations and the WS-BaseNotification ones it binds
// (Subscribe, Renew, Unsubscribe, ...), sorted by name. Notify, which a
// device only sends, is left out. The slice is a fresh copy.
func EventsOperations() []Op { return append([]Op(nil), eventsOperations...) }
