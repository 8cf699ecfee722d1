package soap

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// BenchmarkServeHTTP measures one authenticated request through the SOAP
// layer in process (parse, WS-Security digest and replay check, dispatch,
// serialization), beside the cost of the same request's bare byte copy
// through a trivial handler as the baseline; it reports the ratio.
func BenchmarkServeHTTP(b *testing.B) {
	cfg := testService(nil)
	var svc *Endpoint
	reqs := make([]string, 1024)
	for i := range reqs {
		reqs[i] = envelope(V12, token("admin", "s3cret", time.Now()), bodyScopes)
	}
	trivial := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 4096)
		for {
			if _, err := r.Body.Read(buf); err != nil {
				break
			}
		}
		_, _ = w.Write([]byte("ok"))
	})
	run := func(soapReq bool, n int) time.Duration {
		start := time.Now()
		for i := range n {
			var h http.Handler = trivial
			if soapReq {
				// A fresh Security per 1024 requests keeps every nonce new.
				if i%len(reqs) == 0 {
					cfg.Security = newSecurity()
					svc = newEndpoint(b, cfg)
				}
				h = svc
			}
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/onvif/device_service", strings.NewReader(reqs[i%len(reqs)]))
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
		return time.Since(start)
	}
	b.ReportAllocs()
	b.ResetTimer()
	soapTime := run(true, b.N)
	b.StopTimer()
	base := run(false, b.N)
	b.ReportMetric(float64(b.N)/soapTime.Seconds(), "req/s")
	b.ReportMetric(soapTime.Seconds()/base.Seconds(), "x-baseline-time")
}
