package stream

import (
	"net"
	"strconv"
	"strings"
)

// Paths of the endpoints Camera.Register adds, relative to the router.
const (
	// MJPEGPath is the multipart/x-mixed-replace MJPEG stream (browsers'
	// <img>, VLC, ffmpeg).
	MJPEGPath = "/stream.mjpeg"
	// RawMJPEGPath is the stream as concatenated JPEGs (ffmpeg -f mjpeg).
	RawMJPEGPath = "/raw.mjpeg"
	// SnapshotPath is the newest frame as a JPEG.
	SnapshotPath = "/snapshot.jpg"
	// AudioPath is the camera's audio as an endless WAV.
	AudioPath = "/audio.wav"
)

// URL returns the http URL of path (one of the paths above) on a camera
// served at host (a name, an IPv4 address, or an IPv6 address with or
// without brackets) and port.
func URL(host string, port int, path string) string {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return "http://" + net.JoinHostPort(host, strconv.Itoa(port)) + path
}
