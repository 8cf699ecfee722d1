package onvif

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/soap"
	"github.com/chinesium/chinesium/wsdl"
)

// The device service's view of the other services: GetServices,
// GetCapabilities and its own capabilities.

// services returns the services of the endpoint serving r.
func services(r *soap.Request) []soap.Service {
	if r.Endpoint == nil {
		return nil
	}
	return r.Endpoint.Services()
}

// serviceCapabilities returns the capabilities element of the service with
// namespace ns among svcs, nil when there is no such service or it has no
// capabilities.
func serviceCapabilities(r *soap.Request, svcs []soap.Service, ns string) *etree.Element {
	for _, svc := range svcs {
		if svc.Namespace == ns && svc.Capabilities != nil {
			return svc.Capabilities(r)
		}
	}
	return nil
}

func (s *deviceService) getServices(_ context.Context, r *soap.Request) (*etree.Element, error) {
	include := false
	if v, ok := childText(r.Body, "IncludeCapability"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, soap.InvalidArgVal("IncludeCapability is not a boolean")
		}
		include = b
	}
	base := baseURL(r.HTTP)
	resp := response("tds:GetServicesResponse")
	for _, svc := range services(r) {
		e := add(resp, "tds:Service")
		add(e, "tds:Namespace", svc.Namespace)
		add(e, "tds:XAddr", base+svc.Path)
		if include && svc.Capabilities != nil {
			if c := svc.Capabilities(r); c != nil {
				add(e, "tds:Capabilities").AddChild(c)
			}
		}
		v := add(e, "tds:Version")
		add(v, "tt:Major", itoa(svc.Version.Major))
		add(v, "tt:Minor", itoa(svc.Version.Minor))
	}
	return resp, nil
}

func (s *deviceService) getServiceCapabilities(_ context.Context, r *soap.Request) (*etree.Element, error) {
	resp := response("tds:GetServiceCapabilitiesResponse")
	resp.AddChild(s.capabilities(r))
	return resp, nil
}

// capabilities is tds:Capabilities (DeviceServiceCapabilities). The
// network configuration cannot be changed through the bridge
// (NetworkConfigNotSupported); users and discovery can.
func (s *deviceService) capabilities(r *soap.Request) *etree.Element {
	httpDigest := r.Endpoint == nil || r.Endpoint.Security().HTTPAuth()
	c := etree.NewElement("tds:Capabilities")
	n := c.CreateElement("tds:Network")
	for _, a := range []string{"IPFilter", "ZeroConfiguration", "IPVersion6", "DynDNS", "Dot11Configuration", "HostnameFromDHCP", "DHCPv6"} {
		n.CreateAttr(a, "false")
	}
	n.CreateAttr("NTP", "0")
	sec := c.CreateElement("tds:Security")
	for _, a := range []string{"TLS1.0", "TLS1.1", "TLS1.2", "OnboardKeyGeneration", "AccessPolicyConfig", "DefaultAccessPolicy", "Dot1X", "RemoteUserHandling", "X.509Token", "SAMLToken", "KerberosToken", "RELToken"} {
		sec.CreateAttr(a, "false")
	}
	sec.CreateAttr("UsernameToken", "true")
	sec.CreateAttr("HttpDigest", boolText(httpDigest))
	sec.CreateAttr("MaxUsers", strconv.Itoa(MaxUsers))
	sec.CreateAttr("MaxUserNameLength", strconv.Itoa(MaxUserNameLength))
	sec.CreateAttr("MaxPasswordLength", strconv.Itoa(MaxPasswordLength))
	sys := c.CreateElement("tds:System")
	sys.CreateAttr("DiscoveryResolve", "true")
	sys.CreateAttr("DiscoveryBye", "true")
	for _, a := range []string{"RemoteDiscovery", "SystemBackup", "SystemLogging", "HttpFirmwareUpgrade", "HttpSystemBackup", "HttpSystemLogging", "HttpSupportInformation", "StorageConfiguration", "DiscoveryNotSupported", "UserConfigNotSupported"} {
		sys.CreateAttr(a, "false")
	}
	sys.CreateAttr("NetworkConfigNotSupported", "true")
	return c
}

// capabilityCategories maps GetCapabilities categories to service
// namespaces; the others (Analytics, Imaging, PTZ) are not offered.
var capabilityCategories = map[string]string{
	"Device": wsdl.NSDevice,
	"Media":  wsdl.NSMedia,
	"Events": wsdl.NSEvents,
}

