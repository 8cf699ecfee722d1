package fakecam

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image/jpeg"
	"net"
	"net/netip"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chinesium/chinesium/audio"
	"github.com/chinesium/chinesium/camsession"
)

// Tests use 127.0.3.x so they never collide with other packages' tests.
func testIP(last byte) netip.Addr { return netip.AddrFrom4([4]byte{127, 0, 3, last}) }

// startCam runs a camera until the test ends and waits for Run to return.
func startCam(t *testing.T, cfg Config) *Camera {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return c
}

// peer is a scripted client socket.
type peer struct {
	t    *testing.T
	conn *net.UDPConn
}

func newPeer(t *testing.T, addr string) *peer {
	t.Helper()
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadBuffer(4 << 20)
	t.Cleanup(func() { conn.Close() })
	return &peer{t: t, conn: conn}
}

func (p *peer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (p *peer) send(to netip.AddrPort, b []byte) {
	p.t.Helper()
	if _, err := p.conn.WriteToUDPAddrPort(b, to); err != nil {
		p.t.Fatal(err)
	}
}

// read returns the next datagram, or nil after d.
func (p *peer) read(d time.Duration) ([]byte, netip.AddrPort) {
	buf := make([]byte, camsession.MaxDatagram)
	_ = p.conn.SetReadDeadline(time.Now().Add(d))
	n, from, err := p.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, netip.AddrPort{}
		}
		p.t.Fatal(err)
	}
	return buf[:n], from
}

// login sends a login whose UDPInfo names dest, then a stream request.
func (p *peer) login(cam netip.AddrPort, dest netip.AddrPort, mask uint32) {
	p.send(cam, camsession.AppendLogin(nil, camsession.Login{Addr: dest}))
	p.send(cam, camsession.AppendStreamRequest(nil, mask))
}

// portRequest asks the camera at ip for its data port.
func portRequest(t *testing.T, p *peer, ip netip.Addr) camsession.PortResponse {
	t.Helper()
	for range 5 {
		p.send(netip.AddrPortFrom(ip, camsession.ControlPort), camsession.AppendPortRequest(nil))
		for {
			b, _ := p.read(500 * time.Millisecond)
			if b == nil {
				break
			}
			if r, err := camsession.ParsePortResponse(b); err == nil {
				return r
			}
		}
	}
	t.Fatalf("no port response from %v", ip)
	return camsession.PortResponse{}
}

// assembler rebuilds frames from the fake camera's packets using the packet
// count the camera puts into packet 0's extension.
type assembler struct {
	pieces map[uint16]map[uint16][]byte
	count  map[uint16]int
	frames map[uint16][]byte
	order  []uint16
}

func newAssembler() *assembler {
	return &assembler{pieces: map[uint16]map[uint16][]byte{}, count: map[uint16]int{}, frames: map[uint16][]byte{}}
}

// add takes a datagram and returns the frame index of a frame it completed.
func (a *assembler) add(b []byte) (uint16, bool) {
	m, err := camsession.ParseMedia(b)
	if err != nil || m.Audio {
		return 0, false
	}
	if m.Packet == 0 {
		ext := b[camsession.MediaHeaderLen : len(b)-len(m.Payload)]
		if len(ext) == ext0Len {
			a.count[m.Frame] = int(binary.LittleEndian.Uint32(ext[4:]))
		}
	}
	if a.pieces[m.Frame] == nil {
		a.pieces[m.Frame] = map[uint16][]byte{}
	}
	a.pieces[m.Frame][m.Packet] = bytes.Clone(m.Payload)
	n, ok := a.count[m.Frame]
	if !ok || len(a.pieces[m.Frame]) != n || a.frames[m.Frame] != nil {
		return 0, false
	}
	var jpg []byte
	for i := range n {
		jpg = append(jpg, a.pieces[m.Frame][uint16(i)]...)
	}
	a.frames[m.Frame] = jpg
	a.order = append(a.order, m.Frame)
	return m.Frame, true
}

