package main

import (
	"bufio"
	"bytes"
	"crypto/md5" //nolint:gosec // RTSP Digest as live555 and most NVRs compute it
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The combined attack: everything an anonymous client on the LAN (and one
// low-privilege account) can do at once to keep an administrator out,
// while the administrator uses the bridge.

var soakLong = flag.Bool("soak.long", false, "run the long form of the fault and soak tests (a minute of attack instead of a few seconds)")

// attackEnv names what a test binary started as the attacker attacks:
// "ONVIF-URL HTTP-ADDR RTSP-ADDR ADMIN-ADDR RTSP-URL".
const attackEnv = "CHINESIUM_TEST_ATTACK"

// Shape of the attack.
const (
	attackSOAP      = 100  // anonymous clients posting hostile SOAP bodies, again and again
	attackIdle      = 2000 // idle connections held to each port
	attackAddrs     = 20   // client addresses the idle connections come from
	attackGrabTries = 100  // RTSP sessions the 'User' account tries to set up
)

// attackAddr is the n-th address of the attacker's idle connections.
func attackAddr(n int) string { return fmt.Sprintf("127.0.26.%d", 100+n%attackAddrs) }

// runAttack is the attacker process of TestAdminServedUnderAttack. It
// prints "grabbed N" once the 'User' account holds its RTSP sessions,
// "idle N" once N connections are open to each port, then "ready" once
// every SOAP client has had a hostile body answered and it has lowered
// its priority, and attacks until it is killed.
func runAttack(spec string) int {
	f := strings.Fields(spec)
	if len(f) != 5 {
		fmt.Fprintln(os.Stderr, "attack: bad spec", spec)
		return 2
	}
	onvifURL, httpAddr, rtspAddr, adminAddr, rtspURL := f[0], f[1], f[2], f[3], f[4]

	// One 'User' account takes all the RTSP sessions it can, one
	// interleaved connection each, and keeps them.
	grabbed := 0
	for range attackGrabTries {
		c, err := dialRTSP("127.0.26.3", rtspAddr, "viewer", "pw")
		if err != nil {
			continue
		}
		if _, err := c.setupAndPlay(rtspURL); err != nil {
			c.nc.Close()
			continue
		}
		grabbed++
		go func() { _, _ = io.Copy(io.Discard, c.br) }()
	}
	fmt.Println("grabbed", grabbed)

	// Idle connections to every port, from attackAddrs addresses; each
	// one the bridge closes is opened again.
	var open atomic.Int64
	var ready sync.WaitGroup
	n := attackIdle
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && int(lim.Cur) < 3*n+attackSOAP+500 {
		n = (int(lim.Cur) - attackSOAP - 500) / 3
		fmt.Fprintf(os.Stderr, "attack: file limit %d, %d idle connections per port\n", lim.Cur, n)
	}
	for _, addr := range []string{httpAddr, rtspAddr, adminAddr} {
		for i := range n {
			ready.Add(1)
			go func() {
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(attackAddr(i))}, Timeout: 5 * time.Second}
				first := true
				for {
					nc, err := d.Dial("tcp", addr)
					if first {
						ready.Done()
						first = false
					}
					if err != nil {
						time.Sleep(100 * time.Millisecond)
						continue
					}
					open.Add(1)
					_, _ = io.Copy(io.Discard, nc) // until the bridge closes it
					nc.Close()
					open.Add(-1)
					time.Sleep(50 * time.Millisecond)
				}
			}()
		}
	}
	ready.Wait()
	fmt.Println("idle", n)

	// Anonymous hostile SOAP bodies (unique attributes, half of them
	// prefixed), each client posting again as soon as it is answered.
	bodies := [][]byte{floodBody(1<<20-256, false), floodBody(1<<20-256, true)}
	var answered sync.WaitGroup
	answered.Add(attackSOAP)
	for i := range attackSOAP {
		go func() {
			c := clientFrom("127.0.26.2", 30*time.Second)
			for first := true; ; {
				// Whatever the answer (400, 503 or a closed
				// connection), the client posts again.
				postHostile(c, onvifURL, bodies[i%2])
				if first {
					answered.Done()
					first = false
				}
			}
		}()
	}
	answered.Wait()
	if err := lowestPriority(); err != nil {
		fmt.Fprintln(os.Stderr, "attack:", err)
		return 2
	}
	fmt.Println("ready")
	select {}
}

// rtspClient is an RTSP client that authenticates with Digest as live555
// does (MD5 over the request URL, no qop).
type rtspClient struct {
	nc           net.Conn
	br           *bufio.Reader
	cseq         int
	user, pass   string
	realm, nonce string
	session      string
}

func dialRTSP(from, addr, user, pass string) (*rtspClient, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &rtspClient{nc: nc, br: bufio.NewReader(nc), user: user, pass: pass}, nil
}

func md5Hex(s string) string {
	h := md5.Sum([]byte(s)) //nolint:gosec // RTSP Digest MD5
	return hex.EncodeToString(h[:])
}

