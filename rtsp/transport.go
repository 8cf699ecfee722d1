package rtsp

import (
	"fmt"
	"strconv"
	"strings"
)

// transportKind is how a session's RTP packets travel.
type transportKind int

const (
	transportUDP transportKind = iota // RTP/AVP over UDP unicast
	transportTCP                      // RTP/AVP/TCP interleaved on the RTSP connection
)

func (k transportKind) String() string {
	if k == transportTCP {
		return "tcp"
	}
	return "udp"
}

// transport is the client's choice from a SETUP Transport header
// (RFC 2326 §12.39).
type transport struct {
	kind        transportKind
	clientPorts [2]int // UDP: RTP and RTCP port of the client
	interleaved [2]int // TCP: RTP and RTCP channel, -1 when not given
	hasChannels bool   // interleaved= was present
}

// parseTransport picks the first alternative of a Transport header that the
// server supports: unicast RTP/AVP over UDP with client_port, or RTP/AVP/TCP
// (interleaved). Multicast and other profiles are skipped.
func parseTransport(v string) (transport, error) {
	if strings.TrimSpace(v) == "" {
		return transport{}, fmt.Errorf("%w: no Transport header", errMessage)
	}
	var firstErr error
	for alt := range strings.SplitSeq(v, ",") {
		t, err := parseTransportSpec(alt)
		if err == nil {
			return t, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return transport{}, firstErr
}

func parseTransportSpec(spec string) (transport, error) {
	parts := strings.Split(strings.TrimSpace(spec), ";")
	var t transport
	switch strings.ToUpper(strings.TrimSpace(parts[0])) {
	case "RTP/AVP", "RTP/AVP/UDP":
		t.kind = transportUDP
	case "RTP/AVP/TCP":
		t.kind = transportTCP
	default:
		return t, fmt.Errorf("unsupported transport %q", parts[0])
	}
	havePorts := false
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "multicast":
			return t, fmt.Errorf("multicast is not supported")
		case "client_port":
			a, b, err := parseRange(val)
			if err != nil || a <= 0 || a > 65535 || b <= 0 || b > 65535 {
				return t, fmt.Errorf("bad client_port %q", val)
			}
			t.clientPorts = [2]int{a, b}
			havePorts = true
		case "interleaved":
			a, b, err := parseRange(val)
			if err != nil || a < 0 || a > 255 || b < 0 || b > 255 {
				return t, fmt.Errorf("bad interleaved %q", val)
			}
			t.interleaved = [2]int{a, b}
			t.hasChannels = true
		}
	}
	if t.kind == transportUDP && !havePorts {
		return t, fmt.Errorf("udp transport without client_port")
	}
	return t, nil
}

// parseRange parses "a-b" or "a" (then b = a+1).
func parseRange(s string) (int, int, error) {
	as, bs, ok := strings.Cut(s, "-")
	a, err := strconv.Atoi(as)
	if err != nil {
		return 0, 0, err
	}
	if !ok {
		return a, a + 1, nil
	}
	b, err := strconv.Atoi(bs)
	return a, b, err
}
