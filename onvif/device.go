package onvif

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/soap"
	"github.com/chinesium/chinesium/wsdl"
)

// Service paths of a device endpoint: the XAddrs GetServices and
// GetCapabilities report. Dispatch is on the request element, so any path
// serves every service.
const (
	DeviceServicePath = "/onvif/device_service"
	MediaServicePath  = "/onvif/media_service"
	EventsServicePath = "/onvif/events_service"
)

// serviceVersion is the version GetServices reports for every service.
var serviceVersion = soap.ServiceVersion{Major: 2, Minor: 60}

// Limits of the device service.
const (
	// MaxScopes bounds the configurable scopes (AddScopes/SetScopes).
	MaxScopes = 32
	// maxScopeLen bounds one scope URI.
	maxScopeLen = 256
	// MaxUserNameLength and MaxPasswordLength are reported by
	// GetServiceCapabilities and enforced by CreateUsers/SetUser.
	MaxUserNameLength = 64
	MaxPasswordLength = 128
)

// DeviceService returns the device management service (ver10) of d. Access
// classes follow ONVIF Core: GetSystemDateAndTime, GetCapabilities,
// GetServices, GetServiceCapabilities, GetHostname, GetWsdlUrl and
// GetEndpointReference are PRE_AUTH; the operations of devicemgmt.wsdl not
// in the table are classed by what they would do (soap.Policy) and answered
// with env:Receiver/ter:ActionNotSupported.
//
// Implemented: GetSystemDateAndTime (host clock, true UTC),
// SetSystemDateAndTime (accepted, changes nothing), GetDeviceInformation,
// GetCapabilities, GetServices, GetServiceCapabilities, Get/Set/Add/
// RemoveScopes (fixed scopes from Device, configurable ones persisted),
// Get/SetDiscoveryMode, Get/SetHostname (the name is stored, the host's is
// not changed), GetNetworkInterfaces (the synthetic MAC and the address the
// client used), GetDNS and GetNetworkDefaultGateway (the host's), GetNTP,
// GetNetworkProtocols, GetUsers/CreateUsers/DeleteUsers/SetUser (Store),
// GetWsdlUrl, GetEndpointReference, SystemReboot (Device.Reboot) and
// SetSystemFactoryDefault (Store.Reset). Network settings cannot be changed
// (NetworkConfigNotSupported).
//
// GetServices and GetCapabilities list the services of the endpoint that
// serves the request, with XAddrs built from the Host the client used.
func DeviceService(d *Device) soap.Service {
	s := &deviceService{d: d}
	return soap.Service{
		Namespace:     wsdl.NSDevice,
		Path:          DeviceServicePath,
		Version:       serviceVersion,
		Declared:      wsdl.DeviceOperations(),
		Unimplemented: soap.Policy{Read: soap.ReadSystem, Write: soap.WriteSystem},
		Capabilities:  s.capabilities,
		Ops: []soap.Op{
			{Name: wsdl.DeviceGetSystemDateAndTime, Access: soap.PreAuth, Handle: s.getSystemDateAndTime},
			{Name: wsdl.DeviceSetSystemDateAndTime, Access: soap.WriteSystem, Handle: s.setSystemDateAndTime},
			{Name: wsdl.DeviceGetDeviceInformation, Access: soap.ReadSystem, Handle: s.getDeviceInformation},
			{Name: wsdl.DeviceGetCapabilities, Access: soap.PreAuth, Handle: s.getCapabilities},
			{Name: wsdl.DeviceGetServices, Access: soap.PreAuth, Handle: s.getServices},
			{Name: wsdl.DeviceGetServiceCapabilities, Access: soap.PreAuth, Handle: s.getServiceCapabilities},
			{Name: wsdl.DeviceGetScopes, Access: soap.ReadSystem, Handle: s.getScopes},
			{Name: wsdl.DeviceSetScopes, Access: soap.WriteSystem, Handle: s.setScopes},
			{Name: wsdl.DeviceAddScopes, Access: soap.WriteSystem, Handle: s.addScopes},
			{Name: wsdl.DeviceRemoveScopes, Access: soap.WriteSystem, Handle: s.removeScopes},
			{Name: wsdl.DeviceGetDiscoveryMode, Access: soap.ReadSystem, Handle: s.getDiscoveryMode},
			{Name: wsdl.DeviceSetDiscoveryMode, Access: soap.WriteSystem, Handle: s.setDiscoveryMode},
			{Name: wsdl.DeviceGetHostname, Access: soap.PreAuth, Handle: s.getHostname},
			{Name: wsdl.DeviceSetHostname, Access: soap.WriteSystem, Handle: s.setHostname},
			{Name: wsdl.DeviceGetNetworkInterfaces, Access: soap.ReadSystem, Handle: s.getNetworkInterfaces},
			{Name: wsdl.DeviceGetDNS, Access: soap.ReadSystem, Handle: s.getDNS},
			{Name: wsdl.DeviceGetNTP, Access: soap.ReadSystem, Handle: s.getNTP},
			{Name: wsdl.DeviceGetNetworkProtocols, Access: soap.ReadSystem, Handle: s.getNetworkProtocols},
			{Name: wsdl.DeviceGetNetworkDefaultGateway, Access: soap.ReadSystem, Handle: s.getNetworkDefaultGateway},
			{Name: wsdl.DeviceGetUsers, Access: soap.ReadSystemSecret, Handle: s.getUsers},
			{Name: wsdl.DeviceCreateUsers, Access: soap.WriteSystem, Handle: s.createUsers},
			{Name: wsdl.DeviceDeleteUsers, Access: soap.WriteSystem, Handle: s.deleteUsers},
			{Name: wsdl.DeviceSetUser, Access: soap.WriteSystem, Handle: s.setUser},
			{Name: wsdl.DeviceGetWsdlUrl, Access: soap.PreAuth, Handle: s.getWsdlURL},
			{Name: wsdl.DeviceGetEndpointReference, Access: soap.PreAuth, Handle: s.getEndpointReference},
			{Name: wsdl.DeviceSystemReboot, Access: soap.Unrecoverable, Handle: s.systemReboot},
			{Name: wsdl.DeviceSetSystemFactoryDefault, Access: soap.Unrecoverable, Handle: s.setSystemFactoryDefault},
		},
	}
}

