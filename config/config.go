// Package config is chinesium's configuration: one typed Config filled, in
// increasing order of precedence, by the defaults (Default), a YAML file,
// CHINESIUM_* environment variables and the command line (see Load); one
// Validate whose errors name the bad key, its value and where it came
// from; and the translation into the bridge's configuration (Bridge).
//
// Keys are the YAML names joined by dots (listen.rtsp_port), list items
// with their index from 0 (cameras[2].ip). Every key outside the camera
// and user lists is also an environment variable: CHINESIUM_ and the key
// in capitals with '_' for '.' (CHINESIUM_LISTEN_RTSP_PORT).
//
// Defaults belong to the packages that use them (bridge.DefaultRTSPPort,
// motion.DefaultHold, ...); Default only collects them. Unlike the
// libraries' Config structs, whose zero values mean their defaults, a
// Config here always holds explicit values: a file is decoded onto
// Default(), so a key the file leaves out keeps its default, and the
// example file shows the real defaults.
package config

import (
	"time"

	"github.com/chinesium/chinesium/admin"
	"github.com/chinesium/chinesium/bridge"
	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/motion"
	"github.com/chinesium/chinesium/soap"
)

// DefaultMemoryLimitMiB is the default memory_limit_mib: far above what
// the bridge needs (tens of MB for a few dozen cameras), far below what
// would hurt a small host; raise it for a few hundred cameras.
const DefaultMemoryLimitMiB = 256

// Log formats (log.format).
const (
	LogText = "text"
	LogJSON = "json"
)

// Config is the whole configuration. Field names are the Go spelling of
// the yaml keys; each comment says what the key does and its default.
type Config struct {
	// Cameras are the cameras to serve, in order. At least one is needed.
	Cameras []Camera `yaml:"cameras"`
	// Users may log in to every camera: ONVIF, RTSP and the HTTP streams.
	// ONVIF clients cannot change or delete them. No users (the default)
	// leaves everything open to anyone who can reach the ports.
	Users []User `yaml:"users"`
	// Listen is where the bridge's servers listen.
	Listen Listen `yaml:"listen"`
	// Audio is every camera's audio setting unless the camera has its own:
	// ask the camera for audio and serve it (G.711 over RTSP, WAV over
	// HTTP). It defaults to false.
	Audio bool `yaml:"audio"`
	// H264 is every camera's H.264 setting unless the camera has its own:
	// offer the H.264 profile and RTSP stream, transcoded by ffmpeg (only
	// when ffmpeg can encode H.264). It defaults to true.
	H264 bool `yaml:"h264"`
	// FFmpeg is the ffmpeg executable of the H.264 transcode. It defaults
	// to rtsp.DefaultFFmpeg, looked up in PATH.
	FFmpeg string `yaml:"ffmpeg"`
	// Motion configures the motion detection behind the motion events.
	Motion Motion `yaml:"motion"`
	// Discovery configures WS-Discovery, which announces the cameras to
	// NVRs.
	Discovery Discovery `yaml:"discovery"`
	// Scan finds the cameras on the LAN and serves them (serve
	// -discover).
	Scan Scan `yaml:"scan"`
	// ONVIF configures the ONVIF services.
	ONVIF ONVIF `yaml:"onvif"`
	// RTSP configures the RTSP server.
	RTSP RTSP `yaml:"rtsp"`
	// StateDir holds what ONVIF clients change (users, scopes, profiles,
	// ...), one file per camera. "" (the default) means
	// bridge.DefaultStateDir(): $XDG_STATE_HOME/chinesium or
	// ~/.local/state/chinesium.
	StateDir string `yaml:"state_dir"`
	// MemoryLimitMiB is the process's soft memory limit in MiB
	// (runtime/debug.SetMemoryLimit): near it the garbage collector works
	// harder and gives memory back sooner, so that a burst (a flood of
	// requests) does not leave the process large. 0 means none;
	// GOMEMLIMIT in the environment takes precedence. It defaults to
	// DefaultMemoryLimitMiB.
	MemoryLimitMiB int `yaml:"memory_limit_mib"`
	// Log configures the log on stderr.
	Log Log `yaml:"log"`

	// origin says where each key set so far came from, for error
	// messages: "chinesium.yaml line 12", "CHINESIUM_LISTEN_BIND", "-bind".
	origin map[string]string
}

