package testutil

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
)

// ReplayHTTP sends raw, a whole HTTP request exactly as a client writes
// it (request line, headers in their order, body), on a new connection to
// addr and returns the answer, its body read whole (and readable again
// from resp.Body). A connection or an answer that fails fails the test.
func ReplayHTTP(t testing.TB, addr, raw string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err = io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, b
}