// deviceService implements the device management operations of one Device.
type deviceService struct {
	d *Device
}

// --- System ---

func (s *deviceService) getSystemDateAndTime(context.Context, *soap.Request) (*etree.Element, error) {
	now := time.Now()
	resp := response("tds:GetSystemDateAndTimeResponse")
	sdt := add(resp, "tds:SystemDateAndTime")
	// The bridge reports the host clock, which is normally NTP-disciplined.
	// "NTP" also keeps Home Assistant from calling SetSystemDateAndTime
	// on every start when it sees a skew (it only does so for Manual).
	add(sdt, "tt:DateTimeType", "NTP")
	add(sdt, "tt:DaylightSavings", boolText(now.IsDST()))
	add(add(sdt, "tt:TimeZone"), "tt:TZ", posixTZ(now))
	writeDateTime(add(sdt, "tt:UTCDateTime"), now.UTC())
	writeDateTime(add(sdt, "tt:LocalDateTime"), now.Local())
	return resp, nil
}

func writeDateTime(e *etree.Element, t time.Time) {
	tm := add(e, "tt:Time")
	add(tm, "tt:Hour", strconv.Itoa(t.Hour()))
	add(tm, "tt:Minute", strconv.Itoa(t.Minute()))
	add(tm, "tt:Second", strconv.Itoa(t.Second()))
	dt := add(e, "tt:Date")
	add(dt, "tt:Year", strconv.Itoa(t.Year()))
	add(dt, "tt:Month", strconv.Itoa(int(t.Month())))
	add(dt, "tt:Day", strconv.Itoa(t.Day()))
}

// posixTZ returns the POSIX TZ string of t's zone without DST rules, e.g.
// "UTC0", "CET-1", "<+0530>-5:30" (POSIX offsets are west-positive).
func posixTZ(t time.Time) string {
	name, off := t.Zone()
	sign := "-"
	if off < 0 {
		sign, off = "", -off
	} else if off == 0 {
		sign = ""
	}
	h, m := off/3600, off%3600/60
	offset := sign + strconv.Itoa(h)
	if m != 0 {
		offset += fmt.Sprintf(":%02d", m)
	}
	alpha := len(name) >= 3
	for _, r := range name {
		if (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') {
			alpha = false
		}
	}
	if !alpha {
		name = "<" + strings.ReplaceAll(name, ":", "") + ">"
	}
	return name + offset
}

