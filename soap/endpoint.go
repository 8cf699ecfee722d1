package soap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/wsdl"
)

// DefaultMaxBodySize is the default request body limit. ONVIF requests are
// a few KiB; the largest (SetVideoEncoderConfiguration, CreateUsers) stay
// far below it.
const DefaultMaxBodySize = 1 << 20

// DefaultReadTimeout is the default time a client has to send a request
// body once its headers have arrived.
const DefaultReadTimeout = 30 * time.Second

// DefaultMaxElements is the default limit on the number of tags ('<') in a
// request, checked before parsing: a MiB of "<a/>" would otherwise become a
// quarter of a million elements in memory.
const DefaultMaxElements = 4096

// EndpointConfig configures an Endpoint.
type EndpointConfig struct {
	// Services are the services served, in the order GetServices lists
	// them. Each request element belongs to at most one of them.
	Services []Service
	// Security authenticates requests; nil means no authentication.
	Security *Security
	// Logger receives one debug line per request and warnings for handler
	// errors that are not faults, tagged component=soap; nil discards.
	Logger *slog.Logger
	// MaxBodySize bounds request bodies. It defaults to
	// DefaultMaxBodySize.
	MaxBodySize int64
	// MaxDepth bounds the element nesting. It defaults to DefaultMaxDepth.
	MaxDepth int
	// MaxElements bounds the number of tags in a request. It defaults to
	// DefaultMaxElements.
	MaxElements int
	// ReadTimeout bounds the time to read a request body, so a client
	// trickling a body cannot hold a connection and its goroutine for
	// ever. It is applied through http.ResponseController, whatever the
	// http.Server's own timeouts. It defaults to DefaultReadTimeout.
	ReadTimeout time.Duration
}

