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

// Service paths of a device endpoint. Dispatch is on the request element,
// so every path serves every service; the paths only appear in XAddrs.
const (
	DeviceServicePath = "/onvif/device_service"
	MediaServicePath  = "/onvif/media_service"
	Media2ServicePath = "/onvif/media2_service"
	EventsServicePath = "/onvif/events_service"
)

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

// advertised is a service GetServices and GetCapabilities can list: it is
// listed when the composed operation table holds its GetServiceCapabilities.
type advertised struct {
	ns, path     string
	major, minor int
}

// advertisedServices in the order GetServices lists them. Media2 appears
// only if someone registers its operations: agsh/onvif switches all media
// calls to Media2 as soon as it is listed.
var advertisedServices = []advertised{
	{wsdl.NSDevice, DeviceServicePath, 2, 60},
	{wsdl.NSMedia, MediaServicePath, 2, 60},
	{wsdl.NSMedia2, Media2ServicePath, 2, 60},
	{wsdl.NSEvents, EventsServicePath, 2, 60},
}

// DeviceOps returns the SOAP operation table of the device management
// service (ver10) of d: every operation of devicemgmt.wsdl, the ones not
// implemented answered with env:Receiver/ter:ActionNotSupported. Access
// classes follow ONVIF Core: GetSystemDateAndTime, GetCapabilities,
// GetServices, GetServiceCapabilities, GetHostname, GetWsdlUrl and
// GetEndpointReference are PRE_AUTH.
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
// Compose it with the other services' tables into one soap.Service:
// GetServices and GetCapabilities list the media, media2 and events
// services whose GetServiceCapabilities is in that table, with XAddrs built
// from the Host the client used.
func DeviceOps(d *Device) map[wsdl.Op]soap.Operation {
	s := &deviceService{d: d}
	impl := map[string]soap.Operation{
		wsdl.DeviceGetSystemDateAndTime:     {Handler: s.getSystemDateAndTime, Access: soap.PreAuth},
		wsdl.DeviceSetSystemDateAndTime:     {Handler: s.setSystemDateAndTime, Access: soap.WriteSystem},
		wsdl.DeviceGetDeviceInformation:     {Handler: s.getDeviceInformation, Access: soap.ReadSystem},
		wsdl.DeviceGetCapabilities:          {Handler: s.getCapabilities, Access: soap.PreAuth},
		wsdl.DeviceGetServices:              {Handler: s.getServices, Access: soap.PreAuth},
		wsdl.DeviceGetServiceCapabilities:   {Handler: s.getServiceCapabilities, Access: soap.PreAuth},
		wsdl.DeviceGetScopes:                {Handler: s.getScopes, Access: soap.ReadSystem},
		wsdl.DeviceSetScopes:                {Handler: s.setScopes, Access: soap.WriteSystem},
		wsdl.DeviceAddScopes:                {Handler: s.addScopes, Access: soap.WriteSystem},
		wsdl.DeviceRemoveScopes:             {Handler: s.removeScopes, Access: soap.WriteSystem},
		wsdl.DeviceGetDiscoveryMode:         {Handler: s.getDiscoveryMode, Access: soap.ReadSystem},
		wsdl.DeviceSetDiscoveryMode:         {Handler: s.setDiscoveryMode, Access: soap.WriteSystem},
		wsdl.DeviceGetHostname:              {Handler: s.getHostname, Access: soap.PreAuth},
		wsdl.DeviceSetHostname:              {Handler: s.setHostname, Access: soap.WriteSystem},
		wsdl.DeviceGetNetworkInterfaces:     {Handler: s.getNetworkInterfaces, Access: soap.ReadSystem},
		wsdl.DeviceGetDNS:                   {Handler: s.getDNS, Access: soap.ReadSystem},
		wsdl.DeviceGetNTP:                   {Handler: s.getNTP, Access: soap.ReadSystem},
		wsdl.DeviceGetNetworkProtocols:      {Handler: s.getNetworkProtocols, Access: soap.ReadSystem},
		wsdl.DeviceGetNetworkDefaultGateway: {Handler: s.getNetworkDefaultGateway, Access: soap.ReadSystem},
		wsdl.DeviceGetUsers:                 {Handler: s.getUsers, Access: soap.ReadSystemSecret},
		wsdl.DeviceCreateUsers:              {Handler: s.createUsers, Access: soap.WriteSystem},
		wsdl.DeviceDeleteUsers:              {Handler: s.deleteUsers, Access: soap.WriteSystem},
		wsdl.DeviceSetUser:                  {Handler: s.setUser, Access: soap.WriteSystem},
		wsdl.DeviceGetWsdlUrl:               {Handler: s.getWsdlURL, Access: soap.PreAuth},
		wsdl.DeviceGetEndpointReference:     {Handler: s.getEndpointReference, Access: soap.PreAuth},
		wsdl.DeviceSystemReboot:             {Handler: s.systemReboot, Access: soap.Unrecoverable},
		wsdl.DeviceSetSystemFactoryDefault:  {Handler: s.setSystemFactoryDefault, Access: soap.Unrecoverable},
	}
	ops := make(map[wsdl.Op]soap.Operation, len(impl))
	for _, op := range wsdl.DeviceOperations() {
		if o, ok := impl[op.Name]; ok {
			ops[op] = o
			continue
		}
		ops[op] = soap.Operation{Access: soap.ReadSystem, Handler: func(context.Context, *soap.Request) (*etree.Element, error) {
			return nil, soap.ActionNotSupported(op)
		}}
	}
	return ops
}