// Camera is one camera.
type Camera struct {
	// IP is the camera's IPv4 address. Required.
	IP string `yaml:"ip"`
	// Name is the camera's display name, used in its RTSP path and ONVIF
	// name scope. "" (the default) means "cam-" and the IP with dashes.
	Name string `yaml:"name"`
	// ID is the identity the device's ONVIF UUID, serial number and MAC
	// derive from. "" (the default) means the IP; set it to keep the
	// identity (and the NVR's recordings) when the camera's IP changes.
	ID string `yaml:"id"`
	// Bind is a local IPv4 address of this camera's own (ONVIF, HTTP and
	// RTSP), for NVRs that tell devices apart by IP (UniFi Protect). ""
	// (the default) means listen.bind.
	Bind string `yaml:"bind"`
	// HTTPPort is this camera's HTTP port (ONVIF, MJPEG, snapshot). 0 (the
	// default) means the lowest port from listen.http_base_port up that no
	// other camera uses.
	HTTPPort int `yaml:"http_port"`
	// Audio overrides the top-level audio for this camera; nil (the
	// default) takes it.
	Audio *bool `yaml:"audio"`
	// H264 overrides the top-level h264 for this camera; nil (the default)
	// takes it.
	H264 *bool `yaml:"h264"`
	// RTSPAccess is who may read this camera's RTSP streams and snapshot:
	// RTSPCredentials ("", the default) asks every client for the users'
	// credentials; RTSPAnonymous lets clients in without them (with
	// RTSPAccessFrom, only those clients), for NVRs that never send RTSP
	// credentials (UniFi Protect). ONVIF and the MJPEG and WAV streams
	// always need credentials.
	RTSPAccess string `yaml:"rtsp_access"`
	// RTSPAccessFrom limits RTSPAnonymous to these client addresses
	// (192.168.1.20) and networks (192.168.1.0/24); other clients must
	// log in. Empty (the default) means every client.
	RTSPAccessFrom []string `yaml:"rtsp_access_from"`
	// Per-camera settings of other parts (recording) are added here.
}

// User is a user who may log in to every camera.
type User struct {
	// Name is the user name. Required.
	Name string `yaml:"name"`
	// Password is the user's password. Required.
	Password string `yaml:"password"`
	// Level is the ONVIF user level: Administrator, Operator or User. ""
	// (the default) means Administrator.
	Level string `yaml:"level"`
}

// Listen is where the servers listen.
type Listen struct {
	// Bind is the IPv4 address every server listens on; "" (the default)
	// means all interfaces.
	Bind string `yaml:"bind"`
	// HTTPBasePort is the first camera's HTTP port; the next cameras take
	// the next free ports. It defaults to bridge.DefaultHTTPBasePort.
	HTTPBasePort int `yaml:"http_base_port"`
	// RTSPPort is the port of the RTSP server all cameras share. It
	// defaults to bridge.DefaultRTSPPort.
	RTSPPort int `yaml:"rtsp_port"`
	// AdminPort is the port of the admin web server (web page, /metrics,
	// /healthz, /api/cameras) on Bind; 0 turns it off. It defaults to
	// admin.DefaultPort.
	AdminPort int `yaml:"admin_port"`
}

// Motion configures motion detection.
type Motion struct {
	// Enabled turns motion detection on; off, no frame is decoded and the
	// motion events stay false. It defaults to true.
	Enabled bool `yaml:"enabled"`
	// Sensitivity goes from motion.MinSensitivity (only large, strong
	// changes) to motion.MaxSensitivity (small, faint ones). It defaults
	// to motion.DefaultSensitivity.
	Sensitivity int `yaml:"sensitivity"`
	// Hold is how long motion stays on after it was last seen. It
	// defaults to motion.DefaultHold.
	Hold time.Duration `yaml:"hold"`
}

