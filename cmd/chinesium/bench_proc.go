package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procStat is a process's CPU time (user and system, its own threads) and
// resident memory, read from /proc.
type procStat struct {
	cpu time.Duration
	rss int64 // bytes
}

// readProc reads /proc/pid/stat and /proc/pid/status.
func readProc(pid int) (procStat, error) {
	var st procStat
	s, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return st, fmt.Errorf("bench: %w", err)
	}
	// Fields after the command name (in parentheses, which may hold
	// spaces): state is field 3, utime 14, stime 15, in clock ticks.
	i := strings.LastIndexByte(string(s), ')')
	f := strings.Fields(string(s[i+2:]))
	if len(f) < 13 {
		return st, fmt.Errorf("bench: /proc/%d/stat: too few fields", pid)
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	st.cpu = time.Duration(utime+stime) * time.Second / ticksPerSecond
	s, err = os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, fmt.Errorf("bench: %w", err)
	}
	for line := range strings.SplitSeq(string(s), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			st.rss = kb << 10
		}
	}
	return st, nil
}

// selfCPU is this process's CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// usage is what a group of processes used during a window.
type usage struct {
	cores   float64 // CPU time / wall time
	rss     float64 // MB, the mean of the samples of the group's sum
	rssMax  float64 // MB
	samples int
}

// measure samples the processes' CPU time and RSS over d, every 250 ms,
// and returns one usage per group of pids.
func measure(ctx context.Context, d time.Duration, groups ...[]int) ([]usage, error) {
	read := func() ([]procStat, error) {
		out := make([]procStat, len(groups))
		for i, g := range groups {
			for _, pid := range g {
				st, err := readProc(pid)
				if err != nil {
					return nil, err
				}
				out[i].cpu += st.cpu
				out[i].rss += st.rss
			}
		}
		return out, nil
	}
	start := time.Now()
	first, err := read()
	if err != nil {
		return nil, err
	}
	us := make([]usage, len(groups))
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	var last []procStat
	for time.Since(start) < d {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
		if last, err = read(); err != nil {
			return nil, err
		}
		for i := range us {
			mb := float64(last[i].rss) / 1e6
			us[i].rss += mb
			us[i].rssMax = max(us[i].rssMax, mb)
			us[i].samples++
		}
	}
	wall := time.Since(start)
	for i := range us {
		us[i].cores = float64(last[i].cpu-first[i].cpu) / float64(wall)
		us[i].rss /= float64(max(us[i].samples, 1))
	}
	return us, nil
}

// child is a child process of the benchmark: a fake camera group, a
// bridge, or one of the bench's own bridge processes.
type child struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Scanner
	stderr *lockedBuffer
	done   chan struct{}
	err    error
	once   sync.Once
}