// deviceService implements the device management operations of one Device.
type deviceService struct {
	d *Device
}

// --- XML helpers (device service) ---

// devResponse returns an empty tds element (the envelope declares tds and
// tt).
func devResponse(name string) *etree.Element { return etree.NewElement("tds:" + name) }

// devChildren returns the child elements of e with local name name, any
// prefix (requests are matched by local name inside an already
// namespace-checked request element).
func devChildren(e *etree.Element, name string) []*etree.Element {
	var out []*etree.Element
	for _, c := range e.ChildElements() {
		if c.Tag == name {
			out = append(out, c)
		}
	}
	return out
}

// devBaseURL returns scheme://host[:port] as the client reached the device:
// the Host header, else the local address the connection arrived on.
func devBaseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if host == "" {
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			host = a.String()
		}
	}
	return scheme + "://" + host
}

// devLocalIP returns the local address the request's connection arrived on.
func devLocalIP(r *http.Request) net.IP {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); ok {
		return a.IP
	}
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		return net.ParseIP(h)
	}
	return net.ParseIP(r.Host)
}

// --- System ---

func (s *deviceService) getSystemDateAndTime(context.Context, *soap.Request) (*etree.Element, error) {
	now := time.Now()
	resp := devResponse("GetSystemDateAndTimeResponse")
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
	return devResponse("SetSystemDateAndTimeResponse"), nil
}

func (s *deviceService) getDeviceInformation(context.Context, *soap.Request) (*etree.Element, error) {
	d := s.d
	resp := devResponse("GetDeviceInformationResponse")
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
	resp := devResponse("SystemRebootResponse")
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
	return devResponse("SetSystemFactoryDefaultResponse"), nil
}

func (s *deviceService) getWsdlURL(context.Context, *soap.Request) (*etree.Element, error) {
	resp := devResponse("GetWsdlUrlResponse")
	add(resp, "tds:WsdlUrl", "http://www.onvif.org/Documents/Specifications.aspx")
	return resp, nil
}

func (s *deviceService) getEndpointReference(context.Context, *soap.Request) (*etree.Element, error) {
	resp := devResponse("GetEndpointReferenceResponse")
	add(resp, "tds:GUID", s.d.EndpointReference())
	return resp, nil
}

// --- Capabilities and services ---

