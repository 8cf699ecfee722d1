package soap

import (
	"errors"
	"maps"
	"strings"
	"sync"

	"github.com/chinesium/chinesium/httpauth"
)

// Operation names under which Stats counts requests that name no
// operation of the endpoint.
const (
	// OpInvalid counts requests that were not a readable SOAP message:
	// not a POST, a body too large or unreadable, malformed XML, an empty
	// Body.
	OpInvalid = "invalid"
	// OpUnknown counts requests for an element no service declares. Their
	// names are not kept: a client could make up any number of them.
	OpUnknown = "unknown"
)

// FaultNone is the Fault of RequestKey for a request answered without a
// fault.
const FaultNone = "none"

// RequestKey classifies an answered request.
type RequestKey struct {
	// Operation is the local name of a declared operation
	// ("GetProfiles"), or OpInvalid or OpUnknown.
	Operation string
	// Fault is the fault's code and subcodes joined with "/"
	// ("Sender/NotAuthorized", "Receiver/ActionNotSupported"), or
	// FaultNone.
	Fault string
}

// Stats are an Endpoint's counters since it was created.
type Stats struct {
	// Requests counts the answered requests by operation and fault.
	Requests map[RequestKey]uint64
	// AuthFailures counts the requests refused although they carried
	// credentials: a wrong user or password, a malformed, stale or replayed
	// UsernameToken, a user whose level does not allow the operation.
	// Requests without credentials are not failures (HTTP Digest clients
	// send one to get the challenge); they show in Requests as
	// Sender/NotAuthorized.
	AuthFailures uint64
	// Busy counts the requests answered with HTTP 503 because the
	// endpoint, or their client address, had too many requests in
	// progress (EndpointConfig.MaxConcurrent, MaxBufferedBytes). They are
	// not in Requests.
	Busy uint64
}

// counters are the Endpoint's Stats, under one mutex: a SOAP request is
// far more expensive than the lock.
type counters struct {
	mu           sync.Mutex
	requests     map[RequestKey]uint64
	authFailures uint64
	busy         uint64
}

func (c *counters) count(op string, f *Fault) {
	k := RequestKey{Operation: op, Fault: FaultNone}
	if f != nil {
		k.Fault = strings.Join(append([]string{f.Code}, f.Subcodes...), "/")
	}
	c.mu.Lock()
	if c.requests == nil {
		c.requests = map[RequestKey]uint64{}
	}
	c.requests[k]++
	c.mu.Unlock()
}

// countAuth counts a refused request: a failure when it carried
// credentials.
func (c *counters) countAuth(err error) {
	switch {
	case errors.Is(err, ErrNoCredentials), errors.Is(err, httpauth.ErrNoCredentials), errors.Is(err, httpauth.ErrStaleNonce):
		return // no credentials, or a digest client renewing its nonce
	}
	c.mu.Lock()
	c.authFailures++
	c.mu.Unlock()
}

// countBusy counts a request refused for the limits on requests in
// progress.
func (c *counters) countBusy() {
	c.mu.Lock()
	c.busy++
	c.mu.Unlock()
}

// Stats returns a snapshot of the counters. It may be called from any
// goroutine.
func (e *Endpoint) Stats() Stats {
	c := &e.counters
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Requests: maps.Clone(c.requests), AuthFailures: c.authFailures, Busy: c.busy}
}