// startChild starts this program with args.
func (b *bench) startChild(name string, args ...string) (*child, error) {
	cmd := exec.Command(b.self, args...)
	c := &child{name: name, cmd: cmd, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = c.stderr
	var err error
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: starting %s: %w", name, err)
	}
	c.stdout = bufio.NewScanner(out)
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// waitStderr waits until the child's stderr holds n lines containing s.
func (c *child) waitStderr(ctx context.Context, s string, n int, timeout time.Duration) error {
	end := time.Now().Add(timeout)
	for strings.Count(c.stderr.String(), s) < n {
		select {
		case <-c.done:
			err := c.err
			if err == nil {
				err = errors.New("exit status 0")
			}
			return fmt.Errorf("bench: %s ended: %w\n%s", c.name, err, tail(c.stderr.String()))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(end) {
			return fmt.Errorf("bench: %s: no %q after %v\n%s", c.name, s, timeout, tail(c.stderr.String()))
		}
	}
	return nil
}

// stop interrupts the child (as Ctrl-C would) and waits for it to end.
// Calls after the first do nothing.
func (c *child) stop() { c.once.Do(c.stopOnce) }

func (c *child) stopOnce() {
	_ = c.stdin.Close()
	_ = c.cmd.Process.Signal(os.Interrupt)
	go func() {
		for c.stdout.Scan() { // what is left, so that the child never blocks on it
		}
	}()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (s *lockedBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *lockedBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}

func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}

// fakecams runs n fake cameras from first up in child processes of at most
// 128 cameras each, and returns them once every camera is ready.
func (b *bench) fakecams(ctx context.Context, first netip.Addr, n int, fps float64, extra ...string) ([]*child, []netip.Addr, error) {
	var kids []*child
	var ips []netip.Addr
	ip := first
	for left := n; left > 0; {
		k := min(left, 128)
		args := append([]string{"fakecam", "-ip", ip.String(), "-n", strconv.Itoa(k),
			"-fps", strconv.FormatFloat(fps, 'f', -1, 64), "-discovery=false"}, extra...)
		c, err := b.startChild("fake cameras", args...)
		if err != nil {
			stopAll(kids)
			return nil, nil, err
		}
		kids = append(kids, c)
		if err := c.waitStderr(ctx, "fake camera ready", k, 120*time.Second); err != nil {
			stopAll(kids)
			return nil, nil, err
		}
		for range k {
			ips = append(ips, ip)
			ip = ip.Next()
		}
		left -= k
	}
	return kids, ips, nil
}

func stopAll(kids []*child) {
	var wg sync.WaitGroup
	for _, c := range kids {
		wg.Go(c.stop)
	}
	wg.Wait()
}

func pids(kids []*child) []int {
	var p []int
	for _, c := range kids {
		p = append(p, c.pid())
	}
	return p
}

// settle is the time left to a bridge and its fake cameras before a
// measurement: the fake cameras encode their moving pictures during their
// first two seconds of streaming (30 frames at 15 fps), the bridge fills
// its buffers.
const settle = 3 * time.Second

// Addresses of the child processes' bridges.
var (
	scaleBind    = netip.MustParseAddr("127.0.29.2")
	scaleCams    = netip.MustParseAddr("127.0.30.1")
	recordBind   = netip.MustParseAddr("127.0.29.3")
	recordCams   = netip.MustParseAddr("127.0.31.1")
	recordServed = netip.MustParseAddr("127.0.31.101")
)

// serveChild runs "chinesium serve" on the cameras and waits until each
// camera's snapshot answers (its frames arrive).
//
// It returns the URLs serve printed, by label ("RTSP", "RTSP H264",
// "MJPEG", "snapshot", ...).
func (b *bench) serveChild(ctx context.Context, ips []netip.Addr, motion, h264 bool, dir string) (*child, map[string][]string, error) {
	var y strings.Builder
	y.WriteString("cameras:\n")
	for _, ip := range ips {
		fmt.Fprintf(&y, "  - ip: %s\n", ip)
	}
	fmt.Fprintf(&y, "listen:\n  bind: %s\n  http_base_port: 29000\n  rtsp_port: 29554\n  admin_port: %d\n", scaleBind, serveAdminPort)
	fmt.Fprintf(&y, "h264: %v\ndiscovery:\n  enabled: false\nmotion:\n  enabled: %v\n", h264, motion)
	if b.ffmpeg != "" {
		fmt.Fprintf(&y, "ffmpeg: %s\n", b.ffmpeg)
	}
	fmt.Fprintf(&y, "state_dir: %s\nlog:\n  level: warn\n", filepath.Join(dir, "state"))
	file := filepath.Join(dir, "serve.yaml")
	if err := os.WriteFile(file, []byte(y.String()), 0o644); err != nil {
		return nil, nil, fmt.Errorf("bench: %w", err)
	}
	c, err := b.startChild("serve", "serve", "-config", file)
	if err != nil {
		return nil, nil, err
	}
	// serve prints every camera's URLs once it listens, the snapshot's
	// last: "  LABEL   URL".
	urls := map[string][]string{}
	for len(urls["snapshot"]) < len(ips) && c.stdout.Scan() {
		line := strings.TrimSpace(c.stdout.Text())
		if i := strings.Index(line, "http://"); i > 0 && !strings.HasPrefix(line, "Web page") {
			label := strings.TrimSpace(line[:i])
			urls[label] = append(urls[label], line[i:])
		} else if i := strings.Index(line, "rtsp://"); i > 0 {
			label := strings.TrimSpace(line[:i])
			urls[label] = append(urls[label], line[i:])
		}
	}
	if len(urls["snapshot"]) < len(ips) {
		c.stop()
		return nil, nil, fmt.Errorf("bench: serve printed %d snapshot URLs for %d cameras\n%s", len(urls["snapshot"]), len(ips), tail(c.stderr.String()))
	}
	if err := waitSnapshots(ctx, urls["snapshot"], 60*time.Second); err != nil {
		c.stop()
		return nil, nil, fmt.Errorf("%w\n%s", err, tail(c.stderr.String()))
	}
	return c, urls, nil
}

// serveAdminPort is the admin port of the serve processes (serveChild).
const serveAdminPort = 29400 // past the cameras' HTTP ports, 29000-29255

// framesReceived returns the frames serve has received from all its
// cameras so far (chinesium_camera_frames_complete_total on /metrics).
func framesReceived(ctx context.Context) (float64, error) {
	u := fmt.Sprintf("http://%s/metrics", netip.AddrPortFrom(scaleBind, serveAdminPort))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, fmt.Errorf("bench: %w", err)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, fmt.Errorf("bench: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("bench: %w", err)
	}
	var sum float64
	found := false
	for l := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "chinesium_camera_frames_complete_total{"); ok {
			if _, v, ok := strings.Cut(rest, "} "); ok {
				f, perr := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if perr != nil {
					return 0, fmt.Errorf("bench: %s: %q: %w", u, l, perr)
				}
				sum += f
				found = true
			}
		}
	}
	if !found {
		return 0, fmt.Errorf("bench: no chinesium_camera_frames_complete_total at %s", u)
	}
	return sum, nil
}

