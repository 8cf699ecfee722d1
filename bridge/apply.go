package bridge

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"slices"

	"github.com/chinesium/chinesium/onvif"
)

// ErrCameraNotStarted is returned by Apply, joined with the reasons, when
// some camera of the new configuration could not start: the rest was
// applied.
var ErrCameraNotStarted = errors.New("bridge: some cameras did not start")

// Changes is what Apply changed.
type Changes struct {
	// Added, Restarted and Removed name the cameras that were added,
	// restarted with a changed configuration, and removed.
	Added, Restarted, Removed []string
	// Users is true when the configured users changed.
	Users bool
}

// Empty reports whether nothing changed.
func (c Changes) Empty() bool {
	return len(c.Added)+len(c.Restarted)+len(c.Removed) == 0 && !c.Users
}

// Apply changes the running bridge to cfg's cameras and users (a
// configuration reload), camera by camera:
//
//   - a camera whose identity (CameraConfig.ID) is new is added: its
//     ports open, WS-Discovery announces it (Hello) and its session starts;
//   - a running camera that cfg no longer has is removed: WS-Discovery
//     says Bye, its viewers' streams and RTSP sessions end, its ports
//     close;
//   - a running camera whose configuration changed is restarted (removed,
//     then added again under the same identity);
//   - every other camera runs on untouched: its session, viewers and
//     subscriptions go on as if nothing happened.
//
// A camera without a port of its own keeps the port it runs on. New
// users apply at once to every camera; what a user no longer may do ends
// (see onvif.Store.SetConfigured).
//
// The other fields of cfg are not applied: the bridge keeps the
// settings it started with (ports, bind address, state directory, motion,
// discovery, ...) until it is started again.
//
// A cfg that fails the checks New makes changes nothing and returns the
// error. A camera that cannot start (its port taken by another program)
// is left out, the rest is applied, and the error (ErrCameraNotStarted)
// says which; a
// restarted camera that cannot start again with its new configuration is
// started with its old one. The cameras the scan found (Config.Scan) stay,
// unless cfg configures them.
func (b *Bridge) Apply(cfg Config) (Changes, error) {
	b.applyMu.Lock()
	defer b.applyMu.Unlock()
	if b.ctx == nil {
		return Changes{}, errors.New("bridge: Apply before Start")
	}
	if b.ctx.Err() != nil {
		return Changes{}, errors.New("bridge: Apply after Close")
	}
	return b.apply(slices.Clone(cfg.Cameras), cfg.Users)
}

// apply brings the running cameras to the configured ones and those the
// scan found, with users; configured replaces b.configured unless it
// fails the checks. b.applyMu is held.
func (b *Bridge) apply(configured []CameraConfig, users []onvif.User) (Changes, error) {
	var ch Changes
	running := map[string]*Camera{}
	for _, c := range b.cameras {
		running[c.Config.ID] = c
	}

	next := b.cfg
	next.Users = users
	next.Cameras = nil
	var given []int
	for _, cc := range b.wanted(configured) {
		given = append(given, cc.HTTPPort)
		if cc.HTTPPort == 0 || cc.HTTPPort == AnyPort {
			// A running camera keeps the port it got.
			if d, err := next.cameraDefaults(cc); err == nil {
				if c := running[d.ID]; c != nil && c.givenPort == cc.HTTPPort {
					cc.HTTPPort = c.Config.HTTPPort
				}
			}
		}
		next.Cameras = append(next.Cameras, cc)
	}
	next, err := next.withDefaults()
	if err != nil {
		return ch, err
	}
	b.configured = configured

	if !slices.Equal(b.cfg.Users, next.Users) {
		ch.Users = true
		b.cfg.Users = next.Users
		b.users.set(next.Users)
		for _, c := range b.cameras {
			c.Device.Store.SetConfigured(next.Users)
		}
		if len(next.Users) == 0 {
			b.log.Warn("no user configured any more: ONVIF, RTSP and the HTTP streams are open to anyone who can reach them")
		}
	}

	wanted := map[string]bool{}
	for _, cc := range next.Cameras {
		wanted[cc.ID] = true
	}
	for _, c := range b.cameras {
		if !wanted[c.Config.ID] {
			c.stop()
			b.setCameras(slices.DeleteFunc(b.Cameras(), func(x *Camera) bool { return x == c }))
			b.log.Info("camera removed", "camera", c.Config.Name, "ip", c.Config.IP.String())
			ch.Removed = append(ch.Removed, c.Config.Name)
		}
	}

	var errs []error
	var now []*Camera
	for i, cc := range next.Cameras {
		old := running[cc.ID]
		switch {
		case old != nil && reflect.DeepEqual(old.Config, cc):
			now = append(now, old)
		case old != nil:
			old.stop()
			b.setCameras(slices.DeleteFunc(b.Cameras(), func(x *Camera) bool { return x == old }))
			c, err := b.addCamera(cc, given[i])
			if err != nil {
				errs = append(errs, fmt.Errorf("bridge: camera %s (%s) not restarted, kept with its old configuration: %w", cc.Name, cc.IP, err))
				c, err = b.addCamera(old.Config, old.givenPort)
				if err != nil {
					errs = append(errs, fmt.Errorf("bridge: camera %s (%s) lost: %w", cc.Name, cc.IP, err))
					continue
				}
			} else {
				b.log.Info("camera restarted with its new configuration", "camera", cc.Name, "ip", cc.IP.String())
				ch.Restarted = append(ch.Restarted, cc.Name)
			}
			now = append(now, c)
		default:
			c, err := b.addCamera(cc, given[i])
			if err != nil {
				errs = append(errs, fmt.Errorf("bridge: camera %s (%s) not added: %w", cc.Name, cc.IP, err))
				continue
			}
			ch.Added = append(ch.Added, cc.Name)
			now = append(now, c)
		}
		// Every camera is listed once it runs (the admin page shows it).
		b.setCameras(append(slices.Clone(now), b.camerasAfter(now)...))
	}
	b.setCameras(now)
	b.cfg.Cameras = nil
	for _, c := range now {
		b.cfg.Cameras = append(b.cfg.Cameras, c.Config)
	}
	if len(errs) > 0 {
		return ch, errors.Join(append([]error{ErrCameraNotStarted}, errs...)...)
	}
	return ch, nil
}

