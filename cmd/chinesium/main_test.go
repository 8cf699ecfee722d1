package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
)

// These tests run the real binary, built once by TestMain. Cameras live on
// 127.0.2.x so that other packages' tests (127.0.1.x, 127.0.3.x) never meet
// them on port 10104.

// bin is the path of the chinesium binary under test.
var bin string

func TestMain(m *testing.M) {
	if url := os.Getenv(floodEnv); url != "" {
		os.Exit(runFlood(url)) // the test binary as an attacker (soapflood_test.go)
	}
	if spec := os.Getenv(attackEnv); spec != "" {
		os.Exit(runAttack(spec)) // the attacker of attack_test.go
	}
	if os.Getenv(orphanEnv) != "" {
		os.Exit(runOrphanParent()) // the parent of TestChildDiesWithTestProcess
	}
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "chinesium-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "chinesium")
	// go test puts its own GOROOT/bin first in the PATH of the test
	// binary, so this is the go command running the tests.
	goTool, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintln(os.Stderr, "building chinesium:", err)
		return 1
	}
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command(goTool, append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building chinesium:", err)
		return 1
	}
	return m.Run()
}

// runCLI runs chinesium to completion and returns its output and status.
func runCLI(t *testing.T, timeout time.Duration, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := startChild(cmd)
	if err == nil {
		err = cmd.Wait()
	}
	if ctx.Err() != nil {
		t.Fatalf("chinesium %v did not finish within %v\nstderr: %s", args, timeout, e.String())
	}
	code, err = exitCode(err)
	if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// exitCode returns the exit status in err, the result of exec.Cmd's Run or
// Wait (0 for nil); an error that is no exit status is returned.
func exitCode(err error) (int, error) {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		return ee.ExitCode(), nil
	}
	return 0, err
}

// waitExit waits up to d for the started cmd to exit and returns the
// result of its Wait; exited is false when it was still running and had to
// be killed.
func waitExit(cmd *exec.Cmd, d time.Duration) (exited bool, err error) {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return true, err
	case <-time.After(d):
		_ = cmd.Process.Kill()
		<-done
		return false, nil
	}
}

// startFakecam runs "chinesium fakecam -ip ip args..." until the test ends,
// waits until the camera answers, and checks that Ctrl-C stops it cleanly.
func startFakecam(t *testing.T, ip string, controlPort int, args ...string) {
	t.Helper()
	base := []string{"fakecam", "-ip", ip, "-control-port", fmt.Sprint(controlPort)}
	if controlPort == 10104 {
		// Stay out of the answers to other packages' discovery tests.
		base = append(base, "-discovery=false")
	}
	cmd := exec.Command(bin, append(base, args...)...)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := startChild(cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		if exited, err := waitExit(cmd, 5*time.Second); !exited {
			t.Errorf("fakecam on %s did not stop on Ctrl-C", ip)
		} else if err != nil {
			t.Errorf("fakecam on %s: %v\nstderr: %s", ip, err, stderr.String())
		}
	})
	// It logs a line for each camera once it listens. The deadline only
	// bounds a failure: a loaded machine may take long to start it.
	cams := 1
	for i, a := range args {
		if a == "-n" && i+1 < len(args) {
			cams, _ = strconv.Atoi(args[i+1])
		}
	}
	for end := time.Now().Add(60 * time.Second); strings.Count(stderr.String(), "fake camera ready") < cams; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("fakecam on %s not ready after 60 s; stderr: %s", ip, stderr.String())
		}
	}
	if !answers(t, netip.MustParseAddr(ip), controlPort, 20*time.Second) {
		t.Fatalf("fakecam on %s does not answer; stderr: %s", ip, stderr.String())
	}
}

// syncBuffer collects a child process's output while the test reads it.
type syncBuffer = testutil.SyncBuffer

