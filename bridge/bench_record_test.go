package bridge

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/record"
	"github.com/chinesium/chinesium/rtsp"
)

// The bridge processes of BenchmarkRecordingCost are this test binary run
// again with these variables set: the role ("serve" or "record"), the
// cameras' IPs (comma-separated) and, to record, the folder.
const (
	envBenchRole    = "CHINESIUM_BENCH_ROLE"
	envBenchCameras = "CHINESIUM_BENCH_CAMERAS"
	envBenchDir     = "CHINESIUM_BENCH_DIR"
)

func TestMain(m *testing.M) {
	if role := os.Getenv(envBenchRole); role != "" {
		os.Exit(benchBridge(role))
	}
	os.Exit(m.Run())
}

// benchBridge is a bridge process of BenchmarkRecordingCost: it serves the
// cameras (and records them for the "record" role) as serve does, with
// motion detection, prints "streaming" once every camera streams, and runs
// until its stdin closes; then it prints the frames it received and exits.
func benchBridge(role string) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	state, err := os.MkdirTemp("", "chinesium-bench-state-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(state)
	cfg := Config{
		Bind:      netip.MustParseAddr("127.0.5.1"),
		RTSPPort:  AnyPort,
		AdminPort: AnyPort,
		StateDir:  state,
		Logger:    log,
		Session:   func(c *camsession.Config) { c.LocalPort = -1 },
	}
	for ip := range strings.SplitSeq(os.Getenv(envBenchCameras), ",") {
		cc := CameraConfig{IP: netip.MustParseAddr(ip), HTTPPort: AnyPort, NoH264: true}
		if role == "record" {
			cc.Record = &record.Config{Dir: os.Getenv(envBenchDir)}
		}
		cfg.Cameras = append(cfg.Cameras, cc)
	}
	b, err := New(cfg)
	if err == nil {
		err = b.Start(context.Background())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer b.Close()
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		streaming := true
		for _, c := range b.Cameras() {
			streaming = streaming && c.Video.Published() > 0
		}
		if streaming {
			break
		}
		if time.Now().After(end) {
			fmt.Fprintln(os.Stderr, "cameras do not stream")
			return 1
		}
	}
	fmt.Println("streaming")
	_, _ = io.Copy(io.Discard, os.Stdin)
	var frames uint64
	for _, c := range b.Cameras() {
		frames += c.Video.Published()
	}
	fmt.Println("frames", frames)
	return 0
}

// benchProcess is a running bridge process of the benchmark.
type benchProcess struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  *bufio.Scanner
	stderr *testutil.SyncBuffer
}

func startBenchBridge(b *testing.B, role string, ips []string, dir string) *benchProcess {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envBenchRole+"="+role, envBenchCameras+"="+strings.Join(ips, ","), envBenchDir+"="+dir)
	p := &benchProcess{cmd: cmd, stderr: &testutil.SyncBuffer{}}
	cmd.Stderr = p.stderr
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		p.stdin.Close()
		_ = cmd.Wait()
	})
	p.lines = bufio.NewScanner(out)
	if !p.lines.Scan() || p.lines.Text() != "streaming" {
		b.Fatalf("%s bridge: %q\n%s", role, p.lines.Text(), p.stderr.String())
	}
	return p
}

// stop ends the process and returns the frames it received.
func (p *benchProcess) stop(b *testing.B) uint64 {
	b.Helper()
	p.stdin.Close()
	if !p.lines.Scan() {
		b.Fatalf("bridge ended without its count\n%s", p.stderr.String())
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(p.lines.Text(), "frames "), 10, 64)
	if err != nil {
		b.Fatalf("bridge printed %q", p.lines.Text())
	}
	return n
}

