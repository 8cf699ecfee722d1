package soap

import "testing"

func TestPolicyClass(t *testing.T) {
	device := Policy{Read: ReadSystem, Write: WriteSystem}
	media := Policy{Read: ReadMedia, Write: Actuate}
	cases := []struct {
		p    Policy
		name string
		want Access
	}{
		{device, "GetZeroConfiguration", ReadSystem},
		{device, "GetRelayOutputs", ReadSystem},
		{device, "SetNTP", WriteSystem},
		{device, "CreateCertificate", WriteSystem},
		{device, "DeleteGeoLocation", WriteSystem},
		{device, "AddIPAddressFilter", WriteSystem},
		{device, "RemoveIPAddressFilter", WriteSystem},
		{device, "SendAuxiliaryCommand", WriteSystem},
		{device, "ScanAvailableDot11Networks", WriteSystem}, // no rule: the stricter side
		{device, "SystemReboot", Unrecoverable},
		{device, "SetSystemFactoryDefault", Unrecoverable},
		{device, "UpgradeSystemFirmware", Unrecoverable},
		{device, "StartFirmwareUpgrade", Unrecoverable},
		{device, "RestoreSystem", Unrecoverable},
		{device, "StartSystemRestore", Unrecoverable},
		{device, "GetUsers", ReadSystemSecret},
		{device, "GetRemoteUser", ReadSystemSecret},
		{device, "GetSystemLog", ReadSystemSecret},
		{device, "GetSystemBackup", ReadSystemSecret},
		{device, "GetSystemSupportInformation", ReadSystemSecret},
		{device, "GetSystemUris", ReadSystemSecret},
		{device, "GetCertificates", ReadSystemSecret},
		{device, "GetAccessPolicy", ReadSystemSecret},
		{device, "GetDot1XConfigurations", ReadSystemSecret},
		{device, "GetStorageConfigurations", ReadSystemSecret},
		{device, "GetPasswordComplexityConfiguration", ReadSystemSecret},
		{media, "GetMetadataConfigurations", ReadMedia},
		{media, "SetOSD", Actuate},
		{media, "AddPTZConfiguration", Actuate},
		{media, "StartMulticastStreaming", Actuate},
		{media, "StopMulticastStreaming", Actuate},
	}
	for _, c := range cases {
		if got := c.p.Class(c.name); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	// What a level User may and may not learn about.
	for name, allowed := range map[string]bool{"GetZeroConfiguration": true, "SetNTP": false, "GetSystemLog": false, "UpgradeSystemFirmware": false} {
		if got := device.Class(name).Allowed(LevelUser); got != allowed {
			t.Errorf("User may call %s: %v, want %v", name, got, allowed)
		}
	}
}
