// Package onvif implements the ONVIF Profile S services of one virtual
// device: the device model shared by all services (identity, persisted
// settable state), the device management service, the media service (ver10)
// and the events service with its event engine. Each service is a
// soap.Service value (DeviceService, MediaService, EventsService) that the
// caller serves on one soap.Endpoint. Every camera the bridge serves is one
// Device with its own endpoint.
package onvif

import (
	"fmt"
	"net"
	"net/url"
	"runtime/debug"
	"strings"

	"github.com/google/uuid"
)

// Default identity strings of every virtual device.
const (
	// DefaultManufacturer is reported by GetDeviceInformation.
	DefaultManufacturer = "Chinesium"
	// DefaultModel is reported by GetDeviceInformation and the hardware scope.
	DefaultModel = "IWFCam-xTEG"
	// DefaultHardwareID is reported as HardwareId by GetDeviceInformation.
	DefaultHardwareID = "xTEG-640x480"
)

// Namespace is the UUID namespace of the version 5 UUIDs derived from camera
// identities. It is itself the v5 UUID of the project URL, so it never
// changes.
var Namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/chinesium/chinesium"))

// Device is one virtual ONVIF device (one camera). The identity fields are
// fixed for the life of the process and derived from the camera's identity
// so they stay the same across restarts; Store holds what clients may
// change. All services of the device read it; none of them modify the
// identity fields after the device has started serving.
type Device struct {
	// Name is the camera's human name (name scope, profile names).
	Name string
	// Manufacturer, Model, Firmware, Serial and HardwareID are reported by
	// GetDeviceInformation.
	Manufacturer, Model, Firmware, Serial, HardwareID string
	// UUID is the v5 UUID derived from the camera identity: the WS-Discovery
	// endpoint reference is "urn:uuid:" + UUID.
	UUID uuid.UUID
	// MAC is a stable locally administered unicast MAC derived from UUID,
	// reported by GetNetworkInterfaces and the mac scope.
	MAC net.HardwareAddr
	// Store holds the persisted settable state (scopes, users, profiles,
	// discovery mode, hostname). Never nil on a served device.
	Store *Store
	// Media builds the stream and snapshot URLs that GetStreamUri and
	// GetSnapshotUri return.
	Media MediaURLs
	// HasAudio reports that the camera's audio is served (audio source and
	// G.711 encoder configurations exist).
	HasAudio bool
	// HasH264 reports that the RTSP server can serve an H.264 transcode, so
	// the fixed H.264 profile exists.
	HasH264 bool
	// FrameRate returns the frames per second the named video stream
	// ("jpeg" or "h264") carries now, 0 while it is not known. An encoder
	// configuration without a frame-rate limit reports it, rounded, as its
	// FrameRateLimit, and an H.264 one without a GOV length one second's
	// worth of frames as its GovLength, so that both are what is served.
	// May be nil (NativeFPS is reported).
	FrameRate func(video string) float64
	// Reboot restarts the camera session (SystemReboot). May be nil.
	Reboot func()
	// HTTPPort is the port of this device's HTTP endpoint (ONVIF services,
	// MJPEG, snapshot); RTSPPort is the port of the RTSP server. Both are
	// reported by GetNetworkProtocols. Service XAddrs are built from the
	// Host header the client used, not from these.
	HTTPPort, RTSPPort int
}

// MediaURLs builds the URLs of a device's streams. host is the host the
// client used to reach the ONVIF service (the Host header without its port;
// an IPv6 literal keeps its brackets), so the answer is reachable the same
// way.
type MediaURLs interface {
	// StreamURI returns the RTSP URL of the named video stream ("jpeg" or
	// "h264"). transport is the requested ONVIF transport protocol ("UDP",
	// "TCP", "RTSP" or "HTTP"); all of them are served on the same RTSP
	// port, HTTP by RTSP-over-HTTP tunnelling.
	StreamURI(host, video, transport string) (string, error)
	// SnapshotURI returns the HTTP URL of the latest JPEG frame.
	SnapshotURI(host string) (string, error)
}

// Identity is the stable identity derived from a camera id.
type Identity struct {
	UUID   uuid.UUID
	MAC    net.HardwareAddr
	Serial string
}

// NewIdentity derives a device's UUID, MAC and serial number from a camera
// identity string: the camera's IP address or a configured id. The same id
// always gives the same identity.
func NewIdentity(id string) Identity {
	u := uuid.NewSHA1(Namespace, []byte("camera:"+id))
	mac := make(net.HardwareAddr, 6)
	copy(mac[1:], u[10:15])
	mac[0] = 0x02 // locally administered, unicast
	return Identity{
		UUID:   u,
		MAC:    mac,
		Serial: fmt.Sprintf("CHN-%X", u[:6]),
	}
}

// NewDevice returns a device with the default manufacturer, model and
// hardware id, the program version as firmware and the identity derived
// from id. The caller sets Store, Media, ports and flags.
func NewDevice(name, id string) *Device {
	ident := NewIdentity(id)
	return &Device{
		Name:         name,
		Manufacturer: DefaultManufacturer,
		Model:        DefaultModel,
		Firmware:     Version(),
		Serial:       ident.Serial,
		HardwareID:   DefaultHardwareID,
		UUID:         ident.UUID,
		MAC:          ident.MAC,
	}
}

// Version returns the program's module version, or "dev" when built from a
// work tree.
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// EndpointReference returns the WS-Addressing endpoint reference address of
// the device, "urn:uuid:<UUID>".
func (d *Device) EndpointReference() string { return "urn:uuid:" + d.UUID.String() }

// FixedScopes returns the scopes that clients cannot remove: Profile S, the
// type scopes, hardware, name and mac. Configurable scopes (for example
// location) live in Store.
func (d *Device) FixedScopes() []string {
	s := []string{
		"onvif://www.onvif.org/Profile/Streaming",
		"onvif://www.onvif.org/type/video_encoder",
	}
	if d.HasAudio {
		s = append(s, "onvif://www.onvif.org/type/audio_encoder")
	}
	s = append(s,
		"onvif://www.onvif.org/type/Network_Video_Transmitter",
		"onvif://www.onvif.org/hardware/"+scopeSegment(d.Model),
		"onvif://www.onvif.org/name/"+scopeSegment(d.Name),
		"onvif://www.onvif.org/mac/"+d.MAC.String(),
	)
	return s
}

// Scopes returns the fixed scopes followed by the configurable ones.
func (d *Device) Scopes() []string {
	return append(d.FixedScopes(), d.Store.Get().Scopes...)
}

// DefaultScopes are the configurable scopes of a new device (and after a
// factory reset).
func DefaultScopes() []string {
	return []string{"onvif://www.onvif.org/location/unknown"}
}

// scopeSegment makes s one path segment of a scope URI: spaces and slashes
// percent-encoded.
func scopeSegment(s string) string {
	if s == "" {
		return "unnamed"
	}
	return strings.ReplaceAll(url.PathEscape(s), "+", "%2B")
}
