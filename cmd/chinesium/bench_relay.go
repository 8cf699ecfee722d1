package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"
)

// relayBind is the address of the bare relay, the latency section's
// baseline.
var relayBind = netip.MustParseAddr("127.0.29.4")

// relayUsage is the help of -relay (see benchRelay).
const relayUsage = "internal: run as the bare relay of the latency section, writing `size`-byte messages"

// benchRelay is the latency section's baseline, a process as the bridge
// is ("bench -relay SIZE"): it accepts TCP connections and, for every UDP
// datagram it receives (8 bytes, a sequence number), writes a SIZE-byte
// message starting with that number to every connection, one after the
// other from one goroutine: no parsing, no copying, no fan-out machinery.
// It prints "relay TCPPORT UDPPORT" and runs until its stdin closes.
func benchRelay(ctx context.Context, e *env, spec string) error {
	size, err := strconv.Atoi(spec)
	if err != nil || size < 8 || size > 1<<20 {
		return usagef("-relay: bad message size %q", spec)
	}
	ln, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(netip.AddrPortFrom(relayBind, 0)))
	if err != nil {
		return fmt.Errorf("bench relay: %w", err)
	}
	defer ln.Close()
	pc, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(relayBind, 0)))
	if err != nil {
		return fmt.Errorf("bench relay: %w", err)
	}
	defer pc.Close()
	var mu sync.Mutex
	var conns []net.Conn
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	go func() {
		<-ctx.Done()
		pc.Close()
		ln.Close()
	}()
	fmt.Fprintf(e.stdout, "relay %d %d\n", ln.Addr().(*net.TCPAddr).Port, pc.LocalAddr().(*net.UDPAddr).Port)
	msg := make([]byte, size)
	for i := range msg {
		msg[i] = 0x55
	}
	var in [64]byte
	for {
		n, _, err := pc.ReadFromUDPAddrPort(in[:])
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("bench relay: %w", err)
		}
		if n < 8 {
			continue
		}
		copy(msg, in[:8])
		mu.Lock()
		for _, c := range conns {
			_, _ = c.Write(msg)
		}
		mu.Unlock()
	}
}

// startRelay runs the bare relay and connects n readers to it. Each
// reader reports the sequence number of every message at its arrival.
func (b *bench) startRelay(ctx context.Context, n, size int) (*child, *net.UDPConn, netip.AddrPort, []*reader, error) {
	c, err := b.startChild("bare relay", "bench", "-relay", strconv.Itoa(size))
	if err != nil {
		return nil, nil, netip.AddrPort{}, nil, err
	}
	fail := func(err error) (*child, *net.UDPConn, netip.AddrPort, []*reader, error) {
		c.stop()
		return nil, nil, netip.AddrPort{}, nil, err
	}
	var tcpPort, udpPort uint16
	if !c.stdout.Scan() {
		return fail(fmt.Errorf("bench: the bare relay printed no ports\n%s", tail(c.stderr.String())))
	}
	if _, serr := fmt.Sscanf(c.stdout.Text(), "relay %d %d", &tcpPort, &udpPort); serr != nil {
		return fail(fmt.Errorf("bench: the bare relay printed %q: %w", c.stdout.Text(), serr))
	}
	var readers []*reader
	for range n {
		r, derr := dialRelay(netip.AddrPortFrom(relayBind, tcpPort), size)
		if derr != nil {
			for _, r := range readers {
				r.close()
			}
			return fail(derr)
		}
		readers = append(readers, r)
	}
	send, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(relayBind, 0)))
	if err != nil {
		for _, r := range readers {
			r.close()
		}
		return fail(fmt.Errorf("bench: %w", err))
	}
	return c, send, netip.AddrPortFrom(relayBind, udpPort), readers, nil
}

// dialRelay opens one reader of the bare relay.
func dialRelay(addr netip.AddrPort, size int) (*reader, error) {
	d := net.Dialer{LocalAddr: benchSource(), Control: stampDial}
	c, err := d.Dial("tcp", addr.String())
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	sc, err := newStampedConn(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	r := &reader{conn: c, first: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		br := bufio.NewReaderSize(sc, 64<<10)
		buf := make([]byte, size)
		for {
			if _, err := io.ReadFull(br, buf); err != nil {
				return
			}
			r.add(arrival{binary.BigEndian.Uint64(buf), time.Now(), sc.written})
		}
	}()
	return r, nil
}