// cpuTime returns the CPU time (user and system) a process used so far.
func cpuTime(b *testing.B, pid int) time.Duration {
	b.Helper()
	s, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name (in parentheses, which may hold
	// spaces): state is field 3, utime 14, stime 15, in clock ticks.
	f := strings.Fields(string(s[strings.LastIndexByte(string(s), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}

// rss returns a process's resident memory in bytes.
func rss(b *testing.B, pid int) int64 {
	b.Helper()
	s, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(string(s), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// BenchmarkRecordingCost measures what recording costs per camera: two
// bridge processes run side by side in the same run, each serving four
// fake cameras of its own (15 frames/s, the same pictures, motion
// detection on, as serve runs), one of them also recording its cameras
// (15 min segments into a temporary folder). Each op is one second of the
// measurement window; use -benchtime 20x for 20 seconds.
//
// Metrics, for the window:
//
//	serve-cpu-ms/s    CPU time of the serving bridge per second (ms/s: 10 is 1 % of a core)
//	record-cpu-ms/s   the same for the recording bridge
//	x-serve-cpu       record-cpu / serve-cpu
//	cpu-ms/s/camera   the difference per recorded camera
//	serve-rss-MB      resident memory of the serving bridge, the mean of one
//	                  sample a second
//	record-rss-MB     the same for the recording bridge
//	x-serve-rss       record-rss / serve-rss
//	rss-MB/camera     the difference per recorded camera
//	x-frames          frames the recording bridge received / the serving one's
//
// On Linux only (it reads /proc).
func BenchmarkRecordingCost(b *testing.B) {
	const cams = 4
	var serveIPs, recordIPs []string
	for i := range 2 * cams {
		ip := fmt.Sprintf("127.0.5.%d", 100+i)
		_, stop := runFakeCam(b, fakecam.Config{IP: netip.MustParseAddr(ip), Name: fmt.Sprintf("BENCH-%d", i%cams), FPS: 15})
		b.Cleanup(stop)
		if i < cams {
			serveIPs = append(serveIPs, ip)
		} else {
			recordIPs = append(recordIPs, ip)
		}
	}
	dir := b.TempDir()
	serve := startBenchBridge(b, "serve", serveIPs, "")
	rec := startBenchBridge(b, "record", recordIPs, dir)
	sp, rp := serve.cmd.Process.Pid, rec.cmd.Process.Pid

	b.ResetTimer()
	serve0, rec0 := cpuTime(b, sp), cpuTime(b, rp)
	start := time.Now()
	var serveRSS, recRSS int64 // sums of one sample per second
	for range b.N {
		time.Sleep(time.Second)
		serveRSS += rss(b, sp)
		recRSS += rss(b, rp)
	}
	serveCPU, recCPU := cpuTime(b, sp)-serve0, cpuTime(b, rp)-rec0
	window := time.Since(start)
	serveRSS /= int64(b.N)
	recRSS /= int64(b.N)
	b.StopTimer()
	serveFrames, recFrames := serve.stop(b), rec.stop(b)

	var recorded int64
	for _, ip := range recordIPs {
		recs, err := record.List(record.CameraDir(dir, rtsp.PathName(DefaultName(netip.MustParseAddr(ip)))))
		if err != nil || len(recs) == 0 {
			b.Fatalf("camera %s recorded nothing: %v", ip, err)
		}
		for _, r := range recs {
			recorded += r.Size
		}
	}
	if recorded == 0 {
		b.Fatalf("nothing recorded in %s", filepath.Clean(dir))
	}

	perSecond := func(d time.Duration) float64 { return float64(d.Milliseconds()) / window.Seconds() }
	mb := func(n int64) float64 { return float64(n) / 1e6 }
	b.ReportMetric(perSecond(serveCPU), "serve-cpu-ms/s")
	b.ReportMetric(perSecond(recCPU), "record-cpu-ms/s")
	b.ReportMetric(float64(recCPU)/float64(max(serveCPU, time.Millisecond)), "x-serve-cpu")
	b.ReportMetric((perSecond(recCPU)-perSecond(serveCPU))/cams, "cpu-ms/s/camera")
	b.ReportMetric(mb(serveRSS), "serve-rss-MB")
	b.ReportMetric(mb(recRSS), "record-rss-MB")
	b.ReportMetric(float64(recRSS)/float64(serveRSS), "x-serve-rss")
	b.ReportMetric(mb(recRSS-serveRSS)/cams, "rss-MB/camera")
	b.ReportMetric(float64(recFrames)/float64(max(serveFrames, 1)), "x-frames")
}
