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

	"github.com/chinesium/chinesium/httpauth"
	"github.com/chinesium/chinesium/wsdl"
)

// DefaultMaxBodySize is the default request body limit. ONVIF requests are
// a few KiB; the largest (SetVideoEncoderConfiguration, CreateUsers) stay
// far below it.
const DefaultMaxBodySize = 1 << 20

// DefaultReadTimeout is the default time a client has to send a request
// body once its headers have arrived.
const DefaultReadTimeout = 30 * time.Second

// Defaults of the limits on requests in progress. A request is in
// progress from its first body byte until it is authenticated; its handler
// then runs outside these limits (a PullMessages may wait for minutes).
const (
	// DefaultMaxConcurrent bounds the requests of an endpoint being parsed
	// and authenticated at once. A request takes about a millisecond, so
	// a legitimate client seldom meets another in progress.
	DefaultMaxConcurrent = 8
	// DefaultMaxConcurrentPerClient bounds those of one client address.
	DefaultMaxConcurrentPerClient = 4
	// DefaultMaxBufferedBytes bounds the body bytes an endpoint holds at
	// once for requests being read, parsed and authenticated: eight bodies
	// of the maximum size.
	DefaultMaxBufferedBytes = 8 * DefaultMaxBodySize
	// DefaultMaxBufferedBytesPerClient bounds those of one client address.
	DefaultMaxBufferedBytesPerClient = 2 * DefaultMaxBodySize
)

// readChunk is the first buffer size for a body of unknown length; the
// buffer doubles from there, each step counted against the buffered-bytes
// limits before it is allocated.
const readChunk = 16 << 10

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
	// Limits bound the shape of a request (elements, depth, attributes,
	// namespace declarations, names, texts), checked while the body
	// arrives, before anything is parsed. Zero fields take their defaults.
	Limits Limits
	// MaxConcurrent bounds the requests being parsed and authenticated at
	// once; one more is answered at once with HTTP 503 and a Receiver
	// fault, never queued. It defaults to DefaultMaxConcurrent.
	MaxConcurrent int
	// MaxConcurrentPerClient bounds the same per client address, so that
	// one client cannot take every slot. It defaults to
	// DefaultMaxConcurrentPerClient.
	MaxConcurrentPerClient int
	// MaxBufferedBytes bounds the request body bytes held at once by the
	// requests being read, parsed and authenticated, counted as the
	// buffers grow (a client that trickles its body holds only what it
	// sent). A request whose buffer does not fit is answered with HTTP 503
	// at once. It defaults to DefaultMaxBufferedBytes.
	MaxBufferedBytes int64
	// MaxBufferedBytesPerClient bounds the same per client address. It
	// defaults to DefaultMaxBufferedBytesPerClient.
	MaxBufferedBytesPerClient int64
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
	c.Limits.setDefaults()
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = DefaultMaxConcurrent
	}
	if c.MaxConcurrentPerClient <= 0 {
		c.MaxConcurrentPerClient = DefaultMaxConcurrentPerClient
	}
	if c.MaxBufferedBytes <= 0 {
		c.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	if c.MaxBufferedBytesPerClient <= 0 {
		c.MaxBufferedBytesPerClient = DefaultMaxBufferedBytesPerClient
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

	parsing  gate // requests being parsed and authenticated
	buffered gate // body bytes held by requests in progress
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
	e.parsing = gate{max: int64(cfg.MaxConcurrent), perClient: int64(cfg.MaxConcurrentPerClient)}
	e.buffered = gate{max: cfg.MaxBufferedBytes, perClient: cfg.MaxBufferedBytesPerClient}
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
	client := clientOf(r.RemoteAddr)
	hr := httpauth.RequestOf(r) // HTTP Digest nonces are bound to the client's address
	// Not every ResponseWriter supports deadlines (httptest.ResponseRecorder).
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(e.cfg.ReadTimeout))
	body, held, err := e.readBody(r, client)
	// What a request holds while in progress is given back before its
	// handler runs, or when ServeHTTP returns before that.
	var parsing bool
	release := func() {
		e.buffered.release(client, held)
		held = 0
		if parsing {
			e.parsing.release(client, 1)
			parsing = false
		}
	}
	defer release()
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
		// The rest of the body is not read: close the connection rather
		// than let the server drain it.
		w.Header().Set("Connection", "close")
		var fault *Fault
		switch {
		case errors.Is(err, errBusy):
			e.busy(w, version, r)
		case errors.Is(err, errTooBig):
			invalid(http.StatusRequestEntityTooLarge, Sender(fmt.Sprintf("request body larger than %d bytes", e.cfg.MaxBodySize)))
		case errors.As(err, &fault):
			log.Debug("bad request", "remote", r.RemoteAddr, "err", err)
			invalid(fault.HTTPStatus(), fault)
		default:
			invalid(http.StatusBadRequest, Sender("cannot read request body"))
		}
		return
	}
	if len(bytes.TrimSpace(body)) == 0 && sec.required() && !sec.NoHTTPAuth {
		// curl --digest and other HTTP clients probe with an empty POST
		// and expect the challenge before they send the body again.
		if _, cerr := sec.Auth.Check(hr); cerr != nil {
			for _, c := range sec.Auth.ChallengesFor(hr, cerr) {
				w.Header().Add("WWW-Authenticate", c)
			}
			e.counters.countAuth(cerr)
			invalid(http.StatusUnauthorized, NotAuthorized(cerr))
			return
		}
	}
	if !e.parsing.acquire(client, 1) {
		e.busy(w, version, r)
		return
	}
	parsing = true
	env, err := parseScanned(body, e.cfg.Limits.MaxDepth)
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
	user, aerr := sec.authenticate(hr, env.Header, op, rt.access)
	if aerr != nil {
		log.Debug("not authorized", "op", op.Name, "remote", r.RemoteAddr, "err", aerr.fault.Err)
		if aerr.challenge {
			for _, c := range sec.Auth.ChallengesFor(hr, aerr.httpErr) {
				w.Header().Add("WWW-Authenticate", c)
			}
		}
		if aerr.fault.Err != nil {
			e.counters.countAuth(aerr.fault.Err)
		}
		fault(aerr.status, aerr.fault)
		return
	}
	release()
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