func (c *EndpointConfig) setDefaults() {
	if c.MaxBodySize <= 0 {
		c.MaxBodySize = DefaultMaxBodySize
	}
	if c.MaxDepth <= 0 {
		c.MaxDepth = DefaultMaxDepth
	}
	if c.MaxElements <= 0 {
		c.MaxElements = DefaultMaxElements
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Endpoint serves the SOAP requests of a device's services: it dispatches
// on the request element (any URL path serves every service), answers the
// operations a service declares but does not implement, and any other
// request element, with env:Receiver/ter:ActionNotSupported. Create it with
// NewEndpoint; it is safe for concurrent use.
type Endpoint struct {
	cfg      EndpointConfig
	log      *slog.Logger
	services []Service
	routes   map[wsdl.Op]route // immutable after NewEndpoint
	counters counters
}

// route is where a request element goes: an implemented operation, or a
// declared one without handler (handle nil).
type route struct {
	svc    *Service
	handle Handler
	access Access
}

// NewEndpoint returns an endpoint serving cfg.Services with cfg's defaults
// filled in. It fails when two services share a namespace, an operation is
// implemented twice, or an Op has no name or no handler.
func NewEndpoint(cfg EndpointConfig) (*Endpoint, error) {
	cfg.setDefaults()
	e := &Endpoint{cfg: cfg, log: cfg.Logger.With("component", "soap"), services: slices.Clone(cfg.Services), routes: map[wsdl.Op]route{}}
	seen := map[string]bool{}
	for i := range e.services {
		svc := &e.services[i]
		if svc.Namespace == "" || seen[svc.Namespace] {
			return nil, fmt.Errorf("soap: service %d: empty or repeated namespace %q", i, svc.Namespace)
		}
		seen[svc.Namespace] = true
		for _, op := range svc.Declared {
			e.routes[op] = route{svc: svc, access: svc.Unimplemented.Class(op.Name)}
		}
	}
	for i := range e.services {
		svc := &e.services[i]
		for _, op := range svc.Ops {
			key := wsdl.Op{Namespace: op.Namespace, Name: op.Name}
			if key.Namespace == "" {
				key.Namespace = svc.Namespace
			}
			switch {
			case op.Name == "" || op.Handle == nil:
				return nil, fmt.Errorf("soap: service %s: operation %q without name or handler", svc.Namespace, op.Name)
			case e.routes[key].handle != nil:
				return nil, fmt.Errorf("soap: operation %v implemented twice", key)
			}
			e.routes[key] = route{svc: svc, handle: op.Handle, access: op.Access}
		}
	}
	return e, nil
}

// Services returns the services the endpoint serves, in order.
func (e *Endpoint) Services() []Service { return slices.Clone(e.services) }

// Security returns the endpoint's Security, nil when it authenticates
// nothing.
func (e *Endpoint) Security() *Security { return e.cfg.Security }

// ServeHTTP implements http.Handler: see the package documentation for the
// rules.
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sec, log := e.cfg.Security, e.log
	version := versionFromContentType(r.Header.Get("Content-Type"))
	// invalid answers a request that is not a readable SOAP message.
	invalid := func(status int, f *Fault) {
		e.counters.count(OpInvalid, f)
		writeFault(w, version, status, f)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		invalid(http.StatusMethodNotAllowed, Sender("SOAP requests must use POST"))
		return
	}
	// Not every ResponseWriter supports deadlines (httptest.ResponseRecorder).
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(e.cfg.ReadTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, e.cfg.MaxBodySize))
	if err == nil {
		// While the handler runs the server watches the connection
		// with a background read (already running for a request
		// without a body); a deadline expiring there would cancel the
		// request's context, e.g. a long PullMessages wait. After a
		// failed read the deadline stays, so the server drops the
		// connection instead of waiting for the rest of the body.
		_ = rc.SetReadDeadline(time.Time{})
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			invalid(http.StatusRequestEntityTooLarge, Sender(fmt.Sprintf("request body larger than %d bytes", e.cfg.MaxBodySize)))
			return
		}
		invalid(http.StatusBadRequest, Sender("cannot read request body"))
		return
	}
	if len(bytes.TrimSpace(body)) == 0 && sec.required() && !sec.NoHTTPAuth {
		// curl --digest and other HTTP clients probe with an empty POST
		// and expect the challenge before they send the body again.
		if _, cerr := sec.Auth.Check(r.Method, r.RequestURI, r.Header.Get("Authorization")); cerr != nil {
			for _, c := range sec.Auth.ChallengesFor(cerr) {
				w.Header().Add("WWW-Authenticate", c)
			}
			e.counters.countAuth(cerr)
			invalid(http.StatusUnauthorized, NotAuthorized(cerr))
			return
		}
	}
	if n := bytes.Count(body, []byte("<")); n > e.cfg.MaxElements {
		invalid(http.StatusBadRequest, wellFormed(ErrTooMany, "%d tags, more than %d", n, e.cfg.MaxElements))
		return
	}
	env, err := ParseEnvelope(body, e.cfg.MaxDepth)
	if err != nil {
		f := AsFault(err)
		log.Debug("bad request", "remote", r.RemoteAddr, "err", err)
		invalid(f.HTTPStatus(), f)
		return
	}
	version = env.Version
	if env.Payload == nil {
		invalid(http.StatusBadRequest, Sender("empty SOAP Body", "InvalidArgs"))
		return
	}
	op := env.Op()
	rt, known := e.routes[op]
	opName := op.Name
	if !known {
		rt.access = unknownPolicy.Class(op.Name)
		opName = OpUnknown
	}
	// fault answers with f and counts it under the operation.
	fault := func(status int, f *Fault) {
		e.counters.count(opName, f)
		writeFault(w, version, status, f)
	}
	user, aerr := sec.authenticate(r.Method, r.RequestURI, r.Header.Get("Authorization"), env.Header, op, rt.access)
	if aerr != nil {
		log.Debug("not authorized", "op", op.Name, "remote", r.RemoteAddr, "err", aerr.fault.Err)
		if aerr.challenge {
			for _, c := range sec.Auth.ChallengesFor(aerr.httpErr) {
				w.Header().Add("WWW-Authenticate", c)
			}
		}
		if aerr.fault.Err != nil {
			e.counters.countAuth(aerr.fault.Err)
		}
		fault(aerr.status, aerr.fault)
		return
	}
	if rt.handle == nil {
		// The one answer to every operation no service implements.
		fault(http.StatusInternalServerError, ActionNotSupported(op))
		return
	}
	req := &Request{Version: version, Op: op, Header: env.Header, Body: env.Payload, HTTP: r, User: user, Service: rt.svc, Endpoint: e}
	resp, err := call(r.Context(), rt.handle, req)
	if err != nil {
		f := AsFault(err)
		if cerr := r.Context().Err(); cerr != nil && errors.Is(err, cerr) {
			// The client went away (a long-polling PullMessages whose
			// connection closed): nothing failed, and nobody reads the fault.
			log.Debug("client gone", "op", op.Name, "remote", r.RemoteAddr, "err", err)
			return
		}
		if f.Err != nil && f.Code == CodeReceiver && len(f.Subcodes) == 0 {
			log.Warn("handler failed", "op", op.Name, "err", err)
		} else {
			log.Debug("fault", "op", op.Name, "fault", f)
		}
		fault(f.HTTPStatus(), f)
		return
	}
	log.Debug("request", "op", op.Name, "user", user, "remote", r.RemoteAddr)
	doc := NewResponse(version, resp)
	// WS-Addressing: a request with a MessageID gets a RelatesTo.
	if id := req.MessageID(); id != "" {
		rel := etree.NewElement("wsa:RelatesTo")
		rel.SetText(id)
		req.respHeader = append([]*etree.Element{rel}, req.respHeader...)
	}
	if len(req.respHeader) > 0 {
		env := doc.Root()
		h := etree.NewElement(EnvPrefix + ":Header")
		for _, e := range req.respHeader {
			h.AddChild(e)
		}
		env.InsertChildAt(0, h)
	}
	e.counters.count(opName, nil)
	write(w, version, http.StatusOK, doc)
}

// call runs h, turning a panic into an env:Receiver fault and a nil
// response into one as well.
func call(ctx context.Context, h Handler, req *Request) (resp *etree.Element, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("soap: handler %s panicked: %v", req.Op.Name, p)
		}
	}()
	resp, err = h(ctx, req)
	if err == nil && resp == nil {
		err = fmt.Errorf("soap: handler %s returned no response", req.Op.Name)
	}
	return resp, err
}

func writeFault(w http.ResponseWriter, v Version, status int, f *Fault) {
	write(w, v, status, NewResponse(v, f.Element(v)))
}

func write(w http.ResponseWriter, v Version, status int, doc *etree.Document) {
	buf := writeDoc(doc)
	defer putBuf(buf)
	h := w.Header()
	h.Set("Content-Type", v.ContentType())
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