// answers reports whether a camera at ip answers a port request within d.
func answers(t *testing.T, ip netip.Addr, port int, d time.Duration) bool {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 2048)
	for end := time.Now().Add(d); time.Now().Before(end); {
		_, _ = conn.WriteToUDPAddrPort(camsession.AppendPortRequest(nil), netip.AddrPortFrom(ip, uint16(port)))
		_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if n, _, err := conn.ReadFromUDPAddrPort(buf); err == nil {
			if _, err := camsession.ParsePortResponse(buf[:n]); err == nil {
				return true
			}
		}
	}
	return false
}

// TestStreamToFFprobe is the CI check of the issue: fake camera + stream
// piped into Debian's ffprobe decodes 100 frames without an error.
func TestStreamToFFprobe(t *testing.T) {
	t.Parallel()
	ffprobe := testutil.NeedTool(t, "ffprobe")
	startFakecam(t, "127.0.2.1", 10104, "-fps", "30")

	stream := exec.Command(bin, "stream", "127.0.2.1", "-frames", "100", "-local-port", "43201")
	var streamErr bytes.Buffer
	stream.Stderr = &streamErr
	probe := exec.Command(ffprobe, "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames,width,height", "-of", "csv=p=0", "-f", "mjpeg", "-i", "-")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stream.Stdout, probe.Stdin = pw, pr
	var probeOut, probeErr bytes.Buffer
	probe.Stdout, probe.Stderr = &probeOut, &probeErr
	if err := startChild(probe); err != nil {
		t.Fatal(err)
	}
	if err := startChild(stream); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	pw.Close()
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = stream.Process.Kill()
			_ = probe.Process.Kill()
		}
	}()
	serr := stream.Wait()
	perr := probe.Wait()
	close(done)
	if serr != nil {
		t.Fatalf("stream: %v\n%s", serr, streamErr.String())
	}
	if perr != nil || probeErr.Len() != 0 {
		t.Fatalf("ffprobe: %v\nstderr: %s", perr, probeErr.String())
	}
	if got := strings.TrimSpace(probeOut.String()); got != "640,480,100" {
		t.Fatalf("ffprobe read %q, want 640,480,100 (width,height,frames)", got)
	}
}

// TestStreamRestart: a stream killed and started again at once gets frames
// within 3 s, although the camera still streams to the old process. It uses
// the default local port search (41773 upward); -local-ip keeps it apart
// from sessions of other tests, which bind 127.0.0.1.
func TestStreamRestart(t *testing.T) {
	t.Parallel()
	startFakecam(t, "127.0.2.2", 10104, "-fps", "30")
	first := exec.Command(bin, "stream", "127.0.2.2", "-local-ip", "127.0.2.202")
	out, err := first.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err = startChild(first); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 64<<10) // a few frames
	if _, err = io.ReadFull(out, got); err != nil {
		t.Fatalf("first stream: %v", err)
	}
	_ = first.Process.Kill()
	_ = first.Wait()

	dir := t.TempDir()
	file := filepath.Join(dir, "restart.mjpeg")
	start := time.Now()
	_, stderr, code := runCLI(t, 10*time.Second, "stream", "127.0.2.2", "-local-ip", "127.0.2.202", "-frames", "3", "-o", file, "-v")
	took := time.Since(start)
	if code != 0 {
		t.Fatalf("restarted stream exit %d: %s", code, stderr)
	}
	if took > 3*time.Second {
		t.Errorf("restarted stream needed %v for 3 frames, want < 3s", took)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	frames := testutil.SplitJPEGs(b)
	if len(frames) != 3 {
		t.Fatalf("file holds %d frames, want 3", len(frames))
	}
	var last uint64
	for _, f := range frames {
		cam, seq, ok := fakecam.FrameSeq(f)
		if !ok || cam != "FAKECAM-7F000202" || seq <= last {
			t.Fatalf("frame marker %q %d %v after seq %d", cam, seq, ok, last)
		}
		last = seq
	}
	if !strings.Contains(stderr, "local=127.0.2.202:41773") {
		t.Errorf("restarted stream did not get port 41773 back:\n%s", stderr)
	}
	t.Logf("restarted stream wrote 3 frames in %v", took.Round(time.Millisecond))
}

