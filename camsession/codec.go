package camsession

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Wire constants of the xTEG protocol (PROTOCOL.md §2, §3).
const (
	// HeaderLen is the size of the common header: signature, cmd, data_len.
	HeaderLen = 8
	// ControlPort is the camera's UDP port for the port request.
	ControlPort = 10104

	// PortRequestLen, PortResponseLen, LoginLen and StreamRequestLen are total
	// datagram sizes of the fixed-size messages.
	PortRequestLen   = 20
	PortResponseLen  = 76
	LoginLen         = 48
	StreamRequestLen = 36
	// MediaHeaderLen is the fixed part of a media packet before the extension.
	MediaHeaderLen = 24
	// NameLen is the width of the camera name field in the port response.
	NameLen = 28
	// MaxDatagram is the largest UDP payload the protocol can carry.
	MaxDatagram = HeaderLen + 0xffff
)

// Signature is the 4-byte ASCII magic at the start of every datagram.
type Signature byte

// The known signatures; the value is the ASCII digit before "TEG".
const (
	Sig0 Signature = '0'
	Sig1 Signature = '1' // session set-up ("root") messages
	Sig2 Signature = '2' // established session: control and media
)

func (s Signature) String() string { return string(rune(s)) + "TEG" }

// Command numbers (PROTOCOL.md §3).
const (
	CmdPortRequest  uint16 = 0x0b // 1TEG, client → camera:10104
	CmdPortResponse uint16 = 0x0c // 1TEG, camera → client
	CmdLogin        uint16 = 0x0d // 1TEG, client → camera:data port
	CmdLoginReply   uint16 = 0x0e // 1TEG, camera → client (optional)
	CmdDeviceClosed uint16 = 0x10 // 1TEG, camera → client: redo the handshake
	CmdAppHeartbeat uint16 = 0x03 // 1TEG, ignored

	CmdControl         uint16 = 0x01 // 2TEG, both directions
	CmdControlResponse uint16 = 0x02 // 2TEG, camera → client
	CmdMedia           uint16 = 0x03 // 2TEG, camera → client
)

// Media masks of the stream request (PROTOCOL.md §3.5).
const (
	MaskVideo      uint32 = 1
	MaskVideoAudio uint32 = 3
)

// DefaultPasswordHash is the login's 12-character hash for "no password".
const DefaultPasswordHash = "9e8040834b3a"

// Decoding errors. Every malformed datagram maps to one of these so that
// callers can count drops by cause.
var (
	ErrShort        = errors.New("datagram shorter than its header")
	ErrSignature    = errors.New("unknown signature")
	ErrLength       = errors.New("data_len exceeds datagram")
	ErrMediaLength  = errors.New("media payload_len inconsistent with data_len")
	ErrWrongMessage = errors.New("unexpected signature or command")
)

// Header is the common 8-byte header.
type Header struct {
	Sig     Signature
	Cmd     uint16
	DataLen uint16
}

// Len returns the total message length the header announces.
func (h Header) Len() int { return HeaderLen + int(h.DataLen) }

// ParseHeader decodes the common header and checks that the datagram holds
// data_len bytes after it. Trailing bytes beyond data_len are tolerated.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, ErrShort
	}
	if b[1] != 'T' || b[2] != 'E' || b[3] != 'G' || b[0] < '0' || b[0] > '2' {
		return Header{}, ErrSignature
	}
	h := Header{
		Sig:     Signature(b[0]),
		Cmd:     binary.LittleEndian.Uint16(b[4:6]),
		DataLen: binary.LittleEndian.Uint16(b[6:8]),
	}
	if h.Len() > len(b) {
		return h, fmt.Errorf("%w: data_len %d, datagram %d", ErrLength, h.DataLen, len(b))
	}
	return h, nil
}

func putHeader(b []byte, sig Signature, cmd uint16, dataLen int) {
	b[0], b[1], b[2], b[3] = byte(sig), 'T', 'E', 'G'
	binary.LittleEndian.PutUint16(b[4:6], cmd)
	binary.LittleEndian.PutUint16(b[6:8], uint16(dataLen))
}

// AppendPortRequest appends the 20-byte port request (also the LAN search
// probe) to b.
func AppendPortRequest(b []byte) []byte {
	var m [PortRequestLen]byte
	putHeader(m[:], Sig1, CmdPortRequest, PortRequestLen-HeaderLen)
	binary.LittleEndian.PutUint16(m[8:10], 1)
	return append(b, m[:]...)
}

// PortResponse is the camera's answer to a port request.
type PortResponse struct {
	DataPort uint16     // the camera's data port (big-endian on the wire)
	IP       netip.Addr // the camera's own IPv4 address
	Name     string     // NUL-padded name/UID, trimmed
}

