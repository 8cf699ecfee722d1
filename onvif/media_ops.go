package onvif

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/soap"
	"github.com/chinesium/chinesium/wsdl"
)

// MediaOps returns the SOAP operation table of the device's media service
// (ver10): every operation of media.wsdl, the unimplemented ones answered
// with env:Receiver/ter:ActionNotSupported. GetServiceCapabilities is
// PRE_AUTH, the other reads READ_MEDIA, and everything that changes a
// profile or configuration ACTUATE (Media spec access classes).
//
// Call it once per device when the service starts: it also brings the
// persisted fixed profiles in line with the device's current features.
func MediaOps(d *Device) map[wsdl.Op]soap.Operation {
	m := &Media{Device: d}
	if err := d.addAudioToFixedProfiles(); err != nil {
		slog.Warn("onvif: cannot update the fixed profiles", "device", d.Name, "err", err)
	}
	ops := make(map[wsdl.Op]soap.Operation)
	for _, op := range wsdl.MediaOperations() {
		h, ok := mediaHandlers[op.Name]
		if !ok {
			ops[op] = soap.Operation{Handler: notSupported(op), Access: soap.ReadMedia}
			continue
		}
		ops[op] = soap.Operation{Handler: m.handler(h), Access: mediaAccess(op.Name)}
	}
	return ops
}

// mediaAccess returns the access class of an implemented media operation.
func mediaAccess(name string) soap.Access {
	switch {
	case name == wsdl.MediaGetServiceCapabilities:
		return soap.PreAuth
	case len(name) > 3 && name[:3] == "Get":
		return soap.ReadMedia
	default:
		return soap.Actuate
	}
}

func notSupported(op wsdl.Op) soap.Handler {
	return func(context.Context, *soap.Request) (*etree.Element, error) {
		return nil, soap.ActionNotSupported(op)
	}
}

// handler adapts a media handler to soap.Handler: it passes the request's
// body and Host and maps media faults to SOAP faults.
func (m *Media) handler(h mediaHandler) soap.Handler {
	return func(_ context.Context, r *soap.Request) (*etree.Element, error) {
		host := requestHost(r.HTTP)
		resp, err := h(m, &call{body: r.Body, host: host})
		if err != nil {
			return nil, toSOAPFault(err)
		}
		return resp, nil
	}
}

// toSOAPFault maps a media fault to its SOAP fault; other errors become a
// generic receiver fault.
func toSOAPFault(err error) error {
	var f *mediaFault
	if !errors.As(err, &f) {
		return soap.AsFault(err)
	}
	subs := []string{f.code}
	if f.sub != "" {
		subs = append(subs, f.sub)
	}
	if f.receiver {
		return soap.Receiver(f.reason, subs...)
	}
	return soap.Sender(f.reason, subs...)
}

// requestHost returns the host the client used: the Host header without
// its port or, for a request without one (HTTP/1.0), the local address the
// connection arrived on.
func requestHost(r *http.Request) string {
	if r == nil {
		return ""
	}
	if r.Host != "" {
		return RequestHost(r.Host)
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return RequestHost(a.String())
	}
	return ""
}
