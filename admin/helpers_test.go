package admin_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chinesium/chinesium/admin"
	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/httpauth"
	"github.com/chinesium/chinesium/internal/testutil/camtest"
	"github.com/chinesium/chinesium/motion"
	"github.com/chinesium/chinesium/onvif/discovery"
	"github.com/chinesium/chinesium/record"
	"github.com/chinesium/chinesium/rtsp"
	"github.com/chinesium/chinesium/stream"
)

// The admin tests put their fake cameras and servers on 127.0.15.x.
func ip(n byte) netip.Addr { return netip.AddrFrom4([4]byte{127, 0, 15, n}) }

// serverIP is where the test servers listen.
var serverIP = ip(1)

// camera is one camera's path through the bridge, without ONVIF: a fake
// camera, its session, hub, HTTP endpoints, RTSP path and motion detector.
type camera struct {
	name    string
	ip      netip.Addr
	fake    *fakecam.Camera
	session *camsession.Session
	hub     *stream.Hub
	http    *stream.Camera
	live    http.Handler // http's Handler, made before serving
	motion  *motion.Detector
	rec     *record.Recorder // nil unless the rig records

	stopFake func() // stops the fake camera (the camera goes away)
	stopRec  func() // stops the recorder, which closes its segment
}

// rig is a set of cameras, the RTSP server they share and the admin server
// showing them, on loopback.
type rig struct {
	cams   []*camera
	rtsp   *rtsp.Server
	rtspAt string // host:port
	disc   *discovery.Responder
	url    string // the admin server's base URL, ending in /
}

type rigOpts struct {
	cameras int           // cameras with a fake camera
	away    int           // cameras whose fake camera never runs
	users   bool          // admin/secret protects the admin server
	first   byte          // last byte of the first camera's IP
	disc    bool          // run a unicast WS-Discovery responder
	motion  bool          // fake cameras show motion
	record  bool          // record every camera, in 1 s segments
	segment time.Duration // the segments' length instead of 1 s
	fps     float64
}

// startRig starts everything and stops it when the test ends.
func startRig(t *testing.T, o rigOpts) *rig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	quiet := slog.New(slog.DiscardHandler)
	r := &rig{rtsp: &rtsp.Server{Logger: quiet}}
	for i := range o.cameras + o.away {
		c := &camera{name: fmt.Sprintf("cam-%d", i+1), ip: ip(o.first + byte(i)), hub: stream.NewHub()}
		c.http = &stream.Camera{Video: c.hub}
		c.live = c.http.Handler()
		c.motion = motion.New(motion.Config{Logger: quiet})
		onFrame := c.hub.Publish
		c.stopRec = func() {}
		if o.record {
			seg := time.Second
			if o.segment > 0 {
				seg = o.segment
			}
			rec, err := record.New(record.Config{Dir: t.TempDir(), Name: c.name, Segment: seg})
			if err != nil {
				t.Fatal(err)
			}
			c.rec = rec
			onFrame = func(f *camsession.Frame) { c.hub.Publish(f); rec.AddFrame(f) }
			rctx, rcancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); _ = rec.Run(rctx) }()
			c.stopRec = sync.OnceFunc(func() { rcancel(); <-done })
			t.Cleanup(c.stopRec)
		}
		s, err := camsession.New(camsession.Config{
			Camera: c.ip, LocalPort: -1, OnFrame: onFrame,
			PortTimeout: 100 * time.Millisecond, MaxBackoff: 300 * time.Millisecond, MediaTimeout: time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		c.session = s
		c.stopFake = func() {}
		if i < o.cameras {
			fc := camtest.Start(t, fakecam.Config{IP: c.ip, Name: strings.ToUpper(c.name), FPS: o.fps, Linger: 500 * time.Millisecond})
			fc.SetMotion(o.motion)
			c.fake, c.stopFake = fc.Camera, fc.Stop
		}
		wg.Go(func() { _ = s.Run(ctx) })
		wg.Go(func() { _ = c.motion.Run(ctx, c.hub) })
		t.Cleanup(c.hub.Close)
		r.rtsp.Handle(c.name, rtsp.Source{Video: c.hub})
		r.cams = append(r.cams, c)
	}
	ln, err := net.Listen("tcp4", netip.AddrPortFrom(serverIP, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	r.rtspAt = ln.Addr().String()
	wg.Go(func() { _ = r.rtsp.Serve(ctx, ln) })

	cfg := admin.Config{Cameras: r.cameras, RTSP: r.rtsp}
	if o.disc {
		d, derr := discovery.New(discovery.Config{
			UnicastOnly: true, Listen: serverIP, Group: netip.AddrPortFrom(discovery.DefaultGroup.Addr(), 0),
			MaxDelay: -1, Logger: quiet,
		})
		if derr != nil {
			t.Fatal(derr)
		}
		r.disc = d
		cfg.Discovery = d
		wg.Go(func() { _ = d.Run(ctx) })
	}
	if o.users {
		cfg.Auth = httpauth.New("chinesium", httpauth.StaticUsers{"admin": "secret"})
	}
	h, err := admin.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	aln, err := net.Listen("tcp4", netip.AddrPortFrom(serverIP, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(aln) }()
	t.Cleanup(func() {
		// The streams end when the hubs close; Close cuts the rest.
		for _, c := range r.cams {
			c.hub.Close()
		}
		_ = srv.Close()
	})
	r.url = "http://" + aln.Addr().String() + "/"
	return r
}

// cameras is the rig's admin.Config.Cameras.
func (r *rig) cameras() []admin.Camera {
	_, port, _ := net.SplitHostPort(r.rtspAt)
	out := make([]admin.Camera, 0, len(r.cams))
	for _, c := range r.cams {
		out = append(out, admin.Camera{
			ID: c.name, Name: c.name, IP: c.ip,
			Session: c.session, HTTP: c.http, RTSPPath: c.name, Motion: c.motion,
			URLs: func(host string) admin.URLs {
				return admin.URLs{
					ONVIF:    "http://" + host + ":1/onvif/device_service",
					RTSPJPEG: "rtsp://" + host + ":" + port + "/" + c.name + "/jpeg",
					MJPEG:    "http://" + host + ":1/stream.mjpeg",
					Snapshot: "http://" + host + ":1/snapshot.jpg",
				}
			},
			Live: c.live,
		})
		if c.rec != nil {
			out[len(out)-1].Recorder = c.rec
		}
	}
	return out
}

// get fetches path from the admin server (with admin/secret over Basic
// when auth is set) and returns the status and body.
func (r *rig) get(t *testing.T, path string, auth bool) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, r.url+strings.TrimPrefix(path, "/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth {
		req.SetBasicAuth("admin", "secret")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// waitUntil polls cond until it holds, for up to 20 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not reached in 20 s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startFake starts the fake camera of a camera that was away.
func startFake(t *testing.T, c *camera) {
	t.Helper()
	fc := camtest.Start(t, fakecam.Config{IP: c.ip, Name: strings.ToUpper(c.name), Linger: 500 * time.Millisecond})
	c.fake, c.stopFake = fc.Camera, fc.Stop
}

func netipAddrPort(a netip.Addr, port int) netip.AddrPort { return netip.AddrPortFrom(a, uint16(port)) }
