package testutil

import (
	"context"
	"encoding/json"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"
)

// ProbedPackets is what ffprobe counted of a stream's video packets after
// its first second (see ProbePackets).
type ProbedPackets struct {
	Frames    int
	Seconds   float64   // from the first counted packet's pts to the last's
	Bytes     int       // of every counted packet
	LastSize  int       // of the last counted packet
	Intervals []float64 // between the counted packets' pts, in seconds
}

// Rate is the stream's frame rate as its timestamps tell it: one over the
// median interval between frames. A frame dropped on a loaded machine
// leaves a gap in the timestamps, not a slower rate; FPS counts it.
func (p ProbedPackets) Rate() float64 {
	if len(p.Intervals) == 0 {
		return 0
	}
	iv := slices.Clone(p.Intervals)
	slices.Sort(iv)
	if m := iv[len(iv)/2]; m > 0 {
		return 1 / m
	}
	return 0
}

// FPS is the frame rate: the frames after the first over the seconds
// they span.
func (p ProbedPackets) FPS() float64 { return float64(p.Frames-1) / p.Seconds }

// Kbps is the bitrate in kbit/s, counting every packet but the last
// (which the duration does not cover).
func (p ProbedPackets) Kbps() float64 {
	return float64(p.Bytes-p.LastSize) * 8 / p.Seconds / 1000
}

// ProbePackets reads the video packets of the RTSP url over TCP with
// ffprobe for about seconds and counts them, skipping the first second,
// where the encoder and the probing of ffprobe settle. It fails the test
// when ffprobe fails or counts fewer than 5 packets.
func ProbePackets(t testing.TB, url string, seconds int) ProbedPackets {
	t.Helper()
	bin := NeedTool(t, "ffprobe")
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds+60)*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-v", "error", "-rtsp_transport", "tcp", "-select_streams", "v",
		"-show_entries", "packet=pts_time,size", "-of", "json",
		"-read_intervals", "%+"+strconv.Itoa(seconds+1), url).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", url, err)
	}
	var res struct {
		Packets []struct {
			PTS  string `json:"pts_time"`
			Size string `json:"size"`
		}
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	var p ProbedPackets
	var start, first, last float64
	seen := false
	for _, pk := range res.Packets {
		pts, err := strconv.ParseFloat(pk.PTS, 64)
		if err != nil {
			continue // the first H.264 packet has none
		}
		size, _ := strconv.Atoi(pk.Size)
		if !seen {
			start, seen = pts, true
		}
		if pts < start+1 {
			continue
		}
		if p.Frames == 0 {
			first = pts
		} else {
			p.Intervals = append(p.Intervals, pts-last)
		}
		p.Frames++
		p.Bytes += size
		last, p.LastSize = pts, size
	}
	p.Seconds = last - first
	if p.Frames < 5 || p.Seconds <= 0 {
		t.Fatalf("ffprobe %s: %d packets over %.1f s", url, p.Frames, p.Seconds)
	}
	return p
}
