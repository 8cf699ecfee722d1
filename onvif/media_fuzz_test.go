package onvif

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/wsdl"
)

// FuzzMediaRequest feeds arbitrary request elements to every media
// handler: a handler must answer a response or a media fault, never panic,
// and a response must serialize.
func FuzzMediaRequest(f *testing.F) {
	for _, op := range append(append([][2]string{}, readOps...), writeOps...) {
		f.Add(op[0], op[1])
	}
	f.Add("SetVideoEncoderConfiguration", `<trt:Configuration token="jpeg_enc"><tt:Encoding>JPEG</tt:Encoding><tt:Quality>NaN</tt:Quality></trt:Configuration>`)
	f.Add("CreateProfile", `<trt:Name>`+strings.Repeat("x", 70)+`</trt:Name><trt:Token>a b</trt:Token>`)
	f.Add("GetStreamUri", `<trt:StreamSetup/><trt:ProfileToken/>`)
	names := make([]string, 0, len(mediaHandlers))
	for name := range mediaHandlers {
		names = append(names, name)
	}
	slices.Sort(names)
	f.Fuzz(func(t *testing.T, op, inner string) {
		h, ok := mediaHandlers[op]
		if !ok {
			if op == "" {
				return
			}
			// Spread unknown names over the real handlers.
			name := names[int(op[0])%len(names)]
			h, op = mediaHandlers[name], name
		}
		doc := etree.NewDocument()
		src := `<trt:` + op + ` xmlns:trt="` + wsdl.NSMedia + `" xmlns:tt="` + wsdl.NSSchema + `">` + inner + `</trt:` + op + `>`
		if err := doc.ReadFromString(src); err != nil || doc.Root() == nil {
			return
		}
		d := NewDevice("fuzz", "127.0.5.99")
		d.Store, _ = OpenStore("")
		d.Media = testURLs{}
		d.HasAudio, d.HasH264 = len(inner)%2 == 0, len(inner)%3 == 0
		resp, err := h(&Media{Device: d}, &call{body: doc.Root(), host: "192.0.2.1"})
		if err != nil {
			var mf *mediaFault
			if !errors.As(err, &mf) {
				t.Fatalf("%s: error %v is not a media fault", op, err)
			}
			return
		}
		out := etree.NewDocument()
		out.SetRoot(resp)
		if _, err := out.WriteToString(); err != nil {
			t.Fatalf("%s: response does not serialize: %v", op, err)
		}
	})
}
