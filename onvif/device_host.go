package onvif

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"net"
	"os"
	"strings"
)

// Host network facts reported by GetDNS and GetNetworkDefaultGateway. The
// bridge does not own the host's network configuration, so these are read
// from the usual Linux files and reported as they are; on other systems the
// lists are empty.

// hostNameservers returns the name servers of /etc/resolv.conf.
func hostNameservers() []net.IP {
	f, err := os.Open("/etc/resolv.conf")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []net.IP
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(out) < 8 {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "nameserver" {
			if ip := net.ParseIP(strings.SplitN(fields[1], "%", 2)[0]); ip != nil {
				out = append(out, ip)
			}
		}
	}
	return out
}

// hostGateway returns the IPv4 default gateway from /proc/net/route, nil
// when there is none.
func hostGateway() net.IP {
	f, err := os.Open("/proc/net/route")
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// Iface Destination Gateway Flags ...; hex in host (little-endian) order.
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 || fields[1] != "00000000" {
			continue
		}
		b, err := hex.DecodeString(fields[2])
		if err != nil || len(b) != 4 {
			continue
		}
		ip := make(net.IP, 4)
		binary.BigEndian.PutUint32(ip, binary.LittleEndian.Uint32(b))
		if !ip.IsUnspecified() {
			return ip
		}
	}
	return nil
}