// recorder collects OnFrame reports.
type recorder struct {
	mu     sync.Mutex
	frames []FrameSent
}

func (r *recorder) onFrame(f FrameSent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frames = append(r.frames, f)
}

func (r *recorder) get() []FrameSent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.frames)
}

func TestPortRequestAnswered(t *testing.T) {
	t.Parallel()
	ip := testIP(1)
	cam := startCam(t, Config{IP: ip, Name: "PORTCAM"})
	p := newPeer(t, "127.0.0.1:0")
	r := portRequest(t, p, ip)
	if int(r.DataPort) != cam.DataPort() || r.IP != ip || r.Name != "PORTCAM" {
		t.Fatalf("port response %+v, want data port %d, IP %v, name PORTCAM", r, cam.DataPort(), ip)
	}
	// Another camera on the next IP runs side by side on the same port.
	ip2 := testIP(2)
	cam2 := startCam(t, Config{IP: ip2})
	r2 := portRequest(t, p, ip2)
	if int(r2.DataPort) != cam2.DataPort() || r2.Name != "FAKECAM-7F000302" {
		t.Fatalf("second camera answered %+v", r2)
	}
}

func TestBusyAddressFailsInNew(t *testing.T) {
	t.Parallel()
	ip := testIP(3)
	startCam(t, Config{IP: ip})
	_, err := New(Config{IP: ip})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("already in use")) {
		t.Fatalf("second camera on %v: err = %v, want 'already in use'", ip, err)
	}
}

// TestMediaGoesToLoginAddress checks PROTOCOL.md §3.3: media goes to the
// address written in the login, not to the packet's source, and the login
// source only sees the optional replies.
func TestMediaGoesToLoginAddress(t *testing.T) {
	t.Parallel()
	ip := testIP(4)
	rec := &recorder{}
	startCam(t, Config{IP: ip, FPS: 30, OnFrame: rec.onFrame})
	ctl := newPeer(t, "127.0.0.1:0")
	media := newPeer(t, "127.0.0.1:0")
	dp := netip.AddrPortFrom(ip, uint16(portRequest(t, ctl, ip).DataPort))
	ctl.login(dp, media.addr(), camsession.MaskVideo)

	asm := newAssembler()
	deadline := time.Now().Add(5 * time.Second)
	for len(asm.order) < 5 && time.Now().Before(deadline) {
		b, from := media.read(time.Second)
		if b == nil {
			continue
		}
		if from != dp {
			t.Fatalf("media from %v, want the data port %v", from, dp)
		}
		asm.add(b)
	}
	if len(asm.order) < 5 {
		t.Fatalf("got %d frames at the login address, want 5", len(asm.order))
	}
	sent := rec.get()
	for _, idx := range asm.order {
		jpg := asm.frames[idx]
		i := slices.IndexFunc(sent, func(f FrameSent) bool { return f.Index == idx })
		if i < 0 || !bytes.Equal(sent[i].JPEG, jpg) {
			t.Fatalf("frame %d differs from what the camera reported sending", idx)
		}
		cam, seq, ok := FrameSeq(jpg)
		if !ok || cam != "FAKECAM-7F000304" || seq != sent[i].Seq {
			t.Fatalf("FrameSeq = %q %d %v, want FAKECAM-7F000304 %d", cam, seq, ok, sent[i].Seq)
		}
		img, err := jpeg.Decode(bytes.NewReader(jpg))
		if err != nil || img.Bounds().Dx() != Width || img.Bounds().Dy() != Height {
			t.Fatalf("frame %d: decode %v, bounds %v", idx, err, img)
		}
	}
	if sent[0].Seq != 1 {
		t.Errorf("first frame seq %d, want 1", sent[0].Seq)
	}

	// The login source gets the login reply and control responses, no media.
	var sawReply, sawResp bool
	for {
		b, _ := ctl.read(200 * time.Millisecond)
		if b == nil {
			break
		}
		h, err := camsession.ParseHeader(b)
		if err != nil {
			t.Fatalf("bad datagram to the login source: %v", err)
		}
		switch {
		case h.Sig == camsession.Sig2 && h.Cmd == camsession.CmdMedia:
			t.Fatal("media sent to the login's source address")
		case h.Sig == camsession.Sig1 && h.Cmd == camsession.CmdLoginReply:
			sawReply = len(b) == loginReplyLen && binary.LittleEndian.Uint32(b[20:]) == loginOK
		case h.Sig == camsession.Sig2 && h.Cmd == camsession.CmdControlResponse:
			c, err := camsession.ParseControl(b)
			sawResp = err == nil && c.Sub == camsession.MaskVideo && binary.LittleEndian.Uint32(c.Data[16:]) == Width
		}
	}
	if !sawReply || !sawResp {
		t.Errorf("login reply seen %v, control response seen %v; want both", sawReply, sawResp)
	}
}