// TestStreamReaderQuits: when the player quits, stream ends cleanly.
func TestStreamReaderQuits(t *testing.T) {
	t.Parallel()
	startFakecam(t, "127.0.2.6", 10104, "-fps", "30")
	cmd := exec.Command(bin, "stream", "127.0.2.6", "-local-port", "43206")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := startChild(cmd); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(out, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	out.Close()
	if exited, err := waitExit(cmd, 5*time.Second); !exited {
		t.Fatal("stream kept running after its reader quit")
	} else if err != nil {
		t.Fatalf("stream after its reader quit: %v\n%s", err, stderr.String())
	}
}

func TestSnapshot(t *testing.T) {
	t.Parallel()
	startFakecam(t, "127.0.2.3", 10104)
	file := filepath.Join(t.TempDir(), "cam.jpg")
	_, stderr, code := runCLI(t, 15*time.Second, "snapshot", "127.0.2.3", "-o", file)
	if code != 0 {
		t.Fatalf("snapshot exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("snapshot is not a JPEG: %v", err)
	}
	if r := img.Bounds(); r.Dx() != 640 || r.Dy() != 480 {
		t.Fatalf("snapshot is %v, want 640x480", r)
	}
	if cam, _, ok := fakecam.FrameSeq(b); !ok || cam != "FAKECAM-7F000203" {
		t.Fatalf("snapshot marker %q %v", cam, ok)
	}
	entries, _ := os.ReadDir(filepath.Dir(file))
	if len(entries) != 1 {
		t.Errorf("snapshot left %d files behind, want only cam.jpg", len(entries))
	}
}

func TestSnapshotNoCamera(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "none.jpg")
	start := time.Now()
	_, stderr, code := runCLI(t, 15*time.Second, "snapshot", "127.0.2.77", "-o", file, "-timeout", "1500ms")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("snapshot of a missing camera took %v", took)
	}
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr: %s", code, stderr)
	}
	last := lastLine(stderr)
	if !strings.HasPrefix(last, "chinesium snapshot: no answer from camera 127.0.2.77") || !strings.Contains(last, "check") {
		t.Fatalf("error line %q does not say what happened and what to do", last)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("snapshot created %s without a picture", file)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestBadInput: wrong command lines fail with one line that says what to do.
func TestBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		code int
		want string // in the last line of stderr
	}{
		{[]string{"stream"}, 2, "give exactly one camera IP"},
		{[]string{"stream", "999.1.1.1"}, 2, `invalid camera IP "999.1.1.1"`},
		{[]string{"stream", "cam.local"}, 2, "invalid camera IP"},
		{[]string{"stream", "::1"}, 2, "invalid camera IP"},
		{[]string{"stream", "10.0.0.1", "10.0.0.2"}, 2, "exactly one camera IP"},
		{[]string{"snapshot", "127.0.2.3"}, 2, "-o"},
		{[]string{"snapshot", "0.0.0.0", "-o", "x.jpg"}, 2, "invalid camera IP"},
		{[]string{"discover", "extra"}, 2, "no arguments"},
		{[]string{"discover", "-broadcast", "nonsense"}, 2, "invalid -broadcast"},
		{[]string{"fakecam", "-ip", "nope"}, 2, "invalid -ip"},
		{[]string{"fakecam", "-loss", "2"}, 2, "probabilities"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"fakecam", "-ip", "198.51.100.77"}, 1, "not an address of this machine"},
		{[]string{"stream", "-no-such-flag", "10.0.0.1"}, 2, ""},
		{[]string{"stream", "10.0.0.1", "-local-ip", "nowhere"}, 2, "invalid -local-ip"},
		{[]string{"snapshot", "127.0.2.77", "-o", "x.jpg", "-local-ip", "127.0.2.250", "-local-port", "-2"}, 2, "-local-port"},
		{[]string{}, 2, ""},
	} {
		_, stderr, code := runCLI(t, 10*time.Second, tc.args...)
		if code != tc.code || !strings.Contains(lastLine(stderr), tc.want) || stderr == "" {
			t.Errorf("chinesium %q: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
		if tc.want != "" && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("chinesium %q: error is not one line: %q", tc.args, stderr)
		}
	}
}

