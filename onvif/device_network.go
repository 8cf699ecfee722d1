package onvif

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/soap"
)

// The device service's network operations: read-only, the bridge does not
// own the host's network configuration (NetworkConfigNotSupported).

func (s *deviceService) getHostname(context.Context, *soap.Request) (*etree.Element, error) {
	resp := response("tds:GetHostnameResponse")
	info := add(resp, "tds:HostnameInformation")
	add(info, "tt:FromDHCP", "false")
	if h := s.d.Store.Get().Hostname; h != "" {
		add(info, "tt:Name", h)
	}
	return resp, nil
}

// validHostname checks an RFC 1123 host name.
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
			if !ok {
				return false
			}
		}
	}
	return true
}

// setHostname stores the name GetHostname reports; the host's own name is
// not changed.
func (s *deviceService) setHostname(_ context.Context, r *soap.Request) (*etree.Element, error) {
	name, _ := childText(r.Body, "Name")
	if !validHostname(name) {
		return nil, soap.InvalidArgVal(fmt.Sprintf("invalid host name %q", name), "InvalidHostname")
	}
	if err := s.d.Store.Update(func(st *State) error { st.Hostname = name; return nil }); err != nil {
		return nil, fmt.Errorf("set hostname: %w", err)
	}
	return response("tds:SetHostnameResponse"), nil
}

// getNetworkInterfaces reports one interface with the device's stable
// synthetic MAC (Home Assistant's unique id) and the address the client
// reached the device on.
func (s *deviceService) getNetworkInterfaces(_ context.Context, r *soap.Request) (*etree.Element, error) {
	resp := response("tds:GetNetworkInterfacesResponse")
	ni := add(resp, "tds:NetworkInterfaces")
	ni.CreateAttr("token", "eth0")
	add(ni, "tt:Enabled", "true")
	info := add(ni, "tt:Info")
	add(info, "tt:Name", "eth0")
	add(info, "tt:HwAddress", s.d.MAC.String())
	add(info, "tt:MTU", "1500")
	if ip := localIP(r.HTTP).To4(); ip != nil {
		v4 := add(ni, "tt:IPv4")
		add(v4, "tt:Enabled", "true")
		cfg := add(v4, "tt:Config")
		m := add(cfg, "tt:Manual")
		add(m, "tt:Address", ip.String())
		add(m, "tt:PrefixLength", strconv.Itoa(prefixLength(ip)))
		add(cfg, "tt:DHCP", "false")
	}
	return resp, nil
}

// prefixLength returns the prefix length of the host interface holding ip,
// 24 when it cannot be found.
func prefixLength(ip net.IP) int {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
				ones, _ := n.Mask.Size()
				return ones
			}
		}
	}
	return 24
}

func (s *deviceService) getDNS(context.Context, *soap.Request) (*etree.Element, error) {
	resp := response("tds:GetDNSResponse")
	info := add(resp, "tds:DNSInformation")
	add(info, "tt:FromDHCP", "false")
	for _, ns := range hostNameservers() {
		m := add(info, "tt:DNSManual")
		typ := "IPv4"
		if ns.To4() == nil {
			typ = "IPv6"
		}
		add(m, "tt:Type", typ)
		add(m, "tt:"+typ+"Address", ns.String())
	}
	return resp, nil
}

func (s *deviceService) getNTP(context.Context, *soap.Request) (*etree.Element, error) {
	resp := response("tds:GetNTPResponse")
	info := add(resp, "tds:NTPInformation")
	add(info, "tt:FromDHCP", "false")
	return resp, nil
}

func (s *deviceService) getNetworkProtocols(_ context.Context, r *soap.Request) (*etree.Element, error) {
	httpPort := s.d.HTTPPort
	if httpPort == 0 {
		if a, ok := r.HTTP.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); ok {
			httpPort = a.Port
		}
	}
	resp := response("tds:GetNetworkProtocolsResponse")
	protocol := func(name string, port int) {
		p := add(resp, "tds:NetworkProtocols")
		add(p, "tt:Name", name)
		add(p, "tt:Enabled", "true")
		add(p, "tt:Port", strconv.Itoa(port))
	}
	if httpPort > 0 {
		protocol("HTTP", httpPort)
	}
	if s.d.RTSPPort > 0 {
		protocol("RTSP", s.d.RTSPPort)
	}
	return resp, nil
}

func (s *deviceService) getNetworkDefaultGateway(context.Context, *soap.Request) (*etree.Element, error) {
	resp := response("tds:GetNetworkDefaultGatewayResponse")
	gw := add(resp, "tds:NetworkGateway")
	if ip := hostGateway(); ip != nil {
		add(gw, "tt:IPv4Address", ip.String())
	}
	return resp, nil
}

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
