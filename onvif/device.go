package onvif

import (
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