// TestBusyPorts: a second fake camera on an IP in use, or a stream on a
// local port in use, fails at once with an explanation.
func TestBusyPorts(t *testing.T) {
	t.Parallel()
	startFakecam(t, "127.0.2.4", 10104)
	_, stderr, code := runCLI(t, 10*time.Second, "fakecam", "-ip", "127.0.2.4")
	if code != 1 || !strings.Contains(stderr, "127.0.2.4:10104 is already in use") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("second fakecam: exit %d, stderr %q", code, stderr)
	}

	hold, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 43205})
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	_, stderr, code = runCLI(t, 10*time.Second, "stream", "127.0.2.4", "-local-port", "43205")
	if code != 1 || !strings.Contains(lastLine(stderr), "43205 busy") {
		t.Errorf("stream on a busy port: exit %d, stderr %q", code, stderr)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	stdout, _, code := runCLI(t, 10*time.Second, "help")
	for _, c := range []string{"stream", "snapshot", "discover", "fakecam"} {
		if code != 0 || !strings.Contains(stdout, "\n  "+c+" ") {
			t.Errorf("help (exit %d) does not list %s:\n%s", code, c, stdout)
		}
	}
	for _, c := range []string{"stream", "snapshot", "discover", "fakecam"} {
		_, stderr, code := runCLI(t, 10*time.Second, c, "-h")
		if code != 0 || !strings.HasPrefix(stderr, "usage: chinesium "+c+" ") || !strings.Contains(stderr, "-v\t") {
			t.Errorf("%s -h: exit %d, usage %q", c, code, stderr)
		}
	}
}

