#!/usr/bin/python3
"""Drive a device service with zeep, the SOAP library inside Home Assistant's
ONVIF integration (onvif-zeep-async), using the official devicemgmt.wsdl.

zeep builds every request from the WSDL, signs it with a WS-Security
UsernameToken PasswordDigest and parses every response with the WSDL's
types (strict mode), so a response it cannot read fails here as it would in
Home Assistant. The schemas are read offline through the set's catalog.xml.

Usage: zeep_device.py WSDL_DIR XADDR USER PASSWORD
Prints one JSON object; exits non-zero when a call that must work fails.
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

from zeep import Client, Settings
from zeep.exceptions import Fault
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

CATALOG_NS = "{urn:oasis:names:tc:entity:xmlns:xml:catalog}"


class OfflineTransport(Transport):
    """Loads remote schema URLs from the local copies named by catalog.xml."""

    def __init__(self, wsdl_dir):
        super().__init__()
        self.map = {}
        root = ET.parse(os.path.join(wsdl_dir, "catalog.xml")).getroot()
        for e in root:
            key = e.get("systemId") or e.get("name")
            if key and e.get("uri"):
                self.map[key] = os.path.join(wsdl_dir, e.get("uri"))

    def load(self, url):
        local = self.map.get(url)
        if local is None and url.startswith("file://"):
            local = url[len("file://"):]
        if local is None and os.path.exists(url):
            local = url
        if local is None:
            # A relative import inside a remote schema resolves against its
            # remote URL: find the local copy by file name.
            base = url.rsplit("/", 1)[-1]
            for path in self.map.values():
                if os.path.basename(path) == base:
                    local = path
                    break
        if local is None:
            raise RuntimeError("schema not available offline: " + url)
        with open(local, "rb") as f:
            return f.read()


def main():
    wsdl_dir, xaddr, user, password = sys.argv[1:5]
    client = Client(
        os.path.join(wsdl_dir, "ver10/device/wsdl/devicemgmt.wsdl"),
        transport=OfflineTransport(wsdl_dir),
        wsse=UsernameToken(user, password, use_digest=True),
        settings=Settings(strict=True),
    )
    dev = client.create_service("{http://www.onvif.org/ver10/device/wsdl}DeviceBinding", xaddr)
    out = {"errors": []}

    def call(name, *args, **kw):
        try:
            return getattr(dev, name)(*args, **kw)
        except Exception as e:  # noqa: BLE001 - report everything
            out["errors"].append("%s: %s: %s" % (name, type(e).__name__, e))
            return None

    t = call("GetSystemDateAndTime")
    if t is not None:
        u = t.UTCDateTime
        out["utc"] = "%04d-%02d-%02dT%02d:%02d:%02dZ" % (u.Date.Year, u.Date.Month, u.Date.Day, u.Time.Hour, u.Time.Minute, u.Time.Second)
    info = call("GetDeviceInformation")
    if info is not None:
        out["serial"] = info.SerialNumber
    caps = call("GetCapabilities", Category="All")
    if caps is not None:
        out["xaddrs"] = [c.XAddr for c in (caps.Device, caps.Media, caps.Events) if c is not None]
    svcs = call("GetServices", IncludeCapability=True)
    if svcs is not None:
        out["services"] = [s.Namespace for s in svcs]
    ifs = call("GetNetworkInterfaces")
    if ifs is not None:
        out["mac"] = ifs[0].Info.HwAddress
    scopes = call("GetScopes")
    if scopes is not None:
        out["scopes"] = [s.ScopeItem for s in scopes]
    for name in ("GetServiceCapabilities", "GetHostname", "GetDNS", "GetNTP", "GetNetworkProtocols",
                 "GetNetworkDefaultGateway", "GetDiscoveryMode", "GetUsers", "GetWsdlUrl", "GetEndpointReference"):
        call(name)
    call("AddScopes", ScopeItem=["onvif://www.onvif.org/location/zeep"])
    call("SetHostname", Name="zeep-cam")
    call("SetSystemDateAndTime", DateTimeType="Manual", DaylightSavings=False,
         UTCDateTime={"Date": {"Year": 2026, "Month": 1, "Day": 2}, "Time": {"Hour": 3, "Minute": 4, "Second": 5}})
    call("CreateUsers", User=[{"Username": "zeep", "Password": "pw", "UserLevel": "User"}])
    users = call("GetUsers")
    if users is not None:
        out["users"] = [u.Username for u in users]
    call("DeleteUsers", Username=["zeep"])
    # Faults arrive as zeep Faults with the ONVIF subcodes.
    try:
        dev.RemoveScopes(ScopeItem=["onvif://www.onvif.org/Profile/Streaming"])
        out["errors"].append("RemoveScopes of a fixed scope succeeded")
    except Fault as f:
        out["fixed_scope_fault"] = [f.code] + [str(s) for s in (f.subcodes or [])]
    try:
        dev.GetSystemLog(LogType="System")
        out["errors"].append("GetSystemLog succeeded")
    except Fault as f:
        out["unsupported_fault"] = [f.code] + [str(s) for s in (f.subcodes or [])]
    print(json.dumps(out))
    sys.exit(1 if out["errors"] else 0)


if __name__ == "__main__":
    main()
