// Tables of the ONVIF WSDL operations (onvif/specs 26.06, ../shared/onvif-wsdl),
// produced from the WSDL bindings. ops_test.go checks them against the WSDL files.

package wsdl

// Device service operation names (devicemgmt.wsdl), as in the Body element of each request.
const (
	// DeviceAddIPAddressFilter is the AddIPAddressFilter operation.
	DeviceAddIPAddressFilter = "AddIPAddressFilter"
	// DeviceAddScopes is the AddScopes operation.
	DeviceAddScopes = "AddScopes"
	// DeviceCreateCertificate is the CreateCertificate operation.
	DeviceCreateCertificate = "CreateCertificate"
	// DeviceCreateDot1XConfiguration is the CreateDot1XConfiguration operation.
	DeviceCreateDot1XConfiguration = "CreateDot1XConfiguration"
	// DeviceCreateStorageConfiguration is the CreateStorageConfiguration operation.
	DeviceCreateStorageConfiguration = "CreateStorageConfiguration"
	// DeviceCreateUsers is the CreateUsers operation.
	DeviceCreateUsers = "CreateUsers"
	// DeviceDeleteCertificates is the DeleteCertificates operation.
	DeviceDeleteCertificates = "DeleteCertificates"
	// DeviceDeleteDot1XConfiguration is the DeleteDot1XConfiguration operation.
	DeviceDeleteDot1XConfiguration = "DeleteDot1XConfiguration"
	// DeviceDeleteGeoLocation is the DeleteGeoLocation operation.
	DeviceDeleteGeoLocation = "DeleteGeoLocation"
	// DeviceDeleteStorageConfiguration is the DeleteStorageConfiguration operation.
	DeviceDeleteStorageConfiguration = "DeleteStorageConfiguration"
	// DeviceDeleteUserRole is the DeleteUserRole operation.
	DeviceDeleteUserRole = "DeleteUserRole"
	// DeviceDeleteUsers is the DeleteUsers operation.
	DeviceDeleteUsers = "DeleteUsers"
	// DeviceGetAccessPolicy is the GetAccessPolicy operation.
	DeviceGetAccessPolicy = "GetAccessPolicy"
	// DeviceGetAuthFailureWarningConfiguration is the GetAuthFailureWarningConfiguration operation.
	DeviceGetAuthFailureWarningConfiguration = "GetAuthFailureWarningConfiguration"
	// DeviceGetAuthFailureWarningOptions is the GetAuthFailureWarningOptions operation.
	DeviceGetAuthFailureWarningOptions = "GetAuthFailureWarningOptions"
	// DeviceGetCACertificates is the GetCACertificates operation.
	DeviceGetCACertificates = "GetCACertificates"
	// DeviceGetCapabilities is the GetCapabilities operation.
	DeviceGetCapabilities = "GetCapabilities"
	// DeviceGetCertificateInformation is the GetCertificateInformation operation.
	DeviceGetCertificateInformation = "GetCertificateInformation"
	// DeviceGetCertificates is the GetCertificates operation.
	DeviceGetCertificates = "GetCertificates"
	// DeviceGetCertificatesStatus is the GetCertificatesStatus operation.
	DeviceGetCertificatesStatus = "GetCertificatesStatus"
	// DeviceGetClientCertificateMode is the GetClientCertificateMode operation.
	DeviceGetClientCertificateMode = "GetClientCertificateMode"
	// DeviceGetDNS is the GetDNS operation.
	DeviceGetDNS = "GetDNS"
	// DeviceGetDPAddresses is the GetDPAddresses operation.
	DeviceGetDPAddresses = "GetDPAddresses"
	// DeviceGetDeviceInformation is the GetDeviceInformation operation.
	DeviceGetDeviceInformation = "GetDeviceInformation"
	// DeviceGetDiscoveryMode is the GetDiscoveryMode operation.
	DeviceGetDiscoveryMode = "GetDiscoveryMode"
	// DeviceGetDot11Capabilities is the GetDot11Capabilities operation.
	DeviceGetDot11Capabilities = "GetDot11Capabilities"
	// DeviceGetDot11Status is the GetDot11Status operation.
	DeviceGetDot11Status = "GetDot11Status"
	// DeviceGetDot1XConfiguration is the GetDot1XConfiguration operation.
	DeviceGetDot1XConfiguration = "GetDot1XConfiguration"
	// DeviceGetDot1XConfigurations is the GetDot1XConfigurations operation.
	DeviceGetDot1XConfigurations = "GetDot1XConfigurations"
	// DeviceGetDynamicDNS is the GetDynamicDNS operation.
	DeviceGetDynamicDNS = "GetDynamicDNS"
	// DeviceGetEndpointReference is the GetEndpointReference operation.
	DeviceGetEndpointReference = "GetEndpointReference"
	// DeviceGetGeoLocation is the GetGeoLocation operation.
	DeviceGetGeoLocation = "GetGeoLocation"
	// DeviceGetHostname is the GetHostname operation.
	DeviceGetHostname = "GetHostname"
	// DeviceGetIPAddressFilter is the GetIPAddressFilter operation.
	DeviceGetIPAddressFilter = "GetIPAddressFilter"
	// DeviceGetNTP is the GetNTP operation.
	DeviceGetNTP = "GetNTP"
	// DeviceGetNetworkDefaultGateway is the GetNetworkDefaultGateway operation.
	DeviceGetNetworkDefaultGateway = "GetNetworkDefaultGateway"
	// DeviceGetNetworkInterfaces is the GetNetworkInterfaces operation.
	DeviceGetNetworkInterfaces = "GetNetworkInterfaces"
	// DeviceGetNetworkProtocols is the GetNetworkProtocols operation.
	DeviceGetNetworkProtocols = "GetNetworkProtocols"
	// DeviceGetPasswordComplexityConfiguration is the GetPasswordComplexityConfiguration operation.
	DeviceGetPasswordComplexityConfiguration = "GetPasswordComplexityConfiguration"
	// DeviceGetPasswordComplexityOptions is the GetPasswordComplexityOptions operation.
	DeviceGetPasswordComplexityOptions = "GetPasswordComplexityOptions"
	// DeviceGetPasswordHistoryConfiguration is the GetPasswordHistoryConfiguration operation.
	DeviceGetPasswordHistoryConfiguration = "GetPasswordHistoryConfiguration"
	// DeviceGetPkcs10Request is the GetPkcs10Request operation.
	DeviceGetPkcs10Request = "GetPkcs10Request"
	// DeviceGetRelayOutputs is the GetRelayOutputs operation.
	DeviceGetRelayOutputs = "GetRelayOutputs"
	// DeviceGetRemoteDiscoveryMode is the GetRemoteDiscoveryMode operation.
	DeviceGetRemoteDiscoveryMode = "GetRemoteDiscoveryMode"
	// DeviceGetRemoteUser is the GetRemoteUser operation.
	DeviceGetRemoteUser = "GetRemoteUser"
	// DeviceGetScopes is the GetScopes operation.
	DeviceGetScopes = "GetScopes"
	// DeviceGetServiceCapabilities is the GetServiceCapabilities operation.
	DeviceGetServiceCapabilities = "GetServiceCapabilities"
	// DeviceGetServices is the GetServices operation.
	DeviceGetServices = "GetServices"
	// DeviceGetStorageConfiguration is the GetStorageConfiguration operation.
	DeviceGetStorageConfiguration = "GetStorageConfiguration"
	// DeviceGetStorageConfigurations is the GetStorageConfigurations operation.
	DeviceGetStorageConfigurations = "GetStorageConfigurations"
	// DeviceGetSystemBackup is the GetSystemBackup operation.
	DeviceGetSystemBackup = "GetSystemBackup"
	// DeviceGetSystemDateAndTime is the GetSystemDateAndTime operation.
	DeviceGetSystemDateAndTime = "GetSystemDateAndTime"
	// DeviceGetSystemLog is the GetSystemLog operation.
	DeviceGetSystemLog = "GetSystemLog"
	// DeviceGetSystemSupportInformation is the GetSystemSupportInformation operation.
	DeviceGetSystemSupportInformation = "GetSystemSupportInformation"
	// DeviceGetSystemUris is the GetSystemUris operation.
	DeviceGetSystemUris = "GetSystemUris"
	// DeviceGetUserRoles is the GetUserRoles operation.
	DeviceGetUserRoles = "GetUserRoles"
	// DeviceGetUsers is the GetUsers operation.
	DeviceGetUsers = "GetUsers"
	// DeviceGetWsdlUrl is the GetWsdlUrl operation.
	DeviceGetWsdlUrl = "GetWsdlUrl"
	// DeviceGetZeroConfiguration is the GetZeroConfiguration operation.
	DeviceGetZeroConfiguration = "GetZeroConfiguration"
	// DeviceLoadCACertificates is the LoadCACertificates operation.
	DeviceLoadCACertificates = "LoadCACertificates"
	// DeviceLoadCertificateWithPrivateKey is the LoadCertificateWithPrivateKey operation.
	DeviceLoadCertificateWithPrivateKey = "LoadCertificateWithPrivateKey"
	// DeviceLoadCertificates is the LoadCertificates operation.
	DeviceLoadCertificates = "LoadCertificates"
	// DeviceRemoveIPAddressFilter is the RemoveIPAddressFilter operation.
	DeviceRemoveIPAddressFilter = "RemoveIPAddressFilter"
	// DeviceRemoveScopes is the RemoveScopes operation.
	DeviceRemoveScopes = "RemoveScopes"
	// DeviceRestoreSystem is the RestoreSystem operation.
	DeviceRestoreSystem = "RestoreSystem"
	// DeviceScanAvailableDot11Networks is the ScanAvailableDot11Networks operation.
	DeviceScanAvailableDot11Networks = "ScanAvailableDot11Networks"
	// DeviceSendAuxiliaryCommand is the SendAuxiliaryCommand operation.
	DeviceSendAuxiliaryCommand = "SendAuxiliaryCommand"
	// DeviceSetAccessPolicy is the SetAccessPolicy operation.
	DeviceSetAccessPolicy = "SetAccessPolicy"
	// DeviceSetAuthFailureWarningConfiguration is the SetAuthFailureWarningConfiguration operation.
	DeviceSetAuthFailureWarningConfiguration = "SetAuthFailureWarningConfiguration"
	// DeviceSetCertificatesStatus is the SetCertificatesStatus operation.
	DeviceSetCertificatesStatus = "SetCertificatesStatus"
	// DeviceSetClientCertificateMode is the SetClientCertificateMode operation.
	DeviceSetClientCertificateMode = "SetClientCertificateMode"
	// DeviceSetDNS is the SetDNS operation.
	DeviceSetDNS = "SetDNS"
	// DeviceSetDPAddresses is the SetDPAddresses operation.
	DeviceSetDPAddresses = "SetDPAddresses"
	// DeviceSetDiscoveryMode is the SetDiscoveryMode operation.
	DeviceSetDiscoveryMode = "SetDiscoveryMode"
	// DeviceSetDot1XConfiguration is the SetDot1XConfiguration operation.
	DeviceSetDot1XConfiguration = "SetDot1XConfiguration"
	// DeviceSetDynamicDNS is the SetDynamicDNS operation.
	DeviceSetDynamicDNS = "SetDynamicDNS"
	// DeviceSetGeoLocation is the SetGeoLocation operation.
	DeviceSetGeoLocation = "SetGeoLocation"
	// DeviceSetHashingAlgorithm is the SetHashingAlgorithm operation.
	DeviceSetHashingAlgorithm = "SetHashingAlgorithm"
	// DeviceSetHostname is the SetHostname operation.
	DeviceSetHostname = "SetHostname"
	// DeviceSetHostnameFromDHCP is the SetHostnameFromDHCP operation.
	DeviceSetHostnameFromDHCP = "SetHostnameFromDHCP"
	// DeviceSetIPAddressFilter is the SetIPAddressFilter operation.
	DeviceSetIPAddressFilter = "SetIPAddressFilter"
	// DeviceSetNTP is the SetNTP operation.
	DeviceSetNTP = "SetNTP"
	// DeviceSetNetworkDefaultGateway is the SetNetworkDefaultGateway operation.
	DeviceSetNetworkDefaultGateway = "SetNetworkDefaultGateway"
	// DeviceSetNetworkInterfaces is the SetNetworkInterfaces operation.
	DeviceSetNetworkInterfaces = "SetNetworkInterfaces"
	// DeviceSetNetworkProtocols is the SetNetworkProtocols operation.
	DeviceSetNetworkProtocols = "SetNetworkProtocols"
	// DeviceSetPasswordComplexityConfiguration is the SetPasswordComplexityConfiguration operation.
	DeviceSetPasswordComplexityConfiguration = "SetPasswordComplexityConfiguration"
	// DeviceSetPasswordHistoryConfiguration is the SetPasswordHistoryConfiguration operation.
	DeviceSetPasswordHistoryConfiguration = "SetPasswordHistoryConfiguration"
	// DeviceSetRelayOutputSettings is the SetRelayOutputSettings operation.
	DeviceSetRelayOutputSettings = "SetRelayOutputSettings"
	// DeviceSetRelayOutputState is the SetRelayOutputState operation.
	DeviceSetRelayOutputState = "SetRelayOutputState"
	// DeviceSetRemoteDiscoveryMode is the SetRemoteDiscoveryMode operation.
	DeviceSetRemoteDiscoveryMode = "SetRemoteDiscoveryMode"
	// DeviceSetRemoteUser is the SetRemoteUser operation.
	DeviceSetRemoteUser = "SetRemoteUser"
	// DeviceSetScopes is the SetScopes operation.
	DeviceSetScopes = "SetScopes"
	// DeviceSetStorageConfiguration is the SetStorageConfiguration operation.
	DeviceSetStorageConfiguration = "SetStorageConfiguration"
	// DeviceSetSystemDateAndTime is the SetSystemDateAndTime operation.
	DeviceSetSystemDateAndTime = "SetSystemDateAndTime"
	// DeviceSetSystemFactoryDefault is the SetSystemFactoryDefault operation.
	DeviceSetSystemFactoryDefault = "SetSystemFactoryDefault"
	// DeviceSetUser is the SetUser operation.
	DeviceSetUser = "SetUser"
	// DeviceSetUserRole is the SetUserRole operation.
	DeviceSetUserRole = "SetUserRole"
	// DeviceSetZeroConfiguration is the SetZeroConfiguration operation.
	DeviceSetZeroConfiguration = "SetZeroConfiguration"
	// DeviceStartFirmwareUpgrade is the StartFirmwareUpgrade operation.
	DeviceStartFirmwareUpgrade = "StartFirmwareUpgrade"
	// DeviceStartSystemRestore is the StartSystemRestore operation.
	DeviceStartSystemRestore = "StartSystemRestore"
	// DeviceSystemReboot is the SystemReboot operation.
	DeviceSystemReboot = "SystemReboot"
	// DeviceUpgradeFirmware is the UpgradeFirmware operation.
	DeviceUpgradeFirmware = "UpgradeFirmware"
	// DeviceUpgradeSystemFirmware is the UpgradeSystemFirmware operation.
	DeviceUpgradeSystemFirmware = "UpgradeSystemFirmware"
)

