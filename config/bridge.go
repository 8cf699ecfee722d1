package config

import (
	"log/slog"
	"net/netip"
	"slices"
	"strings"

	"github.com/chinesium/chinesium/bridge"
	"github.com/chinesium/chinesium/motion"
	"github.com/chinesium/chinesium/onvif"
	"github.com/chinesium/chinesium/onvif/discovery"
)

// Bridge returns the bridge configuration c describes, without Logger
// and Session (the caller's to set). c must have passed Validate.
func (c Config) Bridge() bridge.Config {
	bc := bridge.Config{
		Bind:             addr(c.Listen.Bind),
		HTTPBasePort:     c.Listen.HTTPBasePort,
		RTSPPort:         c.Listen.RTSPPort,
		AdminPort:        c.Listen.AdminPort,
		NoAdmin:          c.Listen.AdminPort == 0,
		StateDir:         c.StateDir,
		FFmpeg:           c.FFmpeg,
		Motion:           motion.Config{Hold: c.Motion.Hold}.WithSensitivity(c.Motion.Sensitivity),
		NoMotion:         !c.Motion.Enabled,
		StrictAuthFaults: c.ONVIF.StrictAuthFaults,
		TokenWindow:      c.ONVIF.TokenWindow,
		RTSPBasicAuth:    c.RTSP.BasicAuth,
	}
	for _, s := range c.ONVIF.PushConsumers {
		if p, ok := prefix(s); ok {
			bc.PushConsumers = append(bc.PushConsumers, p)
		}
	}
	if c.Scan.Enabled {
		bc.Scan = &bridge.ScanConfig{Interval: c.Scan.Interval}
		bc.Scan.Broadcast, _ = netip.ParseAddrPort(c.Scan.Broadcast)
	}
	if c.Discovery.Enabled {
		bc.Discovery = &discovery.Config{Interfaces: slices.Clone(c.Discovery.Interfaces)}
	}
	for _, u := range c.Users {
		if u.Level == "" {
			u.Level = onvif.LevelAdministrator
		}
		bc.Users = append(bc.Users, onvif.User{Name: u.Name, Password: u.Password, Level: u.Level})
	}
	for _, cam := range c.Cameras {
		audio, h264 := c.Audio, c.H264
		if cam.Audio != nil {
			audio = *cam.Audio
		}
		if cam.H264 != nil {
			h264 = *cam.H264
		}
		bc.Cameras = append(bc.Cameras, bridge.CameraConfig{
			IP:            addr(cam.IP),
			Name:          cam.Name,
			ID:            cam.ID,
			BindIP:        addr(cam.Bind),
			HTTPPort:      cam.HTTPPort,
			Audio:         audio,
			NoH264:        !h264,
			RTSPAnonymous: anonymous(cam),
		})
	}
	return bc
}

// ParseLevel returns the slog level named by log.level (debug, info, warn
// or error, in any case).
func ParseLevel(s string) (slog.Level, bool) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, true
	case "info":
		return slog.LevelInfo, true
	case "warn":
		return slog.LevelWarn, true
	case "error":
		return slog.LevelError, true
	}
	return 0, false
}

// addr parses a validated address; "" gives the zero Addr.
// prefix parses an IP address (a network of one) or a network in CIDR
// notation.
func prefix(s string) (netip.Prefix, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), true
	}
	p, err := netip.ParsePrefix(s)
	return p.Masked(), err == nil
}

func addr(s string) netip.Addr {
	a, _ := netip.ParseAddr(s)
	return a
}

// anonymous returns the clients cam lets read RTSP and the snapshot
// without credentials: none, those of rtsp_access_from, or everyone.
func anonymous(cam Camera) []netip.Prefix {
	if cam.RTSPAccess != RTSPAnonymous {
		return nil
	}
	if len(cam.RTSPAccessFrom) == 0 {
		return []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
	}
	var ps []netip.Prefix
	for _, s := range cam.RTSPAccessFrom {
		if p, ok := prefix(s); ok {
			ps = append(ps, p)
		}
	}
	return ps
}