var rtspChallenge = regexp.MustCompile(`(?i)^WWW-Authenticate:\s*Digest realm="([^"]+)",\s*nonce="([^"]+)"`)

// do sends a request, answering a 401 once with the challenge's nonce,
// and returns the status and the headers of the answer.
func (c *rtspClient) do(method, uri string, hdr ...string) (int, []string, error) {
	for retry := false; ; retry = true {
		c.cseq++
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s RTSP/1.0\r\nCSeq: %d\r\n", method, uri, c.cseq)
		if c.nonce != "" {
			ha1 := md5Hex(c.user + ":" + c.realm + ":" + c.pass)
			fmt.Fprintf(&b, "Authorization: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", response=\"%s\"\r\n",
				c.user, c.realm, c.nonce, uri, md5Hex(ha1+":"+c.nonce+":"+md5Hex(method+":"+uri)))
		}
		if c.session != "" {
			fmt.Fprintf(&b, "Session: %s\r\n", c.session)
		}
		for _, h := range hdr {
			b.WriteString(h + "\r\n")
		}
		b.WriteString("\r\n")
		_ = c.nc.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c.nc, b.String()); err != nil {
			return 0, nil, err
		}
		status, lines, err := c.response()
		if err != nil || status != 401 || retry {
			return status, lines, err
		}
		for _, l := range lines {
			if m := rtspChallenge.FindStringSubmatch(l); m != nil {
				c.realm, c.nonce = m[1], m[2]
			}
		}
	}
}

// response reads a response's status and headers and skips its body.
func (c *rtspClient) response() (int, []string, error) {
	var lines []string
	for {
		l, err := c.br.ReadString('\n')
		if err != nil {
			return 0, nil, err
		}
		l = strings.TrimRight(l, "\r\n")
		if l == "" {
			break
		}
		lines = append(lines, l)
	}
	f := strings.Fields(lines[0])
	if len(f) < 2 {
		return 0, nil, fmt.Errorf("bad status line %q", lines[0])
	}
	status, _ := strconv.Atoi(f[1])
	for _, l := range lines[1:] {
		if v, ok := strings.CutPrefix(strings.ToLower(l), "content-length:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			if _, err := io.CopyN(io.Discard, c.br, int64(n)); err != nil {
				return 0, nil, err
			}
		}
		if v, ok := strings.CutPrefix(l, "Session:"); ok {
			c.session, _, _ = strings.Cut(strings.TrimSpace(v), ";")
		}
	}
	return status, lines, nil
}

// setupAndPlay describes url, sets up its video track interleaved and
// plays it; it returns the time the first RTP packet took after PLAY.
func (c *rtspClient) setupAndPlay(url string) (time.Duration, error) {
	if st, _, err := c.do("DESCRIBE", url, "Accept: application/sdp"); err != nil || st != 200 {
		return 0, fmt.Errorf("DESCRIBE: %d %w", st, err)
	}
	if st, _, err := c.do("SETUP", url+"/trackID=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1"); err != nil || st != 200 {
		return 0, fmt.Errorf("SETUP: %d %w", st, err)
	}
	start := time.Now()
	if st, _, err := c.do("PLAY", url); err != nil || st != 200 {
		return 0, fmt.Errorf("PLAY: %d %w", st, err)
	}
	for {
		var h [4]byte
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			return 0, fmt.Errorf("waiting for RTP: %w", err)
		}
		if h[0] != '$' {
			return 0, fmt.Errorf("interleaved frame starts with %q", h[0])
		}
		if _, err := io.CopyN(io.Discard, c.br, int64(h[2])<<8|int64(h[3])); err != nil {
			return 0, err
		}
		if h[1] == 0 {
			return time.Since(start), nil
		}
	}
}