// TestLinger checks the stale-stream quirk (PROTOCOL.md §9.1): the camera
// keeps streaming for Linger after the last keep-alive, ignores a login from
// another address meanwhile, and accepts a repeated login from the same
// address at once.
func TestLinger(t *testing.T) {
	t.Parallel()
	const linger = 800 * time.Millisecond
	ip := testIP(5)
	startCam(t, Config{IP: ip, FPS: 50, Linger: linger, Quiet: true})
	a := newPeer(t, "127.0.0.1:0")
	dp := netip.AddrPortFrom(ip, uint16(portRequest(t, a, ip).DataPort))
	a.login(dp, a.addr(), camsession.MaskVideo)
	if b, _ := a.read(2 * time.Second); b == nil {
		t.Fatal("no media after login")
	}
	lastKeepAlive := time.Now()
	a.send(dp, camsession.AppendStreamRequest(nil, camsession.MaskVideo))

	// A second client on another port logs in every 50 ms while a lingers.
	b := newPeer(t, "127.0.0.1:0")
	var bFirst time.Time
	var aLast time.Time
	stop := time.Now().Add(linger + 1500*time.Millisecond)
	for time.Now().Before(stop) && bFirst.IsZero() {
		b.login(dp, b.addr(), camsession.MaskVideo)
		for {
			d, _ := a.read(time.Millisecond)
			if d == nil {
				break
			}
			aLast = time.Now()
		}
		if d, _ := b.read(50 * time.Millisecond); d != nil {
			if m, err := camsession.ParseMedia(d); err == nil && !m.Audio {
				bFirst = time.Now()
			}
		}
	}
	if bFirst.IsZero() {
		t.Fatal("second client never got media after the first went quiet")
	}
	if got := bFirst.Sub(lastKeepAlive); got < linger-100*time.Millisecond {
		t.Errorf("second client got media %v after the first client's last keep-alive, want ≥ linger %v", got, linger)
	}
	if got := aLast.Sub(lastKeepAlive); got < linger-200*time.Millisecond || got > linger+400*time.Millisecond {
		t.Errorf("stale stream to the first client lasted %v, want about %v", got, linger)
	}
	// Now b owns the slot and goes quiet. Halfway through its linger a
	// restarted client on the same address (a stable local port) logs in
	// once: that login is accepted and restarts the linger, so the stream
	// outlives b's own deadline.
	bQuiet := time.Now()
	bAddr := b.addr()
	time.Sleep(linger / 2)
	b.conn.Close()
	b2 := newPeer(t, bAddr.String())
	relogin := time.Now()
	b2.send(dp, camsession.AppendLogin(nil, camsession.Login{Addr: bAddr}))
	var last time.Time
	for {
		d, _ := b2.read(300 * time.Millisecond)
		if d == nil {
			break
		}
		last = time.Now()
		if last.Sub(relogin) > 3*linger {
			t.Fatal("stream never stopped after the repeated login")
		}
	}
	if last.Sub(bQuiet) < linger+linger/4 || last.Sub(relogin) < linger-100*time.Millisecond {
		t.Errorf("after a repeated login from the same address the stream lasted %v past it (%v past the first login's last word), want about %v: the login was not accepted",
			last.Sub(relogin), last.Sub(bQuiet), linger)
	}
}

