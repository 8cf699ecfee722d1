package onvif

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chinesium/chinesium/httpauth"
	"github.com/chinesium/chinesium/internal/xsdcheck"
	"github.com/chinesium/chinesium/soap"
	"github.com/chinesium/chinesium/wsdl"
)

// mediaServer serves the media service of a device with user admin/secret
// over real HTTP.
func mediaServer(t testing.TB, d *Device) *httptest.Server {
	t.Helper()
	d.Store.SetAdmin("admin", "secret")
	svc := &soap.Service{
		Ops:      MediaOps(d),
		Security: &soap.Security{Auth: httpauth.New("test", d.Store)},
	}
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	return srv
}

var nonceCounter atomic.Uint64

// securityHeader returns a WS-Security UsernameToken PasswordDigest header.
func securityHeader(user, password string) string {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce[:8])
	n := nonceCounter.Add(1)
	for i := range 8 {
		nonce[8+i] = byte(n >> (8 * i))
	}
	created := time.Now().UTC().Format(time.RFC3339)
	return fmt.Sprintf(`<s:Header><wsse:Security xmlns:wsse=%q xmlns:wsu=%q><wsse:UsernameToken>`+
		`<wsse:Username>%s</wsse:Username><wsse:Password Type=%q>%s</wsse:Password>`+
		`<wsse:Nonce EncodingType=%q>%s</wsse:Nonce><wsu:Created>%s</wsu:Created>`+
		`</wsse:UsernameToken></wsse:Security></s:Header>`,
		wsdl.NSWSSE, wsdl.NSWSU, user, wsdl.PasswordDigest, soap.PasswordDigest(nonce, created, password),
		wsdl.Base64Binary, base64.StdEncoding.EncodeToString(nonce), created)
}

