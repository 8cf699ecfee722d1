package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/chinesium/chinesium/bridge"
	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil/soaptest"
	"github.com/chinesium/chinesium/onvif"
	"github.com/chinesium/chinesium/onvif/discovery"
	"github.com/chinesium/chinesium/soap"
)

var (
	soapCam      = netip.MustParseAddr("127.0.29.14")
	discoveryCam = netip.MustParseAddr("127.0.29.15")
	// soapClients are the source addresses of the SOAP clients: one
	// connection each, so that no client meets the limit on requests in
	// progress per client.
	soapClients  = []netip.Addr{netip.MustParseAddr("127.0.29.20"), netip.MustParseAddr("127.0.29.21"), netip.MustParseAddr("127.0.29.22"), netip.MustParseAddr("127.0.29.23")}
	probeClient  = netip.MustParseAddr("127.0.29.30")
	receiveCam   = netip.MustParseAddr("127.0.29.40")
	receiveBare  = netip.MustParseAddr("127.0.29.41")
	receiveLocal = netip.MustParseAddr("127.0.29.1")
)

// soapUsers is the number of users the SOAP clients take turns with: each
// user's nonces are remembered for the token window, up to
// soap.DefaultNoncesPerUser of them.
const soapUsers = 32

const getStreamURIBody = `<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport>` +
	`<tt:Protocol>TCP</tt:Protocol></tt:Transport></trt:StreamSetup><trt:ProfileToken>jpeg</trt:ProfileToken></trt:GetStreamUri>`

// soap: GetStreamUri with WS-Security, requests/s, beside a trivial
// net/http handler fed the same requests by the same clients.
func (b *bench) soap(ctx context.Context) error {
	var users []onvif.User
	for i := range soapUsers {
		users = append(users, onvif.User{Name: fmt.Sprintf("bench%d", i), Password: "bench-secret", Level: onvif.LevelAdministrator})
	}
	ib, err := b.startBridge(ctx, []fakecam.Config{{IP: soapCam}}, func(c *bridge.Config) { c.Users = users })
	if err != nil {
		return err
	}
	defer ib.close()
	soapURL := ib.br.Cameras()[0].DeviceServiceURL(benchBind.String())

	ln, err := net.Listen("tcp", netip.AddrPortFrom(benchBind, 0).String())
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	trivial := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte("ok"))
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = trivial.Serve(ln) }()
	defer trivial.Close()
	trivialURL := "http://" + ln.Addr().String() + "/onvif/device_service"

	// Each user's nonces fill its quota in the token window: stop before.
	limit := int64(soapUsers * (soap.DefaultNoncesPerUser - 100))
	run := func(u string, check bool) (float64, error) {
		var n atomic.Int64
		var firstErr atomic.Value
		stop := time.Now().Add(b.window)
		var wg sync.WaitGroup
		start := time.Now()
		for w, src := range soapClients {
			cl := &http.Client{Transport: &http.Transport{
				DialContext:         (&net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, 0))}).DialContext,
				MaxIdleConnsPerHost: 1,
			}, Timeout: 10 * time.Second}
			wg.Go(func() {
				defer cl.CloseIdleConnections()
				for i := w; time.Now().Before(stop) && n.Load() < limit && ctx.Err() == nil; i += len(soapClients) {
					body := soaptest.Envelope(fmt.Sprintf("bench%d", i%soapUsers), "bench-secret", getStreamURIBody)
					resp, perr := cl.Post(u, "application/soap+xml; charset=utf-8", strings.NewReader(body))
					if perr != nil {
						firstErr.CompareAndSwap(nil, perr)
						return
					}
					out, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK || (check && !bytes.Contains(out, []byte("rtsp://"))) {
						firstErr.CompareAndSwap(nil, fmt.Errorf("bench: HTTP %d: %.300s", resp.StatusCode, out))
						return
					}
					n.Add(1)
				}
			})
		}
		wg.Wait()
		if ferr, _ := firstErr.Load().(error); ferr != nil {
			return 0, ferr
		}
		return float64(n.Load()) / time.Since(start).Seconds(), nil
	}
	soapRate, err := run(soapURL, true)
	if err != nil {
		return err
	}
	base, err := run(trivialURL, false)
	if err != nil {
		return err
	}
	b.add(figure{Section: "soap", Name: fmt.Sprintf("GetStreamUri with WS-Security, %d clients", len(soapClients)), Unit: "req/s",
		Value: soapRate, Baseline: base, BaselineName: "trivial net/http handler", Goal: "≥ 0.5× and ≥ 10000 req/s"})
	return nil
}