// present returns the services whose GetServiceCapabilities the composed
// table holds (the device service always).
func present(r *soap.Request) []advertised {
	var out []advertised
	for _, a := range advertisedServices {
		if a.ns == wsdl.NSDevice {
			out = append(out, a)
			continue
		}
		if r.Service == nil {
			continue
		}
		if _, ok := r.Service.Ops[wsdl.Op{Namespace: a.ns, Name: "GetServiceCapabilities"}]; ok {
			out = append(out, a)
		}
	}
	return out
}

// serviceCapabilities returns the capabilities element (the first child
// of the GetServiceCapabilitiesResponse) of the service with namespace ns,
// by calling that operation in the composed table, or nil.
func (s *deviceService) serviceCapabilities(ctx context.Context, r *soap.Request, ns string) *etree.Element {
	if ns == wsdl.NSDevice {
		return s.deviceCapabilities(r)
	}
	if r.Service == nil {
		return nil
	}
	op := wsdl.Op{Namespace: ns, Name: "GetServiceCapabilities"}
	o, ok := r.Service.Ops[op]
	if !ok || o.Handler == nil {
		return nil
	}
	sub := *r
	sub.Op = op
	sub.Body = etree.NewElement("GetServiceCapabilities")
	sub.Body.CreateAttr("xmlns", ns)
	resp, err := o.Handler(ctx, &sub)
	if err != nil || resp == nil {
		return nil
	}
	caps := resp.ChildElements()
	if len(caps) == 0 {
		return nil
	}
	c := caps[0].Copy()
	// Keep the namespace declarations the handler made on its response
	// element: the capabilities move under a tds element.
	for _, a := range resp.Attr {
		if (a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns")) && c.SelectAttr(a.FullKey()) == nil {
			c.CreateAttr(a.FullKey(), a.Value)
		}
	}
	return c
}

func (s *deviceService) getServices(ctx context.Context, r *soap.Request) (*etree.Element, error) {
	include := false
	if v, ok := childText(r.Body, "IncludeCapability"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, soap.InvalidArgVal("IncludeCapability is not a boolean")
		}
		include = b
	}
	base := devBaseURL(r.HTTP)
	resp := devResponse("GetServicesResponse")
	for _, a := range present(r) {
		svc := add(resp, "tds:Service")
		add(svc, "tds:Namespace", a.ns)
		add(svc, "tds:XAddr", base+a.path)
		if include {
			if c := s.serviceCapabilities(ctx, r, a.ns); c != nil {
				add(svc, "tds:Capabilities").AddChild(c)
			}
		}
		v := add(svc, "tds:Version")
		add(v, "tt:Major", strconv.Itoa(a.major))
		add(v, "tt:Minor", strconv.Itoa(a.minor))
	}
	return resp, nil
}

func (s *deviceService) getServiceCapabilities(_ context.Context, r *soap.Request) (*etree.Element, error) {
	resp := devResponse("GetServiceCapabilitiesResponse")
	resp.AddChild(s.deviceCapabilities(r))
	return resp, nil
}

