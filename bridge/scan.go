package bridge

import (
	"context"
	"net/netip"
	"reflect"
	"slices"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/rtsp"
)

// Defaults of the camera scan (ScanConfig).
const (
	// DefaultScanInterval is ScanConfig.Interval's default: a camera
	// that is switched on is served within about a minute.
	DefaultScanInterval = time.Minute
	// DefaultScanWindow is ScanConfig.Window's default: cameras answer
	// the port request within milliseconds, and the request is repeated
	// every 500 ms in case a broadcast gets lost.
	DefaultScanWindow = 2 * time.Second
)

// ScanConfig configures the camera scan: the bridge finds the cameras on
// the LAN with the port request that chinesium discover broadcasts
// (camsession.Discover), and serves every camera that answers and is not
// configured already.
type ScanConfig struct {
	// Broadcast is where the port request goes; its port is the cameras'
	// control port. It defaults to camsession.DefaultBroadcast
	// (255.255.255.255:10104); a subnet's broadcast address (e.g.
	// 192.168.1.255:10104) picks the interface.
	Broadcast netip.AddrPort
	// Interval is the time between two scans. It defaults to
	// DefaultScanInterval.
	Interval time.Duration
	// Window is how long each scan waits for answers. It defaults to
	// DefaultScanWindow.
	Window time.Duration
}

// withDefaults returns s with every zero field set to its default.
func (s ScanConfig) withDefaults() ScanConfig {
	if !s.Broadcast.IsValid() {
		s.Broadcast = camsession.DefaultBroadcast
	}
	if s.Interval <= 0 {
		s.Interval = DefaultScanInterval
	}
	if s.Window <= 0 {
		s.Window = DefaultScanWindow
	}
	return s
}

// foundCamera is the configuration of a camera the scan found: its
// identity and name are its UID from the port response (so that the
// device, its RTSP path and the NVR's recordings stay when the camera's
// DHCP address changes), its control port the port probed.
// A camera that gave no UID is known by its address.
func (s ScanConfig) foundCamera(f camsession.Found) CameraConfig {
	c := CameraConfig{IP: f.IP, ID: f.Name, Name: f.Name, ControlPort: int(s.Broadcast.Port())}
	if f.Name == "" {
		c.ID = f.IP.String()
	}
	return c
}

// startScan runs the camera scan in the background when configured.
func (b *Bridge) startScan(ctx context.Context) {
	if b.cfg.Scan == nil {
		return
	}
	sc := *b.cfg.Scan
	log := b.log.With("component", "scan")
	log.Info("looking for cameras", "broadcast", sc.Broadcast.String(), "every", sc.Interval.String())
	b.wg.Go(func() {
		failed := false
		for {
			found, err := camsession.Discover(ctx, sc.Broadcast, sc.Window)
			if ctx.Err() != nil {
				return
			}
			switch {
			case err != nil && !failed:
				log.Warn("camera scan failed; trying again", "err", err, "in", sc.Interval.String())
			case err != nil:
				log.Debug("camera scan failed", "err", err)
			default:
				b.found(found)
			}
			failed = err != nil
			select {
			case <-ctx.Done():
				return
			case <-time.After(sc.Interval):
			}
		}
	})
}

// found adds the cameras a scan found that the bridge does not serve yet
// (and those whose address changed) to the cameras it serves.
func (b *Bridge) found(found []camsession.Found) {
	b.applyMu.Lock()
	defer b.applyMu.Unlock()
	if b.ctx.Err() != nil {
		return
	}
	changed := false
	for _, f := range found {
		cc := b.cfg.Scan.foundCamera(f)
		i := slices.IndexFunc(b.scanned, func(x CameraConfig) bool { return x.ID == cc.ID })
		switch {
		case i < 0:
			b.scanned = append(b.scanned, cc)
			changed = true
		case !reflect.DeepEqual(b.scanned[i], cc):
			b.scanned[i] = cc
			changed = true
		}
	}
	if !changed {
		return
	}
	ch, err := b.apply(b.configured, b.cfg.Users)
	log := b.log.With("component", "scan")
	for _, name := range ch.Added {
		log.Info("camera found", "camera", name)
	}
	for _, name := range ch.Restarted {
		log.Info("camera found at another address", "camera", name)
	}
	if err != nil {
		log.Error("cameras found but not served", "err", err)
	}
}

// scannedCameras returns the cameras the scan found that are not among
// configured: neither their address nor their identity nor their name is
// configured (the configuration wins), nor those of a camera found
// before.
func (b *Bridge) scannedCameras(configured []CameraConfig) []CameraConfig {
	var out []CameraConfig
	taken := func(s CameraConfig) func(CameraConfig) bool {
		s, _ = b.cfg.cameraDefaults(s)
		return func(c CameraConfig) bool {
			d, _ := b.cfg.cameraDefaults(c)
			return d.IP == s.IP || d.ID == s.ID || rtsp.PathName(d.Name) == rtsp.PathName(s.Name)
		}
	}
	for _, s := range b.scanned {
		if !slices.ContainsFunc(configured, taken(s)) && !slices.ContainsFunc(out, taken(s)) {
			out = append(out, s)
		}
	}
	return out
}
