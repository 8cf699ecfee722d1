package camsession

import (
	"encoding/binary"
	"net"
	"net/netip"
	"runtime"
	"slices"
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
// completed frame allocates the Frame and its JPEG (B/op is their share
// per packet).
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
// loopback sockets, beside a bare receive-and-discard loop
// (ReadFromUDPAddrPort into one buffer, nothing else) fed the same datagrams
// in the same run.
//
// A sender writes each batch of 128 datagrams (a 40 000-byte JPEG is 39
// packets of 1032 bytes) to both sockets; then both sockets are drained,
// the bare loop first in one batch and the session first in the next, so
// that cache and scheduler effects fall on both alike. Only the draining is
// timed; sending is not.
//
// Metrics, all for the same traffic:
//
//	ns/op, B/op, allocs/op  session path, per packet (allocs/op rounds down)
//	allocs/packet           the same allocations, unrounded
//	bare-ns/packet          the bare loop, per packet
//	x-bare-loop             session time / bare time over the whole run
//	x-bare-loop-median      median over the batches of that quotient: less
//	                        moved by another process taking the CPU during
//	                        one batch, which on a shared machine happens
//	ns/frame, allocs/frame  session path per completed frame (39 packets)
//	bare-ns/frame           the bare loop for the same 39 packets
//
// The goal is x-bare-loop ≤ 1.5 and no allocation per packet: a frame
// costs its Frame and its JPEG, 2 allocations.
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
	// Media is accepted from the data port only: the sender plays it.
	s.dataPort.Store(uint32(sender.LocalAddr().(*net.UDPAddr).Port))
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
	sbuf := make([]byte, receiveBuffer) // the session's own, as in receive
	next := 0                           // packet number in the stream
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
	var batchBare, batchSession time.Duration // times of the current batch
	var ratios []float64                      // per batch: session time / bare time
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
			batchBare = time.Since(t0)
			bareTime += batchBare
		}
		sessionLoop := func() {
			runtime.ReadMemStats(&ms)
			before := ms.Mallocs
			b.StartTimer()
			t0 := time.Now()
			for range n {
				if err := s.receiveOne(&sbuf); err != nil {
					b.Fatal(err)
				}
			}
			batchSession = time.Since(t0)
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
		if n == batch && batchBare > 0 {
			ratios = append(ratios, float64(batchSession)/float64(batchBare))
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
	b.ReportMetric(barePerPacket, "bare-ns/packet")
	b.ReportMetric(perPacket/barePerPacket, "x-bare-loop")
	if len(ratios) > 0 {
		slices.Sort(ratios)
		b.ReportMetric(ratios[len(ratios)/2], "x-bare-loop-median")
	}
	b.ReportMetric(perPacket*float64(perFrame), "ns/frame")
	b.ReportMetric(barePerPacket*float64(perFrame), "bare-ns/frame")
	b.ReportMetric(float64(mallocs)/float64(b.N), "allocs/packet")
	if st.FramesComplete > 0 {
		b.ReportMetric(float64(mallocs)/float64(st.FramesComplete), "allocs/frame")
	}
}
