package bridge

import (
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // WS-Security PasswordDigest is SHA-1
	"encoding/base64"
	"fmt"
	"image/jpeg"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/internal/xsdcheck"
	"github.com/chinesium/chinesium/wsdl"
)

// go2rtcRequest is an ONVIF request exactly as go2rtc's ONVIF client
// (pkg/onvif, used for onvif:// sources by Frigate) sends it with Go's
// net/http: the request line, then Host, User-Agent, Content-Length,
// Content-Type and Accept-Encoding in that order, and its envelope: the s,
// tt, tds, trt and timg prefixes declared on s:Envelope, a tab-indented
// WS-Security header whose nonce is 16 random base-36 characters and whose
// Created is RFC 3339 with nanoseconds, and the operation on one line.
func go2rtcRequest(host, path, user, password, body string) string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	raw := make([]byte, 16)
	_, _ = rand.Read(raw)
	for i := range raw {
		raw[i] = alphabet[int(raw[i])%len(alphabet)]
	}
	nonce := string(raw)
	created := time.Now().UTC().Format(time.RFC3339Nano)
	h := sha1.New() //nolint:gosec // the digest the protocol defines
	h.Write([]byte(nonce + created + password))
	env := `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:timg="http://www.onvif.org/ver20/imaging/wsdl">` +
		fmt.Sprintf(`<s:Header>
	<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">
		<wsse:UsernameToken>
			<wsse:Username>%s</wsse:Username>
			<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">%s</wsse:Password>
			<wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">%s</wsse:Nonce>
			<wsu:Created xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">%s</wsu:Created>
		</wsse:UsernameToken>
	</wsse:Security>
</s:Header>`, user, base64.StdEncoding.EncodeToString(h.Sum(nil)), base64.StdEncoding.EncodeToString([]byte(nonce)), created) +
		`<s:Body>` + body + `</s:Body></s:Envelope>`
	return "POST " + path + " HTTP/1.1\r\n" +
		"Host: " + host + "\r\n" +
		"User-Agent: Go-http-client/1.1\r\n" +
		"Content-Length: " + strconv.Itoa(len(env)) + "\r\n" +
		"Content-Type: application/soap+xml;charset=utf-8\r\n" +
		"Accept-Encoding: gzip\r\n\r\n" + env
}

// replayHTTP sends raw on a new connection to addr and returns the status
// and the body of the answer.
func replayHTTP(t *testing.T, addr, raw string) (int, []byte) {
	t.Helper()
	resp, b := testutil.ReplayHTTP(t, addr, raw)
	return resp.StatusCode, b
}

// TestGo2rtcSnapshotPath replays go2rtc's ONVIF client taking a snapshot
// source (onvif://admin:secret@host:port?snapshot): GetCapabilities on the
// device service, GetProfiles on /onvif/media_service, then GetSnapshotUri
// on /onvif/imaging_service, the fixed path it uses whatever the device
// advertises. Every /onvif/ path answers ONVIF, so it gets a schema-valid
// GetSnapshotUriResponse whose URI serves the camera's JPEG.
func TestGo2rtcSnapshotPath(t *testing.T) {
	xsdcheck.Require(t)
	_, c := startCamera(t, "127.0.5.40", nil)
	host := net.JoinHostPort(bindIP.String(), strconv.Itoa(c.HTTPPort()))

	status, b := replayHTTP(t, host, go2rtcRequest(host, DeviceServicePath, "admin", "secret",
		`<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>`))
	if status != http.StatusOK {
		t.Fatalf("GetCapabilities: %d %s", status, b)
	}
	status, b = replayHTTP(t, host, go2rtcRequest(host, "/onvif/media_service", "admin", "secret", `<trt:GetProfiles/>`))
	if status != http.StatusOK {
		t.Fatalf("GetProfiles: %d %s", status, b)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b); err != nil {
		t.Fatal(err)
	}
	profile := doc.FindElement("//Profiles")
	if profile == nil {
		t.Fatalf("no profile: %s", b)
	}
	token := profile.SelectAttrValue("token", "")

	status, b = replayHTTP(t, host, go2rtcRequest(host, "/onvif/imaging_service", "admin", "secret",
		`<trt:GetSnapshotUri><trt:ProfileToken>`+token+`</trt:ProfileToken></trt:GetSnapshotUri>`))
	if status != http.StatusOK {
		t.Fatalf("GetSnapshotUri on /onvif/imaging_service: %d %s", status, b)
	}
	xsdcheck.Check(t, b, "{"+wsdl.NSMedia+"}GetSnapshotUriResponse")
	uri := elementText(string(b), "Uri")
	if want := "http://" + host + "/snapshot.jpg"; uri != want {
		t.Fatalf("snapshot URI %q, want %q", uri, want)
	}
	// go2rtc adds the source's credentials to the URI and fetches it.
	resp, err := http.Get(withUser(uri, "admin", "secret"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	img, err := jpeg.Decode(resp.Body)
	if resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("snapshot: %d, %v", resp.StatusCode, err)
	}
	if sz := img.Bounds().Size(); sz.X != 640 || sz.Y != 480 {
		t.Errorf("snapshot of %v, want 640x480", sz)
	}

	// A path below /onvif/ that is no service still answers SOAP; other
	// paths are not ONVIF.
	status, b = replayHTTP(t, host, go2rtcRequest(host, "/onvif/Media", "admin", "secret", `<trt:GetProfiles/>`))
	if status != http.StatusOK || !strings.Contains(string(b), "GetProfilesResponse") {
		t.Errorf("GetProfiles on /onvif/Media: %d %s", status, b)
	}
	status, _ = replayHTTP(t, host, go2rtcRequest(host, "/onvifx", "admin", "secret", `<trt:GetProfiles/>`))
	if status != http.StatusNotFound {
		t.Errorf("/onvifx: %d, want 404", status)
	}
}