// Device service SOAP actions, as in devicemgmt.wsdl (including its known mistakes).
const (
	// ActionDeviceAddIPAddressFilter is the soapAction of AddIPAddressFilter.
	ActionDeviceAddIPAddressFilter = "http://www.onvif.org/ver10/device/wsdl/AddIPAddressFilter"
	// ActionDeviceAddScopes is the soapAction of AddScopes.
	ActionDeviceAddScopes = "http://www.onvif.org/ver10/device/wsdl/AddScopes"
	// ActionDeviceCreateCertificate is the soapAction of CreateCertificate.
	ActionDeviceCreateCertificate = "http://www.onvif.org/ver10/device/wsdl/CreateCertificate"
	// ActionDeviceCreateDot1XConfiguration is the soapAction of CreateDot1XConfiguration.
	ActionDeviceCreateDot1XConfiguration = "http://www.onvif.org/ver10/device/wsdl/CreateDot1XConfiguration"
	// ActionDeviceCreateStorageConfiguration is the soapAction of CreateStorageConfiguration.
	ActionDeviceCreateStorageConfiguration = "http://www.onvif.org/ver10/device/wsdl/CreateStorageConfiguration"
	// ActionDeviceCreateUsers is the soapAction of CreateUsers.
	ActionDeviceCreateUsers = "http://www.onvif.org/ver10/device/wsdl/CreateUsers"
	// ActionDeviceDeleteCertificates is the soapAction of DeleteCertificates.
	ActionDeviceDeleteCertificates = "http://www.onvif.org/ver10/device/wsdl/DeleteCertificates"
	// ActionDeviceDeleteDot1XConfiguration is the soapAction of DeleteDot1XConfiguration.
	ActionDeviceDeleteDot1XConfiguration = "http://www.onvif.org/ver10/device/wsdl/DeleteDot1XConfiguration"
	// ActionDeviceDeleteGeoLocation is the soapAction of DeleteGeoLocation.
	ActionDeviceDeleteGeoLocation = "http://www.onvif.org/ver10/device/wsdl/DeleteGeoLocation"
	// ActionDeviceDeleteStorageConfiguration is the soapAction of DeleteStorageConfiguration.
	ActionDeviceDeleteStorageConfiguration = "http://www.onvif.org/ver10/device/wsdl/DeleteStorageConfiguration"
	// ActionDeviceDeleteUserRole is the soapAction of DeleteUserRole.
	ActionDeviceDeleteUserRole = "http://www.onvif.org/ver10/device/wsdl/DeleteUserRole"
	// ActionDeviceDeleteUsers is the soapAction of DeleteUsers.
	ActionDeviceDeleteUsers = "http://www.onvif.org/ver10/device/wsdl/DeleteUsers"
	// ActionDeviceGetAccessPolicy is the soapAction of GetAccessPolicy.
	ActionDeviceGetAccessPolicy = "http://www.onvif.org/ver10/device/wsdl/GetAccessPolicy"
	// ActionDeviceGetAuthFailureWarningConfiguration is the soapAction of GetAuthFailureWarningConfiguration.
	ActionDeviceGetAuthFailureWarningConfiguration = "http://www.onvif.org/ver10/device/wsdl/GetAuthFailureWarningConfiguration"
	// ActionDeviceGetAuthFailureWarningOptions is the soapAction of GetAuthFailureWarningOptions.
	ActionDeviceGetAuthFailureWarningOptions = "http://www.onvif.org/ver10/device/wsdl/GetAuthFailureWarningOptions"
	// ActionDeviceGetCACertificates is the soapAction of GetCACertificates.
	ActionDeviceGetCACertificates = "http://www.onvif.org/ver10/device/wsdl/GetCACertificates"
	// ActionDeviceGetCapabilities is the soapAction of GetCapabilities.
	ActionDeviceGetCapabilities = "http://www.onvif.org/ver10/device/wsdl/GetCapabilities"
	// ActionDeviceGetCertificateInformation is the soapAction of GetCertificateInformation.
	ActionDeviceGetCertificateInformation = "http://www.onvif.org/ver10/device/wsdl/GetCertificateInformation"
	// ActionDeviceGetCertificates is the soapAction of GetCertificates.
	ActionDeviceGetCertificates = "http://www.onvif.org/ver10/device/wsdl/GetCertificates"
	// ActionDeviceGetCertificatesStatus is the soapAction of GetCertificatesStatus.
	ActionDeviceGetCertificatesStatus = "http://www.onvif.org/ver10/device/wsdl/GetCertificatesStatus"
	// ActionDeviceGetClientCertificateMode is the soapAction of GetClientCertificateMode.
	ActionDeviceGetClientCertificateMode = "http://www.onvif.org/ver10/device/wsdl/GetClientCertificateMode"
	// ActionDeviceGetDNS is the soapAction of GetDNS.
	ActionDeviceGetDNS = "http://www.onvif.org/ver10/device/wsdl/GetDNS"
	// ActionDeviceGetDPAddresses is the soapAction of GetDPAddresses.
	ActionDeviceGetDPAddresses = "http://www.onvif.org/ver10/device/wsdl/GetDPAddresses"
	// ActionDeviceGetDeviceInformation is the soapAction of GetDeviceInformation.
	ActionDeviceGetDeviceInformation = "http://www.onvif.org/ver10/device/wsdl/GetDeviceInformation"
	// ActionDeviceGetDiscoveryMode is the soapAction of GetDiscoveryMode.
	ActionDeviceGetDiscoveryMode = "http://www.onvif.org/ver10/device/wsdl/GetDiscoveryMode"
	// ActionDeviceGetDot11Capabilities is the soapAction of GetDot11Capabilities.
	ActionDeviceGetDot11Capabilities = "http://www.onvif.org/ver10/device/wsdl/GetDot11Capabilities"
	// ActionDeviceGetDot11Status is the soapAction of GetDot11Status.
	ActionDeviceGetDot11Status = "http://www.onvif.org/ver10/device/wsdl/GetDot11Status"
	// ActionDeviceGetDot1XConfiguration is the soapAction of GetDot1XConfiguration.
	ActionDeviceGetDot1XConfiguration = "http://www.onvif.org/ver10/device/wsdl/GetDot1XConfiguration"
	// ActionDeviceGetDot1XConfigurations is the soapAction of GetDot1XConfigurations.
	ActionDeviceGetDot1XConfigurations = "http://www.onvif.org/ver10/device/wsdl/GetDot1XConfigurations"
	// ActionDeviceGetDynamicDNS is the soapAction of GetDynamicDNS.
	ActionDeviceGetDynamicDNS = "http://www.onvif.org/ver10/device/wsdl/GetDynamicDNS"
	// ActionDeviceGetEndpointReference is the soapAction of GetEndpointReference.
	ActionDeviceGetEndpointReference = "http://www.onvif.org/ver10/device/wsdl/GetEndpointReference"
	// ActionDeviceGetGeoLocation is the soapAction of GetGeoLocation.
	ActionDeviceGetGeoLocation = "http://www.onvif.org/ver10/device/wsdl/GetGeoLocation"
	// ActionDeviceGetHostname is the soapAction of GetHostname.
	ActionDeviceGetHostname = "http://www.onvif.org/ver10/device/wsdl/GetHostname"
	// ActionDeviceGetIPAddressFilter is the soapAction of GetIPAddressFilter.
	ActionDeviceGetIPAddressFilter = "http://www.onvif.org/ver10/device/wsdl/GetIPAddressFilter"
	// ActionDeviceGetNTP is the soapAction of GetNTP.
	ActionDeviceGetNTP = "http://www.onvif.org/ver10/device/wsdl/GetNTP"
	// ActionDeviceGetNetworkDefaultGateway is the soapAction of GetNetworkDefaultGateway.
	ActionDeviceGetNetworkDefaultGateway = "http://www.onvif.org/ver10/device/wsdl/GetNetworkDefaultGateway"
	// ActionDeviceGetNetworkInterfaces is the soapAction of GetNetworkInterfaces.
	ActionDeviceGetNetworkInterfaces = "http://www.onvif.org/ver10/device/wsdl/GetNetworkInterfaces"
	// ActionDeviceGetNetworkProtocols is the soapAction of GetNetworkProtocols.
	ActionDeviceGetNetworkProtocols = "http://www.onvif.org/ver10/device/wsdl/GetNetworkProtocols"
	// ActionDeviceGetPasswordComplexityConfiguration is the soapAction of GetPasswordComplexityConfiguration.
	ActionDeviceGetPasswordComplexityConfiguration = "http://www.onvif.org/ver10/device/wsdl/GetPasswordComplexityConfiguration"
	// ActionDeviceGetPasswordComplexityOptions is the soapAction of GetPasswordComplexityOptions.
	ActionDeviceGetPasswordComplexityOptions = "http://www.onvif.org/ver10/device/wsdl/GetPasswordComplexityOptions"
	// ActionDeviceGetPasswordHistoryConfiguration is the soapAction of GetPasswordHistoryConfiguration.
	ActionDeviceGetPasswordHistoryConfiguration = "http://www.onvif.org/ver10/device/wsdl/GetPasswordHistoryConfiguration"
	// ActionDeviceGetPkcs10Request is the soapAction of GetPkcs10Request.
	ActionDeviceGetPkcs10Request = "http://www.onvif.org/ver10/device/wsdl/GetPkcs10Request"
	// ActionDeviceGetRelayOutputs is the soapAction of GetRelayOutputs.
	ActionDeviceGetRelayOutputs = "http://www.onvif.org/ver10/device/wsdl/GetRelayOutputs"
	// ActionDeviceGetRemoteDiscoveryMode is the soapAction of GetRemoteDiscoveryMode.
	ActionDeviceGetRemoteDiscoveryMode = "http://www.onvif.org/ver10/device/wsdl/GetRemoteDiscoveryMode"
	// ActionDeviceGetRemoteUser is the soapAction of GetRemoteUser.
	ActionDeviceGetRemoteUser = "http://www.onvif.org/ver10/device/wsdl/GetRemoteUser"
	// ActionDeviceGetScopes is the soapAction of GetScopes.
	ActionDeviceGetScopes = "http://www.onvif.org/ver10/device/wsdl/GetScopes"
	// ActionDeviceGetServiceCapabilities is the soapAction of GetServiceCapabilities.
	ActionDeviceGetServiceCapabilities = "http://www.onvif.org/ver10/device/wsdl/GetServiceCapabilities"
	// ActionDeviceGetServices is the soapAction of GetServices.
	ActionDeviceGetServices = "http://www.onvif.org/ver10/device/wsdl/GetServices"
	// ActionDeviceGetStorageConfiguration is the soapAction of GetStorageConfiguration.
	ActionDeviceGetStorageConfiguration = "http://www.onvif.org/ver10/device/wsdl/GetStorageConfiguration"
	// ActionDeviceGetStorageConfigurations is the soapAction of GetStorageConfigurations.
	ActionDeviceGetStorageConfigurations = "http://www.onvif.org/ver10/device/wsdl/GetStorageConfigurations"
	// ActionDeviceGetSystemBackup is the soapAction of GetSystemBackup.
	ActionDeviceGetSystemBackup = "http://www.onvif.org/ver10/device/wsdl/GetSystemBackup"
	// ActionDeviceGetSystemDateAndTime is the soapAction of GetSystemDateAndTime.
	ActionDeviceGetSystemDateAndTime = "http://www.onvif.org/ver10/device/wsdl/GetSystemDateAndTime"
	// ActionDeviceGetSystemLog is the soapAction of GetSystemLog.
	ActionDeviceGetSystemLog = "http://www.onvif.org/ver10/device/wsdl/GetSystemLog"
	// ActionDeviceGetSystemSupportInformation is the soapAction of GetSystemSupportInformation.
	ActionDeviceGetSystemSupportInformation = "http://www.onvif.org/ver10/device/wsdl/GetSystemSupportInformation"
	// ActionDeviceGetSystemUris is the soapAction of GetSystemUris.
	ActionDeviceGetSystemUris = "http://www.onvif.org/ver10/device/wsdl/GetSystemUris"
	// ActionDeviceGetUserRoles is the soapAction of GetUserRoles.
	ActionDeviceGetUserRoles = "http://www.onvif.org/ver10/device/wsdl/GetUserRoles"
	// ActionDeviceGetUsers is the soapAction of GetUsers.
	ActionDeviceGetUsers = "http://www.onvif.org/ver10/device/wsdl/GetUsers"
	// ActionDeviceGetWsdlUrl is the soapAction of GetWsdlUrl.
	ActionDeviceGetWsdlUrl = "http://www.onvif.org/ver10/device/wsdl/GetWsdlUrl"
	// ActionDeviceGetZeroConfiguration is the soapAction of GetZeroConfiguration.
	ActionDeviceGetZeroConfiguration = "http://www.onvif.org/ver10/device/wsdl/GetZeroConfiguration"
	// ActionDeviceLoadCACertificates is the soapAction of LoadCACertificates.
	ActionDeviceLoadCACertificates = "http://www.onvif.org/ver10/device/wsdl/LoadCACertificates"
	// ActionDeviceLoadCertificateWithPrivateKey is the soapAction of LoadCertificateWithPrivateKey.
	ActionDeviceLoadCertificateWithPrivateKey = "http://www.onvif.org/ver10/device/wsdl/LoadCertificateWithPrivateKey"
	// ActionDeviceLoadCertificates is the soapAction of LoadCertificates.
	ActionDeviceLoadCertificates = "http://www.onvif.org/ver10/device/wsdl/LoadCertificates"
	// ActionDeviceRemoveIPAddressFilter is the soapAction of RemoveIPAddressFilter.
	ActionDeviceRemoveIPAddressFilter = "http://www.onvif.org/ver10/device/wsdl/RemoveIPAddressFilter"
	// ActionDeviceRemoveScopes is the soapAction of RemoveScopes.
	ActionDeviceRemoveScopes = "http://www.onvif.org/ver10/device/wsdl/RemoveScopes"
	// ActionDeviceRestoreSystem is the soapAction of RestoreSystem.
	ActionDeviceRestoreSystem = "http://www.onvif.org/ver10/device/wsdl/RestoreSystem"
	// ActionDeviceScanAvailableDot11Networks is the soapAction of ScanAvailableDot11Networks.
	ActionDeviceScanAvailableDot11Networks = "http://www.onvif.org/ver10/device/wsdl/ScanAvailableDot11Networks"
	// ActionDeviceSendAuxiliaryCommand is the soapAction of SendAuxiliaryCommand.
	ActionDeviceSendAuxiliaryCommand = "http://www.onvif.org/ver10/device/wsdl/SendAuxiliaryCommand"
	// ActionDeviceSetAccessPolicy is the soapAction of SetAccessPolicy.
	ActionDeviceSetAccessPolicy = "http://www.onvif.org/ver10/device/wsdl/SetAccessPolicy"
	// ActionDeviceSetAuthFailureWarningConfiguration is the soapAction of SetAuthFailureWarningConfiguration.
	ActionDeviceSetAuthFailureWarningConfiguration = "http://www.onvif.org/ver10/device/wsdl/SetAuthFailureWarningConfiguration"
	// ActionDeviceSetCertificatesStatus is the soapAction of SetCertificatesStatus.
	ActionDeviceSetCertificatesStatus = "http://www.onvif.org/ver10/device/wsdl/SetCertificatesStatus"
	// ActionDeviceSetClientCertificateMode is the soapAction of SetClientCertificateMode.
	ActionDeviceSetClientCertificateMode = "http://www.onvif.org/ver10/device/wsdl/SetClientCertificateMode"
	// ActionDeviceSetDNS is the soapAction of SetDNS.
	ActionDeviceSetDNS = "http://www.onvif.org/ver10/device/wsdl/SetDNS"
	// ActionDeviceSetDPAddresses is the soapAction of SetDPAddresses.
	ActionDeviceSetDPAddresses = "http://www.onvif.org/ver10/device/wsdl/SetDPAddresses"
	// ActionDeviceSetDiscoveryMode is the soapAction of SetDiscoveryMode.
	ActionDeviceSetDiscoveryMode = "http://www.onvif.org/ver10/device/wsdl/SetDiscoveryMode"
	// ActionDeviceSetDot1XConfiguration is the soapAction of SetDot1XConfiguration.
	ActionDeviceSetDot1XConfiguration = "http://www.onvif.org/ver10/device/wsdl/SetDot1XConfiguration"
	// ActionDeviceSetDynamicDNS is the soapAction of SetDynamicDNS.
	ActionDeviceSetDynamicDNS = "http://www.onvif.org/ver10/device/wsdl/SetDynamicDNS"
	// ActionDeviceSetGeoLocation is the soapAction of SetGeoLocation.
	ActionDeviceSetGeoLocation = "http://www.onvif.org/ver10/device/wsdl/SetGeoLocation"
	// ActionDeviceSetHashingAlgorithm is the soapAction of SetHashingAlgorithm.
	ActionDeviceSetHashingAlgorithm = "http://www.onvif.org/ver10/device/wsdl/SetHashingAlgorithm"
	// ActionDeviceSetHostname is the soapAction of SetHostname.
	ActionDeviceSetHostname = "http://www.onvif.org/ver10/device/wsdl/SetHostname"
	// ActionDeviceSetHostnameFromDHCP is the soapAction of SetHostnameFromDHCP.
	ActionDeviceSetHostnameFromDHCP = "http://www.onvif.org/ver10/device/wsdl/SetHostnameFromDHCP"
	// ActionDeviceSetIPAddressFilter is the soapAction of SetIPAddressFilter.
	ActionDeviceSetIPAddressFilter = "http://www.onvif.org/ver10/device/wsdl/SetIPAddressFilter"
	// ActionDeviceSetNTP is the soapAction of SetNTP.
	ActionDeviceSetNTP = "http://www.onvif.org/ver10/device/wsdl/SetNTP"
	// ActionDeviceSetNetworkDefaultGateway is the soapAction of SetNetworkDefaultGateway.
	ActionDeviceSetNetworkDefaultGateway = "http://www.onvif.org/ver10/device/wsdl/SetNetworkDefaultGateway"
	// ActionDeviceSetNetworkInterfaces is the soapAction of SetNetworkInterfaces.
	ActionDeviceSetNetworkInterfaces = "http://www.onvif.org/ver10/device/wsdl/SetNetworkInterfaces"
	// ActionDeviceSetNetworkProtocols is the soapAction of SetNetworkProtocols.
	ActionDeviceSetNetworkProtocols = "http://www.onvif.org/ver10/device/wsdl/SetNetworkProtocols"
	// ActionDeviceSetPasswordComplexityConfiguration is the soapAction of SetPasswordComplexityConfiguration.
	ActionDeviceSetPasswordComplexityConfiguration = "http://www.onvif.org/ver10/device/wsdl/SetPasswordComplexityConfiguration"
	// ActionDeviceSetPasswordHistoryConfiguration is the soapAction of SetPasswordHistoryConfiguration.
	ActionDeviceSetPasswordHistoryConfiguration = "http://www.onvif.org/ver10/device/wsdl/SetPasswordHistoryConfiguration"
	// ActionDeviceSetRelayOutputSettings is the soapAction of SetRelayOutputSettings.
	ActionDeviceSetRelayOutputSettings = "http://www.onvif.org/ver10/device/wsdl/SetRelayOutputSettings"
	// ActionDeviceSetRelayOutputState is the soapAction of SetRelayOutputState.
	ActionDeviceSetRelayOutputState = "http://www.onvif.org/ver10/device/wsdl/SetRelayOutputState"
	// ActionDeviceSetRemoteDiscoveryMode is the soapAction of SetRemoteDiscoveryMode.
	ActionDeviceSetRemoteDiscoveryMode = "http://www.onvif.org/ver10/device/wsdl/SetRemoteDiscoveryMode"
	// ActionDeviceSetRemoteUser is the soapAction of SetRemoteUser.
	ActionDeviceSetRemoteUser = "http://www.onvif.org/ver10/device/wsdl/SetRemoteUser"
	// ActionDeviceSetScopes is the soapAction of SetScopes.
	ActionDeviceSetScopes = "http://www.onvif.org/ver10/device/wsdl/SetScopes"
	// ActionDeviceSetStorageConfiguration is the soapAction of SetStorageConfiguration.
	ActionDeviceSetStorageConfiguration = "http://www.onvif.org/ver10/device/wsdl/SetStorageConfiguration"
	// ActionDeviceSetSystemDateAndTime is the soapAction of SetSystemDateAndTime.
	ActionDeviceSetSystemDateAndTime = "http://www.onvif.org/ver10/device/wsdl/SetSystemDateAndTime"
	// ActionDeviceSetSystemFactoryDefault is the soapAction of SetSystemFactoryDefault.
	ActionDeviceSetSystemFactoryDefault = "http://www.onvif.org/ver10/device/wsdl/SetSystemFactoryDefault"
	// ActionDeviceSetUser is the soapAction of SetUser.
	ActionDeviceSetUser = "http://www.onvif.org/ver10/device/wsdl/SetUser"
	// ActionDeviceSetUserRole is the soapAction of SetUserRole.
	ActionDeviceSetUserRole = "http://www.onvif.org/ver10/device/wsdl/SetUserRole"
	// ActionDeviceSetZeroConfiguration is the soapAction of SetZeroConfiguration.
	ActionDeviceSetZeroConfiguration = "http://www.onvif.org/ver10/device/wsdl/SetZeroConfiguration"
	// ActionDeviceStartFirmwareUpgrade is the soapAction of StartFirmwareUpgrade.
	ActionDeviceStartFirmwareUpgrade = "http://www.onvif.org/ver10/device/wsdl/StartFirmwareUpgrade"
	// ActionDeviceStartSystemRestore is the soapAction of StartSystemRestore.
	ActionDeviceStartSystemRestore = "http://www.onvif.org/ver10/device/wsdl/StartSystemRestore"
	// ActionDeviceSystemReboot is the soapAction of SystemReboot.
	ActionDeviceSystemReboot = "http://www.onvif.org/ver10/device/wsdl/SystemReboot"
	// ActionDeviceUpgradeFirmware is the soapAction of UpgradeFirmware.
	ActionDeviceUpgradeFirmware = "http://www.onvif.org/ver10/device/wsdl/UpgradeFirmware"
	// ActionDeviceUpgradeSystemFirmware is the soapAction of UpgradeSystemFirmware.
	ActionDeviceUpgradeSystemFirmware = "http://www.onvif.org/ver10/device/wsdl/UpgradeSystemFirmware"
)

