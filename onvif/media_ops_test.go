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
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chinesium/chinesium/soap"
	"github.com/chinesium/chinesium/wsdl"
)

// mediaServer serves the media service of a device with user admin/secret.
func mediaServer(t testing.TB, d *Device) *testEndpoint {
	t.Helper()
	d.Store.SetAdmin("admin", "secret")
	return serve(t, d.Store, MediaService(d))
}

const getStreamURI = `<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport>` +
	`<tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup><trt:ProfileToken>jpeg</trt:ProfileToken></trt:GetStreamUri>`

func TestMediaOverSOAP(t *testing.T) {
	d := testDevice(t, true, true, "")
	e := mediaServer(t, d)
	media := func(header, body string) result {
		return e.do(t, call{Path: MediaServicePath, Header: header, Body: body})
	}

	// Media's GetServiceCapabilities is PRE_AUTH.
	media("", "<trt:GetServiceCapabilities/>").ok(t)

	// Everything else needs credentials.
	media("", getStreamURI).fault(t, http.StatusUnauthorized, "Sender/NotAuthorized")

	r := media(securityHeader("admin", "secret"), getStreamURI)
	r.ok(t)
	host := strings.TrimPrefix(e.srv.URL, "http://")
	host = host[:strings.LastIndexByte(host, ':')]
	if want := "rtsp://" + host + ":8554/cam/jpeg"; !bytes.Contains(r.body, []byte(want)) {
		t.Errorf("stream URI not built from the Host used (%s): %s", want, r.body)
	}

	// Faults keep their ONVIF subcodes and validate.
	media(securityHeader("admin", "secret"), "<trt:DeleteProfile><trt:ProfileToken>jpeg</trt:ProfileToken></trt:DeleteProfile>").
		fault(t, http.StatusInternalServerError, "Receiver/Action/DeletionOfFixedProfile")

	// A media user of level User may read but not change profiles.
	if err := d.Store.CreateUsers([]User{{Name: "viewer", Password: "pw", Level: LevelUser}}); err != nil {
		t.Fatal(err)
	}
	media(securityHeader("viewer", "pw"), "<trt:GetProfiles/>").ok(t)
	media(securityHeader("viewer", "pw"), "<trt:CreateProfile><trt:Name>x</trt:Name></trt:CreateProfile>").
		fault(t, http.StatusBadRequest, "Sender/NotAuthorized")
}

