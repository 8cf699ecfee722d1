package rtsp

import (
	"io"
	"net"
	"runtime"
	"testing"
	"time"
)

// TestIdleConnectionMemory: a connection that has only exchanged a request
// (anyone can open one, no credentials needed) costs the server little
// memory, so a crowd of them cannot exhaust it. It runs alone (not
// parallel) so that other tests' allocations do not blur the measure.
func TestIdleConnectionMemory(t *testing.T) {
	const n = 200
	addr := runEmptyCam(t, &Server{MaxConnsPerAddr: n}) // all from one address
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	buf := make([]byte, 512)
	for range n {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		// One request and its answer: the connection is set up on the
		// server and waiting for the next.
		if _, err := io.WriteString(nc, "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := nc.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	per := (int64(heap()) - int64(before)) / n
	t.Logf("%d bytes per idle connection", per)
	if per > 24<<10 {
		t.Errorf("an idle connection holds %d KiB", per>>10)
	}
}