// DeviceOperations lists every operation of devicemgmt.wsdl in name order.
var deviceOperations = []OpInfo{
	{Op{NSDevice, DeviceAddIPAddressFilter}, ActionDeviceAddIPAddressFilter},
	{Op{NSDevice, DeviceAddScopes}, ActionDeviceAddScopes},
	{Op{NSDevice, DeviceCreateCertificate}, ActionDeviceCreateCertificate},
	{Op{NSDevice, DeviceCreateDot1XConfiguration}, ActionDeviceCreateDot1XConfiguration},
	{Op{NSDevice, DeviceCreateStorageConfiguration}, ActionDeviceCreateStorageConfiguration},
	{Op{NSDevice, DeviceCreateUsers}, ActionDeviceCreateUsers},
	{Op{NSDevice, DeviceDeleteCertificates}, ActionDeviceDeleteCertificates},
	{Op{NSDevice, DeviceDeleteDot1XConfiguration}, ActionDeviceDeleteDot1XConfiguration},
	{Op{NSDevice, DeviceDeleteGeoLocation}, ActionDeviceDeleteGeoLocation},
	{Op{NSDevice, DeviceDeleteStorageConfiguration}, ActionDeviceDeleteStorageConfiguration},
	{Op{NSDevice, DeviceDeleteUserRole}, ActionDeviceDeleteUserRole},
	{Op{NSDevice, DeviceDeleteUsers}, ActionDeviceDeleteUsers},
	{Op{NSDevice, DeviceGetAccessPolicy}, ActionDeviceGetAccessPolicy},
	{Op{NSDevice, DeviceGetAuthFailureWarningConfiguration}, ActionDeviceGetAuthFailureWarningConfiguration},
	{Op{NSDevice, DeviceGetAuthFailureWarningOptions}, ActionDeviceGetAuthFailureWarningOptions},
	{Op{NSDevice, DeviceGetCACertificates}, ActionDeviceGetCACertificates},
	{Op{NSDevice, DeviceGetCapabilities}, ActionDeviceGetCapabilities},
	{Op{NSDevice, DeviceGetCertificateInformation}, ActionDeviceGetCertificateInformation},
	{Op{NSDevice, DeviceGetCertificates}, ActionDeviceGetCertificates},
	{Op{NSDevice, DeviceGetCertificatesStatus}, ActionDeviceGetCertificatesStatus},
	{Op{NSDevice, DeviceGetClientCertificateMode}, ActionDeviceGetClientCertificateMode},
	{Op{NSDevice, DeviceGetDNS}, ActionDeviceGetDNS},
	{Op{NSDevice, DeviceGetDPAddresses}, ActionDeviceGetDPAddresses},
	{Op{NSDevice, DeviceGetDeviceInformation}, ActionDeviceGetDeviceInformation},
	{Op{NSDevice, DeviceGetDiscoveryMode}, ActionDeviceGetDiscoveryMode},
	{Op{NSDevice, DeviceGetDot11Capabilities}, ActionDeviceGetDot11Capabilities},
	{Op{NSDevice, DeviceGetDot11Status}, ActionDeviceGetDot11Status},
	{Op{NSDevice, DeviceGetDot1XConfiguration}, ActionDeviceGetDot1XConfiguration},
	{Op{NSDevice, DeviceGetDot1XConfigurations}, ActionDeviceGetDot1XConfigurations},
	{Op{NSDevice, DeviceGetDynamicDNS}, ActionDeviceGetDynamicDNS},
	{Op{NSDevice, DeviceGetEndpointReference}, ActionDeviceGetEndpointReference},
	{Op{NSDevice, DeviceGetGeoLocation}, ActionDeviceGetGeoLocation},
	{Op{NSDevice, DeviceGetHostname}, ActionDeviceGetHostname},
	{Op{NSDevice, DeviceGetIPAddressFilter}, ActionDeviceGetIPAddressFilter},
	{Op{NSDevice, DeviceGetNTP}, ActionDeviceGetNTP},
	{Op{NSDevice, DeviceGetNetworkDefaultGateway}, ActionDeviceGetNetworkDefaultGateway},
	{Op{NSDevice, DeviceGetNetworkInterfaces}, ActionDeviceGetNetworkInterfaces},
	{Op{NSDevice, DeviceGetNetworkProtocols}, ActionDeviceGetNetworkProtocols},
	{Op{NSDevice, DeviceGetPasswordComplexityConfiguration}, ActionDeviceGetPasswordComplexityConfiguration},
	{Op{NSDevice, DeviceGetPasswordComplexityOptions}, ActionDeviceGetPasswordComplexityOptions},
	{Op{NSDevice, DeviceGetPasswordHistoryConfiguration}, ActionDeviceGetPasswordHistoryConfiguration},
	{Op{NSDevice, DeviceGetPkcs10Request}, ActionDeviceGetPkcs10Request},
	{Op{NSDevice, DeviceGetRelayOutputs}, ActionDeviceGetRelayOutputs},
	{Op{NSDevice, DeviceGetRemoteDiscoveryMode}, ActionDeviceGetRemoteDiscoveryMode},
	{Op{NSDevice, DeviceGetRemoteUser}, ActionDeviceGetRemoteUser},
	{Op{NSDevice, DeviceGetScopes}, ActionDeviceGetScopes},
	{Op{NSDevice, DeviceGetServiceCapabilities}, ActionDeviceGetServiceCapabilities},
	{Op{NSDevice, DeviceGetServices}, ActionDeviceGetServices},
	{Op{NSDevice, DeviceGetStorageConfiguration}, ActionDeviceGetStorageConfiguration},
	{Op{NSDevice, DeviceGetStorageConfigurations}, ActionDeviceGetStorageConfigurations},
	{Op{NSDevice, DeviceGetSystemBackup}, ActionDeviceGetSystemBackup},
	{Op{NSDevice, DeviceGetSystemDateAndTime}, ActionDeviceGetSystemDateAndTime},
	{Op{NSDevice, DeviceGetSystemLog}, ActionDeviceGetSystemLog},
	{Op{NSDevice, DeviceGetSystemSupportInformation}, ActionDeviceGetSystemSupportInformation},
	{Op{NSDevice, DeviceGetSystemUris}, ActionDeviceGetSystemUris},
	{Op{NSDevice, DeviceGetUserRoles}, ActionDeviceGetUserRoles},
	{Op{NSDevice, DeviceGetUsers}, ActionDeviceGetUsers},
	{Op{NSDevice, DeviceGetWsdlUrl}, ActionDeviceGetWsdlUrl},
	{Op{NSDevice, DeviceGetZeroConfiguration}, ActionDeviceGetZeroConfiguration},
	{Op{NSDevice, DeviceLoadCACertificates}, ActionDeviceLoadCACertificates},
	{Op{NSDevice, DeviceLoadCertificateWithPrivateKey}, ActionDeviceLoadCertificateWithPrivateKey},
	{Op{NSDevice, DeviceLoadCertificates}, ActionDeviceLoadCertificates},
	{Op{NSDevice, DeviceRemoveIPAddressFilter}, ActionDeviceRemoveIPAddressFilter},
	{Op{NSDevice, DeviceRemoveScopes}, ActionDeviceRemoveScopes},
	{Op{NSDevice, DeviceRestoreSystem}, ActionDeviceRestoreSystem},
	{Op{NSDevice, DeviceScanAvailableDot11Networks}, ActionDeviceScanAvailableDot11Networks},
	{Op{NSDevice, DeviceSendAuxiliaryCommand}, ActionDeviceSendAuxiliaryCommand},
	{Op{NSDevice, DeviceSetAccessPolicy}, ActionDeviceSetAccessPolicy},
	{Op{NSDevice, DeviceSetAuthFailureWarningConfiguration}, ActionDeviceSetAuthFailureWarningConfiguration},
	{Op{NSDevice, DeviceSetCertificatesStatus}, ActionDeviceSetCertificatesStatus},
	{Op{NSDevice, DeviceSetClientCertificateMode}, ActionDeviceSetClientCertificateMode},
	{Op{NSDevice, DeviceSetDNS}, ActionDeviceSetDNS},
	{Op{NSDevice, DeviceSetDPAddresses}, ActionDeviceSetDPAddresses},
	{Op{NSDevice, DeviceSetDiscoveryMode}, ActionDeviceSetDiscoveryMode},
	{Op{NSDevice, DeviceSetDot1XConfiguration}, ActionDeviceSetDot1XConfiguration},
	{Op{NSDevice, DeviceSetDynamicDNS}, ActionDeviceSetDynamicDNS},
	{Op{NSDevice, DeviceSetGeoLocation}, ActionDeviceSetGeoLocation},
	{Op{NSDevice, DeviceSetHashingAlgorithm}, ActionDeviceSetHashingAlgorithm},
	{Op{NSDevice, DeviceSetHostname}, ActionDeviceSetHostname},
	{Op{NSDevice, DeviceSetHostnameFromDHCP}, ActionDeviceSetHostnameFromDHCP},
	{Op{NSDevice, DeviceSetIPAddressFilter}, ActionDeviceSetIPAddressFilter},
	{Op{NSDevice, DeviceSetNTP}, ActionDeviceSetNTP},
	{Op{NSDevice, DeviceSetNetworkDefaultGateway}, ActionDeviceSetNetworkDefaultGateway},
	{Op{NSDevice, DeviceSetNetworkInterfaces}, ActionDeviceSetNetworkInterfaces},
	{Op{NSDevice, DeviceSetNetworkProtocols}, ActionDeviceSetNetworkProtocols},
	{Op{NSDevice, DeviceSetPasswordComplexityConfiguration}, ActionDeviceSetPasswordComplexityConfiguration},
	{Op{NSDevice, DeviceSetPasswordHistoryConfiguration}, ActionDeviceSetPasswordHistoryConfiguration},
	{Op{NSDevice, DeviceSetRelayOutputSettings}, ActionDeviceSetRelayOutputSettings},
	{Op{NSDevice, DeviceSetRelayOutputState}, ActionDeviceSetRelayOutputState},
	{Op{NSDevice, DeviceSetRemoteDiscoveryMode}, ActionDeviceSetRemoteDiscoveryMode},
	{Op{NSDevice, DeviceSetRemoteUser}, ActionDeviceSetRemoteUser},
	{Op{NSDevice, DeviceSetScopes}, ActionDeviceSetScopes},
	{Op{NSDevice, DeviceSetStorageConfiguration}, ActionDeviceSetStorageConfiguration},
	{Op{NSDevice, DeviceSetSystemDateAndTime}, ActionDeviceSetSystemDateAndTime},
	{Op{NSDevice, DeviceSetSystemFactoryDefault}, ActionDeviceSetSystemFactoryDefault},
	{Op{NSDevice, DeviceSetUser}, ActionDeviceSetUser},
	{Op{NSDevice, DeviceSetUserRole}, ActionDeviceSetUserRole},
	{Op{NSDevice, DeviceSetZeroConfiguration}, ActionDeviceSetZeroConfiguration},
	{Op{NSDevice, DeviceStartFirmwareUpgrade}, ActionDeviceStartFirmwareUpgrade},
	{Op{NSDevice, DeviceStartSystemRestore}, ActionDeviceStartSystemRestore},
	{Op{NSDevice, DeviceSystemReboot}, ActionDeviceSystemReboot},
	{Op{NSDevice, DeviceUpgradeFirmware}, ActionDeviceUpgradeFirmware},
	{Op{NSDevice, DeviceUpgradeSystemFirmware}, ActionDeviceUpgradeSystemFirmware},
}