// TestControlFromStrangerIgnored: a stream request from an address that did
// not log in does not start or keep a stream.
func TestControlFromStrangerIgnored(t *testing.T) {
	t.Parallel()
	ip := testIP(6)
	startCam(t, Config{IP: ip, Quiet: true})
	p := newPeer(t, "127.0.0.1:0")
	dp := netip.AddrPortFrom(ip, uint16(portRequest(t, p, ip).DataPort))
	p.send(dp, camsession.AppendStreamRequest(nil, camsession.MaskVideo))
	if b, _ := p.read(400 * time.Millisecond); b != nil {
		t.Fatalf("camera sent %d bytes to a client that never logged in", len(b))
	}
}

// capture logs in to a camera and records every video datagram header
// (frame, packet) until want frames were reported sent.
func capture(t *testing.T, ip netip.Addr, seed int64, want int) (keys [][2]uint16, sent []FrameSent, asm *assembler) {
	t.Helper()
	rec := &recorder{}
	startCam(t, Config{IP: ip, Name: "SEEDCAM", FPS: 60, Loss: 0.05, Duplicate: 0.05, Reorder: 0.05, Seed: seed, Quiet: true, OnFrame: rec.onFrame})
	p := newPeer(t, "127.0.0.1:0")
	dp := netip.AddrPortFrom(ip, uint16(portRequest(t, p, ip).DataPort))
	p.login(dp, p.addr(), camsession.MaskVideo)
	asm = newAssembler()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := p.read(time.Second)
		if b == nil {
			continue
		}
		m, err := camsession.ParseMedia(b)
		if err != nil {
			t.Fatal(err)
		}
		asm.add(b)
		keys = append(keys, [2]uint16{m.Frame, m.Packet})
		// Stop once the frame after the wanted ones starts: every packet of
		// the wanted frames, including one delayed by reordering, is in.
		if s := rec.get(); len(s) > want && m.Frame == s[want].Index && m.Packet > 0 {
			return keys, s[:want], asm
		}
	}
	t.Fatal("timeout capturing frames")
	return nil, nil, nil
}

// TestImpairmentsDeterministic: the same seed gives the same packet sequence
// and the same damaged frames; damaged frames really miss a packet and the
// others arrive whole.
func TestImpairmentsDeterministic(t *testing.T) {
	t.Parallel()
	const n = 60
	keys1, sent1, asm := capture(t, testIP(7), 42, n)
	keys2, sent2, _ := capture(t, testIP(8), 42, n)
	keys3, _, _ := capture(t, testIP(9), 43, n)
	cut := min(len(keys1), len(keys2))
	if !slices.Equal(keys1[:cut], keys2[:cut]) {
		for i := range cut {
			if keys1[i] != keys2[i] {
				t.Fatalf("same seed, different packet sequences from packet %d: %v vs %v", i, keys1[max(0, i-3):i+5], keys2[max(0, i-3):i+5])
			}
		}
	}
	if slices.Equal(keys1[:min(cut, len(keys3))], keys3[:min(cut, len(keys3))]) {
		t.Fatal("different seeds, same packet sequence")
	}
	var damaged, dups, reorders int
	seen := map[[2]uint16]bool{}
	for i, k := range keys1 {
		if seen[k] {
			dups++
		}
		seen[k] = true
		if i > 0 && (k[0] == keys1[i-1][0] && k[1] < keys1[i-1][1] || k[0] != keys1[i-1][0] && k[1] != 0) {
			reorders++
		}
	}
	for i := range sent1 {
		if sent1[i].Index != sent2[i].Index || sent1[i].Damaged != sent2[i].Damaged {
			t.Fatalf("frame %d: %d/%v vs %d/%v", i, sent1[i].Index, sent1[i].Damaged, sent2[i].Index, sent2[i].Damaged)
		}
		got, complete := asm.frames[sent1[i].Index]
		switch {
		case sent1[i].Damaged:
			damaged++
			if complete {
				t.Errorf("frame %d reported damaged but all its packets arrived", sent1[i].Index)
			}
		case !complete:
			t.Errorf("frame %d not damaged but incomplete", sent1[i].Index)
		case !bytes.Equal(got, sent1[i].JPEG):
			t.Errorf("frame %d arrived different from what was sent", sent1[i].Index)
		}
	}
	if damaged == 0 || damaged == n || dups == 0 || reorders == 0 {
		t.Errorf("impairments not visible: %d/%d damaged, %d duplicates, %d reorders", damaged, n, dups, reorders)
	}
	t.Logf("%d packets, %d/%d frames damaged, %d duplicates, %d reorders", len(keys1), damaged, n, dups, reorders)
}