// wanted returns the cameras the bridge is to run: the configured ones,
// then those the scan found that are not configured.
func (b *Bridge) wanted(configured []CameraConfig) []CameraConfig {
	return append(slices.Clone(configured), b.scannedCameras(configured)...)
}

// camerasAfter returns the running cameras that are not in now (those an
// apply under way has not reached yet).
func (b *Bridge) camerasAfter(now []*Camera) []*Camera {
	var out []*Camera
	for _, c := range b.Cameras() {
		if !slices.Contains(now, c) {
			out = append(out, c)
		}
	}
	return out
}

func (b *Bridge) setCameras(cams []*Camera) {
	b.camMu.Lock()
	b.cameras = cams
	b.camMu.Unlock()
}

// addCamera creates and starts a camera while the bridge runs: its
// sockets (and RTSP on its own address), WS-Discovery (Hello), its
// session. b.applyMu is held.
func (b *Bridge) addCamera(cc CameraConfig, givenPort int) (*Camera, error) {
	hasH264 := !cc.NoH264 && b.rtsp.H264Error() == nil
	c, err := b.newCamera(cc, hasH264)
	if err != nil {
		return nil, err
	}
	c.givenPort = givenPort
	if err := b.listenRTSPOn(cc.BindIP); err != nil {
		b.rtsp.Remove(c.Path)
		c.closeSockets()
		return nil, err
	}
	if r := b.discovery; r != nil {
		c.Device.Store.Watch(c.stateChanged)
		r.Add(c)
	}
	c.start(b.ctx)
	return c, nil
}

// listenRTSPOn makes the RTSP server listen on ip too, unless it does
// already (the bridge listens on all addresses, or ip is the bind address
// or another camera's). b.applyMu is held.
func (b *Bridge) listenRTSPOn(ip netip.Addr) error {
	if !b.cfg.Bind.IsValid() || b.cfg.Bind.IsUnspecified() ||
		!ip.IsValid() || ip.IsUnspecified() || ip == b.cfg.Bind || b.rtspOn[ip] {
		return nil
	}
	ln, err := net.Listen("tcp4", listenAddr(ip, b.RTSPPort()))
	if err != nil {
		return fmt.Errorf("bridge: RTSP port on %s: %w", ip, err)
	}
	b.rtspOn[ip] = true
	ctx := b.ctx
	b.wg.Go(func() { b.report("rtsp "+ln.Addr().String(), b.rtsp.Serve(ctx, ln)) })
	return nil
}

// stop ends a running camera for good: WS-Discovery says Bye, its RTSP
// path goes (the sessions playing it end), its streams, subscriptions and
// HTTP server end, its session closes. It returns when all of it has.
func (c *Camera) stop() {
	b := c.bridge
	if r := b.discovery; r != nil {
		r.Remove(c)
	}
	b.rtsp.Remove(c.Path)
	c.cancel()
	c.ev.events.Close()
	c.Video.Close()
	if c.Audio != nil {
		c.Audio.Close()
	}
	shutdown(c.srv)
	c.wg.Wait()
}
