package rtsp

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// depacketizeH264 is an RFC 6184 receiver for single NAL unit and FU-A
// packets.
func depacketizeH264(t *testing.T, u *unit) [][]byte {
	t.Helper()
	var nals [][]byte
	var fu []byte
	_ = u.packets(func(p []byte) error {
		pl := p[rtpHeaderLen:]
		switch pl[0] & 0x1F {
		case nalFUA:
			start, end := pl[1]&0x80 != 0, pl[1]&0x40 != 0
			if start {
				fu = []byte{pl[0]&0xE0 | pl[1]&0x1F}
			} else if fu == nil {
				t.Fatal("FU-A continuation without start")
			}
			fu = append(fu, pl[2:]...)
			if end {
				nals = append(nals, fu)
				fu = nil
			}
		default:
			nals = append(nals, append([]byte(nil), pl...))
		}
		if len(p) > rtpHeaderLen+maxPayload {
			t.Fatalf("packet of %d bytes", len(p))
		}
		return nil
	})
	if fu != nil {
		t.Fatal("unfinished FU-A")
	}
	return nals
}

func TestPacketizeH264(t *testing.T) {
	big := make([]byte, 5000)
	big[0] = 0x65 // IDR, nal_ref_idc 3
	for i := 1; i < len(big); i++ {
		big[i] = byte(i)
	}
	exact := bytes.Repeat([]byte{0x41}, maxPayload) // exactly fits
	nals := [][]byte{{0x67, 1, 2, 3}, {0x68, 4}, big, exact, append([]byte{0x41}, bytes.Repeat([]byte{9}, maxPayload)...)}
	u := (&track{}).packetizeH264(nals)
	tr := newTrack(&Server{}, kindH264, payloadTypeH264, 90000, nil)
	tr.finish(u, 1234)
	got := depacketizeH264(t, u)
	if len(got) != len(nals) {
		t.Fatalf("%d NAL units back, want %d", len(got), len(nals))
	}
	for i := range nals {
		if !bytes.Equal(got[i], nals[i]) {
			t.Errorf("NAL %d differs after FU-A round trip", i)
		}
	}
	if len(u.buf) != cap(u.buf) {
		t.Errorf("buffer size estimate %d, used %d", cap(u.buf), len(u.buf))
	}
	var markers int
	_ = u.packets(func(p []byte) error {
		if p[1]&0x80 != 0 {
			markers++
		}
		if binary.BigEndian.Uint32(p[4:]) != 1234 {
			t.Error("packets of one access unit carry different timestamps")
		}
		return nil
	})
	if markers != 1 || u.buf[u.ends[len(u.ends)-2]+interleavedLen+1]&0x80 == 0 {
		t.Errorf("%d marker bits; want exactly one, on the last packet", markers)
	}
}

// TestAccessUnits feeds an Annex B stream in awkward chunks and checks the
// access units that come out: parameter sets in-band before each IDR, one
// unit per picture, key flags, increasing timestamps.
func TestAccessUnits(t *testing.T) {
	srv := &Server{}
	h := newH264Track(srv, nil, &settingsBox{})
	sc4 := []byte{0, 0, 0, 1}
	sc3 := []byte{0, 0, 1}
	var stream []byte
	add := func(sc []byte, nal ...byte) { stream = append(append(stream, sc...), nal...) }
	add(sc4, 0x09, 0xF0)                   // AUD, dropped
	add(sc4, 0x67, 0x42, 0xC0, 0x1E)       // SPS
	add(sc4, 0x68, 0xCE, 0x3C, 0x80)       // PPS
	add(sc4, 0x06, 5, 1, 0xAA, 0x80)       // SEI
	add(sc3, 0x65, 0x88, 0x84, 0x00, 0x21) // IDR
	add(sc4, 0x41, 0x9A, 0x02)             // P
	add(sc4, 0x41, 0x9A, 0x04)             // P
	add(sc4, 0x65, 0x88, 0x80)             // IDR without parameter sets
	add(sc4, 0x09, 0xF0)                   // trailing AUD to terminate the IDR
	times := &frameTimes{}
	for i := range 4 {
		times.push(uint32(1000 + 3600*i))
	}
	var units []*unit
	st := &sessionTrack{s: &session{queue: make(chan queued, 16)}, t: h.track}
	h.readers[st] = struct{}{}
	if err := h.readAccessUnits(&chunkReader{b: stream, n: 3}, h.track, times); err != nil {
		t.Fatal(err)
	}
	for len(st.s.queue) > 0 {
		units = append(units, (<-st.s.queue).u)
	}
	if len(units) != 4 {
		t.Fatalf("%d access units, want 4", len(units))
	}
	wantKey := []bool{true, false, false, true}
	var lastTS uint32
	for i, u := range units {
		if u.key != wantKey[i] {
			t.Errorf("unit %d key=%v", i, u.key)
		}
		nals := depacketizeH264(t, u)
		types := []byte{}
		for _, n := range nals {
			types = append(types, n[0]&0x1F)
		}
		switch i {
		case 0:
			if !bytes.Equal(types, []byte{7, 8, 6, 5}) {
				t.Errorf("first unit NAL types %v, want SPS PPS SEI IDR", types)
			}
		case 3:
			if !bytes.Equal(types, []byte{7, 8, 5}) {
				t.Errorf("second IDR NAL types %v, want the cached SPS PPS before it", types)
			}
		}
		ts := binary.BigEndian.Uint32(u.buf[interleavedLen+4:])
		if i > 0 && int32(ts-lastTS) != 3600 {
			t.Errorf("unit %d timestamp step %d, want 3600 (40 ms)", i, int32(ts-lastTS))
		}
		lastTS = ts
	}
	if sps, pps := h.params(); !bytes.Equal(sps, []byte{0x67, 0x42, 0xC0, 0x1E}) || !bytes.Equal(pps, []byte{0x68, 0xCE, 0x3C, 0x80}) {
		t.Errorf("cached parameter sets %x %x", sps, pps)
	}
}
