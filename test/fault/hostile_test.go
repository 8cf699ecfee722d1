package fault

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chinesium/chinesium/bridge"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/internal/testutil/soaptest"
	"github.com/chinesium/chinesium/rtsp"
)

const hostileHost = "127.0.34.1"

// TestHostileClientsOthersServed: while 1000 connections ask for streams
// and never read, and other clients send oversized, deeply nested and
// entity-laden SOAP, replay a WS-Security token and send malformed RTSP,
// the bridge keeps serving a viewer and a well-behaved ONVIF client, its
// memory stays bounded, and once the attackers are gone everything they
// held is released.
func TestHostileClientsOthersServed(t *testing.T) {
	const (
		silent     = 1000     // connections that never read
		heapBound  = 96 << 20 // growth of the live heap allowed during the attack
		attackTime = 8 * time.Second
	)
	ip := netip.MustParseAddr("127.0.34.100")
	cam := startCamera(t, fakecam.Config{IP: ip, FPS: 15, Logger: testutil.Logger(t)}, false)
	c := startBridge(t, netip.MustParseAddr(hostileHost),
		[]bridge.CameraConfig{{IP: ip, HTTPPort: bridge.AnyPort, NoH264: true}}, nil)[0]
	waitFor(t, 30*time.Second, "no frame", func() bool { return c.Video.Latest() != nil })
	v := watch(t, c.MJPEGURL(hostileHost), false)
	waitFor(t, 30*time.Second, "the viewer got no frame", func() bool { fs, _ := v.snapshot(); return len(fs) > 0 })
	base := settle(t, nil, time.Minute)
	t.Logf("start: %v", base)

	ctx, cancel := context.WithTimeout(context.Background(), attackTime)
	defer cancel()
	var peak atomic.Uint64
	var wg sync.WaitGroup
	wg.Go(func() { // the live heap (as of the last GC), sampled through the attack
		live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for ctx.Err() == nil {
			metrics.Read(live)
			if v := live[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	// 1000 connections that ask for a stream and never read: half MJPEG,
	// half RTSP PLAY over TCP.
	httpAddr := net.JoinHostPort(hostileHost, fmt.Sprint(c.HTTPPort()))
	jpegURL := c.RTSPURL(hostileHost, rtsp.StreamJPEG)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	var connMu sync.Mutex
	var conns []net.Conn
	var opened atomic.Int64
	for i := range silent {
		wg.Go(func() {
			var nc net.Conn
			var err error
			if i%2 == 0 {
				nc, err = attacker.Dial("tcp4", httpAddr)
				if err == nil {
					_, err = fmt.Fprintf(nc, "GET /stream.mjpeg HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\n\r\n", httpAddr, basic)
				}
			} else {
				nc, err = playNeverRead(jpegURL, basic)
			}
			if err != nil {
				if nc != nil {
					nc.Close()
				}
				return // refused or cut off: the bridge's choice
			}
			opened.Add(1)
			connMu.Lock()
			conns = append(conns, nc)
			connMu.Unlock()
		})
	}

	// SOAP that must be refused without answering it.
	devURL := c.DeviceServiceURL(hostileHost)
	deep := strings.Repeat("<a>", 100000) + strings.Repeat("</a>", 100000)
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>` +
		`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><tds:GetDeviceInformation xmlns:tds="http://www.onvif.org/ver10/device/wsdl">&lol3;</tds:GetDeviceInformation></s:Body></s:Envelope>`
	xxe := `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
		`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><x>&xxe;</x></s:Body></s:Envelope>`
	bombs := map[string]string{
		"oversized":     soaptest.Envelope(user, password, "<tds:GetDeviceInformation>"+strings.Repeat("x", 8<<20)+"</tds:GetDeviceInformation>"),
		"deep":          soaptest.Envelope(user, password, "<tds:GetDeviceInformation>"+deep+"</tds:GetDeviceInformation>"),
		"entities":      laughs,
		"external file": xxe,
	}
	var bombErr sync.Map
	var bombsSent atomic.Int64
	for name, body := range bombs {
		wg.Go(func() {
			for ctx.Err() == nil {
				status, resp, err := post(devURL, body)
				if err == nil && (status == http.StatusOK || strings.Contains(resp, "root:")) {
					bombErr.Store(name, fmt.Sprintf("HTTP %d: %.200s", status, resp))
				}
				bombsSent.Add(1)
			}
		})
	}

	// A sniffed WS-Security token replayed (from an address the attack
	// has not filled): refused.
	replayed := soaptest.Envelope(user, password, `<tds:GetDeviceInformation/>`)
	if status, resp, err := postWith(httpClient, devURL, replayed); err != nil || status != http.StatusOK {
		t.Errorf("the first use of a token: HTTP %d, %v: %.300s", status, err, resp)
	}
	if status, _, err := postWith(httpClient, devURL, replayed); err != nil || status == http.StatusOK {
		t.Errorf("a replayed token: HTTP %d, %v", status, err)
	}

	// Malformed RTSP, each on its own connection, over and over.
	malformed := []string{
		"\x00\x01\x02garbage\r\n\r\n",
		"DESCRIBE " + jpegURL + " RTSP/1.0\r\nCSeq: " + strings.Repeat("9", 1<<20) + "\r\n\r\n",
		"DESCRIBE " + jpegURL + " RTSP/1.0\r\nCSeq: 1\r\nContent-Length: -5\r\n\r\n",
		"ANNOUNCE " + jpegURL + " RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 999999999\r\n\r\nv=0\r\n",
		"$\x00\xff\xff" + strings.Repeat("\x80", 100),
		strings.Repeat("OPTIONS * RTSP/1.0\r\n", 10000),
		"SETUP " + jpegURL + "/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nAuthorization: " + basic + "\r\nTransport: RTP/AVP/TCP;interleaved=999999-1000000\r\n\r\n",
		"PLAY " + jpegURL + " RTSP/1.0\r\nCSeq: 1\r\nSession: ../../../../etc/passwd\r\n\r\n",
	}
	var rtspSent atomic.Int64
	wg.Go(func() {
		u, _ := url.Parse(jpegURL)
		for ctx.Err() == nil {
			for _, m := range malformed {
				nc, err := attacker.Dial("tcp4", u.Host)
				if err != nil {
					continue
				}
				_ = nc.SetDeadline(time.Now().Add(time.Second))
				_, _ = io.WriteString(nc, m)
				_, _ = io.Copy(io.Discard, io.LimitReader(nc, 1<<16))
				nc.Close()
				rtspSent.Add(1)
			}
		}
	})

	// The well-behaved clients, through the whole attack.
	var served atomic.Int64
	var failed failures
	framesBefore := len(firstOf(v.snapshot()))
	sentBefore := cam.sent.lastSeq()
	wellBehaved := []client{
		{"snapshot", snapshotClientOn(hostileHost)},
		{"soap", soapClientOn(hostileHost)},
		{"mjpeg", mjpegClientOn(hostileHost)},
	}
	wg.Go(func() {
		for ctx.Err() == nil {
			for _, cl := range wellBehaved {
				cctx, ccancel := context.WithTimeout(context.Background(), 20*time.Second)
				if err := cl.run(cctx, c); err != nil {
					failed.add(t, cl.name, ", a well-behaved client, during the attack", err)
				} else {
					served.Add(1)
				}
				ccancel()
			}
		}
	})
	wg.Wait()
	framesDuring := len(firstOf(v.snapshot())) - framesBefore
	sentDuring := int(cam.sent.lastSeq() - sentBefore)

	connMu.Lock()
	for _, nc := range conns {
		nc.Close()
	}
	connMu.Unlock()
	bombErr.Range(func(k, v any) bool {
		t.Errorf("SOAP %s answered: %v", k, v)
		return true
	})
	growth := int64(peak.Load()) - int64(base.heap)
	t.Logf("%d silent connections held, %d SOAP bombs and %d malformed RTSP requests sent; heap grew by %.1f MiB at most",
		opened.Load(), bombsSent.Load(), rtspSent.Load(), float64(growth)/(1<<20))
	t.Logf("well-behaved clients: %d requests served, %d failed (%v); the viewer got %d of the %d frames sent during the attack",
		served.Load(), failed.total(), &failed, framesDuring, sentDuring)
	if growth > heapBound {
		t.Errorf("the live heap grew by %d MiB during the attack, more than %d MiB", growth>>20, heapBound>>20)
	}
	if _, err := v.snapshot(); err != nil {
		t.Errorf("the viewer was cut off: %v", err)
	}
	if framesDuring < sentDuring/2 {
		t.Errorf("the viewer got %d of %d frames during the attack", framesDuring, sentDuring)
	}
	final := settle(t, &base, time.Minute)
	t.Logf("end: %v", final)
}

// firstOf drops the error of viewer.snapshot.
func firstOf(fs []delivered, _ error) []delivered { return fs }

// attacker dials from an address of its own, 127.0.34.200: the bridge
// bounds connections per client address, and the well-behaved clients
// dial from the host's default loopback address, 127.0.0.1.
var attacker = &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 34, 200)}}

// attackerHTTP is an HTTP client that dials from the attacker's address.
var attackerHTTP = &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DialContext: attacker.DialContext}}

