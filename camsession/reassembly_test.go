package camsession

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// testJPEG returns a fake JPEG of n bytes (n >= 4): SOI, filler that never
// contains FF, EOI. Different seeds give different content.
func testJPEG(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7+int(seed)) % 0xfe
	}
	b[0], b[1], b[n-2], b[n-1] = 0xff, 0xd8, 0xff, 0xd9
	return b
}

// packets splits a JPEG into media packets of at most size payload bytes.
func packets(frame uint16, jpeg []byte, size int) []Media {
	var out []Media
	for i := 0; i*size < len(jpeg); i++ {
		out = append(out, Media{Frame: frame, Packet: uint16(i), Payload: jpeg[i*size : min(len(jpeg), (i+1)*size)]})
	}
	return out
}

type pushResult struct {
	r      *Reassembler
	frames []*Frame
}

func (p *pushResult) push(t *testing.T, ms ...Media) {
	t.Helper()
	for _, m := range ms {
		// The receive buffer is reused: hand over a copy that gets clobbered.
		buf := bytes.Clone(m.Payload)
		m.Payload = buf
		if f := p.r.Push(m); f != nil {
			p.frames = append(p.frames, f)
		}
		for i := range buf {
			buf[i] = 0xaa
		}
	}
}

func newPush() *pushResult { return &pushResult{r: NewReassembler(0, 0)} }

func (p *pushResult) wantFrames(t *testing.T, want ...[]byte) {
	t.Helper()
	if len(p.frames) != len(want) {
		t.Fatalf("%d frames emitted, want %d (stats %+v)", len(p.frames), len(want), p.r.Stats())
	}
	for i, f := range p.frames {
		if !bytes.Equal(f.JPEG, want[i]) {
			t.Errorf("frame %d (index %d) differs from what was sent", i, f.Index)
		}
		if f.Seq != uint64(i+1) {
			t.Errorf("frame %d has Seq %d", i, f.Seq)
		}
	}
}

func TestReassembleEmitsOnLastPacket(t *testing.T) {
	p := newPush()
	j := testJPEG(5000, 1)
	ps := packets(7, j, 1032)
	p.push(t, ps[:len(ps)-1]...)
	if len(p.frames) != 0 {
		t.Fatal("frame emitted before its last packet")
	}
	p.push(t, ps[len(ps)-1])
	p.wantFrames(t, j) // without waiting for the next frame's packet 0
	if p.frames[0].Index != 7 || p.frames[0].Time.IsZero() {
		t.Errorf("frame %+v", p.frames[0])
	}
	if s := p.r.Stats(); s != (ReassemblyStats{FramesComplete: 1}) {
		t.Errorf("stats %+v", s)
	}
}

func TestReassembleReorderAndDuplicates(t *testing.T) {
	p := newPush()
	j := testJPEG(4000, 2)
	ps := packets(100, j, 500) // 8 packets
	order := []int{0, 2, 1, 2, 3, 5, 4, 0, 6, 7}
	for _, i := range order {
		p.push(t, ps[i])
	}
	p.wantFrames(t, j)
	s := p.r.Stats()
	if s.Duplicates != 2 || s.Reorders != 2 || s.FramesDropped != 0 {
		t.Errorf("stats %+v", s)
	}
	// Duplicate packet 0 of a finished frame: no one-packet frame, counted late.
	p.push(t, ps[0], ps[7])
	p.wantFrames(t, j)
	if s := p.r.Stats(); s.Late != 2 {
		t.Errorf("late %d, want 2", s.Late)
	}
}