// TestUnimplementedMediaOps checks that every media.wsdl operation without
// a handler answers a schema-valid ter:ActionNotSupported fault, and that
// the service holds ver10 media operations only (no Media2).
func TestUnimplementedMediaOps(t *testing.T) {
	d := testDevice(t, false, false, "")
	svc := MediaService(d)
	if len(svc.Declared) != len(wsdl.MediaOperations()) {
		t.Fatalf("the media service declares %d operations, media.wsdl has %d", len(svc.Declared), len(wsdl.MediaOperations()))
	}
	implemented := map[string]bool{}
	for _, op := range svc.Ops {
		implemented[op.Name] = true
		if op.Namespace != "" || !slices.Contains(svc.Declared, wsdl.Op{Namespace: wsdl.NSMedia, Name: op.Name}) {
			t.Errorf("operation outside ver10 media: %s %s", op.Namespace, op.Name)
		}
	}
	e := mediaServer(t, d)
	checked := 0
	for _, op := range svc.Declared {
		if implemented[op.Name] {
			continue
		}
		e.do(t, call{Path: MediaServicePath, Header: securityHeader("admin", "secret"), Body: "<trt:" + op.Name + "/>"}).
			fault(t, http.StatusInternalServerError, "Receiver/ActionNotSupported")
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
	e := mediaServer(b, d)
	trivial := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte("ok"))
	}))
	defer trivial.Close()
	baseline := soapEnvelope(envelopeNS, "", "<x/>")

	run := func(n int, soapReq bool) time.Duration {
		start := time.Now()
		for range n {
			if soapReq {
				r := e.do(b, call{Path: MediaServicePath, Header: securityHeader("admin", "secret"), Body: getStreamURI})
				if r.status != http.StatusOK {
					b.Fatalf("GetStreamUri: %d %s", r.status, r.body)
				}
				continue
			}
			resp, err := trivial.Client().Post(trivial.URL, "application/soap+xml", strings.NewReader(baseline))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return time.Since(start)
	}
	// Warm up both servers' connections.
	run(10, true)
	run(10, false)

	b.ResetTimer()
	soapTime := run(b.N, true)
	b.StopTimer()
	baseTime := run(b.N, false)
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
	e := mediaServer(t, d)
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := soapEnvelope(envelopeNS, securityHeader("admin", "secret"), getStreamURI)
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

// hikvisionRequest is a media request as a Hikvision NVR or DVR sends it
// when it adds an ONVIF camera: the envelope is the one such a DVR posted
// to go2rtc (go2rtc issue #1299: soap prefix, only trt declared, a
// mustUnderstand WS-Security header with a wsu:Id, Created to the second,
// one element per line). The capture does not show the HTTP headers; these
// are a SOAP client's usual ones, the action in the Content-Type.
func hikvisionRequest(path, host, op, body, user, password string) string {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	created := time.Now().UTC().Format("2006-01-02T15:04:05Z")
	env := `<?xml version="1.0" encoding="UTF-8" ?>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:trt="http://www.onvif.org/ver10/media/wsdl">
<soap:Header>
<wsse:Security soap:mustUnderstand="true" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">
<wsse:UsernameToken wsu:Id="UsernameToken-35" xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">
<wsse:Username>` + user + `</wsse:Username>
<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">` + soap.PasswordDigest(nonce, created, password) + `</wsse:Password>
<wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">` + base64.StdEncoding.EncodeToString(nonce) + `</wsse:Nonce>
<wsu:Created>` + created + `</wsu:Created>
</wsse:UsernameToken>
</wsse:Security>
</soap:Header>
<soap:Body>
` + body + `
</soap:Body>
</soap:Envelope>
`
	return "POST " + path + " HTTP/1.1\r\n" +
		"Host: " + host + "\r\n" +
		`Content-Type: application/soap+xml; charset=utf-8; action="http://www.onvif.org/ver10/media/wsdl/` + op + `"` + "\r\n" +
		"Content-Length: " + strconv.Itoa(len(env)) + "\r\n" +
		"Connection: close\r\n\r\n" + env
}

// TestHikvisionOSDCalls replays the OSD calls of a Hikvision NVR adding the
// camera (it marks a device offline when they fail): GetOSDs answers an
// empty list and GetOSDOptions that the video source takes no OSD, both
// schema-valid.
func TestHikvisionOSDCalls(t *testing.T) {
	d := testDevice(t, false, true, "")
	e := mediaServer(t, d)
	host := e.srv.Listener.Addr().String()
	// The NVR names the video source configuration of the profiles it read.
	profiles := e.do(t, call{Path: MediaServicePath, Header: securityHeader("admin", "secret"), Body: "<trt:GetProfiles/>"}).ok(t)
	token := profiles.FindElement("Profiles/VideoSourceConfiguration").SelectAttrValue("token", "")

	osds := e.replay(t, hikvisionRequest(MediaServicePath, host, "GetOSDs",
		"<trt:GetOSDs>\n<trt:ConfigurationToken>"+token+"</trt:ConfigurationToken>\n</trt:GetOSDs>", "admin", "secret")).ok(t)
	if n := len(osds.ChildElements()); n != 0 {
		t.Errorf("GetOSDs lists %d OSDs, the camera has none", n)
	}
	opts := e.replay(t, hikvisionRequest(MediaServicePath, host, "GetOSDOptions",
		"<trt:GetOSDOptions>\n<trt:ConfigurationToken>"+token+"</trt:ConfigurationToken>\n</trt:GetOSDOptions>", "admin", "secret")).ok(t)
	if total := opts.FindElement("OSDOptions/MaximumNumberOfOSDs").SelectAttrValue("Total", ""); total != "0" {
		t.Errorf("MaximumNumberOfOSDs Total=%q, want 0", total)
	}

	// Another configuration's token is NoConfig; a User may read them too.
	e.replay(t, hikvisionRequest(MediaServicePath, host, "GetOSDOptions",
		"<trt:GetOSDOptions>\n<trt:ConfigurationToken>unifi_camera</trt:ConfigurationToken>\n</trt:GetOSDOptions>", "admin", "secret")).
		fault(t, http.StatusBadRequest, "Sender/InvalidArgVal/NoConfig")
	if err := d.Store.CreateUsers([]User{{Name: "viewer", Password: "pw", Level: LevelUser}}); err != nil {
		t.Fatal(err)
	}
	e.replay(t, hikvisionRequest(MediaServicePath, host, "GetOSDs", "<trt:GetOSDs/>", "viewer", "pw")).ok(t)
}
