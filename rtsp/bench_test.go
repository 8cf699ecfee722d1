package rtsp

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net"
	"net/netip"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/chinesium/chinesium/rtsp/rtpjpeg"
)

// BenchmarkFanout measures one camera frame (a 640x480 JPEG packetized once
// as RTP/JPEG) sent to N UDP sessions: time per frame, time per frame per
// reader, process CPU time per frame (user+system, so the numbers hold on
// a busy machine; on loopback it includes the kernel's delivery of each
// datagram to the sink socket, which nobody reads), and allocations per
// frame per reader (the goal is 0: the packets
// are shared, only the per-frame unit is allocated). "alloc/frame" counts
// everything, including the packetization done once per frame.
func BenchmarkFanout(b *testing.B) {
	jp := cameraLikeJPEG(b)
	for _, readers := range []int{1, 10, 50, 200} {
		b.Run(fmt.Sprintf("readers=%d", readers), func(b *testing.B) {
			srv := &Server{}
			srv.init()
			udp, err := listenUDPPair(net.IPv4(127, 0, 0, 1))
			if err != nil {
				b.Fatal(err)
			}
			defer udp.close()
			sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			defer sink.Close()
			to := netip.MustParseAddrPort(sink.LocalAddr().String())
			tr := newTrack(srv, kindJPEG, 26, 90000, nil)
			p := &path{name: "bench", counters: &pathCounters{}}
			var sts []*sessionTrack
			for range readers {
				ss := &session{id: newSessionID(), srv: srv, path: p, kind: transportUDP, udp: udp,
					queue: make(chan queued, queueLen)}
				ss.timer = time.AfterFunc(time.Hour, func() {})
				st := &sessionTrack{s: ss, t: tr, rtpAddr: to, rtcpAddr: to}
				ss.tracks = []*sessionTrack{st, nil}
				// Register the reader without starting a producer: the
				// benchmark dispatches itself.
				ss.playing = true
				ss.done = make(chan struct{})
				ctx, cancel := contextWithCancel()
				ss.cancel = cancel
				go ss.writer(ctx, ss.done)
				tr.mu.Lock()
				tr.readers[st] = struct{}{}
				tr.mu.Unlock()
				sts = append(sts, st)
				defer func() { cancel(); <-ss.done }()
			}
			frame := func(i uint64) {
				fr, err := rtpjpeg.Parse(jp)
				if err != nil {
					b.Fatal(err)
				}
				size, n := fr.PayloadSize(maxPayload, rtpHeaderLen)
				u := startUnit(size, n)
				u.buf, u.ends, _ = fr.AppendPayloads(u.buf, u.ends, maxPayload, rtpHeaderLen)
				u.key = true
				tr.finish(u, tr.rtpTime(time.Now()))
				tr.dispatch(u)
				for _, st := range sts {
					for st.sent.Load() < i {
						time.Sleep(20 * time.Microsecond)
					}
				}
			}
			frame(1) // first SRs and warm-up
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			cpu0 := cpuTime()
			i := uint64(1)
			b.ResetTimer()
			for b.Loop() {
				i++
				frame(i)
			}
			b.StopTimer()
			cpu := cpuTime() - cpu0
			runtime.ReadMemStats(&ms1)
			frames := float64(i - 1)
			allocs := float64(ms1.Mallocs - ms0.Mallocs)
			b.ReportMetric(allocs/frames, "alloc/frame")
			b.ReportMetric(allocs/frames/float64(readers), "alloc/frame/reader")
			b.ReportMetric(float64(cpu.Microseconds())/frames, "cpu-us/frame")
			b.ReportMetric(float64(cpu.Nanoseconds())/frames/float64(readers), "cpu-ns/frame/reader")
			fr, _ := rtpjpeg.Parse(jp)
			_, pkts := fr.PayloadSize(maxPayload, rtpHeaderLen)
			b.ReportMetric(float64(len(jp)), "jpeg-bytes")
			b.ReportMetric(float64(cpu.Nanoseconds())/frames/float64(readers*pkts), "cpu-ns/packet")
			for _, st := range sts {
				if d := st.dropped.Load(); d > 0 {
					b.Errorf("a reader dropped %d frames", d)
				}
			}
		})
	}
}

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

// cameraLikeJPEG is a 640x480 JPEG with detail everywhere, about the size
// of a real camera frame (tens of kilobytes, dozens of RTP packets).
func cameraLikeJPEG(b *testing.B) []byte {
	img := image.NewRGBA(image.Rect(0, 0, testW, testH))
	for y := range testH {
		for x := range testW {
			img.Set(x, y, color.RGBA{uint8(x ^ y), uint8(x * y >> 4), uint8(x + y), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// cpuTime returns the CPU time (user+system) used by the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