// Media service operation names (media.wsdl), as in the Body element of each request.
const (
	// MediaAddAudioDecoderConfiguration is the AddAudioDecoderConfiguration operation.
	MediaAddAudioDecoderConfiguration = "AddAudioDecoderConfiguration"
	// MediaAddAudioEncoderConfiguration is the AddAudioEncoderConfiguration operation.
	MediaAddAudioEncoderConfiguration = "AddAudioEncoderConfiguration"
	// MediaAddAudioOutputConfiguration is the AddAudioOutputConfiguration operation.
	MediaAddAudioOutputConfiguration = "AddAudioOutputConfiguration"
	// MediaAddAudioSourceConfiguration is the AddAudioSourceConfiguration operation.
	MediaAddAudioSourceConfiguration = "AddAudioSourceConfiguration"
	// MediaAddMetadataConfiguration is the AddMetadataConfiguration operation.
	MediaAddMetadataConfiguration = "AddMetadataConfiguration"
	// MediaAddPTZConfiguration is the AddPTZConfiguration operation.
	MediaAddPTZConfiguration = "AddPTZConfiguration"
	// MediaAddVideoAnalyticsConfiguration is the AddVideoAnalyticsConfiguration operation.
	MediaAddVideoAnalyticsConfiguration = "AddVideoAnalyticsConfiguration"
	// MediaAddVideoEncoderConfiguration is the AddVideoEncoderConfiguration operation.
	MediaAddVideoEncoderConfiguration = "AddVideoEncoderConfiguration"
	// MediaAddVideoSourceConfiguration is the AddVideoSourceConfiguration operation.
	MediaAddVideoSourceConfiguration = "AddVideoSourceConfiguration"
	// MediaCreateOSD is the CreateOSD operation.
	MediaCreateOSD = "CreateOSD"
	// MediaCreateProfile is the CreateProfile operation.
	MediaCreateProfile = "CreateProfile"
	// MediaDeleteOSD is the DeleteOSD operation.
	MediaDeleteOSD = "DeleteOSD"
	// MediaDeleteProfile is the DeleteProfile operation.
	MediaDeleteProfile = "DeleteProfile"
	// MediaGetAudioDecoderConfiguration is the GetAudioDecoderConfiguration operation.
	MediaGetAudioDecoderConfiguration = "GetAudioDecoderConfiguration"
	// MediaGetAudioDecoderConfigurationOptions is the GetAudioDecoderConfigurationOptions operation.
	MediaGetAudioDecoderConfigurationOptions = "GetAudioDecoderConfigurationOptions"
	// MediaGetAudioDecoderConfigurations is the GetAudioDecoderConfigurations operation.
	MediaGetAudioDecoderConfigurations = "GetAudioDecoderConfigurations"
	// MediaGetAudioEncoderConfiguration is the GetAudioEncoderConfiguration operation.
	MediaGetAudioEncoderConfiguration = "GetAudioEncoderConfiguration"
	// MediaGetAudioEncoderConfigurationOptions is the GetAudioEncoderConfigurationOptions operation.
	MediaGetAudioEncoderConfigurationOptions = "GetAudioEncoderConfigurationOptions"
	// MediaGetAudioEncoderConfigurations is the GetAudioEncoderConfigurations operation.
	MediaGetAudioEncoderConfigurations = "GetAudioEncoderConfigurations"
	// MediaGetAudioOutputConfiguration is the GetAudioOutputConfiguration operation.
	MediaGetAudioOutputConfiguration = "GetAudioOutputConfiguration"
	// MediaGetAudioOutputConfigurationOptions is the GetAudioOutputConfigurationOptions operation.
	MediaGetAudioOutputConfigurationOptions = "GetAudioOutputConfigurationOptions"
	// MediaGetAudioOutputConfigurations is the GetAudioOutputConfigurations operation.
	MediaGetAudioOutputConfigurations = "GetAudioOutputConfigurations"
	// MediaGetAudioOutputs is the GetAudioOutputs operation.
	MediaGetAudioOutputs = "GetAudioOutputs"
	// MediaGetAudioSourceConfiguration is the GetAudioSourceConfiguration operation.
	MediaGetAudioSourceConfiguration = "GetAudioSourceConfiguration"
	// MediaGetAudioSourceConfigurationOptions is the GetAudioSourceConfigurationOptions operation.
	MediaGetAudioSourceConfigurationOptions = "GetAudioSourceConfigurationOptions"
	// MediaGetAudioSourceConfigurations is the GetAudioSourceConfigurations operation.
	MediaGetAudioSourceConfigurations = "GetAudioSourceConfigurations"
	// MediaGetAudioSources is the GetAudioSources operation.
	MediaGetAudioSources = "GetAudioSources"
	// MediaGetCompatibleAudioDecoderConfigurations is the GetCompatibleAudioDecoderConfigurations operation.
	MediaGetCompatibleAudioDecoderConfigurations = "GetCompatibleAudioDecoderConfigurations"
	// MediaGetCompatibleAudioEncoderConfigurations is the GetCompatibleAudioEncoderConfigurations operation.
	MediaGetCompatibleAudioEncoderConfigurations = "GetCompatibleAudioEncoderConfigurations"
	// MediaGetCompatibleAudioOutputConfigurations is the GetCompatibleAudioOutputConfigurations operation.
	MediaGetCompatibleAudioOutputConfigurations = "GetCompatibleAudioOutputConfigurations"
	// MediaGetCompatibleAudioSourceConfigurations is the GetCompatibleAudioSourceConfigurations operation.
	MediaGetCompatibleAudioSourceConfigurations = "GetCompatibleAudioSourceConfigurations"
	// MediaGetCompatibleMetadataConfigurations is the GetCompatibleMetadataConfigurations operation.
	MediaGetCompatibleMetadataConfigurations = "GetCompatibleMetadataConfigurations"
	// MediaGetCompatibleVideoAnalyticsConfigurations is the GetCompatibleVideoAnalyticsConfigurations operation.
	MediaGetCompatibleVideoAnalyticsConfigurations = "GetCompatibleVideoAnalyticsConfigurations"
	// MediaGetCompatibleVideoEncoderConfigurations is the GetCompatibleVideoEncoderConfigurations operation.
	MediaGetCompatibleVideoEncoderConfigurations = "GetCompatibleVideoEncoderConfigurations"
	// MediaGetCompatibleVideoSourceConfigurations is the GetCompatibleVideoSourceConfigurations operation.
	MediaGetCompatibleVideoSourceConfigurations = "GetCompatibleVideoSourceConfigurations"
	// MediaGetGuaranteedNumberOfVideoEncoderInstances is the GetGuaranteedNumberOfVideoEncoderInstances operation.
	MediaGetGuaranteedNumberOfVideoEncoderInstances = "GetGuaranteedNumberOfVideoEncoderInstances"
	// MediaGetMetadataConfiguration is the GetMetadataConfiguration operation.
	MediaGetMetadataConfiguration = "GetMetadataConfiguration"
	// MediaGetMetadataConfigurationOptions is the GetMetadataConfigurationOptions operation.
	MediaGetMetadataConfigurationOptions = "GetMetadataConfigurationOptions"
	// MediaGetMetadataConfigurations is the GetMetadataConfigurations operation.
	MediaGetMetadataConfigurations = "GetMetadataConfigurations"
	// MediaGetOSD is the GetOSD operation.
	MediaGetOSD = "GetOSD"
	// MediaGetOSDOptions is the GetOSDOptions operation.
	MediaGetOSDOptions = "GetOSDOptions"
	// MediaGetOSDs is the GetOSDs operation.
	MediaGetOSDs = "GetOSDs"
	// MediaGetProfile is the GetProfile operation.
	MediaGetProfile = "GetProfile"
	// MediaGetProfiles is the GetProfiles operation.
	MediaGetProfiles = "GetProfiles"
	// MediaGetServiceCapabilities is the GetServiceCapabilities operation.
	MediaGetServiceCapabilities = "GetServiceCapabilities"
	// MediaGetSnapshotUri is the GetSnapshotUri operation.
	MediaGetSnapshotUri = "GetSnapshotUri"
	// MediaGetStreamUri is the GetStreamUri operation.
	MediaGetStreamUri = "GetStreamUri"
	// MediaGetVideoAnalyticsConfiguration is the GetVideoAnalyticsConfiguration operation.
	MediaGetVideoAnalyticsConfiguration = "GetVideoAnalyticsConfiguration"
	// MediaGetVideoAnalyticsConfigurations is the GetVideoAnalyticsConfigurations operation.
	MediaGetVideoAnalyticsConfigurations = "GetVideoAnalyticsConfigurations"
	// MediaGetVideoEncoderConfiguration is the GetVideoEncoderConfiguration operation.
	MediaGetVideoEncoderConfiguration = "GetVideoEncoderConfiguration"
	// MediaGetVideoEncoderConfigurationOptions is the GetVideoEncoderConfigurationOptions operation.
	MediaGetVideoEncoderConfigurationOptions = "GetVideoEncoderConfigurationOptions"
	// MediaGetVideoEncoderConfigurations is the GetVideoEncoderConfigurations operation.
	MediaGetVideoEncoderConfigurations = "GetVideoEncoderConfigurations"
	// MediaGetVideoSourceConfiguration is the GetVideoSourceConfiguration operation.
	MediaGetVideoSourceConfiguration = "GetVideoSourceConfiguration"
	// MediaGetVideoSourceConfigurationOptions is the GetVideoSourceConfigurationOptions operation.
	MediaGetVideoSourceConfigurationOptions = "GetVideoSourceConfigurationOptions"
	// MediaGetVideoSourceConfigurations is the GetVideoSourceConfigurations operation.
	MediaGetVideoSourceConfigurations = "GetVideoSourceConfigurations"
	// MediaGetVideoSourceModes is the GetVideoSourceModes operation.
	MediaGetVideoSourceModes = "GetVideoSourceModes"
	// MediaGetVideoSources is the GetVideoSources operation.
	MediaGetVideoSources = "GetVideoSources"
	// MediaRemoveAudioDecoderConfiguration is the RemoveAudioDecoderConfiguration operation.
	MediaRemoveAudioDecoderConfiguration = "RemoveAudioDecoderConfiguration"
	// MediaRemoveAudioEncoderConfiguration is the RemoveAudioEncoderConfiguration operation.
	MediaRemoveAudioEncoderConfiguration = "RemoveAudioEncoderConfiguration"
	// MediaRemoveAudioOutputConfiguration is the RemoveAudioOutputConfiguration operation.
	MediaRemoveAudioOutputConfiguration = "RemoveAudioOutputConfiguration"
	// MediaRemoveAudioSourceConfiguration is the RemoveAudioSourceConfiguration operation.
	MediaRemoveAudioSourceConfiguration = "RemoveAudioSourceConfiguration"
	// MediaRemoveMetadataConfiguration is the RemoveMetadataConfiguration operation.
	MediaRemoveMetadataConfiguration = "RemoveMetadataConfiguration"
	// MediaRemovePTZConfiguration is the RemovePTZConfiguration operation.
	MediaRemovePTZConfiguration = "RemovePTZConfiguration"
	// MediaRemoveVideoAnalyticsConfiguration is the RemoveVideoAnalyticsConfiguration operation.
	MediaRemoveVideoAnalyticsConfiguration = "RemoveVideoAnalyticsConfiguration"
	// MediaRemoveVideoEncoderConfiguration is the RemoveVideoEncoderConfiguration operation.
	MediaRemoveVideoEncoderConfiguration = "RemoveVideoEncoderConfiguration"
	// MediaRemoveVideoSourceConfiguration is the RemoveVideoSourceConfiguration operation.
	MediaRemoveVideoSourceConfiguration = "RemoveVideoSourceConfiguration"
	// MediaSetAudioDecoderConfiguration is the SetAudioDecoderConfiguration operation.
	MediaSetAudioDecoderConfiguration = "SetAudioDecoderConfiguration"
	// MediaSetAudioEncoderConfiguration is the SetAudioEncoderConfiguration operation.
	MediaSetAudioEncoderConfiguration = "SetAudioEncoderConfiguration"
	// MediaSetAudioOutputConfiguration is the SetAudioOutputConfiguration operation.
	MediaSetAudioOutputConfiguration = "SetAudioOutputConfiguration"
	// MediaSetAudioSourceConfiguration is the SetAudioSourceConfiguration operation.
	MediaSetAudioSourceConfiguration = "SetAudioSourceConfiguration"
	// MediaSetMetadataConfiguration is the SetMetadataConfiguration operation.
	MediaSetMetadataConfiguration = "SetMetadataConfiguration"
	// MediaSetOSD is the SetOSD operation.
	MediaSetOSD = "SetOSD"
	// MediaSetSynchronizationPoint is the SetSynchronizationPoint operation.
	MediaSetSynchronizationPoint = "SetSynchronizationPoint"
	// MediaSetVideoAnalyticsConfiguration is the SetVideoAnalyticsConfiguration operation.
	MediaSetVideoAnalyticsConfiguration = "SetVideoAnalyticsConfiguration"
	// MediaSetVideoEncoderConfiguration is the SetVideoEncoderConfiguration operation.
	MediaSetVideoEncoderConfiguration = "SetVideoEncoderConfiguration"
	// MediaSetVideoSourceConfiguration is the SetVideoSourceConfiguration operation.
	MediaSetVideoSourceConfiguration = "SetVideoSourceConfiguration"
	// MediaSetVideoSourceMode is the SetVideoSourceMode operation.
	MediaSetVideoSourceMode = "SetVideoSourceMode"
	// MediaStartMulticastStreaming is the StartMulticastStreaming operation.
	MediaStartMulticastStreaming = "StartMulticastStreaming"
	// MediaStopMulticastStreaming is the StopMulticastStreaming operation.
	MediaStopMulticastStreaming = "StopMulticastStreaming"
)