func TestReassembleMissingPackets(t *testing.T) {
	p := newPush()
	a, b, c := testJPEG(3000, 3), testJPEG(3000, 4), testJPEG(3000, 5)
	pa, pb, pc := packets(1, a, 1000), packets(2, b, 1000), packets(3, c, 1000)
	p.push(t, pa[0], pa[2])        // middle packet lost
	p.push(t, pb[0], pb[1])        // trailing packet lost: no EOI
	p.push(t, pc...)               // complete
	p.push(t, pa[1], pb[2], pb[1]) // all late now
	p.wantFrames(t, c)
	s := p.r.Stats()
	if s.FramesDropped != 2 || s.Late != 3 || s.FramesComplete != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestReassembleInterleavedFrames(t *testing.T) {
	p := newPush()
	a, b := testJPEG(5000, 6), testJPEG(5000, 7)
	pa, pb := packets(10, a, 1000), packets(11, b, 1000)
	p.push(t, pa[:4]...)
	p.push(t, pb[:3]...)
	p.push(t, pa[4])
	p.push(t, pb[3:]...)
	p.wantFrames(t, a, b)
	if s := p.r.Stats(); s.FramesDropped != 0 || s.Reorders != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestReassembleSuccessorCompletesFirst(t *testing.T) {
	p := newPush()
	a, b := testJPEG(5000, 8), testJPEG(3000, 9)
	pa, pb := packets(10, a, 1000), packets(11, b, 1000)
	p.push(t, pa[:4]...)
	p.push(t, pb...)
	p.push(t, pa[4]) // too late: frame 11 was already shown
	p.wantFrames(t, b)
	if s := p.r.Stats(); s.FramesDropped != 1 || s.Late != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestReassembleWrap(t *testing.T) {
	p := newPush()
	var want [][]byte
	for i, idx := range []uint16{65533, 65534, 65535, 0, 1, 2} {
		j := testJPEG(2500, byte(i))
		want = append(want, j)
		p.push(t, packets(idx, j, 1000)...)
	}
	p.wantFrames(t, want...)
	p.push(t, packets(65535, want[2], 1000)[1]) // late across the wrap
	if s := p.r.Stats(); s.Late != 1 || s.FramesDropped != 0 {
		t.Errorf("stats %+v", s)
	}
	if p.frames[3].Index != 0 {
		t.Errorf("index after wrap %d", p.frames[3].Index)
	}
}

func TestReassembleCounterRestart(t *testing.T) {
	p := newPush()
	a, b := testJPEG(2000, 1), testJPEG(2000, 2)
	p.push(t, packets(5000, a, 1000)...)
	p.push(t, packets(3, b, 1000)...) // camera rebooted: count starts over
	p.wantFrames(t, a, b)
}

func TestReassembleBounds(t *testing.T) {
	r := NewReassembler(4000, 2)
	p := &pushResult{r: r}
	// Frames in flight: 1, 2, 3 partial; 1 is evicted when 3 starts.
	for idx := uint16(1); idx <= 3; idx++ {
		p.push(t, packets(idx, testJPEG(3000, byte(idx)), 1000)[0])
	}
	if s := r.Stats(); s.FramesDropped != 1 {
		t.Errorf("after eviction: %+v", s)
	}
	p.push(t, packets(1, testJPEG(3000, 1), 1000)[1]) // evicted frame: late
	if s := r.Stats(); s.Late != 1 {
		t.Errorf("packet of evicted frame: %+v", s)
	}
	// Too large: dropped once, its other packets ignored.
	big := testJPEG(5000, 9)
	p.push(t, packets(4, big, 1000)...)
	if len(p.frames) != 0 {
		t.Fatal("oversized frame emitted")
	}
	// A hostile packet index must not grow memory without bound.
	p.push(t, Media{Frame: 5, Packet: 65535, Payload: []byte{0xff, 0xd9}})
	ok := testJPEG(3900, 10)
	p.push(t, packets(6, ok, 1000)...)
	p.wantFrames(t, ok)
	if s := r.Stats(); s.FramesDropped != 5 {
		// 1 evicted, then 2 and 3 (successor 6 completed), 4 too big, 5 hostile.
		t.Errorf("stats %+v", s)
	}
	if n := len(r.flight) + len(r.free); n != 3 {
		t.Errorf("%d assemblers, want 3", n)
	}
}

func TestReassembleSOIEOIAcrossPackets(t *testing.T) {
	p := newPush()
	j := testJPEG(2001, 3)
	// Last packet holds only D9; first holds only FF; an empty packet in between.
	ps := []Media{
		{Frame: 9, Packet: 0, Payload: j[:1]},
		{Frame: 9, Packet: 1, Payload: j[1:1000]},
		{Frame: 9, Packet: 2, Payload: nil},
		{Frame: 9, Packet: 3, Payload: j[1000:2000]},
		{Frame: 9, Packet: 4, Payload: j[2000:]},
	}
	p.push(t, ps[4], ps[3], ps[1], ps[2])
	if len(p.frames) != 0 {
		t.Fatal("emitted without packet 0")
	}
	p.push(t, ps[0])
	p.wantFrames(t, j)

	// Not a JPEG start: dropped even though it ends with EOI.
	bad := testJPEG(100, 4)
	bad[0] = 0x00
	p.push(t, packets(10, bad, 60)...)
	p.wantFrames(t, j)
	if s := p.r.Stats(); s.FramesDropped != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestReassembleFramesImmutable(t *testing.T) {
	p := newPush()
	var want [][]byte
	for i := range 20 {
		// About 800 KB, sizes growing past the scratch buffers' first
		// capacity and one far larger than the others.
		n := 30000 + i*1000
		if i == 7 {
			n = 200000
		}
		j := testJPEG(n, byte(i))
		want = append(want, j)
		ps := packets(uint16(i), j, 700)
		ps[0], ps[1] = ps[1], ps[0] // exercise the out-of-order copy too
		p.push(t, ps...)
	}
	p.wantFrames(t, want...) // earlier frames untouched by buffer reuse
}

// TestReassembleLossyNetwork pushes a long stream through random loss,
// duplication and adjacent swaps: every frame whose packets all arrived must
// come out byte-identical, in order, and nothing else.
func TestReassembleLossyNetwork(t *testing.T) {
	for seed := range uint64(5) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 1))
			p := newPush()
			frames := map[uint16][]byte{}
			damaged := map[uint16]bool{}
			var wire []Media
			for i := range 400 {
				idx := uint16(65300 + i) // crosses the wrap
				j := testJPEG(3000+rng.IntN(5000), byte(i))
				frames[idx] = j
				for _, m := range packets(idx, j, 1000) {
					switch x := rng.Float64(); {
					case x < 0.05:
						damaged[idx] = true
					case x < 0.10:
						wire = append(wire, m, m)
					default:
						wire = append(wire, m)
					}
				}
			}
			for i := 0; i+1 < len(wire); i++ {
				if rng.Float64() < 0.05 {
					wire[i], wire[i+1] = wire[i+1], wire[i]
					i++
				}
			}
			seen := map[uint16]bool{}
			for _, m := range wire {
				seen[m.Frame] = true
			}
			// A final intact frame finishes whatever is still in flight.
			end := testJPEG(3000, 0)
			frames[164] = end // 65300+400 wrapped
			wire = append(wire, packets(164, end, 1000)...)
			p.push(t, wire...)
			lostSeen := 0
			for idx := range damaged {
				if seen[idx] {
					lostSeen++
				}
			}
			got := map[uint16]bool{}
			var last uint16
			for i, f := range p.frames {
				if !bytes.Equal(f.JPEG, frames[f.Index]) {
					t.Fatalf("frame %d corrupted", f.Index)
				}
				if damaged[f.Index] {
					t.Fatalf("damaged frame %d emitted", f.Index)
				}
				if i > 0 && !newer(f.Index, last) {
					t.Fatalf("frame %d after %d", f.Index, last)
				}
				last = f.Index
				got[f.Index] = true
			}
			for idx := range frames {
				if !damaged[idx] && !got[idx] {
					t.Errorf("intact frame %d not delivered", idx)
				}
			}
			s := p.r.Stats()
			if s.FramesComplete != uint64(len(p.frames)) || s.FramesDropped != uint64(lostSeen) {
				t.Errorf("stats %+v, %d frames, %d damaged", s, len(p.frames), len(damaged))
			}
			t.Logf("%d frames, %d damaged, stats %+v", len(frames), len(damaged), s)
		})
	}
}