// probe is a WS-Discovery Probe for ONVIF devices (dn:NetworkVideoTransmitter).
const probe = `<?xml version="1.0" encoding="UTF-8"?>` +
	`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ` +
	`xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">` +
	`<s:Header><a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>` +
	`<a:MessageID>urn:uuid:%s</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>` +
	`<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header>` +
	`<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>`

// discovery: Probe → ProbeMatches, unicast on loopback with the random
// delay off, beside a bare UDP echo of the same datagram.
func (b *bench) discovery(ctx context.Context) error {
	ib, err := b.startBridge(ctx, []fakecam.Config{{IP: discoveryCam}}, func(c *bridge.Config) {
		c.Discovery = &discovery.Config{
			Listen: benchBind, Group: netip.AddrPortFrom(discovery.DefaultGroup.Addr(), 0),
			UnicastOnly: true, MaxDelay: -1, RatePerSource: 1e6, MaxAnswerRate: 1e6,
		}
	})
	if err != nil {
		return err
	}
	defer ib.close()
	responder := netip.AddrPortFrom(benchBind, uint16(ib.br.DiscoveryPort()))

	echo, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(benchBind, 0)))
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer echo.Close()
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, rerr := echo.ReadFromUDPAddrPort(buf)
			if rerr != nil {
				return
			}
			_, _ = echo.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	cl, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(probeClient, 0)))
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer cl.Close()
	n := 1000
	if b.quick {
		n = 50
	}
	buf := make([]byte, 65536)
	rtt := func(to netip.AddrPort, check bool) ([]time.Duration, error) {
		var ds []time.Duration
		for range n {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			id := uuid.NewString()
			msg := fmt.Appendf(nil, probe, id)
			t0 := time.Now()
			if _, werr := cl.WriteToUDPAddrPort(msg, to); werr != nil {
				return nil, fmt.Errorf("bench: %w", werr)
			}
			for {
				_ = cl.SetReadDeadline(time.Now().Add(5 * time.Second))
				k, _, rerr := cl.ReadFromUDPAddrPort(buf)
				if rerr != nil {
					return nil, fmt.Errorf("bench: no answer to a probe: %w", rerr)
				}
				if !bytes.Contains(buf[:k], []byte(id)) {
					continue // a late answer to an earlier probe
				}
				if check {
					m, perr := discovery.Parse(buf[:k])
					if perr != nil {
						return nil, fmt.Errorf("bench: unparseable answer to a probe: %w\n%.300s", perr, buf[:k])
					}
					if m.Action != discovery.ActionProbeMatches || len(m.Matches) == 0 {
						return nil, fmt.Errorf("bench: answer to a probe is no ProbeMatches:\n%.300s", buf[:k])
					}
				}
				ds = append(ds, time.Since(t0))
				break
			}
		}
		return ds, nil
	}
	got, err := rtt(responder, true)
	if err != nil {
		return err
	}
	base, err := rtt(netip.AddrPortFrom(benchBind, uint16(echo.LocalAddr().(*net.UDPAddr).Port)), false)
	if err != nil {
		return err
	}
	for _, p := range []struct {
		name string
		q    float64
	}{{"p50", 0.5}, {"p99", 0.99}} {
		b.add(figure{Section: "discovery", Name: "Probe → ProbeMatches (unicast): " + p.name, Unit: "ms",
			Value: msOf(quantile(got, p.q)), Baseline: msOf(quantile(base, p.q)), BaselineName: "bare UDP echo"})
	}
	b.note("discovery: probes go unicast to the responder on loopback; multicast between two processes " +
		"on one host needs network namespaces, which the bench does not create (the netns tests cover multicast)")
	return nil
}