// TestDataPortChange: a camera that moves to a new data port (reboot) or is
// stopped and replaced on the same IP announces the new port and stops
// serving the old one.
func TestDataPortChange(t *testing.T) {
	t.Parallel()
	ip := testIP(10)
	cam, err := New(Config{IP: ip, Quiet: true, FPS: 30})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cam.Run(ctx) }()
	p := newPeer(t, "127.0.0.1:0")
	old := portRequest(t, p, ip).DataPort
	if err := cam.SetDataPort(0); err != nil {
		t.Fatal(err)
	}
	moved := portRequest(t, p, ip).DataPort
	if moved == old || int(moved) != cam.DataPort() {
		t.Fatalf("after SetDataPort: port %d (was %d, DataPort() %d)", moved, old, cam.DataPort())
	}
	p.login(netip.AddrPortFrom(ip, old), p.addr(), camsession.MaskVideo)
	if b, _ := p.read(300 * time.Millisecond); b != nil {
		t.Fatal("old data port still served")
	}
	p.login(netip.AddrPortFrom(ip, moved), p.addr(), camsession.MaskVideo)
	if b, _ := p.read(time.Second); b == nil {
		t.Fatal("new data port not served")
	}

	// Stop the camera and start a new one on the same IP.
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cam2 := startCam(t, Config{IP: ip, Quiet: true})
	if got := portRequest(t, p, ip).DataPort; int(got) != cam2.DataPort() {
		t.Fatalf("replacement camera announced %d, has %d", got, cam2.DataPort())
	}
	// The first camera can run again too, on a fresh data port.
	if err := cam2.SetDataPort(int(moved)); err != nil {
		t.Fatal(err)
	}
	if got := portRequest(t, p, ip).DataPort; got != moved {
		t.Fatalf("SetDataPort(%d): announced %d", moved, got)
	}
}

func TestAudioPackets(t *testing.T) {
	t.Parallel()
	ip := testIP(11)
	startCam(t, Config{IP: ip, Audio: true, Quiet: true, FPS: 5})
	p := newPeer(t, "127.0.0.1:0")
	dp := netip.AddrPortFrom(ip, uint16(portRequest(t, p, ip).DataPort))
	p.login(dp, p.addr(), camsession.MaskVideo)
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		b, _ := p.read(100 * time.Millisecond)
		if m, err := camsession.ParseMedia(b); b != nil && err == nil && m.Audio {
			t.Fatal("audio sent for a mask-1 stream request")
		}
	}
	p.send(dp, camsession.AppendStreamRequest(nil, camsession.MaskVideoAudio))
	var audio [][]byte
	var idx []uint16
	start := time.Now()
	for len(audio) < 20 && time.Since(start) < 5*time.Second {
		b, _ := p.read(time.Second)
		m, err := camsession.ParseMedia(b)
		if b == nil || err != nil || !m.Audio {
			continue
		}
		if ext := len(b) - camsession.MediaHeaderLen - len(m.Payload); ext != 4 || m.Packet != 0 || len(m.Payload) != AudioBlockLen {
			t.Fatalf("audio packet: ext %d, packet %d, payload %d", ext, m.Packet, len(m.Payload))
		}
		audio = append(audio, bytes.Clone(m.Payload))
		idx = append(idx, m.Frame)
	}
	if len(audio) < 20 {
		t.Fatalf("got %d audio packets", len(audio))
	}
	if el := time.Since(start); el < 19*audioPeriod/2 {
		t.Errorf("20 audio packets in %v, want one per %v", el, audioPeriod)
	}
	for i := 1; i < len(idx); i++ {
		if idx[i] != idx[i-1]+1 {
			t.Fatalf("audio indices %v not consecutive", idx)
		}
	}
	// Each block decodes on its own from its header, to the tone.
	for _, blk := range audio {
		pcm := decodeIMA(blk)
		checkTone(t, pcm)
	}
}

