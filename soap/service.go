package soap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
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
	// Service is the service that dispatched the request. Handlers may
	// look at its Ops (GetServices lists the services present) or call
	// another operation through it.
	Service *Service

	respHeader []*etree.Element
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

// Handler answers one operation: it returns the response element (placed
// in the response Body) or an error; a *Fault error becomes that SOAP fault,
// any other error env:Receiver. The response element may use the prefixes
// NewResponse declares (tds, trt, tt, tev, wsnt, wsa, wstop, tns1, ter).
type Handler func(ctx context.Context, r *Request) (*etree.Element, error)

// Operation is a Handler with the access class that guards it.
type Operation struct {
	Handler Handler
	// Access is the operation's class; the zero value ReadSystem needs
	// credentials.
	Access Access
}

// Service serves SOAP requests on one endpoint, dispatching on the request
// element. Fields must not change once serving has started.
type Service struct {
	// Ops maps request elements to operations, built explicitly by the
	// caller (see onvif.DeviceOps). Any other request element gets
	// env:Receiver/ter:ActionNotSupported (after authentication, like any
	// non-PreAuth operation).
	Ops map[wsdl.Op]Operation
	// Security authenticates requests; nil means no authentication.
	Security *Security
	// Logger receives one debug line per request and warnings for handler
	// errors that are not faults; nil discards.
	Logger *slog.Logger
	// MaxBodySize bounds request bodies (DefaultMaxBodySize when 0).
	MaxBodySize int64
	// MaxDepth bounds the element nesting (DefaultMaxDepth when 0).
	MaxDepth int
	// MaxElements bounds the number of tags in a request
	// (DefaultMaxElements when 0).
	MaxElements int
	// ReadTimeout bounds the time to read a request body
	// (DefaultReadTimeout when 0), so a client trickling a body cannot hold
	// a connection and its goroutine for ever. It is applied through
	// http.ResponseController, whatever the http.Server's own timeouts.
	ReadTimeout time.Duration
}

var discard = slog.New(slog.DiscardHandler)

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return discard
	}
	return s.Logger
}

// ServeHTTP implements http.Handler: see the package documentation for the
// rules.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	version := versionFromContentType(r.Header.Get("Content-Type"))
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.writeFault(w, version, http.StatusMethodNotAllowed, Sender("SOAP requests must use POST"))
		return
	}
	limit := s.MaxBodySize
	if limit <= 0 {
		limit = DefaultMaxBodySize
	}
	timeout := s.ReadTimeout
	if timeout <= 0 {
		timeout = DefaultReadTimeout
	}
	// Not every ResponseWriter supports deadlines (httptest.ResponseRecorder).
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(timeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
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
			s.writeFault(w, version, http.StatusRequestEntityTooLarge, Sender(fmt.Sprintf("request body larger than %d bytes", limit)))
			return
		}
		s.writeFault(w, version, http.StatusBadRequest, Sender("cannot read request body"))
		return
	}
	if len(bytes.TrimSpace(body)) == 0 && s.Security.required() && !s.Security.NoHTTPAuth {
		// curl --digest and other HTTP clients probe with an empty POST
		// and expect the challenge before they send the body again.
		if _, err := s.Security.Auth.Check(r.Method, r.RequestURI, r.Header.Get("Authorization")); err != nil {
			for _, c := range s.Security.Auth.ChallengesFor(err) {
				w.Header().Add("WWW-Authenticate", c)
			}
			s.writeFault(w, version, http.StatusUnauthorized, NotAuthorized(err))
			return
		}
	}
	maxElems := s.MaxElements
	if maxElems <= 0 {
		maxElems = DefaultMaxElements
	}
	if n := bytes.Count(body, []byte("<")); n > maxElems {
		s.writeFault(w, version, http.StatusBadRequest, wellFormed(ErrTooMany, "%d tags, more than %d", n, maxElems))
		return
	}
	env, err := ParseEnvelope(body, s.MaxDepth)
	if err != nil {
		f := AsFault(err)
		s.logger().Debug("soap: bad request", "remote", r.RemoteAddr, "err", err)
		s.writeFault(w, version, f.HTTPStatus(), f)
		return
	}
	version = env.Version
	if env.Payload == nil {
		s.writeFault(w, version, http.StatusBadRequest, Sender("empty SOAP Body", "InvalidArgs"))
		return
	}
	op := env.Op()
	operation, known := s.Ops[op]
	access := operation.Access
	if !known {
		access = ReadSystem
	}
	user, aerr := s.Security.authenticate(r.Method, r.RequestURI, r.Header.Get("Authorization"), env.Header, op, access)
	if aerr != nil {
		s.logger().Debug("soap: not authorized", "op", op.Name, "remote", r.RemoteAddr, "err", aerr.fault.Err)
		if aerr.challenge {
			for _, c := range s.Security.Auth.ChallengesFor(aerr.httpErr) {
				w.Header().Add("WWW-Authenticate", c)
			}
		}
		s.writeFault(w, version, aerr.status, aerr.fault)
		return
	}
	if !known || operation.Handler == nil {
		s.writeFault(w, version, http.StatusInternalServerError, ActionNotSupported(op))
		return
	}
	req := &Request{Version: version, Op: op, Header: env.Header, Body: env.Payload, HTTP: r, User: user, Service: s}
	resp, err := s.call(r.Context(), operation.Handler, req)
	if err != nil {
		f := AsFault(err)
		if cerr := r.Context().Err(); cerr != nil && errors.Is(err, cerr) {
			// The client went away (a long-polling PullMessages whose
			// connection closed): nothing failed, and nobody reads the fault.
			s.logger().Debug("soap: client gone", "op", op.Name, "remote", r.RemoteAddr, "err", err)
			return
		}
		if f.Err != nil && f.Code == CodeReceiver && len(f.Subcodes) == 0 {
			s.logger().Warn("soap: handler failed", "op", op.Name, "err", err)
		} else {
			s.logger().Debug("soap: fault", "op", op.Name, "fault", f)
		}
		s.writeFault(w, version, f.HTTPStatus(), f)
		return
	}
	s.logger().Debug("soap: request", "op", op.Name, "user", user, "remote", r.RemoteAddr)
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
	s.write(w, version, http.StatusOK, doc)
}

// call runs h, turning a panic into an env:Receiver fault and a nil
// response into one as well.
func (s *Service) call(ctx context.Context, h Handler, req *Request) (resp *etree.Element, err error) {
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

func (s *Service) writeFault(w http.ResponseWriter, v Version, status int, f *Fault) {
	s.write(w, v, status, NewResponse(v, f.Element(v)))
}

func (s *Service) write(w http.ResponseWriter, v Version, status int, doc *etree.Document) {
	buf := writeDoc(doc)
	defer putBuf(buf)
	h := w.Header()
	h.Set("Content-Type", v.ContentType())
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
