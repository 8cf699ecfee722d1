package sockopt

import (
	"context"
	"net"
	"testing"
)

// TestReuseAddr: two UDP sockets bind the same address and port only with
// ReuseAddr; without it the second bind fails.
func TestReuseAddr(t *testing.T) {
	plain := net.ListenConfig{}
	reuse := net.ListenConfig{Control: ReuseAddr}
	a, err := reuse.ListenPacket(context.Background(), "udp4", "127.0.8.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	addr := a.LocalAddr().String()
	if c, perr := plain.ListenPacket(context.Background(), "udp4", addr); perr == nil {
		c.Close()
		t.Fatalf("second bind of %s without SO_REUSEADDR succeeded", addr)
	}
	b, err := reuse.ListenPacket(context.Background(), "udp4", addr)
	if err != nil {
		t.Fatalf("second bind of %s with ReuseAddr: %v", addr, err)
	}
	b.Close()
}
