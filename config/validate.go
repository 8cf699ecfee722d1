package config

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"time"
	"unicode"

	"github.com/chinesium/chinesium/motion"
	"github.com/chinesium/chinesium/onvif"
	"github.com/chinesium/chinesium/rtsp"
)

// Limits of Validate.
const (
	// MaxNameLength bounds a camera's name and id.
	MaxNameLength = 64
	// MaxMotionHold bounds motion.hold.
	MaxMotionHold = time.Hour
	// MaxMemoryLimitMiB bounds memory_limit_mib (1 TiB).
	MaxMemoryLimitMiB = 1 << 20
	// MaxTokenWindow bounds onvif.token_window: a day covers any clock
	// set to the wrong time zone.
	MaxTokenWindow = 24 * time.Hour
	// MinScanInterval and MaxScanInterval bound scan.interval.
	MinScanInterval = time.Second
	MaxScanInterval = 24 * time.Hour
	// maxInterfaceName is IFNAMSIZ - 1 on Linux.
	maxInterfaceName = 15
)

// Validate checks every key and returns all problems found, one per line,
// each naming the key and its value and saying where the value came from:
//
//	cameras[2].ip: "10.0.0.300" is not an IPv4 address (chinesium.yaml line 9)
func (c Config) Validate() error {
	v := validator{c: &c}
	v.listen()
	v.cameras()
	v.users()
	if c.FFmpeg != "" {
		if _, err := exec.LookPath(c.FFmpeg); err != nil {
			v.bad("ffmpeg", "%q is not an executable program (%v)", c.FFmpeg, errors.Unwrap(err))
		}
	}
	v.motion()
	if c.MemoryLimitMiB < 0 || c.MemoryLimitMiB > MaxMemoryLimitMiB {
		v.bad("memory_limit_mib", "%d is not between 0 (no limit) and %d", c.MemoryLimitMiB, MaxMemoryLimitMiB)
	}
	for i, p := range c.ONVIF.PushConsumers {
		if _, ok := prefix(p); !ok {
			v.bad(fmt.Sprintf("onvif.push_consumers[%d]", i), "%q is not an IP address or a network such as 192.168.1.0/24", p)
		}
	}
	if w := c.ONVIF.TokenWindow; w < time.Second || w > MaxTokenWindow {
		v.bad("onvif.token_window", "%v is not between 1s and %v", w, MaxTokenWindow)
	}
	v.discovery()
	v.scan()
	if c.StateDir != "" {
		if fi, err := os.Stat(c.StateDir); err == nil && !fi.IsDir() {
			v.bad("state_dir", "%q is not a directory", c.StateDir)
		}
	}
	switch c.Log.Format {
	case LogText, LogJSON:
	default:
		v.bad("log.format", "%q is not %s or %s", c.Log.Format, LogText, LogJSON)
	}
	if _, ok := ParseLevel(c.Log.Level); !ok {
		v.bad("log.level", "%q is not debug, info, warn or error", c.Log.Level)
	}
	return errors.Join(v.errs...)
}

// validator collects Validate's problems.
type validator struct {
	c    *Config
	errs []error
}

// bad records a problem with key, naming where its value came from: the
// origin of the key or of the nearest enclosing key that has one.
func (v *validator) bad(key, format string, args ...any) {
	msg := key + ": " + fmt.Sprintf(format, args...)
	for k := key; k != ""; k = parentKey(k) {
		if o := v.c.origin[k]; o != "" {
			msg += " (" + o + ")"
			break
		}
	}
	v.errs = append(v.errs, errors.New(msg))
}

// parentKey returns the key enclosing key: listen for listen.bind,
// cameras[2] for cameras[2].ip, cameras for cameras[2], "" at the top.
func parentKey(key string) string {
	if strings.HasSuffix(key, "]") {
		return key[:strings.LastIndexByte(key, '[')]
	}
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[:i]
	}
	return ""
}

// endpoint is a TCP port a server listens on, for the clash checks.
type endpoint struct {
	key  string
	addr netip.Addr // invalid or unspecified: all addresses
	port int
}

func (e endpoint) overlaps(o endpoint) bool {
	all := func(a netip.Addr) bool { return !a.IsValid() || a.IsUnspecified() }
	return e.port == o.port && (all(e.addr) || all(o.addr) || e.addr == o.addr)
}

// ports returns the fixed ports of the bridge: RTSP and admin.
func (v *validator) ports() []endpoint {
	c := v.c
	bind, _ := netip.ParseAddr(c.Listen.Bind)
	eps := []endpoint{{key: "listen.rtsp_port", addr: bind, port: c.Listen.RTSPPort}}
	if c.Listen.AdminPort != 0 {
		eps = append(eps, endpoint{key: "listen.admin_port", addr: bind, port: c.Listen.AdminPort})
	}
	return eps
}

