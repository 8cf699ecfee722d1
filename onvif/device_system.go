package onvif

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/soap"
)

// The device service's system operations: date and time, device
// information, reboot and factory default, WSDL URL and endpoint reference.

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
