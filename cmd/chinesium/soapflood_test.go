package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // WS-Security PasswordDigest is defined with SHA-1
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fault tests of the SOAP endpoint run the real binary against a fake
// camera, attacked from addresses of their own, and read what the kernel
// says about the process (/proc/PID/status).

// procStatus returns a field of /proc/pid/status in bytes (VmRSS, VmHWM).
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", field, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// clientFrom is an HTTP client whose connections come from the local
// address ip.
func clientFrom(ip string, timeout time.Duration) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4}}
}

// wsseToken is a WS-Security UsernameToken header with a fresh nonce, as
// agsh/onvif signs its requests.
func wsseToken(user, password string) string {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	created := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	h := sha1.New() //nolint:gosec // the UsernameToken profile's digest
	h.Write(nonce)
	h.Write([]byte(created))
	h.Write([]byte(password))
	return `<s:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" ` +
		`xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><wsse:UsernameToken>` +
		`<wsse:Username>` + user + `</wsse:Username>` +
		`<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">` +
		base64.StdEncoding.EncodeToString(h.Sum(nil)) + `</wsse:Password>` +
		`<wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">` +
		base64.StdEncoding.EncodeToString(nonce) + `</wsse:Nonce><wsu:Created>` + created + `</wsu:Created></wsse:UsernameToken></wsse:Security></s:Header>`
}

// getStreamURI is the GetStreamUri of the JPEG profile as ODM sends it.
func getStreamURI(user, password string) string {
	return `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">` + wsseToken(user, password) +
		`<s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">` +
		`<GetStreamUri xmlns="http://www.onvif.org/ver10/media/wsdl"><StreamSetup><Stream xmlns="http://www.onvif.org/ver10/schema">RTP-Unicast</Stream>` +
		`<Transport xmlns="http://www.onvif.org/ver10/schema"><Protocol>RTSP</Protocol></Transport></StreamSetup><ProfileToken>jpeg</ProfileToken></GetStreamUri></s:Body></s:Envelope>`
}