// Media service SOAP actions, as in media.wsdl (including its known mistakes).
const (
	// ActionMediaAddAudioDecoderConfiguration is the soapAction of AddAudioDecoderConfiguration.
	ActionMediaAddAudioDecoderConfiguration = "http://www.onvif.org/ver10/media/wsdl/AddAudioDecoderConfiguration"
	// ActionMediaAddAudioEncoderConfiguration is the soapAction of AddAudioEncoderConfiguration.
	ActionMediaAddAudioEncoderConfiguration = "http://www.onvif.org/ver10/media/wsdl/AddAudioEncoderConfiguration"
	// ActionMediaAddAudioOutputConfiguration is the soapAction of AddAudioOutputConfiguration.
	ActionMediaAddAudioOutputConfiguration = "http://www.onvif.org/ver10/media/wsdl/AddAudioOutputConfiguration"
	// ActionMediaAddAudioSourceConfiguration is the soapAction of AddAudioSourceConfiguration.
	ActionMediaAddAudioSourceConfiguration = "http://www.onvif.org/ver10/media/wsdl/AddAudioSourceConfiguration"
	// ActionMediaAddMetadataConfiguration is the soapAction of AddMetadataConfiguration.
	ActionMediaAddMetadataConfiguration = "http://www.onvif.org/ver10/media/wsdl/AddMetadataConfiguration"
	// ActionMediaAddPTZConfiguration is the soapAction of AddPTZConfiguration.
	ActionMediaAddPTZConfiguration = "http://www.onvif.org/ver10/media/wsdl/AddPTZConfiguration"
	// ActionMediaAddVideoAnalyticsConfiguration is the soapAction of AddVideoAnalyticsConfiguration.
	ActionMediaAddVideoAnalyticsConfiguration = "http://www.onvif.org/ver10/media/wsdl/AddVideoAnalyticsConfiguration"
	// ActionMediaAddVideoEncoderConfiguration is the soapAction of AddVideoEncoderConfiguration.
	ActionMediaAddVideoEncoderConfiguration = "http://www.onvif.org/ver10/media/wsdl/AddVideoEncoderConfiguration"
	// ActionMediaAddVideoSourceConfiguration is the soapAction of AddVideoSourceConfiguration.
	ActionMediaAddVideoSourceConfiguration = "http://www.onvif.org/ver10/media/wsdl/AddVideoSourceConfiguration"
	// ActionMediaCreateOSD is the soapAction of CreateOSD.
	ActionMediaCreateOSD = "http://www.onvif.org/ver10/media/wsdl/CreateOSD"
	// ActionMediaCreateProfile is the soapAction of CreateProfile.
	ActionMediaCreateProfile = "http://www.onvif.org/ver10/media/wsdl/CreateProfile"
	// ActionMediaDeleteOSD is the soapAction of DeleteOSD.
	ActionMediaDeleteOSD = "http://www.onvif.org/ver10/media/wsdl/DeleteOSD"
	// ActionMediaDeleteProfile is the soapAction of DeleteProfile.
	ActionMediaDeleteProfile = "http://www.onvif.org/ver10/media/wsdl/DeleteProfile"
	// ActionMediaGetAudioDecoderConfiguration is the soapAction of GetAudioDecoderConfiguration.
	ActionMediaGetAudioDecoderConfiguration = "http://www.onvif.org/ver10/media/wsdl/GetAudioDecoderConfiguration"
	// ActionMediaGetAudioDecoderConfigurationOptions is the soapAction of GetAudioDecoderConfigurationOptions.
	ActionMediaGetAudioDecoderConfigurationOptions = "http://www.onvif.org/ver10/media/wsdl/GetAudioDecoderConfigurationOptions"
	// ActionMediaGetAudioDecoderConfigurations is the soapAction of GetAudioDecoderConfigurations.
	ActionMediaGetAudioDecoderConfigurations = "http://www.onvif.org/ver10/media/wsdl/GetAudioDecoderConfigurations"
	// ActionMediaGetAudioEncoderConfiguration is the soapAction of GetAudioEncoderConfiguration.
	ActionMediaGetAudioEncoderConfiguration = "http://www.onvif.org/ver10/media/wsdl/GetAudioEncoderConfiguration"
	// ActionMediaGetAudioEncoderConfigurationOptions is the soapAction of GetAudioEncoderConfigurationOptions.
	ActionMediaGetAudioEncoderConfigurationOptions = "http://www.onvif.org/ver10/media/wsdl/GetAudioEncoderConfigurationOptions"
	// ActionMediaGetAudioEncoderConfigurations is the soapAction of GetAudioEncoderConfigurations.
	ActionMediaGetAudioEncoderConfigurations = "http://www.onvif.org/ver10/media/wsdl/GetAudioEncoderConfigurations"
	// ActionMediaGetAudioOutputConfiguration is the soapAction of GetAudioOutputConfiguration.
	ActionMediaGetAudioOutputConfiguration = "http://www.onvif.org/ver10/media/wsdl/GetAudioOutputConfiguration"
	// ActionMediaGetAudioOutputConfigurationOptions is the soapAction of GetAudioOutputConfigurationOptions.
	ActionMediaGetAudioOutputConfigurationOptions = "http://www.onvif.org/ver10/media/wsdl/GetAudioOutputConfigurationOptions"
	// ActionMediaGetAudioOutputConfigurations is the soapAction of GetAudioOutputConfigurations.
	ActionMediaGetAudioOutputConfigurations = "http://www.onvif.org/ver10/media/wsdl/GetAudioOutputConfigurations"
	// ActionMediaGetAudioOutputs is the soapAction of GetAudioOutputs.
	ActionMediaGetAudioOutputs = "http://www.onvif.org/ver10/media/wsdl/GetAudioOutputs"
	// ActionMediaGetAudioSourceConfiguration is the soapAction of GetAudioSourceConfiguration.
	ActionMediaGetAudioSourceConfiguration = "http://www.onvif.org/ver10/media/wsdl/GetAudioSourceConfiguration"
	// ActionMediaGetAudioSourceConfigurationOptions is the soapAction of GetAudioSourceConfigurationOptions.
	ActionMediaGetAudioSourceConfigurationOptions = "http://www.onvif.org/ver10/media/wsdl/GetAudioSourceConfigurationOptions"
	// ActionMediaGetAudioSourceConfigurations is the soapAction of GetAudioSourceConfigurations.
	ActionMediaGetAudioSourceConfigurations = "http://www.onvif.org/ver10/media/wsdlGetAudioSourceConfigurations/"
	// ActionMediaGetAudioSources is the soapAction of GetAudioSources.
	ActionMediaGetAudioSources = "http://www.onvif.org/ver10/media/wsdl/GetAudioSources"
	// ActionMediaGetCompatibleAudioDecoderConfigurations is the soapAction of GetCompatibleAudioDecoderConfigurations.
	ActionMediaGetCompatibleAudioDecoderConfigurations = "http://www.onvif.org/ver10/media/wsdl/GetCompatibleAudioDecoderConfigurations"
	// ActionMediaGetCompatibleAudioEncoderConfigurations is the soapAction of GetCompatibleAudioEncoderConfigurations.
	ActionMediaGetCompatibleAudioEncoderConfigurations = "http://www.onvif.org/ver10/media/wsdl/GetCompatibleAudioEncoderConfigurations"
	// ActionMediaGetCompatibleAudioOutputConfigurations is the soapAction of GetCompatibleAudioOutputConfigurations.
	ActionMediaGetCompatibleAudioOutputConfigurations = "http://www.onvif.org/ver10/media/wsdl/GetCompatibleAudioOutputConfigurations"
	// ActionMediaGetCompatibleAudioSourceConfigurations is the soapAction of GetCompatibleAudioSourceConfigurations.
	ActionMediaGetCompatibleAudioSourceConfigurations = "http://www.onvif.org/ver10/media/wsdl/GetCompatibleAudioSourceConfigurations"
	// ActionMediaGetCompatibleMetadataConfigurations is the soapAction of GetCompatibleMetadataConfigurations.
	ActionMediaGetCompatibleMetadataConfigurations = "http://www.onvif.org/ver10/media/wsdl/GetCompatibleMetadataConfigurations"
	// ActionMediaGetCompatibleVideoAnalyticsConfigurations is the soapAction of GetCompatibleVideoAnalyticsConfigurations.
	ActionMediaGetCompatibleVideoAnalyticsConfigurations = "http://www.onvif.org/ver10/media/wsdl/GetCompatibleVideoAnalyticsConfigurations"
	// ActionMediaGetCompatibleVideoEncoderConfigurations is the soapAction of GetCompatibleVideoEncoderConfigurations.
	ActionMediaGetCompatibleVideoEncoderConfigurations = "http://www.onvif.org/ver10/media/wsdl/GetCompatibleVideoEncoderConfigurations"
	// ActionMediaGetCompatibleVideoSourceConfigurations is the soapAction of GetCompatibleVideoSourceConfigurations.
	ActionMediaGetCompatibleVideoSourceConfigurations = "http://www.onvif.org/ver10/media/wsdl/GetCompatibleVideoSourceConfigurations"
	// ActionMediaGetGuaranteedNumberOfVideoEncoderInstances is the soapAction of GetGuaranteedNumberOfVideoEncoderInstances.
	ActionMediaGetGuaranteedNumberOfVideoEncoderInstances = "http://www.onvif.org/ver10/media/wsdl/GetGuaranteedNumberOfVideoEncoderInstances"
	// ActionMediaGetMetadataConfiguration is the soapAction of GetMetadataConfiguration.
	ActionMediaGetMetadataConfiguration = "http://www.onvif.org/ver10/media/wsdl/GetMetadataConfiguration"
	// ActionMediaGetMetadataConfigurationOptions is the soapAction of GetMetadataConfigurationOptions.
	ActionMediaGetMetadataConfigurationOptions = "http://www.onvif.org/ver10/media/wsdl/GetMetadataConfigurationOptions"
	// ActionMediaGetMetadataConfigurations is the soapAction of GetMetadataConfigurations.
	ActionMediaGetMetadataConfigurations = "http://www.onvif.org/ver10/media/wsdl/GetMetadataConfigurations"
	// ActionMediaGetOSD is the soapAction of GetOSD.
	ActionMediaGetOSD = "http://www.onvif.org/ver10/media/wsdl/GetOSD"
	// ActionMediaGetOSDOptions is the soapAction of GetOSDOptions.
	ActionMediaGetOSDOptions = "http://www.onvif.org/ver10/media/wsdl/GetOSDOptions"
	// ActionMediaGetOSDs is the soapAction of GetOSDs.
	ActionMediaGetOSDs = "http://www.onvif.org/ver10/media/wsdl/GetOSDs"
	// ActionMediaGetProfile is the soapAction of GetProfile.
	ActionMediaGetProfile = "http://www.onvif.org/ver10/media/wsdlGetProfile/"
	// ActionMediaGetProfiles is the soapAction of GetProfiles.
	ActionMediaGetProfiles = "http://www.onvif.org/ver10/media/wsdl/GetProfiles"
	// ActionMediaGetServiceCapabilities is the soapAction of GetServiceCapabilities.
	ActionMediaGetServiceCapabilities = "http://www.onvif.org/ver10/media/wsdl/GetServiceCapabilities"
	// ActionMediaGetSnapshotUri is the soapAction of GetSnapshotUri.
	ActionMediaGetSnapshotUri = "http://www.onvif.org/ver10/media/wsdl/GetSnapshotUri"
	// ActionMediaGetStreamUri is the soapAction of GetStreamUri.
	ActionMediaGetStreamUri = "http://www.onvif.org/ver10/media/wsdl/GetStreamUri"
	// ActionMediaGetVideoAnalyticsConfiguration is the soapAction of GetVideoAnalyticsConfiguration.
	ActionMediaGetVideoAnalyticsConfiguration = "http://www.onvif.org/ver10/media/wsdl/GetVideoAnalyticsConfiguration"
	// ActionMediaGetVideoAnalyticsConfigurations is the soapAction of GetVideoAnalyticsConfigurations.
	ActionMediaGetVideoAnalyticsConfigurations = "http://www.onvif.org/ver10/media/wsdl/GetVideoAnalyticsConfigurations"
	// ActionMediaGetVideoEncoderConfiguration is the soapAction of GetVideoEncoderConfiguration.
	ActionMediaGetVideoEncoderConfiguration = "http://www.onvif.org/ver10/media/wsdl/GetVideoEncoderConfiguration"
	// ActionMediaGetVideoEncoderConfigurationOptions is the soapAction of GetVideoEncoderConfigurationOptions.
	ActionMediaGetVideoEncoderConfigurationOptions = "http://www.onvif.org/ver10/media/wsdl/GetVideoEncoderConfigurationOptions"
	// ActionMediaGetVideoEncoderConfigurations is the soapAction of GetVideoEncoderConfigurations.
	ActionMediaGetVideoEncoderConfigurations = "http://www.onvif.org/ver10/media/wsdl/GetVideoEncoderConfigurations"
	// ActionMediaGetVideoSourceConfiguration is the soapAction of GetVideoSourceConfiguration.
	ActionMediaGetVideoSourceConfiguration = "http://www.onvif.org/ver10/media/wsdl/GetVideoSourceConfiguration"
	// ActionMediaGetVideoSourceConfigurationOptions is the soapAction of GetVideoSourceConfigurationOptions.
	ActionMediaGetVideoSourceConfigurationOptions = "http://www.onvif.org/ver10/media/wsdlGetVideoSourceConfigurationOptions/"
	// ActionMediaGetVideoSourceConfigurations is the soapAction of GetVideoSourceConfigurations.
	ActionMediaGetVideoSourceConfigurations = "http://www.onvif.org/ver10/media/wsdl/GetVideoSourceConfigurations"
	// ActionMediaGetVideoSourceModes is the soapAction of GetVideoSourceModes.
	ActionMediaGetVideoSourceModes = "http://www.onvif.org/ver10/media/wsdl/GetVideoSourceModes"
	// ActionMediaGetVideoSources is the soapAction of GetVideoSources.
	ActionMediaGetVideoSources = "http://www.onvif.org/ver10/media/wsdlGetVideoSources/"
	// ActionMediaRemoveAudioDecoderConfiguration is the soapAction of RemoveAudioDecoderConfiguration.
	ActionMediaRemoveAudioDecoderConfiguration = "http://www.onvif.org/ver10/media/wsdl/RemoveAudioDecoderConfiguration"
	// ActionMediaRemoveAudioEncoderConfiguration is the soapAction of RemoveAudioEncoderConfiguration.
	ActionMediaRemoveAudioEncoderConfiguration = "http://www.onvif.org/ver10/media/wsdl/RemoveAudioEncoderConfiguration"
	// ActionMediaRemoveAudioOutputConfiguration is the soapAction of RemoveAudioOutputConfiguration.
	ActionMediaRemoveAudioOutputConfiguration = "http://www.onvif.org/ver10/media/wsdl/RemoveAudioOutputConfiguration"
	// ActionMediaRemoveAudioSourceConfiguration is the soapAction of RemoveAudioSourceConfiguration.
	ActionMediaRemoveAudioSourceConfiguration = "http://www.onvif.org/ver10/media/wsdl/RemoveAudioSourceConfiguration"
	// ActionMediaRemoveMetadataConfiguration is the soapAction of RemoveMetadataConfiguration.
	ActionMediaRemoveMetadataConfiguration = "http://www.onvif.org/ver10/media/wsdl/RemoveMetadataConfiguration"
	// ActionMediaRemovePTZConfiguration is the soapAction of RemovePTZConfiguration.
	ActionMediaRemovePTZConfiguration = "http://www.onvif.org/ver10/media/wsdl/RemovePTZConfiguration"
	// ActionMediaRemoveVideoAnalyticsConfiguration is the soapAction of RemoveVideoAnalyticsConfiguration.
	ActionMediaRemoveVideoAnalyticsConfiguration = "http://www.onvif.org/ver10/media/wsdl/RemoveVideoAnalyticsConfiguration"
	// ActionMediaRemoveVideoEncoderConfiguration is the soapAction of RemoveVideoEncoderConfiguration.
	ActionMediaRemoveVideoEncoderConfiguration = "http://www.onvif.org/ver10/media/wsdl/RemoveVideoEncoderConfiguration"
	// ActionMediaRemoveVideoSourceConfiguration is the soapAction of RemoveVideoSourceConfiguration.
	ActionMediaRemoveVideoSourceConfiguration = "http://www.onvif.org/ver10/media/wsdl/RemoveVideoSourceConfiguration"
	// ActionMediaSetAudioDecoderConfiguration is the soapAction of SetAudioDecoderConfiguration.
	ActionMediaSetAudioDecoderConfiguration = "http://www.onvif.org/ver10/media/wsdl/SetAudioDecoderConfiguration"
	// ActionMediaSetAudioEncoderConfiguration is the soapAction of SetAudioEncoderConfiguration.
	ActionMediaSetAudioEncoderConfiguration = "http://www.onvif.org/ver10/media/wsdl/SetAudioEncoderConfiguration"
	// ActionMediaSetAudioOutputConfiguration is the soapAction of SetAudioOutputConfiguration.
	ActionMediaSetAudioOutputConfiguration = "http://www.onvif.org/ver10/media/wsdl/SetAudioOutputConfiguration"
	// ActionMediaSetAudioSourceConfiguration is the soapAction of SetAudioSourceConfiguration.
	ActionMediaSetAudioSourceConfiguration = "http://www.onvif.org/ver10/media/wsdl/SetAudioSourceConfiguration"
	// ActionMediaSetMetadataConfiguration is the soapAction of SetMetadataConfiguration.
	ActionMediaSetMetadataConfiguration = "http://www.onvif.org/ver10/media/wsdl/SetMetadataConfiguration"
	// ActionMediaSetOSD is the soapAction of SetOSD.
	ActionMediaSetOSD = "http://www.onvif.org/ver10/media/wsdl/SetOSD"
	// ActionMediaSetSynchronizationPoint is the soapAction of SetSynchronizationPoint.
	ActionMediaSetSynchronizationPoint = "http://www.onvif.org/ver10/media/wsdl/SetSynchronizationPoint"
	// ActionMediaSetVideoAnalyticsConfiguration is the soapAction of SetVideoAnalyticsConfiguration.
	ActionMediaSetVideoAnalyticsConfiguration = "http://www.onvif.org/ver10/media/wsdl/SetVideoAnalyticsConfiguration"
	// ActionMediaSetVideoEncoderConfiguration is the soapAction of SetVideoEncoderConfiguration.
	ActionMediaSetVideoEncoderConfiguration = "http://www.onvif.org/ver10/media/wsdl/SetVideoEncoderConfiguration"
	// ActionMediaSetVideoSourceConfiguration is the soapAction of SetVideoSourceConfiguration.
	ActionMediaSetVideoSourceConfiguration = "http://www.onvif.org/ver10/media/wsdl/SetVideoSourceConfiguration"
	// ActionMediaSetVideoSourceMode is the soapAction of SetVideoSourceMode.
	ActionMediaSetVideoSourceMode = "http://www.onvif.org/ver10/media/wsdl/SetVideoSourceMode"
	// ActionMediaStartMulticastStreaming is the soapAction of StartMulticastStreaming.
	ActionMediaStartMulticastStreaming = "http://www.onvif.org/ver10/media/wsdl/StartMulticastStreaming"
	// ActionMediaStopMulticastStreaming is the soapAction of StopMulticastStreaming.
	ActionMediaStopMulticastStreaming = "http://www.onvif.org/ver10/media/wsdl/StopMulticastStreaming"
)