// openFiles counts the file descriptors of process pid.
func openFiles(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestAdminServedUnderAttack is the test of everything at once:
// 100 anonymous clients post hostile SOAP bodies again and again, 2000
// idle connections (from 20 addresses, reopened as soon as the bridge
// closes one) are held to each of the camera's HTTP port, the RTSP port
// and the admin port, and a 'User' account has taken every RTSP session
// it could. Meanwhile the administrator, from an address of its own,
// gets a stream URI over ONVIF, a snapshot and an RTSP stream (its first
// RTP packet), each within 1 s, every time it tries; the bridge's
// resident memory stays under 200 MB, its open files stay within its
// connection limits, and the 'User' account holds no more than its quota
// of sessions.
//
// Before the limits per client address and the eviction of connections
// that have not authenticated, the idle connections took all 512 RTSP
// slots (the administrator's RTSP connection was closed at once), and
// the HTTP ports held every connection they were offered.
//
// The attacker runs in a process of its own at the lowest priority (on a
// LAN its CPU is not the bridge's), and the bridge is built without the
// race detector. The 1 s is the goal for a person or an NVR
// waiting; it holds on a loaded 2-core machine because the bridge's own
// work on the attack is bounded (bodies refused before parsing,
// connections refused or evicted at accept): measured at 5-60 ms per
// request under the attack with other packages' tests running beside.
// This test does not run in parallel with the package's other tests (it
// takes both cores for its seconds, as TestServeSOAPFlood does).
func TestAdminServedUnderAttack(t *testing.T) {
	const (
		within  = time.Second
		maxRSS  = 200 << 20
		maxOpen = 1500 // the bridge's connection limits (RTSP 512, HTTP 256 per port) and its own files, not 6000
	)
	rounds := 10 // 5 s of attack
	if *soakLong {
		rounds = 120
	}
	startFakecam(t, "127.0.26.50", 10104)
	dir := t.TempDir()
	file := writeConfig(t, `
cameras:
  - ip: 127.0.26.50
users:
  - name: admin
    password: pw
  - name: viewer
    password: pw
    level: User
listen:
  bind: 127.0.26.1
  http_base_port: 18760
  rtsp_port: 18761
  admin_port: 18762
discovery:
  enabled: false
state_dir: `+dir+`
`)
	p := startCommand(t, exec.Command(plainBinary(t), "serve", "-config", file))
	stopOnCleanup(t, p)
	pid := p.cmd.Process.Pid
	onvifURL := "http://127.0.26.1:18760/onvif/media_service"
	snapURL := urlOf(t, p.lines, 0, "snapshot")
	rtspURL := urlOf(t, p.lines, 0, "RTSP")

	_, out := startAttacker(t, attackEnv, strings.Join([]string{
		onvifURL, "127.0.26.1:18760", "127.0.26.1:18761", "127.0.26.1:18762", rtspURL}, " "))
	sc := bufio.NewScanner(out)
	grabbed := -1
	started := time.Now()
	for sc.Scan() {
		l := sc.Text()
		t.Logf("attacker, %.1f s after its start: %s", time.Since(started).Seconds(), l)
		if v, ok := strings.CutPrefix(l, "grabbed "); ok {
			grabbed, _ = strconv.Atoi(v)
		}
		if l == "ready" {
			break
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	if grabbed < 0 {
		t.Fatal("the attacker ended before it was ready")
	}
	// rtsp.DefaultMaxSessionsPerUser; cmd cannot import the test's
	// expectations from rtsp without its package, so the number is here.
	if grabbed > 16 {
		t.Errorf("the 'User' account holds %d RTSP sessions, more than its quota of 16", grabbed)
	}

	admin := clientFrom("127.0.26.4", 30*time.Second)
	var worst [3]time.Duration
	late := 0
	pace := time.NewTicker(500 * time.Millisecond) // as a person or an NVR retrying, while the attack goes on
	defer pace.Stop()
	for round := range rounds {
		<-pace.C
		var took [3]time.Duration
		var errs []error

		start := time.Now()
		err := askStreamURI(admin, onvifURL)
		took[0] = time.Since(start)
		if err != nil {
			errs = append(errs, fmt.Errorf("GetStreamUri: %w", err))
		}

		start = time.Now()
		req, _ := http.NewRequest(http.MethodGet, snapURL, nil)
		req.SetBasicAuth("admin", "pw")
		resp, err := admin.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(b, []byte{0xFF, 0xD8}) {
				err = fmt.Errorf("%s, %d bytes", resp.Status, len(b))
			}
		}
		took[1] = time.Since(start)
		if err != nil {
			errs = append(errs, fmt.Errorf("snapshot: %w", err))
		}

		start = time.Now()
		c, err := dialRTSP("127.0.26.4", "127.0.26.1:18761", "admin", "pw")
		if err == nil {
			_, err = c.setupAndPlay(rtspURL)
			c.nc.Close()
		}
		took[2] = time.Since(start)
		if err != nil {
			errs = append(errs, fmt.Errorf("RTSP stream: %w", err))
		}

		if len(errs) > 0 {
			t.Fatalf("round %d: the administrator was refused: %v", round, errors.Join(errs...))
		}
		t.Logf("round %d: GetStreamUri %v, snapshot %v, RTSP to the first packet %v", round, took[0], took[1], took[2])
		for i, d := range took {
			worst[i] = max(worst[i], d)
			if d > within {
				late++
			}
		}
	}
	rss, open := procStatus(t, pid, "VmHWM"), openFiles(t, pid)
	t.Logf("slowest: GetStreamUri %v, snapshot %v, RTSP %v; resident memory peak %.1f MB; %d open files",
		worst[0], worst[1], worst[2], float64(rss)/1e6, open)
	if late > 0 {
		t.Errorf("%d of the administrator's %d requests took more than %v", late, 3*rounds, within)
	}
	if rss > maxRSS {
		t.Errorf("resident memory peaked at %.1f MB under the attack, want less than %d MB", float64(rss)/1e6, maxRSS>>20)
	}
	if open > maxOpen {
		t.Errorf("the bridge holds %d open files under the attack, want at most %d", open, maxOpen)
	}
}