func TestReassembleNoAllocsPerPacket(t *testing.T) {
	r := NewReassembler(0, 0)
	j := testJPEG(60000, 1)
	ps := packets(0, j, 1032)
	idx := uint16(0)
	run := func() {
		for _, m := range ps[:len(ps)-1] {
			m.Frame = idx
			r.Push(m)
		}
		idx++
	}
	run() // warm up buffers
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("%v allocations per %d packets", n, len(ps)-1)
	}
	// A completing frame allocates only the Frame and its JPEG.
	full := func() {
		for _, m := range ps {
			m.Frame = idx
			r.Push(m)
		}
		idx++
	}
	if n := testing.AllocsPerRun(100, full); n > 2 {
		t.Errorf("%v allocations per frame, want <= 2", n)
	}
}

// TestLastPacketAllocatesOnlyTheFrame: a frame's memory is allocated when
// its first packet arrives, so the packets after it, the last one
// included (viewers wait for the frame after it), allocate only the Frame
// itself, and a frame whose packets came in order is not copied. The
// memory is large enough for frames whose size varies, as a camera's do,
// once the reassembler has seen a few.
func TestLastPacketAllocatesOnlyTheFrame(t *testing.T) {
	r := NewReassembler(0, 0)
	r.Room = FrameRoom{Head: 64, Tail: 2}
	var jpegs [][]byte
	for i, n := range []int{50000, 58000, 45000, 60000, 52000, 59000, 41000, 57000} {
		jpegs = append(jpegs, testJPEG(n, byte(i)))
	}
	var before, after runtime.MemStats
	var allocated uint64
	const frames = 48
	warm := len(jpegs)
	for idx := range uint16(warm + frames) {
		j := jpegs[int(idx)%len(jpegs)]
		ps := packets(idx, j, 1032)
		if r.Push(ps[0]) != nil {
			t.Fatal("a frame emitted at its first packet")
		}
		runtime.ReadMemStats(&before)
		var f *Frame
		for _, m := range ps[1:] {
			f = r.Push(m)
		}
		runtime.ReadMemStats(&after)
		if f == nil || !bytes.Equal(f.JPEG, j) {
			t.Fatalf("frame %d not emitted whole", idx)
		}
		if int(idx) >= warm {
			allocated += after.TotalAlloc - before.TotalAlloc
		}
	}
	// The Frame is about 100 bytes; any frame's memory allocated or
	// grown after its first packet, even once, is 40 KB or more. (The
	// count is the process's: a goroutine of an earlier test may add a
	// little, not that much.)
	if allocated > frames*1024 {
		t.Errorf("the packets after the first allocated %d bytes in %d frames; want only the Frame each time",
			allocated, frames)
	}
}