// decodeIMA decodes one block on its own, from its header.
func decodeIMA(b []byte) []int16 {
	var d audio.Decoder
	return d.Decode(nil, b)
}

// checkTone checks that pcm is a sine of roughly the generator's amplitude
// that crosses zero at about 2×440 times a second.
func checkTone(t *testing.T, pcm []int16) {
	t.Helper()
	var peak int
	crossings := 0
	for i, s := range pcm {
		peak = max(peak, int(s), -int(s))
		if i > 0 && (pcm[i-1] < 0) != (s < 0) {
			crossings++
		}
	}
	want := 2 * toneHz * len(pcm) / AudioRate // 28 for 256 samples
	if peak < 8000 || peak > 12000 || crossings < want-3 || crossings > want+3 {
		t.Fatalf("decoded audio: peak %d, %d zero crossings (want ~9830, ~%d)", peak, crossings, want)
	}
}

func TestADPCMRoundTrip(t *testing.T) {
	var e audio.IMAState
	var tn tone
	samples := make([]int16, AudioSamples)
	var d audio.IMAState // mirrors the decoder state for continuous decoding
	for i := range 50 {
		tn.fill(samples)
		blk := audio.EncodeBlock(nil, &e, samples)
		if len(blk) != AudioBlockLen {
			t.Fatalf("block of %d bytes", len(blk))
		}
		if got := int(int16(binary.LittleEndian.Uint16(blk))); got != int(d.Predictor) || int32(blk[2]) != d.Index {
			t.Fatalf("header state %d/%d, decoder continuing has %d/%d", got, blk[2], d.Predictor, d.Index)
		}
		pcm := decodeIMA(blk)
		var errSum, sigSum float64
		for i := range pcm {
			diff := float64(pcm[i]) - float64(samples[i])
			errSum += diff * diff
			sigSum += float64(samples[i]) * float64(samples[i])
		}
		if i > 0 && errSum*100 > sigSum { // SNR below 20 dB once adapted
			t.Fatalf("poor ADPCM: error energy %.0f vs signal %.0f", errSum, sigSum)
		}
		d.Predictor, d.Index = int32(pcm[len(pcm)-1]), e.Index
	}
}

func TestGeneratedFrames(t *testing.T) {
	t.Parallel()
	set, err := generatedFrames("PATTERN-TEST")
	if err != nil {
		t.Fatal(err)
	}
	decode := func(b []byte) []byte {
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds().Dx() != Width || img.Bounds().Dy() != Height {
			t.Fatalf("size %v", img.Bounds())
		}
		var px []byte
		for y := 0; y < Height; y += 8 {
			for x := 0; x < Width; x += 8 {
				r, g, b, _ := img.At(x, y).RGBA()
				px = append(px, byte(r>>8), byte(g>>8), byte(b>>8))
			}
		}
		return px
	}
	still := decode(set.still)
	prev := decode(set.movingFrame(0))
	if bytes.Equal(prev, still) {
		t.Fatal("moving frame equals the still one")
	}
	if !bytes.Equal(set.movingFrame(motionFrames+1), set.movingFrame(1)) {
		t.Fatal("the moving scene does not loop")
	}
	for i := range uint64(4) { // a few are enough; each costs an encode and a decode
		px := decode(set.movingFrame(i + 1))
		if bytes.Equal(px, prev) {
			t.Fatal("two consecutive moving frames look the same")
		}
		prev = px
	}
	if len(set.still) > 100_000 {
		t.Errorf("still frame of %d bytes; expected a compact test pattern", len(set.still))
	}
}