// MediaOperations lists every operation of media.wsdl in name order.
var mediaOperations = []OpInfo{
	{Op{NSMedia, MediaAddAudioDecoderConfiguration}, ActionMediaAddAudioDecoderConfiguration},
	{Op{NSMedia, MediaAddAudioEncoderConfiguration}, ActionMediaAddAudioEncoderConfiguration},
	{Op{NSMedia, MediaAddAudioOutputConfiguration}, ActionMediaAddAudioOutputConfiguration},
	{Op{NSMedia, MediaAddAudioSourceConfiguration}, ActionMediaAddAudioSourceConfiguration},
	{Op{NSMedia, MediaAddMetadataConfiguration}, ActionMediaAddMetadataConfiguration},
	{Op{NSMedia, MediaAddPTZConfiguration}, ActionMediaAddPTZConfiguration},
	{Op{NSMedia, MediaAddVideoAnalyticsConfiguration}, ActionMediaAddVideoAnalyticsConfiguration},
	{Op{NSMedia, MediaAddVideoEncoderConfiguration}, ActionMediaAddVideoEncoderConfiguration},
	{Op{NSMedia, MediaAddVideoSourceConfiguration}, ActionMediaAddVideoSourceConfiguration},
	{Op{NSMedia, MediaCreateOSD}, ActionMediaCreateOSD},
	{Op{NSMedia, MediaCreateProfile}, ActionMediaCreateProfile},
	{Op{NSMedia, MediaDeleteOSD}, ActionMediaDeleteOSD},
	{Op{NSMedia, MediaDeleteProfile}, ActionMediaDeleteProfile},
	{Op{NSMedia, MediaGetAudioDecoderConfiguration}, ActionMediaGetAudioDecoderConfiguration},
	{Op{NSMedia, MediaGetAudioDecoderConfigurationOptions}, ActionMediaGetAudioDecoderConfigurationOptions},
	{Op{NSMedia, MediaGetAudioDecoderConfigurations}, ActionMediaGetAudioDecoderConfigurations},
	{Op{NSMedia, MediaGetAudioEncoderConfiguration}, ActionMediaGetAudioEncoderConfiguration},
	{Op{NSMedia, MediaGetAudioEncoderConfigurationOptions}, ActionMediaGetAudioEncoderConfigurationOptions},
	{Op{NSMedia, MediaGetAudioEncoderConfigurations}, ActionMediaGetAudioEncoderConfigurations},
	{Op{NSMedia, MediaGetAudioOutputConfiguration}, ActionMediaGetAudioOutputConfiguration},
	{Op{NSMedia, MediaGetAudioOutputConfigurationOptions}, ActionMediaGetAudioOutputConfigurationOptions},
	{Op{NSMedia, MediaGetAudioOutputConfigurations}, ActionMediaGetAudioOutputConfigurations},
	{Op{NSMedia, MediaGetAudioOutputs}, ActionMediaGetAudioOutputs},
	{Op{NSMedia, MediaGetAudioSourceConfiguration}, ActionMediaGetAudioSourceConfiguration},
	{Op{NSMedia, MediaGetAudioSourceConfigurationOptions}, ActionMediaGetAudioSourceConfigurationOptions},
	{Op{NSMedia, MediaGetAudioSourceConfigurations}, ActionMediaGetAudioSourceConfigurations},
	{Op{NSMedia, MediaGetAudioSources}, ActionMediaGetAudioSources},
	{Op{NSMedia, MediaGetCompatibleAudioDecoderConfigurations}, ActionMediaGetCompatibleAudioDecoderConfigurations},
	{Op{NSMedia, MediaGetCompatibleAudioEncoderConfigurations}, ActionMediaGetCompatibleAudioEncoderConfigurations},
	{Op{NSMedia, MediaGetCompatibleAudioOutputConfigurations}, ActionMediaGetCompatibleAudioOutputConfigurations},
	{Op{NSMedia, MediaGetCompatibleAudioSourceConfigurations}, ActionMediaGetCompatibleAudioSourceConfigurations},
	{Op{NSMedia, MediaGetCompatibleMetadataConfigurations}, ActionMediaGetCompatibleMetadataConfigurations},
	{Op{NSMedia, MediaGetCompatibleVideoAnalyticsConfigurations}, ActionMediaGetCompatibleVideoAnalyticsConfigurations},
	{Op{NSMedia, MediaGetCompatibleVideoEncoderConfigurations}, ActionMediaGetCompatibleVideoEncoderConfigurations},
	{Op{NSMedia, MediaGetCompatibleVideoSourceConfigurations}, ActionMediaGetCompatibleVideoSourceConfigurations},
	{Op{NSMedia, MediaGetGuaranteedNumberOfVideoEncoderInstances}, ActionMediaGetGuaranteedNumberOfVideoEncoderInstances},
	{Op{NSMedia, MediaGetMetadataConfiguration}, ActionMediaGetMetadataConfiguration},
	{Op{NSMedia, MediaGetMetadataConfigurationOptions}, ActionMediaGetMetadataConfigurationOptions},
	{Op{NSMedia, MediaGetMetadataConfigurations}, ActionMediaGetMetadataConfigurations},
	{Op{NSMedia, MediaGetOSD}, ActionMediaGetOSD},
	{Op{NSMedia, MediaGetOSDOptions}, ActionMediaGetOSDOptions},
	{Op{NSMedia, MediaGetOSDs}, ActionMediaGetOSDs},
	{Op{NSMedia, MediaGetProfile}, ActionMediaGetProfile},
	{Op{NSMedia, MediaGetProfiles}, ActionMediaGetProfiles},
	{Op{NSMedia, MediaGetServiceCapabilities}, ActionMediaGetServiceCapabilities},
	{Op{NSMedia, MediaGetSnapshotUri}, ActionMediaGetSnapshotUri},
	{Op{NSMedia, MediaGetStreamUri}, ActionMediaGetStreamUri},
	{Op{NSMedia, MediaGetVideoAnalyticsConfiguration}, ActionMediaGetVideoAnalyticsConfiguration},
	{Op{NSMedia, MediaGetVideoAnalyticsConfigurations}, ActionMediaGetVideoAnalyticsConfigurations},
	{Op{NSMedia, MediaGetVideoEncoderConfiguration}, ActionMediaGetVideoEncoderConfiguration},
	{Op{NSMedia, MediaGetVideoEncoderConfigurationOptions}, ActionMediaGetVideoEncoderConfigurationOptions},
	{Op{NSMedia, MediaGetVideoEncoderConfigurations}, ActionMediaGetVideoEncoderConfigurations},
	{Op{NSMedia, MediaGetVideoSourceConfiguration}, ActionMediaGetVideoSourceConfiguration},
	{Op{NSMedia, MediaGetVideoSourceConfigurationOptions}, ActionMediaGetVideoSourceConfigurationOptions},
	{Op{NSMedia, MediaGetVideoSourceConfigurations}, ActionMediaGetVideoSourceConfigurations},
	{Op{NSMedia, MediaGetVideoSourceModes}, ActionMediaGetVideoSourceModes},
	{Op{NSMedia, MediaGetVideoSources}, ActionMediaGetVideoSources},
	{Op{NSMedia, MediaRemoveAudioDecoderConfiguration}, ActionMediaRemoveAudioDecoderConfiguration},
	{Op{NSMedia, MediaRemoveAudioEncoderConfiguration}, ActionMediaRemoveAudioEncoderConfiguration},
	{Op{NSMedia, MediaRemoveAudioOutputConfiguration}, ActionMediaRemoveAudioOutputConfiguration},
	{Op{NSMedia, MediaRemoveAudioSourceConfiguration}, ActionMediaRemoveAudioSourceConfiguration},
	{Op{NSMedia, MediaRemoveMetadataConfiguration}, ActionMediaRemoveMetadataConfiguration},
	{Op{NSMedia, MediaRemovePTZConfiguration}, ActionMediaRemovePTZConfiguration},
	{Op{NSMedia, MediaRemoveVideoAnalyticsConfiguration}, ActionMediaRemoveVideoAnalyticsConfiguration},
	{Op{NSMedia, MediaRemoveVideoEncoderConfiguration}, ActionMediaRemoveVideoEncoderConfiguration},
	{Op{NSMedia, MediaRemoveVideoSourceConfiguration}, ActionMediaRemoveVideoSourceConfiguration},
	{Op{NSMedia, MediaSetAudioDecoderConfiguration}, ActionMediaSetAudioDecoderConfiguration},
	{Op{NSMedia, MediaSetAudioEncoderConfiguration}, ActionMediaSetAudioEncoderConfiguration},
	{Op{NSMedia, MediaSetAudioOutputConfiguration}, ActionMediaSetAudioOutputConfiguration},
	{Op{NSMedia, MediaSetAudioSourceConfiguration}, ActionMediaSetAudioSourceConfiguration},
	{Op{NSMedia, MediaSetMetadataConfiguration}, ActionMediaSetMetadataConfiguration},
	{Op{NSMedia, MediaSetOSD}, ActionMediaSetOSD},
	{Op{NSMedia, MediaSetSynchronizationPoint}, ActionMediaSetSynchronizationPoint},
	{Op{NSMedia, MediaSetVideoAnalyticsConfiguration}, ActionMediaSetVideoAnalyticsConfiguration},
	{Op{NSMedia, MediaSetVideoEncoderConfiguration}, ActionMediaSetVideoEncoderConfiguration},
	{Op{NSMedia, MediaSetVideoSourceConfiguration}, ActionMediaSetVideoSourceConfiguration},
	{Op{NSMedia, MediaSetVideoSourceMode}, ActionMediaSetVideoSourceMode},
	{Op{NSMedia, MediaStartMulticastStreaming}, ActionMediaStartMulticastStreaming},
	{Op{NSMedia, MediaStopMulticastStreaming}, ActionMediaStopMulticastStreaming},
}

