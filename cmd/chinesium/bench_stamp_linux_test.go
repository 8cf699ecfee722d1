package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestStampedConn: a message read from a stampedConn is stamped with the
// moment the writer put it into the socket, within the write call, not
// with the moment it was read.
func TestStampedConn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.2.29:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	d := net.Dialer{Control: stampDial}
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	sc, err := newStampedConn(c)
	if err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("x"), 30_000)
	got := make([]byte, len(msg))
	for i := range 3 {
		before := time.Now()
		if _, err := w.Write(msg); err != nil {
			t.Fatal(err)
		}
		after := time.Now()
		// A reader that comes late: what it measures must not move.
		time.Sleep(2 * time.Millisecond)
		if _, err := io.ReadFull(sc, got); err != nil {
			t.Fatal(err)
		}
		if sc.written.Before(before.Round(0).Add(-time.Microsecond)) || sc.written.After(after.Round(0).Add(time.Microsecond)) {
			t.Errorf("message %d: stamped %v, written between %v and %v", i, sc.written, before, after)
		}
	}
	w.Close()
	if n, err := sc.Read(got); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("after the writer closed: %d bytes, %v; want io.EOF", n, err)
	}
}
