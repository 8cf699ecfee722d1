package soap

import (
	"context"
	"net/http"
	"strings"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/wsdl"
)

// Handler answers one operation: it returns the response element (placed
// in the response Body) or an error; a *Fault error becomes that SOAP fault,
// any other error env:Receiver. The response element may use the prefixes
// NewResponse declares (tds, trt, tt, tev, wsnt, wsa, wstop, tns1, ter).
type Handler func(ctx context.Context, r *Request) (*etree.Element, error)

// Op is one operation a Service implements.
type Op struct {
	// Name is the local name of the request element, which is the
	// operation name for ONVIF services (wsdl.MediaGetProfiles).
	Name string
	// Namespace is the namespace of the request element when it is not
	// the service's own (the WS-BaseNotification operations of the events
	// service); "" means Service.Namespace.
	Namespace string
	// Access is the operation's class; the zero value ReadSystem needs
	// credentials.
	Access Access
	// Handle answers the operation.
	Handle Handler
}

// ServiceVersion is the version of a service as GetServices reports it.
type ServiceVersion struct {
	Major, Minor int
}

// Service is one ONVIF service of a device (device management, media,
// events): the operations it implements, the operations its WSDL declares,
// and what GetServices and GetCapabilities report about it. An Endpoint
// serves a list of them. A Service is a plain value built in code; it must
// not change once the Endpoint serving it has been created.
type Service struct {
	// Namespace is the service's namespace (wsdl.NSMedia), the namespace
	// of its request elements.
	Namespace string
	// Path is the URL path of the service's XAddr ("/onvif/media_service").
	// Dispatch does not depend on it: any path of the endpoint serves every
	// service.
	Path string
	// Version is the version GetServices reports.
	Version ServiceVersion
	// Ops are the operations the service implements.
	Ops []Op
	// Declared lists every operation of the service's WSDL
	// (wsdl.MediaOperations()). Those without an entry in Ops are answered
	// with env:Receiver/ter:ActionNotSupported, after the access check of
	// the class Unimplemented gives them, instead of being unknown XML.
	Declared []wsdl.Op
	// Unimplemented classes the declared operations without an entry in
	// Ops by what they would do (the service's classes of reads and
	// writes).
	Unimplemented Policy
	// Capabilities returns the service's capabilities element
	// (tds:Capabilities, trt:Capabilities, tev:Capabilities): the content
	// of its GetServiceCapabilitiesResponse, which the device service also
	// lists in GetServices and reads for GetCapabilities. nil means the
	// service has none.
	Capabilities func(r *Request) *etree.Element
}

// Request is one authenticated SOAP request as a Handler sees it.
type Request struct {
	// Version is the SOAP version of the request; the response uses it.
	Version Version
	// Op is the qualified name of Body.
	Op wsdl.Op
	// Header is the SOAP Header, nil when absent.
	Header *etree.Element
	// Body is the request element: the first child of the SOAP Body.
	Body *etree.Element
	// HTTP is the HTTP request (its body has been read). Handlers use its
	// Host to build XAddrs and URIs that the client can reach.
	HTTP *http.Request
	// User is the authenticated user, "" when the request carried no
	// valid credentials (possible for PreAuth operations, or when no user
	// is configured).
	User string
	// Service is the service the operation belongs to.
	Service *Service
	// Endpoint is the endpoint that dispatched the request: the device
	// service lists its Services.
	Endpoint *Endpoint

	respHeader []*etree.Element
}

// Level returns the user level of the request's user (LevelAdministrator,
// LevelOperator, LevelUser): the level the endpoint's users give it when
// they know levels (Levels), LevelAdministrator when they do not or when
// the endpoint authenticates nobody (every client of an open device may
// do everything), "" for a user without a level (a PRE_AUTH request
// without valid credentials on a device that has users).
func (r *Request) Level() string {
	var sec *Security
	if r.Endpoint != nil {
		sec = r.Endpoint.Security()
	}
	if !sec.required() {
		return LevelAdministrator
	}
	lv, ok := sec.Auth.Users.(Levels)
	if !ok {
		if r.User == "" {
			return ""
		}
		return LevelAdministrator
	}
	level, _ := lv.Level(r.User)
	return level
}

// AddResponseHeader adds a SOAP header block to the response (for example
// a wsa:Action). It is ignored if the handler returns an error.
func (r *Request) AddResponseHeader(e *etree.Element) {
	r.respHeader = append(r.respHeader, e)
}

// MessageID returns the request's wsa:MessageID (WS-Addressing 1.0), "" if
// none.
func (r *Request) MessageID() string {
	if r.Header == nil {
		return ""
	}
	for _, h := range r.Header.ChildElements() {
		if h.Tag == "MessageID" && h.NamespaceURI() == wsdl.NSWSA {
			return strings.TrimSpace(h.Text())
		}
	}
	return ""
}
