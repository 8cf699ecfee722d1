package rtsp

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/rtsp/rtpjpeg"
	"github.com/chinesium/chinesium/stream"
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
				size, n := fr.PayloadSize(maxPayload, packetRoom)
				u := tr.startUnit(size, n)
				u.buf, u.ends, _ = fr.AppendPayloads(u.buf, u.ends, maxPayload, packetRoom)
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
			_, pkts := fr.PayloadSize(maxPayload, packetRoom)
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
func cameraLikeJPEG(b testing.TB) []byte { return cameraLikeJPEGn(b, 0) }

// cameraLikeJPEGn is cameraLikeJPEG's picture shifted by k pixels: a
// different frame for every k.
func cameraLikeJPEGn(b testing.TB, k int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, testW, testH))
	for y := range testH {
		for x := range testW {
			img.Set(x, y, color.RGBA{uint8((x + k) ^ y), uint8((x + k) * y >> 4), uint8(x + y), 255})
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

// hiddenSockets is a listener whose connections do not give their socket
// away, so that every unit goes through the sessions' writers: the
// baseline of BenchmarkInterleaved.
type hiddenSockets struct{ net.Listener }

func (l hiddenSockets) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	return struct{ net.Conn }{c}, err
}

// BenchmarkInterleaved measures one camera frame (camera-like, tens of
// RTP packets) sent to 50 sessions interleaved in their RTSP connections,
// read by 50 clients, with each session's writer goroutine writing every
// unit (writers) and with the producer writing up-to-date sessions
// itself (direct): process CPU per frame and the time from Publish to the
// frame's last packet at the last client.
func BenchmarkInterleaved(b *testing.B) {
	const sessions = 50
	jp := cameraLikeJPEG(b)
	for _, mode := range []string{"writers", "direct"} {
		b.Run(fmt.Sprintf("sessions=%d/%s", sessions, mode), func(b *testing.B) {
			hub := stream.NewHub()
			srv := &Server{}
			srv.Handle("cam1", Source{Video: hub})
			ln, err := net.Listen("tcp", "127.0.12.60:0")
			if err != nil {
				b.Fatal(err)
			}
			if mode == "writers" {
				ln = hiddenSockets{ln}
			}
			ctx, cancel := context.WithCancel(context.Background())
			served := make(chan struct{})
			go func() { defer close(served); _ = srv.Serve(ctx, ln) }()
			defer func() { cancel(); <-served }()
			url := "rtsp://" + ln.Addr().String() + "/cam1/jpeg"
			var got, want atomic.Int64 // frames received, over all clients
			arrived := make(chan struct{}, 1)
			var wg sync.WaitGroup
			defer wg.Wait()
			for range sessions {
				nc, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				defer nc.Close()
				br := bufio.NewReaderSize(nc, 64<<10)
				session := ""
				for i, req := range []string{
					"SETUP " + url + "/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n",
					"PLAY " + url + " RTSP/1.0\r\nCSeq: 2\r\nSession: %s\r\n\r\n",
				} {
					if i == 1 {
						req = fmt.Sprintf(req, session)
					}
					if _, err := io.WriteString(nc, req); err != nil {
						b.Fatal(err)
					}
					res, err := readRawResponse(br)
					if err != nil || res.status != 200 {
						b.Fatalf("%s: %v %v", req, res, err)
					}
					session = sessionID(res.header.get("Session"))
				}
				wg.Go(func() {
					buf := make([]byte, 65535)
					for {
						ch, data, err := readInterleaved(br, buf)
						if err != nil {
							return
						}
						if ch == 0 && len(data) > 1 && data[1]&0x80 != 0 && got.Add(1) == want.Load() {
							arrived <- struct{}{}
						}
					}
				})
			}
			for srv.Stats().Paths["cam1"].JPEG.TCP < sessions {
				time.Sleep(time.Millisecond)
			}
			seq := uint64(0)
			base := time.Now()
			frame := func() time.Duration {
				seq++
				want.Store(int64(seq) * sessions)
				start := time.Now()
				// Capture times 40 ms apart (25 fps), whenever the frames
				// come: the producer paces by them.
				hub.Publish(&camsession.Frame{JPEG: jp, Seq: seq, Time: base.Add(time.Duration(seq) * 40 * time.Millisecond)})
				select {
				case <-arrived:
				case <-time.After(10 * time.Second):
					b.Fatalf("frame %d: %d of %d arrivals after 10 s", seq, got.Load(), want.Load())
				}
				return time.Since(start)
			}
			for range 5 { // first units and sender reports
				frame()
			}
			cpu0 := cpuTime()
			var lat []time.Duration
			b.ResetTimer()
			for b.Loop() {
				lat = append(lat, frame())
			}
			b.StopTimer()
			cpu := cpuTime() - cpu0
			slices.Sort(lat)
			b.ReportMetric(float64(cpu.Microseconds())/float64(len(lat)), "cpu-us/frame")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-us")
			b.ReportMetric(float64(srv.Stats().Paths["cam1"].UnitsDirect)/float64(int(seq)*sessions), "direct/unit")
		})
	}
}