// waitSnapshots waits until every snapshot URL answers 200.
func waitSnapshots(ctx context.Context, urls []string, timeout time.Duration) error {
	end := time.Now().Add(timeout)
	cl := &http.Client{Timeout: 5 * time.Second}
	for _, u := range urls {
		for {
			resp, err := cl.Get(u)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(end) {
				return fmt.Errorf("bench: no frame at %s after %v", u, timeout)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// scale: N fake cameras (15 fps) in one serve process, motion on and off:
// CPU and memory of serve beside those of the fake cameras sending to it.
func (b *bench) scale(ctx context.Context) error {
	sizes := []int{16, 64, 256}
	if b.quick {
		sizes = []int{16}
	}
	for _, n := range sizes {
		if err := b.scaleOne(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) scaleOne(ctx context.Context, n int) error {
	cams, ips, err := b.fakecams(ctx, scaleCams, n, 15)
	if err != nil {
		return err
	}
	defer stopAll(cams)
	for _, motion := range []bool{true, false} {
		dir, err := os.MkdirTemp("", "chinesium-bench-")
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer os.RemoveAll(dir)
		srv, _, err := b.serveChild(ctx, ips, motion, false, dir)
		if err != nil {
			return err
		}
		time.Sleep(settle)
		before, err := framesReceived(ctx)
		if err != nil {
			srv.stop()
			return err
		}
		t0 := time.Now()
		us, err := measure(ctx, b.window, []int{srv.pid()}, pids(cams))
		var after float64
		if err == nil {
			after, err = framesReceived(ctx)
		}
		took := time.Since(t0)
		srv.stop()
		if err != nil {
			return err
		}
		m := "motion on"
		if !motion {
			m = "motion off"
		}
		what := fmt.Sprintf("%d cameras, %s", n, m)
		goal, memGoal := "", ""
		if n == 64 {
			memGoal = "≤ 1 MB" // the figure: 64 cameras in 64 MB
		}
		if n == 64 && motion {
			goal = "≤ 0.25 cores"
		} else if n == 64 {
			goal = "≤ the fake cameras' CPU"
		}
		b.add(figure{Section: "scale", Name: "serve CPU, " + what, Unit: "cores", Value: us[0].cores,
			Baseline: us[1].cores, BaselineName: "the fake cameras sending", Goal: goal})
		b.add(figure{Section: "scale", Name: "serve RSS, " + what, Unit: "MB", Value: us[0].rss,
			Baseline: us[1].rss, BaselineName: "the fake cameras' RSS"})
		b.add(figure{Section: "scale", Name: "serve RSS per camera, " + what, Unit: "MB", Value: us[0].rss / float64(n),
			Baseline: 1, BaselineName: "1 MB", Goal: memGoal})
		// Whether the bridge (and the fake cameras) kept up: on a small
		// machine the senders themselves may not.
		b.add(figure{Section: "scale", Name: "frames received, " + what, Unit: "fps", Value: (after - before) / took.Seconds(),
			Baseline: float64(n) * 15, BaselineName: "the fake cameras' nominal rate"})
	}
	return nil
}

// childUsage is the help of -child (see benchChild).
const childUsage = "internal: run as a bridge process of the record section"

// record: recording on vs off. Two bridge processes side by side, each
// with cameras of its own, one of them recording every camera.
func (b *bench) record(ctx context.Context) error {
	n := 16
	if b.quick {
		n = 4
	}
	recCams, recIPs, err := b.fakecams(ctx, recordCams, n, 15)
	if err != nil {
		return err
	}
	defer stopAll(recCams)
	srvCams, srvIPs, err := b.fakecams(ctx, recordServed, n, 15)
	if err != nil {
		return err
	}
	defer stopAll(srvCams)
	dir, err := os.MkdirTemp("", "chinesium-bench-rec-")
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(dir)
	start := func(ips []netip.Addr, recDir string) (*child, error) {
		var s []string
		for _, ip := range ips {
			s = append(s, ip.String())
		}
		spec := strings.Join(s, ",")
		if recDir != "" {
			spec += "@" + recDir
		}
		c, cerr := b.startChild("bench bridge", "bench", "-child", spec)
		if cerr != nil {
			return nil, cerr
		}
		if !c.stdout.Scan() || c.stdout.Text() != "streaming" {
			c.stop()
			return nil, fmt.Errorf("bench: bridge process: %q\n%s", c.stdout.Text(), tail(c.stderr.String()))
		}
		return c, nil
	}
	served, err := start(srvIPs, "")
	if err != nil {
		return err
	}
	defer served.stop()
	rec, err := start(recIPs, dir)
	if err != nil {
		return err
	}
	defer rec.stop()
	time.Sleep(settle)
	us, err := measure(ctx, b.window, []int{rec.pid()}, []int{served.pid()})
	if err != nil {
		return err
	}
	var size int64
	_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			size += fi.Size()
		}
		return nil
	})
	if size == 0 {
		return errors.New("bench: the recording bridge wrote nothing")
	}
	what := fmt.Sprintf("%d cameras", n)
	b.add(figure{Section: "record", Name: "CPU, " + what + " recorded", Unit: "cores", Value: us[0].cores,
		Baseline: us[1].cores, BaselineName: "the same, only served"})
	b.add(figure{Section: "record", Name: "RSS, " + what + " recorded", Unit: "MB", Value: us[0].rss,
		Baseline: us[1].rss, BaselineName: "the same, only served"})
	fn := float64(n)
	b.add(figure{Section: "record", Name: "CPU per recorded camera", Unit: "ms/s", Value: 1000 * us[0].cores / fn,
		Baseline: 1000 * us[1].cores / fn, BaselineName: "per served camera"})
	b.add(figure{Section: "record", Name: "RSS per recorded camera", Unit: "MB", Value: us[0].rss / fn,
		Baseline: us[1].rss / fn, BaselineName: "per served camera"})
	return nil
}
