package camsession

import (
	"encoding/binary"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// benchFrame builds the wire packets of one 40 000-byte JPEG in 1032-byte
// pieces (39 packets, as the vendor library splits them), with the 16-byte
// extension on packet 0. setIndex rewrites the frame index of a packet, so
// that the stream of frames counts up as a camera's does.
func benchFrame() [][]byte {
	jpeg := testJPEG(40000, 3)
	ext := make([]byte, 16)
	var wire [][]byte
	for i, m := range packets(0, jpeg, 1032) {
		var e []byte
		if i == 0 {
			e = ext
		}
		wire = append(wire, AppendMedia(nil, m, e))
	}
	return wire
}

func setIndex(pkt []byte, frame uint16) { binary.LittleEndian.PutUint16(pkt[16:18], frame) }

// BenchmarkReassemble is the in-memory reassembly path: decode and push one
// packet (b.N packets). Steady state allocates nothing per packet; each
// completed frame allocates the Frame and its JPEG.
func BenchmarkReassemble(b *testing.B) {
	wire := benchFrame()
	perFrame := len(wire)
	r := NewReassembler(0, 0)
	frames := 0
	b.ReportAllocs()
	b.SetBytes(int64(len(wire[1])))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		pkt := wire[i%perFrame]
		setIndex(pkt, uint16(i/perFrame))
		msg, err := Decode(pkt)
		if err != nil {
			b.Fatal(err)
		}
		if r.Push(msg.Media) != nil {
			frames++
		}
	}
	b.StopTimer()
	if frames == 0 && b.N > 2*perFrame {
		b.Fatal("no frame completed")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(max(frames, 1)), "ns/frame")
}

// BenchmarkReceivePath measures the session's receive path (socket read,
// source filter, decode, reassembly, frame delivery) per packet over real
// loopback sockets, beside a bare receive-and-discard loop fed the same
// datagrams in the same run. Metrics: ns/op and allocs/op are per packet of
// the session path; ns/packet-bare is the bare loop; ratio-vs-bare is the
// quotient; ns/frame and allocs/frame are per 39-packet frame.
func BenchmarkReceivePath(b *testing.B) {
	camera := netip.MustParseAddr("127.0.4.200")
	sender, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(camera, 0)))
	if err != nil {
		b.Fatal(err)
	}
	defer sender.Close()
	s, err := New(Config{Camera: camera, LocalPort: -1, OnFrame: func(*Frame) {}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	bare, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		b.Fatal(err)
	}
	defer bare.Close()
	_ = bare.SetReadBuffer(4 << 20)
	bareAddr := bare.LocalAddr().(*net.UDPAddr).AddrPort()
	sessAddr := s.LocalAddr()

	wire := benchFrame()
	perFrame := len(wire)
	const batch = 128 // well inside the socket buffers: nothing is lost
	buf := make([]byte, MaxDatagram)
	next := 0 // packet number in the stream
	sendBatch := func(n int) {
		for i := range n {
			k := next + i
			pkt := wire[k%perFrame]
			setIndex(pkt, uint16(k/perFrame))
			for _, to := range []netip.AddrPort{bareAddr, sessAddr} {
				if _, err := sender.WriteToUDPAddrPort(pkt, to); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	var bareTime time.Duration
	var mallocs uint64
	var ms runtime.MemStats
	b.ReportAllocs()
	b.ResetTimer()
	b.StopTimer()
	for done := 0; done < b.N; {
		n := min(batch, b.N-done)
		// Both sockets get the same datagrams; then each is drained, in
		// alternating order.
		sendBatch(n)
		bareLoop := func() {
			// The same two world stops that precede the session loop.
			runtime.ReadMemStats(&ms)
			runtime.ReadMemStats(&ms)
			t0 := time.Now()
			for range n {
				if _, _, err := bare.ReadFromUDPAddrPort(buf); err != nil {
					b.Fatal(err)
				}
			}
			bareTime += time.Since(t0)
		}
		sessionLoop := func() {
			runtime.ReadMemStats(&ms)
			before := ms.Mallocs
			b.StartTimer()
			for range n {
				if err := s.receiveOne(buf); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&ms)
			mallocs += ms.Mallocs - before
		}
		if (done/batch)%2 == 0 {
			bareLoop()
			sessionLoop()
		} else {
			sessionLoop()
			bareLoop()
		}
		next += n
		done += n
	}
	st := s.Stats()
	if st.Packets != uint64(b.N) || st.BadPackets != 0 || st.Foreign != 0 {
		b.Fatalf("stats %+v after %d packets", st, b.N)
	}
	if b.N >= 2*perFrame && st.FramesComplete == 0 {
		b.Fatal("no frame completed")
	}
	perPacket := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	barePerPacket := float64(bareTime.Nanoseconds()) / float64(b.N)
	b.ReportMetric(barePerPacket, "ns/packet-bare")
	b.ReportMetric(perPacket/barePerPacket, "ratio-vs-bare")
	b.ReportMetric(perPacket*float64(perFrame), "ns/frame")
	if st.FramesComplete > 0 {
		b.ReportMetric(float64(mallocs)/float64(st.FramesComplete), "allocs/frame")
	}
}