// soapEnvelope returns a SOAP 1.2 envelope declaring the s prefix and the
// namespace declarations ns, holding header (a whole s:Header element or
// "") and body (the inner XML of s:Body).
func soapEnvelope(ns, header, body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="` + wsdl.NSSOAP12 + `" ` + ns + `>` +
		header + `<s:Body>` + body + `</s:Body></s:Envelope>`
}

// postSOAP posts a SOAP 1.2 envelope, with the Host header host[0] when
// given, and returns status and body.
func postSOAP(t testing.TB, c *http.Client, url, env string, host ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(env))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", `application/soap+xml; charset=utf-8; action="x"`)
	if len(host) > 0 {
		req.Host = host[0]
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// soapCall posts one SOAP 1.2 request with the media (trt) and schema (tt)
// prefixes declared and returns status and body.
func soapCall(t testing.TB, c *http.Client, url, header, body string) (int, []byte) {
	t.Helper()
	return postSOAP(t, c, url, soapEnvelope(`xmlns:trt="`+wsdl.NSMedia+`" xmlns:tt="`+wsdl.NSSchema+`"`, header, body))
}

const getStreamURI = `<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport>` +
	`<tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup><trt:ProfileToken>jpeg</trt:ProfileToken></trt:GetStreamUri>`

func TestMediaOverSOAP(t *testing.T) {
	d := testDevice(t, true, true, "")
	srv := mediaServer(t, d)
	c := srv.Client()

	// Media's GetServiceCapabilities is PRE_AUTH.
	status, b := soapCall(t, c, srv.URL, "", "<trt:GetServiceCapabilities/>")
	if status != http.StatusOK {
		t.Fatalf("GetServiceCapabilities without credentials: %d %s", status, b)
	}
	xsdcheck.Check(t, b, "{"+wsdl.NSMedia+"}GetServiceCapabilitiesResponse")

	// Everything else needs credentials.
	status, b = soapCall(t, c, srv.URL, "", getStreamURI)
	if status != http.StatusUnauthorized || !bytes.Contains(b, []byte("NotAuthorized")) {
		t.Fatalf("GetStreamUri without credentials: %d %s", status, b)
	}

	status, b = soapCall(t, c, srv.URL, securityHeader("admin", "secret"), getStreamURI)
	if status != http.StatusOK {
		t.Fatalf("GetStreamUri: %d %s", status, b)
	}
	xsdcheck.Check(t, b, "{"+wsdl.NSMedia+"}GetStreamUriResponse")
	host := strings.TrimPrefix(srv.URL, "http://")
	host = host[:strings.LastIndexByte(host, ':')]
	if want := "rtsp://" + host + ":8554/cam/jpeg"; !bytes.Contains(b, []byte(want)) {
		t.Errorf("stream URI not built from the Host used (%s): %s", want, b)
	}

	// Faults keep their ONVIF subcodes and validate.
	status, b = soapCall(t, c, srv.URL, securityHeader("admin", "secret"),
		"<trt:DeleteProfile><trt:ProfileToken>jpeg</trt:ProfileToken></trt:DeleteProfile>")
	if status == http.StatusOK || !bytes.Contains(b, []byte("DeletionOfFixedProfile")) {
		t.Errorf("DeleteProfile of a fixed profile: %d %s", status, b)
	}
	xsdcheck.Check(t, b, "{"+wsdl.NSSOAP12+"}Fault")

	// A media user of level User may read but not change profiles.
	if err := d.Store.CreateUsers([]User{{Name: "viewer", Password: "pw", Level: LevelUser}}); err != nil {
		t.Fatal(err)
	}
	status, _ = soapCall(t, c, srv.URL, securityHeader("viewer", "pw"), "<trt:GetProfiles/>")
	if status != http.StatusOK {
		t.Errorf("GetProfiles as User: %d", status)
	}
	status, _ = soapCall(t, c, srv.URL, securityHeader("viewer", "pw"), "<trt:CreateProfile><trt:Name>x</trt:Name></trt:CreateProfile>")
	if status == http.StatusOK {
		t.Errorf("CreateProfile allowed for level User")
	}
}

// TestUnimplementedMediaOps checks that every media.wsdl operation without
// a handler answers a schema-valid ter:ActionNotSupported fault, and that
// Media2 is not served.
func TestUnimplementedMediaOps(t *testing.T) {
	ops := MediaOps(testDevice(t, false, false, ""))
	if len(ops) != len(wsdl.MediaOperations()) {
		t.Fatalf("%d ops, media.wsdl has %d", len(ops), len(wsdl.MediaOperations()))
	}
	for op := range ops {
		if op.Namespace != wsdl.NSMedia {
			t.Errorf("operation outside ver10 media: %v", op)
		}
	}
	d := testDevice(t, false, false, "")
	srv := mediaServer(t, d)
	checked := 0
	for _, info := range wsdl.MediaOperations() {
		if _, ok := mediaHandlers[info.Name]; ok {
			continue
		}
		status, b := soapCall(t, srv.Client(), srv.URL, securityHeader("admin", "secret"), "<trt:"+info.Name+"/>")
		if status == http.StatusOK || !bytes.Contains(b, []byte("ActionNotSupported")) {
			t.Errorf("%s: %d %s", info.Name, status, b)
		}
		if checked == 0 {
			xsdcheck.Check(t, b, "{"+wsdl.NSSOAP12+"}Fault")
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no unimplemented operation checked")
	}
}

// BenchmarkGetStreamURI measures GetStreamUri over real HTTP with a
// WS-Security PasswordDigest token (a fresh nonce per request), beside a
// trivial net/http handler on the same machine as the baseline; it reports
// the baseline's and GetStreamUri's requests per second and their ratio.
func BenchmarkGetStreamURI(b *testing.B) {
	d := testDevice(b, false, true, "")
	srv := mediaServer(b, d)
	trivial := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte("ok"))
	}))
	defer trivial.Close()

	run := func(url string, n int, soapReq bool) time.Duration {
		c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		defer c.CloseIdleConnections()
		start := time.Now()
		for range n {
			if soapReq {
				status, body := soapCall(b, c, url, securityHeader("admin", "secret"), getStreamURI)
				if status != http.StatusOK {
					b.Fatalf("GetStreamUri: %d %s", status, body)
				}
			} else {
				status, _ := soapCall(b, c, url, "", "<x/>")
				if status != http.StatusOK {
					b.Fatalf("baseline: %d", status)
				}
			}
		}
		return time.Since(start)
	}
	// Warm up both servers' connections.
	run(srv.URL, 10, true)
	run(trivial.URL, 10, false)

	b.ResetTimer()
	soapTime := run(srv.URL, b.N, true)
	b.StopTimer()
	baseTime := run(trivial.URL, b.N, false)
	soapRPS := float64(b.N) / soapTime.Seconds()
	baseRPS := float64(b.N) / baseTime.Seconds()
	b.ReportMetric(soapRPS, "req/s")
	b.ReportMetric(baseRPS, "baseline-req/s")
	b.ReportMetric(soapRPS/baseRPS, "ratio")
}

// TestStreamURIWithoutHostHeader: an HTTP/1.0 request without Host still
// gets a URI with the address it reached the device on.
func TestStreamURIWithoutHostHeader(t *testing.T) {
	d := testDevice(t, false, false, "")
	srv := mediaServer(t, d)
	addr := strings.TrimPrefix(srv.URL, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ` +
		`xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema">` +
		securityHeader("admin", "secret") + `<s:Body>` + getStreamURI + `</s:Body></s:Envelope>`
	fmt.Fprintf(conn, "POST / HTTP/1.0\r\nContent-Type: application/soap+xml\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	resp, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	host := addr[:strings.LastIndexByte(addr, ':')]
	if !bytes.Contains(resp, []byte("rtsp://"+host+":8554/cam/jpeg")) {
		t.Errorf("response without Host header:\n%s", resp)
	}
}
