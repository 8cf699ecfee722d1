package xmltree

import (
	"os"
	"testing"
	"time"
)

// BenchmarkParse parses a GetStreamUri request with a WS-Security
// UsernameToken, as ONVIF clients send it, beside etree's own reader on the
// same bytes in the same run; it reports how many times faster Parse is and
// etree's allocations per request.
func BenchmarkParse(b *testing.B) {
	req, err := os.ReadFile("testdata/getstreamuri-wsse.xml")
	if err != nil {
		b.Fatal(err)
	}
	ours := func() {
		if _, err := Parse(req, 0); err != nil {
			b.Fatal(err)
		}
	}
	theirs := func() {
		if _, err := etreeParse(req, 0); err != nil {
			b.Fatal(err)
		}
	}
	// The two take turns in rounds, so that a burst of other work on the
	// machine weighs on both alike.
	var fast, slow time.Duration
	b.SetBytes(int64(len(req)))
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(b.N-done, max(b.N/20, 100))
		start := time.Now()
		for range n {
			ours()
		}
		fast += time.Since(start)
		b.StopTimer()
		start = time.Now()
		for range n {
			theirs()
		}
		slow += time.Since(start)
		b.StartTimer()
		done += n
	}
	b.StopTimer()
	b.ReportMetric(slow.Seconds()/fast.Seconds(), "x-faster-than-etree")
	b.ReportMetric(testing.AllocsPerRun(100, theirs), "etree-allocs/op")
}