// ParsePortResponse decodes a 1TEG 0x0c datagram. Only the fields up to the
// end of the name are required; data_len itself is not trusted beyond the
// length check.
func ParsePortResponse(b []byte) (PortResponse, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return PortResponse{}, err
	}
	if h.Sig != Sig1 || h.Cmd != CmdPortResponse {
		return PortResponse{}, ErrWrongMessage
	}
	if len(b) < 40 {
		return PortResponse{}, fmt.Errorf("%w: port response of %d bytes", ErrShort, len(b))
	}
	r := PortResponse{
		DataPort: binary.BigEndian.Uint16(b[34:36]),
		IP:       netip.AddrFrom4([4]byte(b[36:40])),
	}
	end := min(len(b), 40+NameLen)
	name := b[40:end]
	for i, c := range name {
		if c == 0 {
			name = name[:i]
			break
		}
	}
	r.Name = string(name)
	return r, nil
}

// AppendPortResponse appends a 76-byte port response (the camera side).
func AppendPortResponse(b []byte, r PortResponse) []byte {
	var m [PortResponseLen]byte
	putHeader(m[:], Sig1, CmdPortResponse, PortResponseLen-HeaderLen)
	binary.LittleEndian.PutUint32(m[8:12], 1)
	binary.LittleEndian.PutUint32(m[12:16], 1)
	binary.BigEndian.PutUint16(m[34:36], r.DataPort)
	if r.IP.Is4() {
		a := r.IP.As4()
		copy(m[36:40], a[:])
	}
	copy(m[40:40+NameLen], r.Name)
	return append(b, m[:]...)
}

// Login is the 1TEG 0x0d message: where the camera must send media.
type Login struct {
	Addr         netip.AddrPort // the client's receiving IPv4 address and port
	PasswordHash string         // 12 characters; DefaultPasswordHash when empty
}

// AppendLogin appends a 48-byte login to b.
func AppendLogin(b []byte, l Login) []byte {
	var m [LoginLen]byte
	putHeader(m[:], Sig1, CmdLogin, LoginLen-HeaderLen)
	binary.BigEndian.PutUint16(m[26:28], l.Addr.Port())
	if l.Addr.Addr().Is4() {
		a := l.Addr.Addr().As4()
		copy(m[28:32], a[:])
	}
	m[32] = 0x09
	pw := l.PasswordHash
	if pw == "" {
		pw = DefaultPasswordHash
	}
	copy(m[33:45], pw)
	return append(b, m[:]...)
}

// ParseLogin decodes a login (the camera side).
func ParseLogin(b []byte) (Login, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return Login{}, err
	}
	if h.Sig != Sig1 || h.Cmd != CmdLogin {
		return Login{}, ErrWrongMessage
	}
	if h.Len() < LoginLen {
		return Login{}, fmt.Errorf("%w: login of %d bytes", ErrShort, h.Len())
	}
	ip := netip.AddrFrom4([4]byte(b[28:32]))
	pw := b[33:45]
	for i, c := range pw {
		if c == 0 {
			pw = pw[:i]
			break
		}
	}
	return Login{
		Addr:         netip.AddrPortFrom(ip, binary.BigEndian.Uint16(b[26:28])),
		PasswordHash: string(pw),
	}, nil
}

// Control is a 2TEG 0x01 control command or 0x02 control response.
type Control struct {
	Response bool   // 2TEG 0x02 rather than 0x01
	Session  uint32 // 1 in all known traffic
	Command  uint32
	Sub      uint32
	Flag     uint32
	Data     []byte // aliases the datagram when parsed
}

// AppendControl appends a control message to b.
func AppendControl(b []byte, c Control) []byte {
	n := len(c.Data)
	start := len(b)
	b = append(b, make([]byte, 28)...)
	m := b[start:]
	cmd := CmdControl
	if c.Response {
		cmd = CmdControlResponse
	}
	putHeader(m, Sig2, cmd, 20+n)
	binary.LittleEndian.PutUint32(m[8:12], c.Session)
	binary.LittleEndian.PutUint32(m[12:16], c.Command)
	binary.LittleEndian.PutUint32(m[16:20], c.Sub)
	binary.LittleEndian.PutUint32(m[20:24], uint32(n))
	binary.LittleEndian.PutUint32(m[24:28], c.Flag)
	return append(b, c.Data...)
}

// ParseControl decodes a 2TEG 0x01 or 0x02 message. Data aliases b.
func ParseControl(b []byte) (Control, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return Control{}, err
	}
	if h.Sig != Sig2 || (h.Cmd != CmdControl && h.Cmd != CmdControlResponse) {
		return Control{}, ErrWrongMessage
	}
	if h.DataLen < 20 {
		return Control{}, fmt.Errorf("%w: control data_len %d", ErrShort, h.DataLen)
	}
	n := binary.LittleEndian.Uint32(b[20:24])
	if uint64(n) > uint64(h.DataLen)-20 {
		return Control{}, fmt.Errorf("%w: control n %d, data_len %d", ErrLength, n, h.DataLen)
	}
	return Control{
		Response: h.Cmd == CmdControlResponse,
		Session:  binary.LittleEndian.Uint32(b[8:12]),
		Command:  binary.LittleEndian.Uint32(b[12:16]),
		Sub:      binary.LittleEndian.Uint32(b[16:20]),
		Flag:     binary.LittleEndian.Uint32(b[24:28]),
		Data:     b[28 : 28+n : 28+n],
	}, nil
}