func (v *validator) listen() {
	l := v.c.Listen
	if l.Bind != "" {
		if a, err := netip.ParseAddr(l.Bind); err != nil || !a.Is4() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			v.bad("listen.bind", "%q is not a local IPv4 address (leave it empty for all interfaces)", l.Bind)
		}
	}
	if !validPort(l.HTTPBasePort) {
		v.bad("listen.http_base_port", "%d is not a port number (1-65535)", l.HTTPBasePort)
	} else if last := l.HTTPBasePort + len(v.c.Cameras) - 1; last > 65535 {
		v.bad("listen.http_base_port", "%d leaves no port for camera %d (it would need %d)", l.HTTPBasePort, len(v.c.Cameras), last)
	}
	if !validPort(l.RTSPPort) {
		v.bad("listen.rtsp_port", "%d is not a port number (1-65535)", l.RTSPPort)
	}
	if n := len(v.c.Cameras); n > 0 && validPort(l.HTTPBasePort) {
		for _, o := range v.ports() {
			if o.port >= l.HTTPBasePort && o.port < l.HTTPBasePort+n {
				v.bad("listen.http_base_port", "%d gives the cameras the ports %d-%d, and %s is %d", l.HTTPBasePort, l.HTTPBasePort, l.HTTPBasePort+n-1, o.key, o.port)
			}
		}
	}
	if l.AdminPort != 0 && !validPort(l.AdminPort) {
		v.bad("listen.admin_port", "%d is not a port number (1-65535; 0 turns the admin server off)", l.AdminPort)
	} else if l.AdminPort == l.RTSPPort {
		v.bad("listen.admin_port", "%d is the RTSP port too", l.AdminPort)
	}
}

func validPort(p int) bool { return p >= 1 && p <= 65535 }

func (v *validator) cameras() {
	c := v.c
	if len(c.Cameras) == 0 && !c.Scan.Enabled {
		v.bad("cameras", "no camera configured: list them under cameras: in the configuration file, give their IPs on the command line (chinesium serve 10.10.1.30) or in %s (chinesium discover finds them), or turn scan.enabled on (serve -discover)", EnvName(KeyCameras))
		return
	}
	fixed := v.ports()
	names := map[string]string{}
	ids := map[string]string{}
	for i, cam := range c.Cameras {
		at := fmt.Sprintf("cameras[%d]", i)
		ip, err := netip.ParseAddr(cam.IP)
		if err != nil || !ip.Is4() || ip.IsUnspecified() || ip.IsMulticast() || ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			if cam.IP == "" {
				v.bad(at+".ip", "missing: every camera needs its IPv4 address")
			} else {
				v.bad(at+".ip", "%q is not an IPv4 address", cam.IP)
			}
			continue
		}
		name := cam.Name
		if name == "" {
			name = "cam-" + strings.ReplaceAll(ip.String(), ".", "-")
		} else if len(name) > MaxNameLength || strings.ContainsFunc(name, unicode.IsControl) {
			v.bad(at+".name", "%q is not a name of at most %d printable characters", cam.Name, MaxNameLength)
		}
		if other, dup := names[rtsp.PathName(name)]; dup {
			v.bad(at+".name", "%q gives the same RTSP path, /%s/, as %s", name, rtsp.PathName(name), other)
		}
		names[rtsp.PathName(name)] = at
		id, idKey := cam.ID, at+".id"
		if id == "" {
			id, idKey = ip.String(), at+".ip"
		} else if len(id) > MaxNameLength || strings.ContainsFunc(id, unicode.IsControl) {
			v.bad(idKey, "%q is not an identity of at most %d printable characters", cam.ID, MaxNameLength)
		}
		if other, dup := ids[id]; dup {
			v.bad(idKey, "%q is the identity of %s already (two cameras cannot be the same device; give one an id)", id, other)
		}
		ids[id] = at
		var bind netip.Addr
		if cam.Bind != "" {
			bind, err = netip.ParseAddr(cam.Bind)
			if err != nil || !bind.Is4() || bind.IsUnspecified() || bind.IsMulticast() {
				v.bad(at+".bind", "%q is not a local IPv4 address of this machine", cam.Bind)
			}
		} else {
			bind, _ = netip.ParseAddr(c.Listen.Bind)
		}
		v.rtspAccess(at, cam)
		if cam.HTTPPort != 0 {
			ep := endpoint{key: at + ".http_port", addr: bind, port: cam.HTTPPort}
			if !validPort(cam.HTTPPort) {
				v.bad(ep.key, "%d is not a port number (1-65535; 0 picks one)", cam.HTTPPort)
				continue
			}
			for _, o := range fixed {
				if ep.overlaps(o) {
					v.bad(ep.key, "port %d is taken by %s already", cam.HTTPPort, o.key)
					break
				}
			}
			fixed = append(fixed, ep)
		}
	}
}