// floodBody is the attack on the parser: about size bytes of one element
// with ever more unique attributes, prefixed ones when prefixed is set.
func floodBody(size int, prefixed bool) []byte {
	var b bytes.Buffer
	b.WriteString(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:p="urn:p"><s:Body><GetStreamUri xmlns="http://www.onvif.org/ver10/media/wsdl"`)
	prefix := ""
	if prefixed {
		prefix = "p:"
	}
	tail := `/></s:Body></s:Envelope>`
	for i := 0; b.Len() < size-len(tail)-20; i++ {
		fmt.Fprintf(&b, ` %sa%d=""`, prefix, i)
	}
	b.WriteString(tail)
	return b.Bytes()
}

// askStreamURI sends one legitimate GetStreamUri as admin; the answer
// must be HTTP 200 with an rtsp:// URI.
func askStreamURI(c *http.Client, url string) error {
	resp, err := c.Post(url, "application/soap+xml; charset=utf-8", strings.NewReader(getStreamURI("admin", "pw")))
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("rtsp://")) {
		return fmt.Errorf("%s\n%s", resp.Status, b)
	}
	return nil
}

// timedStreamURI sends one legitimate GetStreamUri and returns how long
// the answer took.
func timedStreamURI(t *testing.T, c *http.Client, url string) time.Duration {
	t.Helper()
	start := time.Now()
	if err := askStreamURI(c, url); err != nil {
		t.Fatalf("GetStreamUri: %v", err)
	}
	return time.Since(start)
}

// postHostile posts a hostile body to url, reads the answer and returns
// its status (0: the connection closed before an answer).
func postHostile(c *http.Client, url string, body []byte) int {
	resp, err := c.Post(url, "application/soap+xml", bytes.NewReader(body))
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// startAttacker starts this test binary as an attacker in a process of
// its own, with env set to value, and returns its standard output; it is
// killed when the test ends. The attacker lowers its priority once it is
// set up (lowestPriority).
func startAttacker(t *testing.T, env, value string) (*exec.Cmd, io.Reader) {
	t.Helper()
	attacker := exec.Command(os.Args[0], "-test.run=^$")
	attacker.Env = append(os.Environ(), env+"="+value)
	out, err := attacker.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	attacker.Stderr = os.Stderr
	if err := startChild(attacker); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = attacker.Process.Kill(); _ = attacker.Wait() })
	return attacker, out
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// floodEnv names the URL a test binary started as an attacker floods.
const floodEnv = "CHINESIUM_TEST_FLOOD_URL"

// Waves of the flood, and attackers in each.
const (
	floodWaves     = 5
	floodAttackers = 100
)

// runFlood is the attacker process of TestServeSOAPFlood: floodWaves
// times, floodAttackers anonymous clients from 127.0.7.52 post a 1 MiB
// body of unique attributes (half of them prefixed) to url at once; after
// each wave it prints "wave N: STATUS COUNT ..." (status 0: the
// connection closed before an answer).
func runFlood(url string) int {
	bodies := [][]byte{floodBody(1<<20-256, false), floodBody(1<<20-256, true)}
	clients := make([]*http.Client, floodAttackers)
	for i := range clients {
		clients[i] = clientFrom("127.0.7.52", 30*time.Second)
	}
	if err := lowestPriority(); err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		return 2
	}
	for wave := range floodWaves {
		var wg sync.WaitGroup
		var mu sync.Mutex
		statuses := map[int]int{}
		for i, c := range clients {
			wg.Go(func() {
				code := postHostile(c, url, bodies[i%2])
				mu.Lock()
				statuses[code]++
				mu.Unlock()
			})
		}
		wg.Wait()
		line := fmt.Sprintf("wave %d:", wave)
		for code, n := range statuses {
			line += fmt.Sprintf(" %d %d", code, n)
		}
		fmt.Println(line)
	}
	return 0
}

// TestServeSOAPFlood: 100 anonymous clients each post a 1 MiB body of
// unique attributes (half of them prefixed) at once, five times over,
// while an administrator asks for a stream URI from another address. The
// bridge's resident memory grows by less than 50 MB, and the
// administrator's requests succeed, about as fast as without the attack
// (both measured in this run). Before the pre-parse limits the bodies were
// parsed whole (and answered 401): one wave of unprefixed bodies took
// resident memory from 18 MB to 2.4 GB and the slowest GetStreamUri to
// 1.4 s, and a prefixed body cost seconds of CPU.
//
// It does not run in parallel with the package's other tests: the attack
// takes both cores for seconds, which would slow down the tests that time
// the demo, and they would disturb the latencies measured here.
func TestServeSOAPFlood(t *testing.T) {
	const (
		legitimate = 40
		maxGrowth  = 50 << 20
		// maxSlowdown bounds the median of the legitimate requests under
		// attack, as a multiple of their median without it.
		maxSlowdown = 10
	)
	startFakecam(t, "127.0.7.50", 10104)
	p := startCommand(t, exec.Command(plainBinary(t), "serve", "-discovery=false", "-user", "admin", "-password", "pw", "-bind", "127.0.7.1",
		"-http-port", "18700", "-rtsp-port", "18701", "-admin-port", "0", "-state-dir", t.TempDir(), "127.0.7.50"))
	t.Cleanup(func() { _ = p.cmd.Process.Signal(os.Interrupt) })
	pid := p.cmd.Process.Pid
	url := "http://127.0.7.1:18700/onvif/media_service"
	admin := clientFrom("127.0.7.51", 30*time.Second)

	// Without the attack: warm up, then measure.
	for range 10 {
		timedStreamURI(t, admin, url)
	}
	var base []time.Duration
	for range legitimate {
		base = append(base, timedStreamURI(t, admin, url))
	}
	rss0 := procStatus(t, pid, "VmRSS")

	// The attackers run in a process of their own (see startAttacker).
	attacker, waveLines := startAttacker(t, floodEnv, url)
	waves := make(chan string)
	go func() {
		sc := bufio.NewScanner(waveLines)
		for sc.Scan() {
			waves <- sc.Text()
		}
		close(waves)
	}()
	statuses := map[int]int{}
	var under []time.Duration
	// The administrator asks 50 times a second, more than any NVR, and
	// within its quota of WS-Security tokens (soap.DefaultNoncesPerUser
	// in the 10 minutes a token is remembered).
	pace := time.NewTicker(20 * time.Millisecond)
	defer pace.Stop()
	for done := false; !done; {
		select {
		case line, ok := <-waves:
			if !ok {
				done = true
				break
			}
			// "wave N: STATUS COUNT STATUS COUNT ..."
			f := strings.Fields(line)
			for i := 2; i+1 < len(f); i += 2 {
				code, _ := strconv.Atoi(f[i])
				n, _ := strconv.Atoi(f[i+1])
				statuses[code] += n
			}
		case <-pace.C:
			under = append(under, timedStreamURI(t, admin, url))
		}
	}
	if err := attacker.Wait(); err != nil {
		t.Fatalf("attacker: %v", err)
	}
	if len(under) == 0 {
		t.Fatal("the attack ended before a request could be timed")
	}
	hwm := procStatus(t, pid, "VmHWM")
	growth := hwm - rss0

	t.Logf("attack answers by status: %v", statuses)
	t.Logf("resident memory %.1f MB before the attack, peak %.1f MB (growth %.1f MB)", float64(rss0)/1e6, float64(hwm)/1e6, float64(growth)/1e6)
	b50, u50, u99 := percentile(base, 0.5), percentile(under, 0.5), percentile(under, 0.99)
	t.Logf("GetStreamUri without the attack p50 %v p99 %v; under attack p50 %v (%.1f×) p99 %v, %d requests",
		b50, percentile(base, 0.99), u50, float64(u50)/float64(b50), u99, len(under))
	for code, n := range statuses {
		// Refused before parsing: 400 (the limits), 503 (too many in
		// progress), or the connection closed on a body not read whole.
		if code != http.StatusBadRequest && code != http.StatusServiceUnavailable && code != 0 {
			t.Errorf("%d hostile bodies were answered %d", n, code)
		}
	}
	// The median may grow a little under the attack, not by orders of
	// magnitude (it was 500 times the baseline when the bodies were
	// parsed).
	if u50 > maxSlowdown*b50 {
		t.Errorf("GetStreamUri under attack p50 %v, more than %d× the %v without it", u50, maxSlowdown, b50)
	}
	if growth > maxGrowth {
		t.Errorf("resident memory grew by %.1f MB under the attack, want less than %d MB", float64(growth)/1e6, maxGrowth>>20)
	}
}
