package soap

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/wsdl"
)

// SOAP 1.2 fault codes (the env:Code/env:Value of a fault).
const (
	// CodeSender blames the request (SOAP 1.1: Client).
	CodeSender = "Sender"
	// CodeReceiver blames the device (SOAP 1.1: Server).
	CodeReceiver = "Receiver"
	// CodeVersionMismatch answers an envelope of an unknown version.
	CodeVersionMismatch = "VersionMismatch"
	// CodeMustUnderstand answers a mustUnderstand header that is not
	// understood.
	CodeMustUnderstand = "MustUnderstand"
)

// Fault is an error that becomes a SOAP fault. Handlers return it (usually
// through one of the constructors) and Endpoint.ServeHTTP serializes it; any
// other error becomes env:Receiver without subcode.
//
// Specification: SOAP 1.2 Part 1 §5.4; ONVIF Core 5.11 (fault subcodes in
// the ter namespace).
type Fault struct {
	// Code is one of the Code* constants.
	Code string
	// Subcodes are the nested subcodes, outermost first: local names in
	// the ter namespace ({"InvalidArgVal", "NoProfile"} is
	// env:Sender/ter:InvalidArgVal/ter:NoProfile), or "prefix:Name" with a
	// prefix that NewResponse declares (e.g. "wsnt:...", "tev:...").
	Subcodes []string
	// Reason is the human readable text (env:Reason/env:Text).
	Reason string
	// Detail, if not nil, is placed inside env:Detail (SOAP 1.1: detail).
	Detail *etree.Element
	// Err is the underlying cause, returned by Unwrap; it is never sent.
	Err error
}

