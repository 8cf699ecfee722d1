package onvif

import (
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// The XML and HTTP helpers every service of the package uses. Responses use
// the prefixes soap.NewResponse declares on the envelope (tds, trt, tev,
// wsnt, wsa, wstop, tns1, tt); requests are read by local name inside the
// request element, whose namespace the endpoint has already checked.

// response returns an empty response element with the given prefixed tag,
// e.g. "trt:GetProfilesResponse".
func response(tag string) *etree.Element { return etree.NewElement(tag) }

// add appends a child with the given prefixed tag and optional text.
func add(parent *etree.Element, tag string, text ...string) *etree.Element {
	e := parent.CreateElement(tag)
	if len(text) > 0 {
		e.SetText(text[0])
	}
	return e
}

// child returns the first child element of e with the given local name
// (any prefix), nil when there is none or e is nil.
func child(e *etree.Element, name string) *etree.Element {
	if e == nil {
		return nil
	}
	for _, c := range e.ChildElements() {
		if c.Tag == name {
			return c
		}
	}
	return nil
}

// children returns the child elements of e with the given local name.
func children(e *etree.Element, name string) []*etree.Element {
	var out []*etree.Element
	for _, c := range e.ChildElements() {
		if c.Tag == name {
			out = append(out, c)
		}
	}
	return out
}

// childText returns the trimmed text of the first child with the given
// local name, and whether it exists.
func childText(e *etree.Element, name string) (string, bool) {
	c := child(e, name)
	if c == nil {
		return "", false
	}
	return strings.TrimSpace(c.Text()), true
}

func itoa(i int) string { return strconv.Itoa(i) }

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// baseURL returns scheme://host[:port] as the client reached the device:
// the Host header, else the local address the connection arrived on.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if host == "" {
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			host = a.String()
		}
	}
	return scheme + "://" + host
}

// localIP returns the local address the request's connection arrived on.
func localIP(r *http.Request) net.IP {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); ok {
		return a.IP
	}
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		return net.ParseIP(h)
	}
	return net.ParseIP(r.Host)
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

// RequestHost returns the host part of an HTTP Host header value (the
// authority the client used), keeping the brackets of an IPv6 literal, for
// building URLs that reach the bridge the same way.
func RequestHost(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		if strings.Contains(h, ":") {
			return "[" + h + "]"
		}
		return h
	}
	return hostport
}