func TestFrameSeq(t *testing.T) {
	set, err := generatedFrames("SEQ-TEST")
	if err != nil {
		t.Fatal(err)
	}
	jpg := MarkFrame(set.still, "SEQ-TEST", 12345)
	if cam, seq, ok := FrameSeq(jpg); !ok || cam != "SEQ-TEST" || seq != 12345 {
		t.Fatalf("FrameSeq = %q %d %v", cam, seq, ok)
	}
	if _, err := jpeg.Decode(bytes.NewReader(jpg)); err != nil {
		t.Fatalf("marked JPEG does not decode: %v", err)
	}
	// Another segment (JFIF APP0, as a remuxer may add) before the COM.
	app0 := []byte{0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	moved := append(append([]byte{0xFF, 0xD8}, app0...), jpg[2:]...)
	if cam, seq, ok := FrameSeq(moved); !ok || cam != "SEQ-TEST" || seq != 12345 {
		t.Fatalf("after APP0: FrameSeq = %q %d %v", cam, seq, ok)
	}
	if _, _, ok := FrameSeq(set.still); ok {
		t.Fatal("FrameSeq found a marker in an unmarked JPEG")
	}
	for _, bad := range [][]byte{nil, {0xFF, 0xD8}, jpg[:5], []byte("not a jpeg at all")} {
		if _, _, ok := FrameSeq(bad); ok {
			t.Fatalf("FrameSeq(%q) ok", bad)
		}
	}
}

func FuzzFrameSeq(f *testing.F) {
	f.Add(MarkFrame([]byte{0xFF, 0xD8, 0xFF, 0xD9}, "CAM", 7))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x02, 0xFF, 0xD9})
	f.Fuzz(func(t *testing.T, b []byte) {
		cam, seq, ok := FrameSeq(b)
		if !ok {
			return
		}
		// A marker found must survive being written again.
		if c2, s2, ok2 := FrameSeq(MarkFrame([]byte{0xFF, 0xD8, 0xFF, 0xD9}, cam, seq)); !ok2 || c2 != cam || s2 != seq {
			t.Fatalf("round trip of %q %d gave %q %d %v", cam, seq, c2, s2, ok2)
		}
	})
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{IP: netip.MustParseAddr("::1")},
		{IP: testIP(12), Loss: 1.5},
		{IP: testIP(12), FPS: -1},
		{IP: testIP(12), Name: "a name far longer than twenty-eight bytes"},
		{IP: testIP(12), Frames: [][]byte{[]byte("no jpeg")}},
	} {
		if c, err := New(cfg); err == nil {
			c.Close()
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

// FuzzHandleData feeds arbitrary datagrams to the camera's data-port
// handler: whatever a client sends, the camera must not panic, and only a
// login can open the client slot.
func FuzzHandleData(f *testing.F) {
	dest := netip.MustParseAddrPort("127.0.0.1:9")
	f.Add(camsession.AppendLogin(nil, camsession.Login{Addr: dest}))
	f.Add(camsession.AppendStreamRequest(nil, camsession.MaskVideoAudio))
	f.Add(camsession.AppendControl(nil, camsession.Control{Session: 1, Command: 3, Sub: 1}))
	f.Add(camsession.AppendControl(nil, camsession.Control{Session: 1, Command: 0, Sub: 0, Data: make([]byte, 8)}))
	f.Add(camsession.AppendPortRequest(nil))
	f.Add([]byte("2TEG\x01\x00\xff\xff"))
	// Not New: parallel fuzz workers cannot all bind the same control port.
	cfg := Config{IP: testIP(250), Quiet: true}
	if err := setDefaults(&cfg); err != nil {
		f.Fatal(err)
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { conn.Close() })
	cam := &Camera{cfg: cfg, log: cfg.Logger, data: conn}
	f.Fuzz(func(t *testing.T, b []byte) {
		cam.mu.Lock()
		cam.slot = client{}
		conn := cam.data
		cam.mu.Unlock()
		cam.handleData(conn, b, dest, time.Now())
		cam.mu.Lock()
		active := cam.slot.active
		cam.mu.Unlock()
		h, err := camsession.ParseHeader(b)
		isLogin := err == nil && h.Sig == camsession.Sig1 && h.Cmd == camsession.CmdLogin
		if active && !isLogin {
			t.Fatalf("%q opened the client slot", b)
		}
	})
}

// TestOnLastPacket: OnLastPacket reports a frame when all its packets but
// the last are on the wire: at that moment the client's socket holds every
// one of them, and not the last.
func TestOnLastPacket(t *testing.T) {
	t.Parallel()
	ip := testIP(13)
	media := newPeer(t, "127.0.0.1:0")
	type check struct {
		seq        uint64
		want, have int
	}
	checks := make(chan check, 64)
	buf := make([]byte, camsession.MaxDatagram)
	onLast := func(f FrameSent) {
		// Runs on the camera's goroutine: read what has arrived, without
		// waiting.
		have := 0
		raw, err := media.conn.SyscallConn()
		if err != nil {
			panic(err)
		}
		for {
			n := -1
			_ = raw.Read(func(fd uintptr) bool {
				n, _, _ = syscall.Recvfrom(int(fd), buf, syscall.MSG_DONTWAIT)
				return true // never wait
			})
			if n < 0 {
				break
			}
			if msg, err := camsession.Decode(buf[:n]); err == nil && msg.Kind == camsession.KindMedia && !msg.Media.Audio && msg.Media.Frame == f.Index {
				have++
			}
		}
		select {
		case checks <- check{f.Seq, (len(f.JPEG)+DefaultPacketSize-1)/DefaultPacketSize - 1, have}:
		default:
		}
	}
	startCam(t, Config{IP: ip, FPS: 30, Quiet: true, OnLastPacket: onLast})
	ctl := newPeer(t, "127.0.0.1:0")
	dp := netip.AddrPortFrom(ip, uint16(portRequest(t, ctl, ip).DataPort))
	ctl.login(dp, media.addr(), camsession.MaskVideo)
	for range 5 {
		select {
		case c := <-checks:
			if c.have != c.want {
				t.Errorf("frame %d: %d packets had arrived when OnLastPacket ran, want all but the last, %d", c.seq, c.have, c.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no OnLastPacket report")
		}
	}
}

// TestSetFrozen: a frozen camera sends no video frame between two of its
// heartbeats, and frames come back once it thaws.
func TestSetFrozen(t *testing.T) {
	t.Parallel()
	ip := testIP(14)
	cam := startCam(t, Config{IP: ip, FPS: 30})
	ctl := newPeer(t, "127.0.0.1:0")
	media := newPeer(t, "127.0.0.1:0")
	dp := netip.AddrPortFrom(ip, uint16(portRequest(t, ctl, ip).DataPort))
	ctl.login(dp, media.addr(), camsession.MaskVideo)
	// next reads until a heartbeat or a video packet, whichever is asked.
	next := func(wantVideo bool) bool {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
			b, _ := media.read(time.Until(deadline))
			if b == nil {
				break
			}
			msg, err := camsession.Decode(b)
			if err != nil {
				t.Fatalf("undecodable packet: %v", err)
			}
			video := msg.Kind == camsession.KindMedia && !msg.Media.Audio
			heartbeat := msg.Kind == camsession.KindControl
			if video && wantVideo || heartbeat && !wantVideo {
				return video
			}
			if video {
				return true
			}
		}
		t.Fatal("nothing arrived for 5 s")
		return false
	}
	if !next(true) {
		t.Fatal("no video before freezing")
	}
	cam.SetFrozen(true)
	for next(false) { // frames in flight may come before the first heartbeat
	}
	for range 2 {
		if next(false) {
			t.Fatal("a frozen camera sent a video packet between two heartbeats")
		}
	}
	cam.SetFrozen(false)
	if !next(true) {
		t.Fatal("no video after thawing")
	}
}