// FuzzReassemble pushes arbitrary packet sequences (3-byte records: frame
// index as a signed offset so that the wrap is near, packet index, payload
// length; then the payload) into a small reassembler. It must never panic,
// never exceed its bounds, and only emit SOI..EOI frames made of payloads
// that were pushed for that frame, in packet order. Emitted frames must
// stay as they were (scratch buffers are reused).
func FuzzReassemble(f *testing.F) {
	enc := func(ms []Media) []byte {
		var b []byte
		for _, m := range ms {
			b = append(b, byte(int8(int16(m.Frame))), byte(m.Packet), byte(len(m.Payload)))
			b = append(b, m.Payload...)
		}
		return b
	}
	j := testJPEG(100, 1)
	f.Add(enc(packets(0, j, 40)))
	f.Add(enc(append(packets(65535, j, 30), packets(0, j, 50)...)))
	ps := packets(3, j, 20)
	f.Add(enc([]Media{ps[4], ps[0], ps[0], ps[2], ps[1], ps[3]}))
	f.Add(enc([]Media{{Frame: 1, Payload: []byte{0xff, 0xd8, 0xff, 0xd9}}, {Frame: 1, Packet: 1, Payload: []byte{0xff, 0xd9}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		const maxFrame, maxFlight = 300, 3
		r := NewReassembler(maxFrame, maxFlight)
		type key struct{ f, p uint16 }
		pushed := map[key][][]byte{}
		var emitted uint64
		var kept []*Frame
		var copies [][]byte
		for len(b) >= 3 {
			m := Media{Frame: uint16(int16(int8(b[0]))), Packet: uint16(b[1] & 0x3f)}
			n := min(int(b[2]&0x7f), len(b)-3)
			m.Payload = b[3 : 3+n]
			b = b[3+n:]
			k := key{m.Frame, m.Packet}
			pushed[k] = append(pushed[k], bytes.Clone(m.Payload))
			fr := r.Push(m)
			if len(r.flight) > maxFlight || len(r.flight)+len(r.free) != maxFlight+1 {
				t.Fatalf("%d frames in flight, %d free", len(r.flight), len(r.free))
			}
			if fr == nil {
				continue
			}
			emitted++
			kept, copies = append(kept, fr), append(copies, bytes.Clone(fr.JPEG))
			jp := fr.JPEG
			if len(jp) < 4 || len(jp) > maxFrame || jp[0] != 0xff || jp[1] != 0xd8 || jp[len(jp)-2] != 0xff || jp[len(jp)-1] != 0xd9 {
				t.Fatalf("bad frame % x", jp)
			}
			if fr.Seq != emitted || cap(jp) != len(jp) {
				t.Fatalf("seq %d after %d frames, cap %d len %d", fr.Seq, emitted-1, cap(jp), len(jp))
			}
			// Made of pushed payloads, in packet order (checked when each
			// packet index had a single payload).
			off, unique := 0, true
			for p := uint16(0); off < len(jp) && unique; p++ {
				c := pushed[key{fr.Index, p}]
				if len(c) == 0 {
					t.Fatalf("frame %d: packet %d never pushed", fr.Index, p)
				}
				for _, x := range c[1:] {
					unique = unique && bytes.Equal(x, c[0])
				}
				if !bytes.HasPrefix(jp[off:], c[0]) {
					if unique {
						t.Fatalf("frame %d: packet %d not found at offset %d", fr.Index, p, off)
					}
					break
				}
				off += len(c[0])
			}
		}
		if s := r.Stats(); s.FramesComplete != emitted {
			t.Fatalf("stats %+v, emitted %d", s, emitted)
		}
		for i, fr := range kept {
			if !bytes.Equal(fr.JPEG, copies[i]) {
				t.Fatalf("frame %d changed after it was emitted", fr.Seq)
			}
		}
	})
}

// TestFramedInRoom: with Room, a frame's JPEG lies in an allocation with
// room around it, in order and out of order, and Framed puts a head and a
// tail around the JPEG in that memory, once, leaving the JPEG as it was.
func TestFramedInRoom(t *testing.T) {
	p := newPush()
	p.r.Room = FrameRoom{Head: 8, Tail: 4}
	var want [][]byte
	for i := range 2 {
		j := testJPEG(3000, byte(i))
		want = append(want, j)
		ps := packets(uint16(i), j, 700)
		if i == 1 {
			ps[0], ps[1] = ps[1], ps[0]
		}
		p.push(t, ps...)
	}
	p.wantFrames(t, want...)
	for i, f := range p.frames {
		if _, ok := f.Framed(make([]byte, 9), nil); ok {
			t.Errorf("frame %d: a head of 9 bytes fitted a room of 8", i)
		}
		if _, ok := f.Framed(nil, make([]byte, 5)); ok {
			t.Errorf("frame %d: a tail of 5 bytes fitted a room of 4", i)
		}
		got, ok := f.Framed([]byte("head"), []byte("tail"))
		if !ok {
			t.Fatalf("frame %d: no room", i)
		}
		if !bytes.Equal(got, slices.Concat([]byte("head"), want[i], []byte("tail"))) {
			t.Errorf("frame %d framed: not head, the JPEG, tail", i)
		}
		if &got[4] != &f.JPEG[0] {
			t.Errorf("frame %d framed: the JPEG was copied", i)
		}
		if !bytes.Equal(f.JPEG, want[i]) || cap(f.JPEG) != len(f.JPEG) {
			t.Errorf("frame %d: the JPEG changed, or can be appended to in place", i)
		}
		if _, ok := f.Framed(nil, nil); ok {
			t.Errorf("frame %d: framed twice", i)
		}
	}
	// Without room, and for frames made elsewhere: no framing.
	q := newPush()
	q.push(t, packets(0, testJPEG(3000, 9), 700)...)
	for _, f := range []*Frame{q.frames[0], {JPEG: testJPEG(100, 1)}} {
		if _, ok := f.Framed([]byte("h"), nil); ok {
			t.Error("a frame without room was framed")
		}
	}
}