// post sends a SOAP body to url from the attacker's address and returns
// the status and the answer.
func post(url, body string) (int, string, error) {
	return postWith(attackerHTTP, url, body)
}

// postWith is post through the client c.
func postWith(c *http.Client, url, body string) (int, string, error) {
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/soap+xml; charset=utf-8")
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b), nil
}

// playNeverRead opens rawURL with RTSP over TCP up to PLAY, reading only
// the answers, and returns the connection, from which nobody reads again.
func playNeverRead(rawURL, basic string) (net.Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	nc, err := attacker.Dial("tcp4", u.Host)
	if err != nil {
		return nil, err
	}
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(nc)
	session := ""
	for i, req := range []string{
		"SETUP " + rawURL + "/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nAuthorization: " + basic + "\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n",
		"PLAY " + rawURL + " RTSP/1.0\r\nCSeq: 2\r\nAuthorization: " + basic + "\r\nSession: %s\r\n\r\n",
	} {
		if i == 1 {
			req = fmt.Sprintf(req, session)
		}
		if _, err := io.WriteString(nc, req); err != nil {
			return nc, err
		}
		line, err := br.ReadString('\n')
		if err != nil {
			return nc, err
		}
		if !strings.HasPrefix(line, "RTSP/1.0 200") {
			return nc, fmt.Errorf("answer %q", line)
		}
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return nc, err
			}
			if l == "\r\n" {
				break
			}
			if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "Session") {
				session, _, _ = strings.Cut(strings.TrimSpace(v), ";")
			}
		}
	}
	return nc, nil
}
