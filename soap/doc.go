// Package soap is the SOAP layer of the bridge's ONVIF services: it parses
// SOAP 1.2 and SOAP 1.1 envelopes into etree trees (with internal/xmltree),
// authenticates the request (WS-Security UsernameToken or HTTP Digest/Basic
// through httpauth), calls the operation of the request element and writes
// the answer, or a SOAP fault, in the request's SOAP version.
//
// Every ONVIF service has one shape: a Service value (namespace, XAddr
// path, version, the Ops it implements, the operations its WSDL declares)
// built in code by the package that implements it. An Endpoint serves the
// list of a device's services on one http.Handler and is the only place
// that answers an operation no service implements.
//
// Dispatch uses only the namespace URI and local name of the first child of
// the Body (wsdl.Op): never prefixes, the URL path, the SOAPAction header or
// the action= parameter, which real clients get wrong. Any Content-Type is
// accepted (application/soap+xml, application/xml, text/xml, with or without
// action= and trailing ';'); the envelope's namespace decides the version.
//
// Handlers return a response element or an error; a *Fault error is turned
// into a SOAP fault in exactly one place (Endpoint.ServeHTTP), any other error
// into env:Receiver. The HTTP status follows the SOAP 1.2 HTTP binding: 400
// for env:Sender faults, 500 for env:Receiver (and VersionMismatch,
// MustUnderstand), 401 plus WWW-Authenticate challenges and a
// ter:NotAuthorized fault body when a request carries no credentials and
// HTTP authentication is enabled, 405 for a method other than POST and 413
// for a body over the size limit; every error response carries a SOAP
// fault, never plain text. The 500 for Receiver faults is kept although
// Synology Surveillance Station marks a camera disconnected on a 500 answer
// to CreateProfile: that was a missing operation, and the media service
// implements CreateProfile, so the spec's status codes stay.
//
// Input is bounded before anything is parsed: the body size
// (MaxBodySize), and the shape of the message (Limits: elements, depth,
// attributes per element and in total, namespace declarations, name and
// text lengths), checked in one linear pass as the body arrives, so that a
// hostile body is refused after its first few KiB. A DOCTYPE (and with it
// any entity declaration) is refused; malformed XML gets an
// env:Sender/ter:WellFormed fault; the namespace check is linear too.
// Requests in progress (from the first body byte until authenticated) are
// bounded per endpoint and per client address, in number
// (MaxConcurrent) and in buffered bytes (MaxBufferedBytes): one more is
// answered at once with HTTP 503, never queued. Responses start with the
// XML declaration, never with whitespace or a byte-order mark.
//
// # Security
//
// Specification: ONVIF Core 5.12 (user-based access control), WS-Security
// UsernameToken Profile 1.0. See Security for the rules: which operations
// need credentials (Access), how PasswordDigest tokens are checked (nonce
// and Created required, Created within MaxSkew of the device clock, each
// nonce remembered until its Created leaves that window, in a NonceCache
// the devices of a process share, with a quota per user) and when HTTP
// authentication is used.
package soap