// receive: CPU per frame of a camera session (socket read, source check,
// decode, reassembly, frame delivery) beside a bare UDP
// receive-and-discard loop, each fed by a fake camera process of its own
// sending the same packets (same pictures, same seed) at 100 frames/s.
func (b *bench) receive(ctx context.Context) error {
	const fps = 100
	args := []string{"-name", "BENCH-RX", "-quiet", "-seed", "7"}
	sessCam, _, err := b.fakecams(ctx, receiveCam, 1, fps, args...)
	if err != nil {
		return err
	}
	defer stopAll(sessCam)
	bareCam, _, err := b.fakecams(ctx, receiveBare, 1, fps, args...)
	if err != nil {
		return err
	}
	defer stopAll(bareCam)

	// The session.
	var frames atomic.Int64
	first := make(chan struct{})
	var once sync.Once
	s, err := camsession.New(camsession.Config{Camera: receiveCam, LocalIP: receiveLocal, LocalPort: -1,
		OnFrame: func(*camsession.Frame) {
			frames.Add(1)
			once.Do(func() { close(first) })
		}})
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = s.Run(sctx); close(done) }()
	defer func() { cancel(); <-done }()
	select {
	case <-first:
	case <-time.After(20 * time.Second):
		return errors.New("bench: no frame from the fake camera")
	}
	time.Sleep(500 * time.Millisecond)
	st0, cpu0, t0 := s.Stats(), selfCPU(), time.Now()
	time.Sleep(b.window)
	st1, cpu1, wall := s.Stats(), selfCPU(), time.Since(t0)
	cancel()
	<-done
	stopAll(sessCam)
	packets := st1.Packets - st0.Packets
	complete := st1.FramesComplete - st0.FramesComplete
	if packets == 0 || complete == 0 {
		return errors.New("bench: the session received nothing")
	}
	perFrame := float64(packets) / float64(complete)
	sessPerPacket := float64(cpu1-cpu0) / float64(packets)

	// The bare loop: it logs in as the session does, then only reads.
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(receiveLocal, 0)))
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer conn.Close()
	_ = conn.SetReadBuffer(4 << 20)
	buf := make([]byte, camsession.MaxDatagram)
	if _, err := conn.WriteToUDPAddrPort(camsession.AppendPortRequest(nil), netip.AddrPortFrom(receiveBare, camsession.ControlPort)); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	var dataPort uint16
	for dataPort == 0 {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return fmt.Errorf("bench: no port response: %w", err)
		}
		if r, err := camsession.ParsePortResponse(buf[:n]); err == nil {
			dataPort = r.DataPort
		}
	}
	data := netip.AddrPortFrom(receiveBare, dataPort)
	local := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	for _, m := range [][]byte{camsession.AppendLogin(nil, camsession.Login{Addr: local}), camsession.AppendStreamRequest(nil, camsession.MaskVideo)} {
		if _, err := conn.WriteToUDPAddrPort(m, data); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
	}
	var count atomic.Int64
	bareDone := make(chan struct{})
	_ = conn.SetReadDeadline(time.Time{})
	go func() {
		defer close(bareDone)
		for {
			if _, _, err := conn.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
			count.Add(1)
		}
	}()
	for count.Load() < int64(10*perFrame) {
		select {
		case <-bareDone:
			return errors.New("bench: the bare loop's socket failed")
		case <-time.After(10 * time.Millisecond):
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	time.Sleep(500 * time.Millisecond)
	n0, bcpu0, bt0 := count.Load(), selfCPU(), time.Now()
	time.Sleep(b.window)
	n1, bcpu1, bwall := count.Load(), selfCPU(), time.Since(bt0)
	conn.Close()
	<-bareDone
	barePackets := n1 - n0
	if barePackets == 0 {
		return errors.New("bench: the bare loop received nothing")
	}
	barePerPacket := float64(bcpu1-bcpu0) / float64(barePackets)
	us := func(ns float64) float64 { return ns * perFrame / 1e3 }
	b.add(figure{Section: "receive", Name: fmt.Sprintf("CPU per frame (%.0f packets, %d fps)", perFrame, fps), Unit: "µs",
		Value: us(sessPerPacket), Baseline: us(barePerPacket), BaselineName: "bare UDP receive-and-discard", Goal: "≤ 1.5×"})
	b.add(figure{Section: "receive", Name: "packets received per second", Unit: "pkt/s",
		Value: float64(packets) / wall.Seconds(), Baseline: float64(barePackets) / bwall.Seconds(), BaselineName: "bare UDP receive-and-discard"})
	return nil
}