// Events service operation names (event.wsdl), as in the Body element of each request.
const (
	// EventsAddEventBroker is the AddEventBroker operation.
	EventsAddEventBroker = "AddEventBroker"
	// WSNTCreatePullPoint is the CreatePullPoint operation.
	WSNTCreatePullPoint = "CreatePullPoint"
	// EventsCreatePullPointSubscription is the CreatePullPointSubscription operation.
	EventsCreatePullPointSubscription = "CreatePullPointSubscription"
	// EventsDeleteEventBroker is the DeleteEventBroker operation.
	EventsDeleteEventBroker = "DeleteEventBroker"
	// WSNTDestroyPullPoint is the DestroyPullPoint operation.
	WSNTDestroyPullPoint = "DestroyPullPoint"
	// WSNTGetCurrentMessage is the GetCurrentMessage operation.
	WSNTGetCurrentMessage = "GetCurrentMessage"
	// EventsGetEventBrokers is the GetEventBrokers operation.
	EventsGetEventBrokers = "GetEventBrokers"
	// EventsGetEventProperties is the GetEventProperties operation.
	EventsGetEventProperties = "GetEventProperties"
	// WSNTGetMessages is the GetMessages operation.
	WSNTGetMessages = "GetMessages"
	// EventsGetServiceCapabilities is the GetServiceCapabilities operation.
	EventsGetServiceCapabilities = "GetServiceCapabilities"
	// WSNTPauseSubscription is the PauseSubscription operation.
	WSNTPauseSubscription = "PauseSubscription"
	// EventsPullMessages is the PullMessages operation.
	EventsPullMessages = "PullMessages"
	// WSNTRenew is the Renew operation.
	WSNTRenew = "Renew"
	// WSNTResumeSubscription is the ResumeSubscription operation.
	WSNTResumeSubscription = "ResumeSubscription"
	// EventsSeek is the Seek operation.
	EventsSeek = "Seek"
	// EventsSetSynchronizationPoint is the SetSynchronizationPoint operation.
	EventsSetSynchronizationPoint = "SetSynchronizationPoint"
	// WSNTSubscribe is the Subscribe operation.
	WSNTSubscribe = "Subscribe"
	// WSNTUnsubscribe is the Unsubscribe operation.
	WSNTUnsubscribe = "Unsubscribe"
)