// setSystemDateAndTime accepts the request and changes nothing: the bridge
// reports the host's clock, which it does not own. Home Assistant calls it
// when it sees a skew; refusing would abort its setup.
func (s *deviceService) setSystemDateAndTime(_ context.Context, r *soap.Request) (*etree.Element, error) {
	typ, _ := childText(r.Body, "DateTimeType")
	if typ != "Manual" && typ != "NTP" {
		return nil, soap.InvalidArgVal(fmt.Sprintf("DateTimeType %q is neither Manual nor NTP", typ))
	}
	if tz := r.Body.FindElement("./TimeZone/TZ"); tz != nil && len(tz.Text()) > 128 {
		return nil, soap.InvalidArgVal("time zone too long", "InvalidTimeZone")
	}
	return response("tds:SetSystemDateAndTimeResponse"), nil
}

func (s *deviceService) getDeviceInformation(context.Context, *soap.Request) (*etree.Element, error) {
	d := s.d
	resp := response("tds:GetDeviceInformationResponse")
	add(resp, "tds:Manufacturer", d.Manufacturer)
	add(resp, "tds:Model", d.Model)
	add(resp, "tds:FirmwareVersion", d.Firmware)
	add(resp, "tds:SerialNumber", d.Serial)
	add(resp, "tds:HardwareId", d.HardwareID)
	return resp, nil
}

func (s *deviceService) systemReboot(context.Context, *soap.Request) (*etree.Element, error) {
	if s.d.Reboot != nil {
		s.d.Reboot()
	}
	resp := response("tds:SystemRebootResponse")
	add(resp, "tds:Message", "Restarting the camera session")
	return resp, nil
}

func (s *deviceService) setSystemFactoryDefault(_ context.Context, r *soap.Request) (*etree.Element, error) {
	kind, _ := childText(r.Body, "FactoryDefault")
	if kind != "Hard" && kind != "Soft" {
		return nil, soap.InvalidArgVal(fmt.Sprintf("FactoryDefault %q is neither Hard nor Soft", kind))
	}
	if err := s.d.Store.Reset(); err != nil {
		return nil, fmt.Errorf("factory default: %w", err)
	}
	return response("tds:SetSystemFactoryDefaultResponse"), nil
}

func (s *deviceService) getWsdlURL(context.Context, *soap.Request) (*etree.Element, error) {
	resp := response("tds:GetWsdlUrlResponse")
	add(resp, "tds:WsdlUrl", "http://www.onvif.org/Documents/Specifications.aspx")
	return resp, nil
}

func (s *deviceService) getEndpointReference(context.Context, *soap.Request) (*etree.Element, error) {
	resp := response("tds:GetEndpointReferenceResponse")
	add(resp, "tds:GUID", s.d.EndpointReference())
	return resp, nil
}

// --- Capabilities and services ---

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

// --- Scopes and discovery ---

func (s *deviceService) getScopes(context.Context, *soap.Request) (*etree.Element, error) {
	resp := response("tds:GetScopesResponse")
	add := func(def, item string) {
		sc := add(resp, "tds:Scopes")
		add(sc, "tt:ScopeDef", def)
		add(sc, "tt:ScopeItem", item)
	}
	for _, sc := range s.d.FixedScopes() {
		add("Fixed", sc)
	}
	for _, sc := range s.d.Store.Get().Scopes {
		add("Configurable", sc)
	}
	return resp, nil
}

// scopeArgs returns the trimmed scope URIs of the named children, checking
// each is a plausible URI.
func scopeArgs(body *etree.Element, name string) ([]string, error) {
	var out []string
	for _, c := range children(body, name) {
		sc := strings.TrimSpace(c.Text())
		if sc == "" || len(sc) > maxScopeLen || strings.ContainsAny(sc, " \t\r\n") || !strings.Contains(sc, ":") {
			return nil, soap.InvalidArgVal(fmt.Sprintf("invalid scope %q", sc))
		}
		out = append(out, sc)
	}
	if len(out) == 0 {
		return nil, soap.InvalidArgs("no " + name)
	}
	return out, nil
}