// Error returns "soap fault Sender/InvalidArgVal/NoProfile: reason".
func (f *Fault) Error() string {
	s := "soap fault " + strings.Join(append([]string{f.Code}, f.Subcodes...), "/")
	if f.Reason != "" {
		s += ": " + f.Reason
	}
	if f.Err != nil {
		s += ": " + f.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (f *Fault) Unwrap() error { return f.Err }

// Is reports whether target is a *Fault with the same code and subcodes,
// so errors.Is(err, ErrNotAuthorized) matches any NotAuthorized fault.
func (f *Fault) Is(target error) bool {
	t, ok := target.(*Fault)
	return ok && t.Code == f.Code && slices.Equal(t.Subcodes, f.Subcodes)
}

// HTTPStatus returns the status of the fault per the SOAP 1.2 HTTP
// binding: 400 for env:Sender, 500 otherwise.
func (f *Fault) HTTPStatus() int {
	if f.Code == CodeSender {
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// Subcode returns the innermost subcode, "" when there is none.
func (f *Fault) Subcode() string {
	if len(f.Subcodes) == 0 {
		return ""
	}
	return f.Subcodes[len(f.Subcodes)-1]
}

// ErrNotAuthorized is env:Sender/ter:NotAuthorized: the request needs
// credentials it does not carry, or they are wrong.
var ErrNotAuthorized = &Fault{Code: CodeSender, Subcodes: []string{"NotAuthorized"}, Reason: "Sender not authorized"}

// NotAuthorized returns an env:Sender/ter:NotAuthorized fault caused by err.
// The reason sent stays the generic one: it must not tell an attacker
// whether the user or the password was wrong.
func NotAuthorized(err error) *Fault {
	return &Fault{Code: CodeSender, Subcodes: []string{"NotAuthorized"}, Reason: "Sender not authorized", Err: err}
}

// ActionNotSupported returns env:Receiver/ter:ActionNotSupported for an
// operation the service does not implement.
func ActionNotSupported(op wsdl.Op) *Fault {
	return &Fault{Code: CodeReceiver, Subcodes: []string{"ActionNotSupported"},
		Reason: "Optional action not implemented: " + op.Name}
}

// Sender returns an env:Sender fault with the given ter subcodes.
func Sender(reason string, subcodes ...string) *Fault {
	return &Fault{Code: CodeSender, Subcodes: subcodes, Reason: reason}
}

// Receiver returns an env:Receiver fault with the given ter subcodes.
func Receiver(reason string, subcodes ...string) *Fault {
	return &Fault{Code: CodeReceiver, Subcodes: subcodes, Reason: reason}
}

// InvalidArgVal returns env:Sender/ter:InvalidArgVal[/ter:sub...]: an
// argument value is invalid. Common inner subcodes have their own
// constructors (NoProfile, NoConfig, ConfigModify, ...).
func InvalidArgVal(reason string, sub ...string) *Fault {
	return Sender(reason, append([]string{"InvalidArgVal"}, sub...)...)
}

// InvalidArgs returns env:Sender/ter:InvalidArgs: the request's arguments
// are missing or do not fit the operation.
func InvalidArgs(reason string) *Fault { return Sender(reason, "InvalidArgs") }

// NoProfile returns env:Sender/ter:InvalidArgVal/ter:NoProfile.
func NoProfile(token string) *Fault {
	return InvalidArgVal(fmt.Sprintf("no profile %q", token), "NoProfile")
}

// NoConfig returns env:Sender/ter:InvalidArgVal/ter:NoConfig.
func NoConfig(token string) *Fault {
	return InvalidArgVal(fmt.Sprintf("no configuration %q", token), "NoConfig")
}

// ConfigModify returns env:Sender/ter:InvalidArgVal/ter:ConfigModify: the
// configuration parameters are not possible.
func ConfigModify(reason string) *Fault { return InvalidArgVal(reason, "ConfigModify") }

// OperationProhibited returns env:Sender/ter:OperationProhibited/ter:sub,
// for example sub = "FixedScope" when a fixed scope is to be removed.
func OperationProhibited(reason, sub string) *Fault {
	return Sender(reason, "OperationProhibited", sub)
}

// Action returns env:Receiver/ter:Action[/ter:sub...]: the device cannot
// do it (for example sub = "MaxNVTProfiles" or "TooManyUsers").
func Action(reason string, sub ...string) *Fault {
	return Receiver(reason, append([]string{"Action"}, sub...)...)
}

// AsFault returns err as a *Fault: itself if it is (or wraps) one,
// otherwise env:Receiver with a generic reason (the cause is kept in Err,
// never sent).
func AsFault(err error) *Fault {
	var f *Fault
	if errors.As(err, &f) {
		return f
	}
	return &Fault{Code: CodeReceiver, Reason: "internal error", Err: err}
}

// Element builds the env:Fault element of f in version v; the env and ter
// prefixes must be declared by the envelope (NewResponse does).
func (f *Fault) Element(v Version) *etree.Element {
	el := etree.NewElement(EnvPrefix + ":Fault")
	reason := f.Reason
	if reason == "" {
		reason = f.Code
	}
	if v == V11 {
		// SOAP 1.1 has no subcodes: the code is env:Client or env:Server
		// and the ONVIF subcodes lead the faultstring, so clients that
		// look for "NotAuthorized" in the text still find it.
		code := "Server"
		switch f.Code {
		case CodeSender:
			code = "Client"
		case CodeVersionMismatch, CodeMustUnderstand:
			code = f.Code
		}
		el.CreateElement("faultcode").SetText(EnvPrefix + ":" + code)
		if len(f.Subcodes) > 0 {
			q := make([]string, len(f.Subcodes))
			for i, sc := range f.Subcodes {
				q[i] = subcodeQName(sc)
			}
			reason = strings.Join(q, "/") + ": " + reason
		}
		el.CreateElement("faultstring").SetText(reason)
		if f.Detail != nil {
			el.CreateElement("detail").AddChild(f.Detail.Copy())
		}
		return el
	}
	code := el.CreateElement(EnvPrefix + ":Code")
	code.CreateElement(EnvPrefix + ":Value").SetText(EnvPrefix + ":" + f.Code)
	parent := code
	for _, s := range f.Subcodes {
		parent = parent.CreateElement(EnvPrefix + ":Subcode")
		parent.CreateElement(EnvPrefix + ":Value").SetText(subcodeQName(s))
	}
	text := el.CreateElement(EnvPrefix + ":Reason").CreateElement(EnvPrefix + ":Text")
	text.CreateAttr("xml:lang", "en")
	text.SetText(reason)
	if f.Detail != nil {
		el.CreateElement(EnvPrefix + ":Detail").AddChild(f.Detail.Copy())
	}
	return el
}

// subcodeQName qualifies a subcode with ter unless it carries a prefix.
func subcodeQName(s string) string {
	if strings.Contains(s, ":") {
		return s
	}
	return "ter:" + s
}
