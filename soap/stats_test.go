package soap

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestStats: every answered request is counted once, under the operation
// it named (made-up names all under OpUnknown, unreadable requests under
// OpInvalid) and the fault the client received; requests with wrong
// credentials are auth failures, requests without credentials are not.
func TestStats(t *testing.T) {
	e := newEndpoint(t, testService(newSecurity()))
	hs := httptest.NewServer(e)
	t.Cleanup(hs.Close)
	srv := hs.URL + "/onvif/device_service"
	want := map[RequestKey]uint64{}
	var failures uint64
	// send posts body and counts what the client got under op.
	send := func(op, body string, authFailure bool) {
		t.Helper()
		r := post(t, srv, "application/soap+xml", body)
		k := RequestKey{Operation: op, Fault: FaultNone}
		if r.status != http.StatusOK {
			codes := r.faultCodes(t)
			codes = strings.ReplaceAll(strings.ReplaceAll(codes, "env:", ""), "ter:", "")
			k.Fault = codes
		}
		want[k]++
		if authFailure {
			failures++
		}
	}
	now := time.Now()
	send("GetScopes", envelope(V12, token("admin", "s3cret", now), `<tds:GetScopes/>`), false)
	send("GetScopes", envelope(V12, token("admin", "s3cret", now), `<tds:GetScopes/>`), false)
	send("GetScopes", envelope(V12, "", `<tds:GetScopes/>`), false)                                // no credentials
	send("GetScopes", envelope(V12, token("admin", "wrong", now), `<tds:GetScopes/>`), true)       // wrong password
	send("GetScopes", envelope(V12, token("nobody", "s3cret", now), `<tds:GetScopes/>`), true)     // unknown user
	send("SystemReboot", envelope(V12, token("viewer", "view", now), `<tds:SystemReboot/>`), true) // level too low
	send("GetSystemDateAndTime", envelope(V12, "", `<tds:GetSystemDateAndTime/>`), false)          // pre-auth
	send("GetNTP", envelope(V12, "", `<tds:GetNTP/>`), false)                                      // a fault
	for _, name := range []string{"MadeUp1", "MadeUp2", "MadeUp3"} {
		send(OpUnknown, envelope(V12, token("admin", "s3cret", now), `<tds:`+name+`/>`), false)
	}
	send(OpInvalid, `<s:Envelope`, false)
	send(OpInvalid, envelope(V12, "", ``), false) // empty Body
	req, _ := http.NewRequest(http.MethodGet, srv, nil)
	r := do(t, req)
	want[RequestKey{Operation: OpInvalid, Fault: strings.ReplaceAll(r.faultCodes(t), "env:", "")}]++

	st := e.Stats()
	if !maps.Equal(st.Requests, want) {
		t.Errorf("Requests:\n got %v\nwant %v", st.Requests, want)
	}
	if st.AuthFailures != failures {
		t.Errorf("AuthFailures = %d, want %d", st.AuthFailures, failures)
	}
	if n := st.Requests[RequestKey{"GetScopes", FaultNone}]; n != 2 {
		t.Errorf("GetScopes answered: %d, want 2", n)
	}
}