// rtspAccess checks cameras[i].rtsp_access and rtsp_access_from.
func (v *validator) rtspAccess(at string, cam Camera) {
	switch cam.RTSPAccess {
	case "", RTSPCredentials, RTSPAnonymous:
	default:
		v.bad(at+".rtsp_access", "%q is neither %s nor %s", cam.RTSPAccess, RTSPCredentials, RTSPAnonymous)
	}
	for j, s := range cam.RTSPAccessFrom {
		if _, ok := prefix(s); !ok {
			v.bad(fmt.Sprintf("%s.rtsp_access_from[%d]", at, j), "%q is not an IP address or a network such as 192.168.1.0/24", s)
		}
	}
	if len(cam.RTSPAccessFrom) > 0 && cam.RTSPAccess != RTSPAnonymous {
		v.bad(at+".rtsp_access_from", "lists the clients let in without credentials, which needs rtsp_access: %s", RTSPAnonymous)
	}
}

func (v *validator) users() {
	seen := map[string]int{}
	for i, u := range v.c.Users {
		at := fmt.Sprintf("users[%d]", i)
		switch {
		case u.Name == "":
			v.bad(at+".name", "missing: every user needs a name")
		case len(u.Name) > onvif.MaxUserNameLength || strings.ContainsFunc(u.Name, unicode.IsControl) || strings.Contains(u.Name, ":"):
			v.bad(at+".name", "%q is not a user name of at most %d printable characters without ':'", u.Name, onvif.MaxUserNameLength)
		default:
			if j, dup := seen[u.Name]; dup {
				v.bad(at+".name", "%q is users[%d] already", u.Name, j)
			}
			seen[u.Name] = i
		}
		switch {
		case u.Password == "":
			v.bad(at+".password", "missing: every user needs a password")
		case len(u.Password) > onvif.MaxPasswordLength:
			v.bad(at+".password", "longer than %d characters", onvif.MaxPasswordLength)
		}
		switch u.Level {
		case "", onvif.LevelAdministrator, onvif.LevelOperator, onvif.LevelUser:
		default:
			v.bad(at+".level", "%q is not %s, %s or %s", u.Level, onvif.LevelAdministrator, onvif.LevelOperator, onvif.LevelUser)
		}
	}
}

func (v *validator) motion() {
	m := v.c.Motion
	if m.Sensitivity < motion.MinSensitivity || m.Sensitivity > motion.MaxSensitivity {
		v.bad("motion.sensitivity", "%d is not between %d and %d", m.Sensitivity, motion.MinSensitivity, motion.MaxSensitivity)
	}
	if m.Hold <= 0 || m.Hold > MaxMotionHold {
		v.bad("motion.hold", "%v is not between 0s and %v", m.Hold, MaxMotionHold)
	}
}

func (v *validator) discovery() {
	d := v.c.Discovery
	seen := map[string]bool{}
	for i, name := range d.Interfaces {
		if name == "" || len(name) > maxInterfaceName || strings.ContainsFunc(name, func(r rune) bool { return r == '/' || unicode.IsSpace(r) || unicode.IsControl(r) }) {
			v.bad(fmt.Sprintf("discovery.interfaces[%d]", i), "%q is not a network interface name such as eth0", name)
		} else if seen[name] {
			v.bad(fmt.Sprintf("discovery.interfaces[%d]", i), "%q is listed twice", name)
		}
		seen[name] = true
	}
	if len(d.Interfaces) > 0 && !d.Enabled {
		v.bad("discovery.interfaces", "set while discovery.enabled is false")
	}
}

func (v *validator) scan() {
	s := v.c.Scan
	if a, err := netip.ParseAddrPort(s.Broadcast); err != nil || !a.Addr().Is4() || a.Addr().IsUnspecified() || a.Port() == 0 {
		v.bad("scan.broadcast", "%q is not an IPv4 address and port such as 192.168.1.255:10104", s.Broadcast)
	}
	if s.Interval < MinScanInterval || s.Interval > MaxScanInterval {
		v.bad("scan.interval", "%v is not between %v and %v", s.Interval, MinScanInterval, MaxScanInterval)
	}
}
