package config

import (
	"bytes"
	_ "embed"
	"text/template"

	"github.com/chinesium/chinesium/motion"
	"github.com/chinesium/chinesium/rtsp"
)

// exampleTemplate is the commented example file; Default() fills in the
// values, so the example shows the defaults without repeating them.
//
//go:embed example.yaml.tmpl
var exampleTemplate string

// Example returns a commented configuration file with every key, its
// default and what it does, and two cameras; Load accepts it as is.
func Example() []byte {
	t := template.Must(template.New("example").Option("missingkey=error").Parse(exampleTemplate))
	var b bytes.Buffer
	err := t.Execute(&b, struct {
		Config
		DefaultFFmpeg                  string
		MinSensitivity, MaxSensitivity int
		LogText, LogJSON               string
	}{Default(), rtsp.DefaultFFmpeg, motion.MinSensitivity, motion.MaxSensitivity, LogText, LogJSON})
	if err != nil {
		panic("config: example: " + err.Error())
	}
	return b.Bytes()
}