func (s *deviceService) isFixed(scope string) bool {
	for _, f := range s.d.FixedScopes() {
		if f == scope {
			return true
		}
	}
	return false
}

// setScopes replaces the configurable scopes. Scopes equal to a fixed one
// are already present and are left out; fixed scopes are never touched.
func (s *deviceService) setScopes(_ context.Context, r *soap.Request) (*etree.Element, error) {
	scopes, err := scopeArgs(r.Body, "Scopes")
	if err != nil {
		return nil, err
	}
	var next []string
	for _, sc := range scopes {
		if !s.isFixed(sc) && !slices.Contains(next, sc) {
			next = append(next, sc)
		}
	}
	if len(next) > MaxScopes {
		return nil, soap.Action("too many scopes", "TooManyScopes")
	}
	if err := s.d.Store.Update(func(st *State) error { st.Scopes = next; return nil }); err != nil {
		return nil, fmt.Errorf("set scopes: %w", err)
	}
	return response("tds:SetScopesResponse"), nil
}

func (s *deviceService) addScopes(_ context.Context, r *soap.Request) (*etree.Element, error) {
	scopes, err := scopeArgs(r.Body, "ScopeItem")
	if err != nil {
		return nil, err
	}
	errTooMany := errors.New("too many scopes")
	err = s.d.Store.Update(func(st *State) error {
		for _, sc := range scopes {
			if !s.isFixed(sc) && !slices.Contains(st.Scopes, sc) {
				st.Scopes = append(st.Scopes, sc)
			}
		}
		if len(st.Scopes) > MaxScopes {
			return errTooMany
		}
		return nil
	})
	switch {
	case errors.Is(err, errTooMany):
		return nil, soap.Action("too many scopes", "TooManyScopes")
	case err != nil:
		return nil, fmt.Errorf("add scopes: %w", err)
	}
	return response("tds:AddScopesResponse"), nil
}

func (s *deviceService) removeScopes(_ context.Context, r *soap.Request) (*etree.Element, error) {
	scopes, err := scopeArgs(r.Body, "ScopeItem")
	if err != nil {
		return nil, err
	}
	for _, sc := range scopes {
		if s.isFixed(sc) {
			return nil, soap.OperationProhibited("fixed scope "+sc+" cannot be removed", "FixedScope")
		}
	}
	var missing string
	err = s.d.Store.Update(func(st *State) error {
		for _, sc := range scopes {
			i := slices.Index(st.Scopes, sc)
			if i < 0 {
				missing = sc
				return errors.New("no such scope")
			}
			st.Scopes = append(st.Scopes[:i], st.Scopes[i+1:]...)
		}
		return nil
	})
	if missing != "" {
		return nil, soap.InvalidArgVal("no scope "+missing, "NoScope")
	}
	if err != nil {
		return nil, fmt.Errorf("remove scopes: %w", err)
	}
	resp := response("tds:RemoveScopesResponse")
	for _, sc := range scopes {
		add(resp, "tds:ScopeItem", sc)
	}
	return resp, nil
}

func (s *deviceService) getDiscoveryMode(context.Context, *soap.Request) (*etree.Element, error) {
	mode := s.d.Store.Get().DiscoveryMode
	if mode != NonDiscoverable {
		mode = Discoverable
	}
	resp := response("tds:GetDiscoveryModeResponse")
	add(resp, "tds:DiscoveryMode", mode)
	return resp, nil
}

func (s *deviceService) setDiscoveryMode(_ context.Context, r *soap.Request) (*etree.Element, error) {
	mode, _ := childText(r.Body, "DiscoveryMode")
	if mode != Discoverable && mode != NonDiscoverable {
		return nil, soap.InvalidArgVal(fmt.Sprintf("DiscoveryMode %q is neither Discoverable nor NonDiscoverable", mode))
	}
	if err := s.d.Store.Update(func(st *State) error { st.DiscoveryMode = mode; return nil }); err != nil {
		return nil, fmt.Errorf("set discovery mode: %w", err)
	}
	return response("tds:SetDiscoveryModeResponse"), nil
}