// deviceCapabilities is tds:Capabilities (DeviceServiceCapabilities). The
// network configuration cannot be changed through the bridge
// (NetworkConfigNotSupported); users and discovery can.
func (s *deviceService) deviceCapabilities(r *soap.Request) *etree.Element {
	httpDigest := r.Service == nil || r.Service.Security == nil || !r.Service.Security.NoHTTPAuth
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

func (s *deviceService) getCapabilities(ctx context.Context, r *soap.Request) (*etree.Element, error) {
	avail := map[string]bool{}
	for _, a := range present(r) {
		avail[a.ns] = true
	}
	want := map[string]bool{}
	cats := devChildren(r.Body, "Category")
	if len(cats) == 0 {
		want["All"] = true
	}
	for _, c := range cats {
		name := strings.TrimSpace(c.Text())
		switch ns, ok := capabilityCategories[name]; {
		case name == "All":
			want["All"] = true
		case ok && avail[ns]:
			want[ns] = true
		case ok || name == "Analytics" || name == "Imaging" || name == "PTZ":
			return nil, soap.Receiver("no "+name+" service", "ActionNotSupported", "NoSuchService")
		default:
			return nil, soap.InvalidArgVal(fmt.Sprintf("unknown capability category %q", name))
		}
	}
	wants := func(ns string) bool { return avail[ns] && (want["All"] || want[ns]) }
	base := devBaseURL(r.HTTP)

	resp := devResponse("GetCapabilitiesResponse")
	caps := add(resp, "tds:Capabilities")
	if wants(wsdl.NSDevice) {
		dev := add(caps, "tt:Device")
		add(dev, "tt:XAddr", base+DeviceServicePath)
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
		add(ev, "tt:XAddr", base+EventsServicePath)
		ec := s.serviceCapabilities(ctx, r, wsdl.NSEvents)
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
		add(m, "tt:XAddr", base+MediaServicePath)
		sc := add(m, "tt:StreamingCapabilities")
		add(sc, "tt:RTPMulticast", "false")
		add(sc, "tt:RTP_TCP", "true")
		add(sc, "tt:RTP_RTSP_TCP", "true")
		if mc := s.serviceCapabilities(ctx, r, wsdl.NSMedia); mc != nil {
			for _, pc := range devChildren(mc, "ProfileCapabilities") {
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
	resp := devResponse("GetScopesResponse")
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
	for _, c := range devChildren(body, name) {
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
	return devResponse("SetScopesResponse"), nil
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
	return devResponse("AddScopesResponse"), nil
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
	resp := devResponse("RemoveScopesResponse")
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
	resp := devResponse("GetDiscoveryModeResponse")
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
	return devResponse("SetDiscoveryModeResponse"), nil
}

// --- Network (read-only; NetworkConfigNotSupported) ---

func (s *deviceService) getHostname(context.Context, *soap.Request) (*etree.Element, error) {
	resp := devResponse("GetHostnameResponse")
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
	return devResponse("SetHostnameResponse"), nil
}

// getNetworkInterfaces reports one interface with the device's stable
// synthetic MAC (Home Assistant's unique id) and the address the client
// reached the device on.
func (s *deviceService) getNetworkInterfaces(_ context.Context, r *soap.Request) (*etree.Element, error) {
	resp := devResponse("GetNetworkInterfacesResponse")
	ni := add(resp, "tds:NetworkInterfaces")
	ni.CreateAttr("token", "eth0")
	add(ni, "tt:Enabled", "true")
	info := add(ni, "tt:Info")
	add(info, "tt:Name", "eth0")
	add(info, "tt:HwAddress", s.d.MAC.String())
	add(info, "tt:MTU", "1500")
	if ip := devLocalIP(r.HTTP).To4(); ip != nil {
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
	resp := devResponse("GetDNSResponse")
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
	resp := devResponse("GetNTPResponse")
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
	resp := devResponse("GetNetworkProtocolsResponse")
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
	resp := devResponse("GetNetworkDefaultGatewayResponse")
	gw := add(resp, "tds:NetworkGateway")
	if ip := hostGateway(); ip != nil {
		add(gw, "tt:IPv4Address", ip.String())
	}
	return resp, nil
}

// --- Users ---

func (s *deviceService) getUsers(context.Context, *soap.Request) (*etree.Element, error) {
	resp := devResponse("GetUsersResponse")
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
	for _, e := range devChildren(body, "User") {
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
	return devResponse("CreateUsersResponse"), nil
}

func (s *deviceService) deleteUsers(_ context.Context, r *soap.Request) (*etree.Element, error) {
	var names []string
	for _, c := range devChildren(r.Body, "Username") {
		names = append(names, strings.TrimSpace(c.Text()))
	}
	if len(names) == 0 {
		return nil, soap.InvalidArgs("no Username")
	}
	if err := s.d.Store.DeleteUsers(names); err != nil {
		return nil, userFault(err)
	}
	return devResponse("DeleteUsersResponse"), nil
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
	return devResponse("SetUserResponse"), nil
}
