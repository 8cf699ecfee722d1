package rtsp

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/stream"
)

// stuckEncoder writes an "ffmpeg" that claims libx264, then writes 1.1 MB of
// output without a single H.264 start code and stays alive without reading
// its input: the reader gives up while the encoder still runs and the
// feeder is blocked on a full pipe.
func stuckEncoder(t *testing.T) string {
	t.Helper()
	return fakeFFmpeg(t, "#!/bin/sh\ncase \"$*\" in *-encoders*) echo ' V....D libx264 H.264'; exit 0;; esac\n"+
		"yes xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx | head -c 1100000\nexec sleep 60\n")
}

// fakeFFmpeg writes script as an executable "ffmpeg" in a temporary folder
// and returns its path once it can be executed. A process forked elsewhere
// in the test binary while the file was open for writing makes exec fail
// with ETXTBSY until that child has exec'd; wait for that to pass so the
// server sees a working encoder.
func fakeFFmpeg(t *testing.T, script string) string {
	t.Helper()
	ffmpeg := filepath.Join(t.TempDir(), "ffmpeg")
	if err := os.WriteFile(ffmpeg, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := exec.Command(ffmpeg, "-encoders").Run()
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.ETXTBSY) || time.Now().After(deadline) {
			t.Fatalf("fake encoder: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ffmpeg
}

// stuckTrack returns an H.264 track whose encoder is stuckEncoder, its
// hub fed by feedBig until the test ends, and the server log.
func stuckTrack(t *testing.T) (*h264Track, *testutil.SyncBuffer) {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	srv := &Server{FFmpeg: stuckEncoder(t), Logger: slog.New(slog.NewTextHandler(logs, nil))}
	hub := stream.NewHub()
	h := newH264Track(srv, hub, &settingsBox{})
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	go feedBig(ctx, hub)
	return h, logs
}

// feedBig publishes 100 KB frames every 10 ms until ctx ends, enough to
// fill the encoder's input pipe at once.
func feedBig(ctx context.Context, hub *stream.Hub) {
	jpeg := bytes.Repeat([]byte{0xFF, 0xD8, 0xFF, 0xD9}, 25<<10)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for n := uint16(1); ctx.Err() == nil; n++ {
		hub.Publish(&camsession.Frame{JPEG: jpeg, Index: n, Seq: uint64(n), Time: time.Now()})
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

// encoderPIDs returns the pids of the encoders the log says were started.
func encoderPIDs(log string) []int {
	var pids []int
	for _, m := range regexp.MustCompile(`h264 encoder started" .*pid=(\d+)`).FindAllStringSubmatch(log, -1) {
		p, _ := strconv.Atoi(m[1])
		pids = append(pids, p)
	}
	return pids
}

// TestH264UnreadableOutputKillsEncoder: when ffmpeg's output cannot be
// used while ffmpeg is alive, the encoder is killed and the producer
// returns the error at once instead of blocking until the last viewer
// leaves.
func TestH264UnreadableOutputKillsEncoder(t *testing.T) {
	t.Parallel()
	h, logs := stuckTrack(t)

	// The viewer stays 30 s: before the fix produce only returned then.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	err := h.produce(ctx, h.track)
	took := time.Since(start)
	if ctx.Err() != nil {
		t.Fatalf("produce returned only when the viewer left (%v), err %v", took, err)
	}
	if err == nil || !strings.Contains(err.Error(), "no H.264 start code") {
		t.Errorf("produce: %v, want the reader's error", err)
	}
	pids := encoderPIDs(logs.String())
	if len(pids) != 1 {
		t.Fatalf("%d encoder starts logged, want 1:\n%s", len(pids), logs.String())
	}
	if err := syscall.Kill(pids[0], 0); err != syscall.ESRCH {
		t.Errorf("encoder pid %d still exists after produce returned: %v", pids[0], err)
	}
}

// TestH264EncoderRestartsForViewer: after the encoder failed that way, a
// viewer that is still there gets a new encoder, and none is left once it
// leaves.
func TestH264EncoderRestartsForViewer(t *testing.T) {
	t.Parallel()
	h, logs := stuckTrack(t)

	viewer := &sessionTrack{s: &session{queue: make(chan queued, queueLen)}, t: h.track}
	h.addReader(viewer)
	deadline := time.Now().Add(20 * time.Second)
	for len(encoderPIDs(logs.String())) < 2 {
		if time.Now().After(deadline) {
			h.removeReader(viewer)
			t.Fatalf("no second encoder within 20 s:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "track producer failed, restarting") {
		t.Error("encoder failure not logged")
	}
	done := h.removeReader(viewer)
	if done == nil {
		t.Fatal("the producer was not running")
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("producer still running 10 s after the viewer left")
	}
	for _, pid := range encoderPIDs(logs.String()) {
		if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
			t.Errorf("encoder pid %d still exists after the viewer left: %v", pid, err)
		}
	}
}