// Discovery configures WS-Discovery.
type Discovery struct {
	// Enabled announces the cameras with WS-Discovery (multicast) so that
	// NVRs find them. It defaults to true.
	Enabled bool `yaml:"enabled"`
	// Interfaces limits WS-Discovery to these network interfaces; empty
	// (the default) means every multicast interface, re-scanned.
	Interfaces []string `yaml:"interfaces"`
}

// Scan configures the camera scan: the port request that chinesium
// discover broadcasts, repeated, and every camera that answers served
// under its own identity.
type Scan struct {
	// Enabled looks for cameras with the broadcast port request at start
	// and every Interval, and serves each camera that answers and is not
	// in cameras, named and identified by its UID (so that it stays the
	// same device when its address changes). Then cameras may be empty.
	// It defaults to false.
	Enabled bool `yaml:"enabled"`
	// Broadcast is the IPv4 address and port the request goes to; the
	// port is the cameras' control port. It defaults to
	// camsession.DefaultBroadcast (255.255.255.255:10104); on a host with
	// several interfaces give the cameras' subnet broadcast, e.g.
	// 192.168.1.255:10104.
	Broadcast string `yaml:"broadcast"`
	// Interval is the time between two scans. It defaults to
	// bridge.DefaultScanInterval.
	Interval time.Duration `yaml:"interval"`
}

// ONVIF configures the ONVIF services.
type ONVIF struct {
	// StrictAuthFaults answers an unauthenticated CreateProfile with
	// NotAuthorized like every other request; by default (false) it gets
	// a MaxNVTProfiles fault, which Synology Surveillance Station needs.
	StrictAuthFaults bool `yaml:"strict_auth_faults"`
	// TokenWindow is how far a WS-Security UsernameToken's Created may be
	// from the host clock, either way. Every token's nonce is remembered
	// for that long so that none is accepted twice. It defaults to
	// soap.DefaultMaxSkew (5 min); widen it only for a client that signs
	// with its own clock and cannot keep it within the window.
	TokenWindow time.Duration `yaml:"token_window"`
	// PushConsumers are the addresses (192.168.1.20) and networks
	// (192.168.1.0/24), besides the subscriber's own address, that push
	// event notifications (Subscribe) may be sent to. Empty (the default)
	// allows only an address of the host that subscribes.
	PushConsumers []string `yaml:"push_consumers"`
}

// Values of cameras[i].rtsp_access.
const (
	RTSPCredentials = "credentials"
	RTSPAnonymous   = "anonymous"
)

// RTSP configures the RTSP server.
type RTSP struct {
	// BasicAuth accepts HTTP Basic credentials on RTSP (and offers them
	// in the challenge) beside Digest, for NVRs that only do Basic.
	// Basic over plain RTSP sends the password in clear text to anyone
	// on the path, so it is off by default.
	BasicAuth bool `yaml:"basic_auth"`
}

// Log configures logging.
type Log struct {
	// Format is LogText (the default) or LogJSON.
	Format string `yaml:"format"`
	// Level is the lowest level logged: debug, info (the default), warn
	// or error.
	Level string `yaml:"level"`
}

// Default returns the configuration with every default and no camera.
func Default() Config {
	return Config{
		Listen: Listen{
			HTTPBasePort: bridge.DefaultHTTPBasePort,
			RTSPPort:     bridge.DefaultRTSPPort,
			AdminPort:    admin.DefaultPort,
		},
		H264: true,
		Motion: Motion{
			Enabled:     true,
			Sensitivity: motion.DefaultSensitivity,
			Hold:        motion.DefaultHold,
		},
		Discovery: Discovery{Enabled: true},
		Scan:      Scan{Broadcast: camsession.DefaultBroadcast.String(), Interval: bridge.DefaultScanInterval},
		ONVIF:     ONVIF{TokenWindow: soap.DefaultMaxSkew},
		Log:       Log{Format: LogText, Level: "info"},

		MemoryLimitMiB: DefaultMemoryLimitMiB,
	}
}