// AppendStreamRequest appends the 36-byte stream request with the given
// media mask (MaskVideo or MaskVideoAudio). It doubles as the keep-alive.
func AppendStreamRequest(b []byte, mask uint32) []byte {
	var data [8]byte
	binary.LittleEndian.PutUint32(data[4:8], mask)
	return AppendControl(b, Control{Session: 1, Command: 0, Sub: 1, Data: data[:]})
}

// StreamMask returns the media mask of a stream request, and false when c
// is not one.
func (c Control) StreamMask() (uint32, bool) {
	if c.Response || c.Command != 0 || c.Sub != 1 || len(c.Data) < 8 {
		return 0, false
	}
	return binary.LittleEndian.Uint32(c.Data[4:8]), true
}

// Media is a decoded 2TEG 0x03 media packet. Payload aliases the datagram.
type Media struct {
	Audio   bool
	Frame   uint16 // frame index, wraps at 65536
	Packet  uint16 // packet index within the frame, from 0
	Payload []byte
}

// ParseMedia decodes a media packet without copying. The payload is the last
// payload_len bytes of the message; the bytes between offset 24 and the
// payload are an extension of unknown meaning (PROTOCOL.md §3.7).
func ParseMedia(b []byte) (Media, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return Media{}, err
	}
	if h.Sig != Sig2 || h.Cmd != CmdMedia {
		return Media{}, ErrWrongMessage
	}
	return parseMediaBody(b, h)
}

func parseMediaBody(b []byte, h Header) (Media, error) {
	if h.DataLen < MediaHeaderLen-HeaderLen {
		return Media{}, fmt.Errorf("%w: media data_len %d", ErrMediaLength, h.DataLen)
	}
	pl := binary.LittleEndian.Uint32(b[20:24])
	if uint64(pl) > uint64(h.DataLen)-16 {
		return Media{}, fmt.Errorf("%w: payload_len %d, data_len %d", ErrMediaLength, pl, h.DataLen)
	}
	end := h.Len()
	return Media{
		Audio:   binary.LittleEndian.Uint16(b[14:16]) != 0,
		Frame:   binary.LittleEndian.Uint16(b[16:18]),
		Packet:  binary.LittleEndian.Uint16(b[18:20]),
		Payload: b[end-int(pl) : end : end],
	}, nil
}

// AppendMedia appends a media packet carrying payload with an extension of
// ext bytes (0, 4 or 16 in the vendor library) to b.
func AppendMedia(b []byte, m Media, ext []byte) []byte {
	start := len(b)
	b = append(b, make([]byte, MediaHeaderLen)...)
	h := b[start:]
	putHeader(h, Sig2, CmdMedia, MediaHeaderLen-HeaderLen+len(ext)+len(m.Payload))
	binary.LittleEndian.PutUint32(h[8:12], 1)
	binary.LittleEndian.PutUint16(h[12:14], 1)
	if m.Audio {
		binary.LittleEndian.PutUint16(h[14:16], 1)
	}
	binary.LittleEndian.PutUint16(h[16:18], m.Frame)
	binary.LittleEndian.PutUint16(h[18:20], m.Packet)
	binary.LittleEndian.PutUint32(h[20:24], uint32(len(m.Payload)))
	b = append(b, ext...)
	return append(b, m.Payload...)
}

// AppendDeviceClosed appends the 28-byte 1TEG 0x10 "device closed" message.
func AppendDeviceClosed(b []byte) []byte {
	var m [28]byte
	putHeader(m[:], Sig1, CmdDeviceClosed, 20)
	return append(b, m[:]...)
}

// Kind classifies a datagram for the receive loop.
type Kind int

// Datagram kinds returned by Classify.
const (
	KindUnknown Kind = iota
	KindPortResponse
	KindLoginReply
	KindDeviceClosed
	KindControl
	KindMedia
)

// Message is one decoded datagram from the camera.
type Message struct {
	Kind   Kind
	Header Header
	Media  Media // valid when Kind == KindMedia
}

// Decode classifies a datagram received from a camera and decodes media
// packets without allocating. Unknown but well-formed messages return
// KindUnknown and no error: the camera sends messages nobody has decoded.
func Decode(b []byte) (Message, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return Message{}, err
	}
	msg := Message{Header: h}
	switch {
	case h.Sig == Sig2 && h.Cmd == CmdMedia:
		m, err := parseMediaBody(b, h)
		if err != nil {
			return Message{}, err
		}
		msg.Kind, msg.Media = KindMedia, m
	case h.Sig == Sig2 && (h.Cmd == CmdControl || h.Cmd == CmdControlResponse):
		msg.Kind = KindControl
	case h.Sig == Sig1 && h.Cmd == CmdPortResponse:
		msg.Kind = KindPortResponse
	case h.Sig == Sig1 && h.Cmd == CmdLoginReply:
		msg.Kind = KindLoginReply
	case h.Sig == Sig1 && h.Cmd == CmdDeviceClosed:
		msg.Kind = KindDeviceClosed
	}
	return msg, nil
}
