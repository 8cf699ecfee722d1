package soap

import "strings"

// Policy gives the operations a service declares but does not implement an
// access class by what they would do, after ONVIF Core's default access
// policy, so that only a user who could call such an operation learns that
// it is not supported: anybody else gets NotAuthorized, as for an
// implemented operation of that class.
//
// Specification: ONVIF Core 5.9.4 (default access policy).
type Policy struct {
	// Read is the class of reads (Get...).
	Read Access
	// Write is the class of every other operation: the ones that change
	// state (Set, Create, Delete, Add, Remove, Start, Stop, Send, ...).
	Write Access
}

// unknownPolicy classes request elements that no service declares, as the
// device service does its own.
var unknownPolicy = Policy{Read: ReadSystem, Write: WriteSystem}

// Class returns the access class of the operation named name, whatever its
// service: Unrecoverable for what may leave the device unusable (reboot,
// factory default, firmware upgrade, restore), ReadSystemSecret for reads of
// secrets (users and passwords, keys and certificates, the access policy,
// logs, backups, support information, storage credentials), then Read for
// the other Get operations and Write for everything else. A name that fits
// no rule is classed as a change, the stricter side.
func (p Policy) Class(name string) Access {
	switch {
	case name == "SystemReboot", name == "SetSystemFactoryDefault",
		strings.HasPrefix(name, "Upgrade"), strings.HasPrefix(name, "Restore"),
		strings.Contains(name, "FirmwareUpgrade"), strings.Contains(name, "SystemRestore"):
		return Unrecoverable
	case strings.HasPrefix(name, "Get") && containsAny(name, secretWords):
		return ReadSystemSecret
	case strings.HasPrefix(name, "Get"):
		return p.Read
	}
	return p.Write
}

// secretWords mark the reads of secrets (GetUsers, GetRemoteUser,
// GetCertificates, GetPkcs10Request, GetAccessPolicy, GetSystemLog,
// GetSystemBackup, GetSystemSupportInformation, GetSystemUris,
// GetDot1XConfigurations, GetStorageConfigurations, ...).
var secretWords = []string{"User", "Password", "Certificate", "Pkcs10", "Key", "AccessPolicy", "Dot1X",
	"SystemLog", "SystemBackup", "SupportInformation", "SystemUris", "Storage", "AuthFailureWarning"}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