func TestDiscover(t *testing.T) {
	t.Parallel()
	// Port 10204 keeps this away from cameras of the other tests.
	startFakecam(t, "127.0.2.10", 10204, "-n", "2")
	stdout, stderr, code := runCLI(t, 10*time.Second, "discover", "-broadcast", "127.255.255.255:10204", "-timeout", "800ms")
	if code != 0 {
		t.Fatalf("discover exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "IP ") ||
		!strings.HasPrefix(lines[1], "127.0.2.10 ") || !strings.Contains(lines[1], "FAKECAM-7F00020A") ||
		!strings.HasPrefix(lines[2], "127.0.2.11 ") || !strings.Contains(lines[2], "FAKECAM-7F00020B") {
		t.Fatalf("discover listed:\n%s", stdout)
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 3 || f[2] == "0" {
			t.Fatalf("line %q lacks a data port", l)
		}
	}

	_, stderr, code = runCLI(t, 10*time.Second, "discover", "-broadcast", "127.255.255.255:10205", "-timeout", "300ms")
	if code != 1 || !strings.Contains(stderr, "no camera answered") {
		t.Fatalf("discover with no camera: exit %d, %q", code, stderr)
	}
}

// TestFakecamOptions: the audio, loss and still-scene flags reach the
// camera: a stream with audio gets a WAV, frames of a still scene decode
// to the same picture.
func TestFakecamOptions(t *testing.T) {
	t.Parallel()
	startFakecam(t, "127.0.2.7", 10104, "-audio", "-motion=false", "-fps", "30", "-loss", "0.01", "-seed", "7")
	dir := t.TempDir()
	video, wav := filepath.Join(dir, "v.mjpeg"), filepath.Join(dir, "a.wav")
	_, stderr, code := runCLI(t, 20*time.Second, "stream", "127.0.2.7", "-local-port", "43207", "-frames", "15", "-o", video, "-audio", wav)
	if code != 0 {
		t.Fatalf("stream exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(video)
	if err != nil {
		t.Fatal(err)
	}
	frames := testutil.SplitJPEGs(b)
	if len(frames) != 15 {
		t.Fatalf("%d frames", len(frames))
	}
	pixels := func(f []byte) []byte {
		img, derr := jpeg.Decode(bytes.NewReader(f))
		if derr != nil {
			t.Fatal(derr)
		}
		var px []byte
		for y := 0; y < 480; y += 16 {
			for x := 0; x < 640; x += 16 {
				r, g, b, _ := img.At(x, y).RGBA()
				px = append(px, byte(r>>8), byte(g>>8), byte(b>>8))
			}
		}
		return px
	}
	if !bytes.Equal(pixels(frames[0]), pixels(frames[len(frames)-1])) {
		t.Error("still scene changed between frames")
	}
	a, err := os.ReadFile(wav)
	if err != nil {
		t.Fatal(err)
	}
	// 15 frames at 30 fps is 0.5 s: at 8 kHz 16-bit, several kB of PCM.
	if len(a) < 44+2000 || string(a[:4]) != "RIFF" || string(a[8:12]) != "WAVE" {
		t.Fatalf("audio file of %d bytes, header %q", len(a), a[:min(len(a), 12)])
	}
	if size := int(a[40]) | int(a[41])<<8 | int(a[42])<<16 | int(a[43])<<24; size != len(a)-44 {
		t.Errorf("WAV data size %d, file has %d bytes of data", size, len(a)-44)
	}
}

// fileGrows waits up to d for the file at path to hold data.
func fileGrows(path string, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			return true
		}
	}
	return false
}

// Interrupting stream (Ctrl-C) ends it with status 0.
func TestStreamInterrupt(t *testing.T) {
	t.Parallel()
	startFakecam(t, "127.0.2.8", 10104)
	out := filepath.Join(t.TempDir(), "x.mjpeg")
	cmd := exec.Command(bin, "stream", "127.0.2.8", "-local-port", "43208", "-o", out)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := startChild(cmd); err != nil {
		t.Fatal(err)
	}
	// A frame in the file: the process is past its start and streaming,
	// which is when a user presses Ctrl-C.
	if !fileGrows(out, 15*time.Second) {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("stream wrote no frame\n%s", stderr.String())
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	if exited, err := waitExit(cmd, 5*time.Second); !exited {
		t.Fatal("stream ignored Ctrl-C")
	} else if err != nil {
		t.Fatalf("stream after Ctrl-C: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "stream ended") {
		t.Errorf("no summary after Ctrl-C: %s", stderr.String())
	}
}

// TestNoBinaryOnTerminal: stream and snapshot refuse to write binary data to
// a terminal and say how to use them instead.
func TestNoBinaryOnTerminal(t *testing.T) {
	for _, args := range [][]string{{"stream", "10.0.0.1"}, {"snapshot", "10.0.0.1", "-o", "-"}} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), &env{stdout: &stdout, stderr: &stderr, stdoutTerminal: true}, args)
		if code != 2 || stdout.Len() != 0 || !strings.Contains(stderr.String(), "terminal") {
			t.Errorf("%q on a terminal: exit %d, stderr %q", args, code, stderr.String())
		}
	}
}

// TestSnapshotCameraBusy: while another client streams from the camera, it
// ignores a second client; snapshot says so instead of "no answer".
func TestSnapshotCameraBusy(t *testing.T) {
	t.Parallel()
	startFakecam(t, "127.0.2.9", 10104)
	held := filepath.Join(t.TempDir(), "held.mjpeg")
	holder := exec.Command(bin, "stream", "127.0.2.9", "-local-port", "43209", "-o", held)
	if err := startChild(holder); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = holder.Process.Kill()
		_ = holder.Wait()
	}()
	if !fileGrows(held, 15*time.Second) {
		t.Fatal("the first client gets no frame")
	}
	_, stderr, code := runCLI(t, 15*time.Second, "snapshot", "127.0.2.9", "-local-port", "43219", "-o", filepath.Join(t.TempDir(), "x.jpg"), "-timeout", "2s")
	if code != 1 || !strings.Contains(lastLine(stderr), "answered but sent no picture") {
		t.Fatalf("snapshot of a busy camera: exit %d, %q", code, lastLine(stderr))
	}
}
