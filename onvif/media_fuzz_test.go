package onvif

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/chinesium/chinesium/soap"
)

// FuzzMediaRequest feeds arbitrary request elements to every media
// operation through the endpoint, in process: the answer is always a SOAP
// message, either the response or a fault with ONVIF subcodes, never an
// internal error (a panic or an error that is not a fault).
func FuzzMediaRequest(f *testing.F) {
	for _, op := range append(append([][2]string{}, readOps...), writeOps...) {
		f.Add(op[0], op[1])
	}
	f.Add("SetVideoEncoderConfiguration", `<trt:Configuration token="jpeg_enc"><tt:Encoding>JPEG</tt:Encoding><tt:Quality>NaN</tt:Quality></trt:Configuration>`)
	f.Add("CreateProfile", `<trt:Name>`+strings.Repeat("x", 70)+`</trt:Name><trt:Token>a b</trt:Token>`)
	f.Add("GetStreamUri", `<trt:StreamSetup/><trt:ProfileToken/>`)
	var names []string
	for _, op := range MediaService(NewDevice("fuzz", "127.0.5.99")).Ops {
		names = append(names, op.Name)
	}
	f.Fuzz(func(t *testing.T, op, inner string) {
		if op == "" {
			return
		}
		if !slices.Contains(names, op) {
			op = names[int(op[0])%len(names)] // spread unknown names over the real operations
		}
		d := NewDevice("fuzz", "127.0.5.99")
		d.Store, _ = OpenStore("")
		d.Media = testURLs{}
		d.HasAudio, d.HasH264 = len(inner)%2 == 0, len(inner)%3 == 0
		ep, err := soap.NewEndpoint(soap.EndpointConfig{Services: []soap.Service{MediaService(d)}})
		if err != nil {
			t.Fatal(err)
		}
		body := soapEnvelope(envelopeNS, "", "<trt:"+op+">"+inner+"</trt:"+op+">")
		if _, err := soap.ParseEnvelope([]byte(body), soap.Limits{}); err != nil {
			return // not XML: the SOAP layer's own fuzz covers it
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, MediaServicePath, strings.NewReader(body))
		req.Host = "192.0.2.1"
		ep.ServeHTTP(rec, req)
		r := parseResult(t, rec.Code, rec.Body.Bytes())
		if rec.Code != http.StatusOK && !strings.Contains(r.codes(), "/") {
			t.Fatalf("%s: internal error %d %q\n%s", op, rec.Code, r.codes(), rec.Body)
		}
	})
}