// Errors of readBody that are not faults.
var (
	errBusy   = errors.New("soap: too many requests in progress")
	errTooBig = errors.New("soap: request body too large")
)

// readBody reads the request body, checking it against the Limits as it
// arrives, into a buffer that grows only as far as the buffered-bytes
// limits allow. It returns the body and the bytes it holds of those limits
// (released by the caller); on error it holds nothing. Errors are errBusy,
// errTooBig, a *Fault from the scan, or the read error.
func (e *Endpoint) readBody(r *http.Request, client string) (body []byte, held int64, err error) {
	limit := e.cfg.MaxBodySize
	if r.ContentLength > limit {
		return nil, 0, errTooBig
	}
	defer func() {
		if err != nil {
			e.buffered.release(client, held)
			held = 0
		}
	}()
	sc := scanner{lim: e.cfg.Limits}
	size := int64(readChunk)
	if r.ContentLength >= 0 && r.ContentLength < readChunk {
		size = r.ContentLength + 1 // room for the read that sees EOF
	}
	var buf []byte
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				return nil, held, errTooBig
			}
			if len(buf) > 0 {
				size = min(2*int64(cap(buf)), limit+1)
			}
			if !e.buffered.acquire(client, size-held) {
				return nil, held, errBusy
			}
			held = size
			grown := make([]byte, len(buf), size)
			copy(grown, buf)
			buf = grown
		}
		n, rerr := r.Body.Read(buf[len(buf):cap(buf)])
		if n > 0 {
			if serr := sc.write(buf[len(buf) : len(buf)+n]); serr != nil {
				return nil, held, serr
			}
			buf = buf[:len(buf)+n]
			if int64(len(buf)) > limit {
				return nil, held, errTooBig
			}
		}
		switch {
		case errors.Is(rerr, io.EOF):
			if serr := sc.close(); serr != nil {
				return nil, held, serr
			}
			return buf, held, nil
		case rerr != nil:
			var tooBig *http.MaxBytesError
			if errors.As(rerr, &tooBig) {
				return nil, held, errTooBig
			}
			return nil, held, rerr
		}
	}
}

// busy answers a request refused for the limits on requests in progress:
// HTTP 503, Retry-After, a Receiver fault.
func (e *Endpoint) busy(w http.ResponseWriter, v Version, r *http.Request) {
	e.counters.countBusy()
	e.log.Debug("busy", "remote", r.RemoteAddr)
	w.Header().Set("Retry-After", "1")
	writeFault(w, v, http.StatusServiceUnavailable, Receiver("too many requests in progress; try again"))
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