// --- Network (read-only; NetworkConfigNotSupported) ---

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
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
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
	add := func(name string, port int) {
		p := add(resp, "tds:NetworkProtocols")
		add(p, "tt:Name", name)
		add(p, "tt:Enabled", "true")
		add(p, "tt:Port", strconv.Itoa(port))
	}
	if httpPort > 0 {
		add("HTTP", httpPort)
	}
	if s.d.RTSPPort > 0 {
		add("RTSP", s.d.RTSPPort)
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

// --- Users ---

func (s *deviceService) getUsers(context.Context, *soap.Request) (*etree.Element, error) {
	resp := response("tds:GetUsersResponse")
	add := func(name, level string) {
		u := add(resp, "tds:User")
		add(u, "tt:Username", name)
		add(u, "tt:UserLevel", level) // passwords are never returned
	}
	if admin := s.d.Store.Admin(); admin != "" {
		add(admin, LevelAdministrator)
	}
	for _, u := range s.d.Store.Get().Users {
		add(u.Name, u.Level)
	}
	return resp, nil
}

// userArgs parses the tt:User children of a CreateUsers or SetUser
// request, checking lengths and levels with the ONVIF subcodes.
func userArgs(body *etree.Element, needPassword bool) ([]User, error) {
	var users []User
	for _, e := range children(body, "User") {
		name, _ := childText(e, "Username")
		pass, hasPass := childText(e, "Password")
		level, _ := childText(e, "UserLevel")
		switch {
		case name == "":
			return nil, soap.InvalidArgVal("empty user name", "UsernameTooShort")
		case len(name) > MaxUserNameLength:
			return nil, soap.InvalidArgVal("user name too long", "UsernameTooLong")
		case len(pass) > MaxPasswordLength:
			return nil, soap.InvalidArgVal("password too long", "PasswordTooLong")
		case (needPassword || hasPass) && pass == "":
			return nil, soap.InvalidArgVal("empty password", "PasswordTooWeak")
		case level == "Anonymous":
			return nil, soap.OperationProhibited("anonymous users are not supported", "AnonymousNotAllowed")
		case level != LevelAdministrator && level != LevelOperator && level != LevelUser:
			return nil, soap.InvalidArgVal(fmt.Sprintf("user level %q not supported", level))
		}
		users = append(users, User{Name: name, Password: pass, Level: level})
	}
	if len(users) == 0 {
		return nil, soap.InvalidArgs("no User")
	}
	return users, nil
}

// userFault maps Store errors to the faults of the user operations.
func userFault(err error) error {
	switch {
	case errors.Is(err, ErrUserExists):
		return soap.OperationProhibited("user name already exists", "UsernameClash")
	case errors.Is(err, ErrTooManyUsers):
		return soap.Action("too many users", "TooManyUsers")
	case errors.Is(err, ErrUnknownUser):
		return soap.InvalidArgVal("no such user", "UsernameMissing")
	case errors.Is(err, ErrFixedUser):
		return soap.InvalidArgVal("the configured administrator cannot be changed", "FixedUser")
	case errors.Is(err, ErrBadUser):
		return soap.InvalidArgVal("invalid user")
	}
	return err
}

func (s *deviceService) createUsers(_ context.Context, r *soap.Request) (*etree.Element, error) {
	users, err := userArgs(r.Body, true)
	if err != nil {
		return nil, err
	}
	if err := s.d.Store.CreateUsers(users); err != nil {
		return nil, userFault(err)
	}
	return response("tds:CreateUsersResponse"), nil
}

func (s *deviceService) deleteUsers(_ context.Context, r *soap.Request) (*etree.Element, error) {
	var names []string
	for _, c := range children(r.Body, "Username") {
		names = append(names, strings.TrimSpace(c.Text()))
	}
	if len(names) == 0 {
		return nil, soap.InvalidArgs("no Username")
	}
	if err := s.d.Store.DeleteUsers(names); err != nil {
		return nil, userFault(err)
	}
	return response("tds:DeleteUsersResponse"), nil
}

func (s *deviceService) setUser(_ context.Context, r *soap.Request) (*etree.Element, error) {
	users, err := userArgs(r.Body, false)
	if err != nil {
		return nil, err
	}
	if err := s.d.Store.SetUsers(users); err != nil {
		if errors.Is(err, ErrFixedUser) {
			return nil, soap.OperationProhibited("the configured administrator cannot be changed", "FixedUser")
		}
		return nil, userFault(err)
	}
	return response("tds:SetUserResponse"), nil
}