func (s *deviceService) getCapabilities(_ context.Context, r *soap.Request) (*etree.Element, error) {
	svcs := services(r)
	avail := map[string]string{} // namespace -> XAddr path
	for _, svc := range svcs {
		avail[svc.Namespace] = svc.Path
	}
	want := map[string]bool{}
	cats := children(r.Body, "Category")
	if len(cats) == 0 {
		want["All"] = true
	}
	for _, c := range cats {
		name := strings.TrimSpace(c.Text())
		switch ns, ok := capabilityCategories[name]; {
		case name == "All":
			want["All"] = true
		case ok && avail[ns] != "":
			want[ns] = true
		case ok || name == "Analytics" || name == "Imaging" || name == "PTZ":
			return nil, soap.Receiver("no "+name+" service", "ActionNotSupported", "NoSuchService")
		default:
			return nil, soap.InvalidArgVal(fmt.Sprintf("unknown capability category %q", name))
		}
	}
	wants := func(ns string) bool { return avail[ns] != "" && (want["All"] || want[ns]) }
	base := baseURL(r.HTTP)

	resp := response("tds:GetCapabilitiesResponse")
	caps := add(resp, "tds:Capabilities")
	if wants(wsdl.NSDevice) {
		dev := add(caps, "tt:Device")
		add(dev, "tt:XAddr", base+avail[wsdl.NSDevice])
		net := add(dev, "tt:Network")
		for _, n := range []string{"IPFilter", "ZeroConfiguration", "IPVersion6", "DynDNS"} {
			add(net, "tt:"+n, "false")
		}
		sys := add(dev, "tt:System")
		add(sys, "tt:DiscoveryResolve", "true")
		add(sys, "tt:DiscoveryBye", "true")
		for _, n := range []string{"RemoteDiscovery", "SystemBackup", "SystemLogging", "FirmwareUpgrade"} {
			add(sys, "tt:"+n, "false")
		}
		for _, v := range [][2]int{{2, 60}, {2, 40}, {2, 20}, {2, 0}} {
			sv := add(sys, "tt:SupportedVersions")
			add(sv, "tt:Major", strconv.Itoa(v[0]))
			add(sv, "tt:Minor", strconv.Itoa(v[1]))
		}
		io := add(dev, "tt:IO")
		add(io, "tt:InputConnectors", "0")
		add(io, "tt:RelayOutputs", "0")
		sec := add(dev, "tt:Security")
		for _, n := range []string{"TLS1.1", "TLS1.2", "OnboardKeyGeneration", "AccessPolicyConfig", "X.509Token", "SAMLToken", "KerberosToken", "RELToken"} {
			add(sec, "tt:"+n, "false")
		}
	}
	if wants(wsdl.NSEvents) {
		ev := add(caps, "tt:Events")
		add(ev, "tt:XAddr", base+avail[wsdl.NSEvents])
		ec := serviceCapabilities(r, svcs, wsdl.NSEvents)
		attr := func(name string) string {
			if ec != nil {
				if v := ec.SelectAttrValue(name, ""); v == "true" || v == "1" {
					return "true"
				}
			}
			return "false"
		}
		add(ev, "tt:WSSubscriptionPolicySupport", attr("WSSubscriptionPolicySupport"))
		add(ev, "tt:WSPullPointSupport", "true")
		add(ev, "tt:WSPausableSubscriptionManagerInterfaceSupport", attr("WSPausableSubscriptionManagerInterfaceSupport"))
	}
	if wants(wsdl.NSMedia) {
		m := add(caps, "tt:Media")
		add(m, "tt:XAddr", base+avail[wsdl.NSMedia])
		sc := add(m, "tt:StreamingCapabilities")
		add(sc, "tt:RTPMulticast", "false")
		add(sc, "tt:RTP_TCP", "true")
		add(sc, "tt:RTP_RTSP_TCP", "true")
		if mc := serviceCapabilities(r, svcs, wsdl.NSMedia); mc != nil {
			for _, pc := range children(mc, "ProfileCapabilities") {
				if max := pc.SelectAttrValue("MaximumNumberOfProfiles", ""); max != "" {
					add(add(add(m, "tt:Extension"), "tt:ProfileCapabilities"), "tt:MaximumNumberOfProfiles", max)
					break
				}
			}
		}
	}
	return resp, nil
}