// Events service SOAP actions, as in event.wsdl (including its known mistakes).
const (
	// ActionEventsAddEventBroker is the soapAction of AddEventBroker.
	ActionEventsAddEventBroker = "http://www.onvif.org/ver10/events/wsdl/EventPortType/AddEventBrokerRequest"
	// ActionWSNTCreatePullPoint is the soapAction of CreatePullPoint.
	ActionWSNTCreatePullPoint = "http://docs.oasis-open.org/wsn/bw-2/CreatePullPoint/CreatePullPointRequest"
	// ActionEventsCreatePullPointSubscription is the soapAction of CreatePullPointSubscription.
	ActionEventsCreatePullPointSubscription = "http://www.onvif.org/ver10/events/wsdl/EventPortType/CreatePullPointSubscriptionRequest"
	// ActionEventsDeleteEventBroker is the soapAction of DeleteEventBroker.
	ActionEventsDeleteEventBroker = "http://www.onvif.org/ver10/events/wsdl/EventPortType/DeleteEventBrokerRequest"
	// ActionWSNTDestroyPullPoint is the soapAction of DestroyPullPoint.
	ActionWSNTDestroyPullPoint = "http://docs.oasis-open.org/wsn/bw-2/PullPoint/DestroyPullPointRequest"
	// ActionWSNTGetCurrentMessage is the soapAction of GetCurrentMessage.
	ActionWSNTGetCurrentMessage = "http://docs.oasis-open.org/wsn/bw-2/NotificationProducer/GetCurrentMessageRequest"
	// ActionEventsGetEventBrokers is the soapAction of GetEventBrokers.
	ActionEventsGetEventBrokers = "http://www.onvif.org/ver10/events/wsdl/EventPortType/GetEventBrokersRequest"
	// ActionEventsGetEventProperties is the soapAction of GetEventProperties.
	ActionEventsGetEventProperties = "http://www.onvif.org/ver10/events/wsdl/EventPortType/GetEventPropertiesRequest"
	// ActionWSNTGetMessages is the soapAction of GetMessages.
	ActionWSNTGetMessages = "http://docs.oasis-open.org/wsn/bw-2/PullPoint/GetMessagesRequest"
	// ActionEventsGetServiceCapabilities is the soapAction of GetServiceCapabilities.
	ActionEventsGetServiceCapabilities = "http://www.onvif.org/ver10/events/wsdl/EventPortType/GetServiceCapabilitiesRequest"
	// ActionWSNTPauseSubscription is the soapAction of PauseSubscription.
	ActionWSNTPauseSubscription = "http://docs.oasis-open.org/wsn/bw-2/PausableSubscriptionManager/PauseSubscriptionRequest"
	// ActionEventsPullMessages is the soapAction of PullMessages.
	ActionEventsPullMessages = "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/PullMessagesRequest"
	// ActionWSNTRenew is the soapAction of Renew.
	ActionWSNTRenew = "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewRequest"
	// ActionWSNTResumeSubscription is the soapAction of ResumeSubscription.
	ActionWSNTResumeSubscription = "http://docs.oasis-open.org/wsn/bw-2/PausableSubscriptionManager/ResumeSubscriptionRequest"
	// ActionEventsSeek is the soapAction of Seek.
	ActionEventsSeek = "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/SeekRequest"
	// ActionEventsSetSynchronizationPoint is the soapAction of SetSynchronizationPoint.
	ActionEventsSetSynchronizationPoint = "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/SetSynchronizationPointRequest"
	// ActionWSNTSubscribe is the soapAction of Subscribe.
	ActionWSNTSubscribe = "http://docs.oasis-open.org/wsn/bw-2/NotificationProducer/SubscribeRequest"
	// ActionWSNTUnsubscribe is the soapAction of Unsubscribe.
	ActionWSNTUnsubscribe = "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/UnsubscribeRequest"
)

// EventsOperations lists every operation of event.wsdl in name order.
var eventsOperations = []OpInfo{
	{Op{NSEvents, EventsAddEventBroker}, ActionEventsAddEventBroker},
	{Op{NSWSNT, WSNTCreatePullPoint}, ActionWSNTCreatePullPoint},
	{Op{NSEvents, EventsCreatePullPointSubscription}, ActionEventsCreatePullPointSubscription},
	{Op{NSEvents, EventsDeleteEventBroker}, ActionEventsDeleteEventBroker},
	{Op{NSWSNT, WSNTDestroyPullPoint}, ActionWSNTDestroyPullPoint},
	{Op{NSWSNT, WSNTGetCurrentMessage}, ActionWSNTGetCurrentMessage},
	{Op{NSEvents, EventsGetEventBrokers}, ActionEventsGetEventBrokers},
	{Op{NSEvents, EventsGetEventProperties}, ActionEventsGetEventProperties},
	{Op{NSWSNT, WSNTGetMessages}, ActionWSNTGetMessages},
	{Op{NSEvents, EventsGetServiceCapabilities}, ActionEventsGetServiceCapabilities},
	{Op{NSWSNT, WSNTPauseSubscription}, ActionWSNTPauseSubscription},
	{Op{NSEvents, EventsPullMessages}, ActionEventsPullMessages},
	{Op{NSWSNT, WSNTRenew}, ActionWSNTRenew},
	{Op{NSWSNT, WSNTResumeSubscription}, ActionWSNTResumeSubscription},
	{Op{NSEvents, EventsSeek}, ActionEventsSeek},
	{Op{NSEvents, EventsSetSynchronizationPoint}, ActionEventsSetSynchronizationPoint},
	{Op{NSWSNT, WSNTSubscribe}, ActionWSNTSubscribe},
	{Op{NSWSNT, WSNTUnsubscribe}, ActionWSNTUnsubscribe},
}
