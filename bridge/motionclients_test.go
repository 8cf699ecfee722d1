package bridge

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/soap"
	"github.com/chinesium/chinesium/wsdl"
)

// gsoapEnvelope is a request as ZoneMinder's gSOAP client sends it
// (soap_wsse_add_Timestamp(soap, "Time", 10) and
// soap_wsse_add_UsernameTokenDigest(soap, "Auth", ...), SOAP 1.2, no
// WS-Addressing): a Security header with a Timestamp beside the
// UsernameToken, marked mustUnderstand.
func gsoapEnvelope(user, password, body string) string {
	nonce := make([]byte, 20)
	_, _ = rand.Read(nonce)
	now := time.Now().UTC()
	created := now.Format("2006-01-02T15:04:05Z")
	return `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:SOAP-ENC="http://www.w3.org/2003/05/soap-encoding" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:wsa5="http://www.w3.org/2005/08/addressing" xmlns:c14n="http://www.w3.org/2001/10/xml-exc-c14n#" xmlns:wsu="` + wsdl.NSWSU + `" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:wsse="` + wsdl.NSWSSE + `" xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:tev="http://www.onvif.org/ver10/events/wsdl">` +
		`<SOAP-ENV:Header><wsse:Security SOAP-ENV:mustUnderstand="true">` +
		`<wsu:Timestamp wsu:Id="Time"><wsu:Created>` + created + `</wsu:Created><wsu:Expires>` + now.Add(10*time.Second).Format("2006-01-02T15:04:05Z") + `</wsu:Expires></wsu:Timestamp>` +
		`<wsse:UsernameToken wsu:Id="Auth"><wsse:Username>` + user + `</wsse:Username>` +
		`<wsse:Password Type="` + wsdl.PasswordDigest + `">` + soap.PasswordDigest(nonce, created, password) + `</wsse:Password>` +
		`<wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">` + base64.StdEncoding.EncodeToString(nonce) + `</wsse:Nonce>` +
		`<wsu:Created>` + created + `</wsu:Created></wsse:UsernameToken></wsse:Security></SOAP-ENV:Header>` +
		`<SOAP-ENV:Body>` + body + `</SOAP-ENV:Body></SOAP-ENV:Envelope>`
}

// postSOAP posts an envelope with the Content-Type gSOAP gives SOAP 1.2.
func postSOAP(t *testing.T, url, action, env string) string {
	t.Helper()
	resp, err := http.Post(url, `application/soap+xml; charset=utf-8; action="`+action+`"`, strings.NewReader(env))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s\n%s", action, resp.Status, b)
	}
	return string(b)
}

// notification is one wsnt:NotificationMessage as the clients below read
// it.
type notification struct {
	topic, op      string
	source, data   map[string]string // SimpleItem Name -> Value
	dataNames      []string          // in order
	topicNamespace string            // of the topic's prefix
}

func notifications(t *testing.T, resp string) []notification {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(resp); err != nil {
		t.Fatal(err)
	}
	var out []notification
	for _, nm := range doc.FindElements("//NotificationMessage") {
		topic := nm.FindElement("Topic")
		n := notification{topic: strings.TrimSpace(topic.Text()), source: map[string]string{}, data: map[string]string{}}
		if p, _, ok := strings.Cut(n.topic, ":"); ok {
			for x := topic; x != nil && n.topicNamespace == ""; x = x.Parent() {
				if a := x.SelectAttr("xmlns:" + p); a != nil {
					n.topicNamespace = a.Value
				}
			}
		}
		msg := nm.FindElement("Message/Message")
		if msg == nil {
			continue
		}
		n.op = msg.SelectAttrValue("PropertyOperation", "")
		for _, it := range msg.FindElements("Source/SimpleItem") {
			n.source[it.SelectAttrValue("Name", "")] = it.SelectAttrValue("Value", "")
		}
		for _, it := range msg.FindElements("Data/SimpleItem") {
			n.data[it.SelectAttrValue("Name", "")] = it.SelectAttrValue("Value", "")
			n.dataNames = append(n.dataNames, it.SelectAttrValue("Name", ""))
		}
		out = append(out, n)
	}
	return out
}

// zoneMinder is ZoneMinder's ONVIF alarm state (src/zm_monitor_onvif.cpp,
// ONVIF::WaitForMessage and parse_event_message), fed with pulled
// messages: the topics containing its alarm text (MotionAlarm by
// default), the first Data SimpleItem whose name looks like state, and
// the PropertyOperation; an alarm ends only on Deleted or on a value it
// reads as inactive ("false", "0", ...). While alarmed it records.
type zoneMinder struct {
	alarms  map[string]string
	alarmed bool
}

func (z *zoneMinder) feed(ns []notification) {
	isData := func(name string) bool {
		l := strings.ToLower(name)
		return strings.HasPrefix(l, "is") || strings.HasSuffix(l, "state") || strings.HasSuffix(l, "alarm") ||
			l == "active" || l == "value" || l == "motion"
	}
	active := func(v string) bool {
		switch strings.ToLower(v) {
		case "", "false", "inactive", "off", "no", "idle", "normal", "closed":
			return false
		}
		return strings.Trim(v, "0") != ""
	}
	for _, n := range ns {
		if !strings.Contains(n.topic, "MotionAlarm") {
			continue
		}
		value, ok := "", false
		for _, name := range n.dataNames {
			if isData(name) {
				value, ok = n.data[name], true
				break
			}
		}
		if !ok {
			continue
		}
		op := n.op
		if op == "" {
			op = "Initialized"
		}
		switch {
		case op == "Deleted" || !active(value):
			delete(z.alarms, n.topic)
		default:
			z.alarms[n.topic] = value
		}
		z.alarmed = len(z.alarms) > 0
	}
}

// TestMotionEventsPerClient moves the fake camera's picture, then stops
// it, and checks that each client's reading of the events it pulls sees
// motion start and, which matters as much, end:
//   - ZoneMinder (gSOAP requests with a Timestamp in the Security header,
//     PullMessages PT10S/10) must see MotionAlarm go false, or it records
//     forever;
//   - Synology Surveillance Station reads only tns1:VideoSource/MotionAlarm
//     with its Source item (the video source token) and State;
//   - Blue Iris reads MotionAlarm's State as a boolean ("true"/"false");
//   - Scrypted (its plugin's listener on the npm onvif package) reads the
//     one Data item's Value and emits MotionStart and MotionStop.
//
// Synology's and Blue Iris's requests are not public: theirs are plain
// CreatePullPointSubscription and PullMessages, and what is checked is
// what they are known to read.
func TestMotionEventsPerClient(t *testing.T) {
	t.Parallel()
	node := needOnvifNPM(t)
	cam, c := startCamera(t, "127.0.23.8", nil)
	events := eventsURL(c)
	const tev = "http://www.onvif.org/ver10/events/wsdl"
	// Each NVR logs in as a user of its own: a user has at most
	// onvif.DefaultMaxPerUser pull points.
	for _, u := range []string{"zm", "syno", "bi"} {
		createUser(t, c, "admin", "secret", u, u+"-pw")
	}

	// ZoneMinder subscribes without a filter and pulls with PT10S, 10.
	zmSub := postSOAP(t, events, tev+"/EventPortType/CreatePullPointSubscriptionRequest",
		gsoapEnvelope("zm", "zm-pw", `<tev:CreatePullPointSubscription><tev:InitialTerminationTime>PT300S</tev:InitialTerminationTime></tev:CreatePullPointSubscription>`))
	zmAddr := elementText(zmSub, "Address")
	zm := &zoneMinder{alarms: map[string]string{}}
	zmPull := func() {
		zm.feed(notifications(t, postSOAP(t, zmAddr, tev+"/PullPointSubscription/PullMessagesRequest",
			gsoapEnvelope("zm", "zm-pw", `<tev:PullMessages><tev:Timeout>PT10S</tev:Timeout><tev:MessageLimit>10</tev:MessageLimit></tev:PullMessages>`))))
	}
	// Synology and Blue Iris.
	synoAddr, biAddr := createPullPointAs(t, c, "syno", "syno-pw", "PT300S"), createPullPointAs(t, c, "bi", "bi-pw", "PT300S")
	pull := func(user, addr string) []notification {
		return notifications(t, pullMessages(t, addr, user, user+"-pw"))
	}
	_, vs := soapRequest(t, "http://"+hostPort(bindIP.String(), c.HTTPPort())+MediaServicePath, "admin", "secret", `<trt:GetVideoSources/>`)
	d := etree.NewDocument()
	if err := d.ReadFromString(vs); err != nil {
		t.Fatal(err)
	}
	sourceToken := d.FindElement("//VideoSources").SelectAttrValue("token", "")
	synology := func(ns []notification) (state string, ok bool) {
		for _, n := range ns {
			if n.topic == "tns1:VideoSource/MotionAlarm" && n.topicNamespace == "http://www.onvif.org/ver10/topics" &&
				n.source["Source"] == sourceToken && len(n.source) == 1 {
				if v, has := n.data["State"]; has {
					state, ok = v, true
				}
			}
		}
		return state, ok
	}
	blueIris := func(ns []notification) (state string, ok bool) {
		for _, n := range ns {
			if strings.Contains(n.topic, "MotionAlarm") {
				if v, has := n.data["State"]; has && (v == "true" || v == "false") {
					state, ok = v, true
				}
			}
		}
		return state, ok
	}

	// Scrypted runs its listener through the npm onvif package.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	scrypted := nodeLines(ctx, t, node, "scrypted_events.js", c)
	scryptedSees := func(want string) {
		t.Helper()
		nextLine(t, scrypted, 30*time.Second, "Scrypted's listener", want, func(line string) bool { return line == want })
	}
	// The initial state: no motion, for everyone.
	scryptedSees("MotionStop")
	zmPull()
	if zm.alarmed {
		t.Fatal("ZoneMinder alarmed before any motion")
	}
	synoState, biState := "", ""
	follow := func(want string, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for time.Now().Before(deadline) && (synoState != want || biState != want || zm.alarmed != (want == "true")) {
			if s, ok := synology(pull("syno", synoAddr)); ok {
				synoState = s
			}
			if s, ok := blueIris(pull("bi", biAddr)); ok {
				biState = s
			}
			zmPull()
		}
		if synoState != want {
			t.Errorf("Synology reads MotionAlarm State %q, want %s", synoState, want)
		}
		if biState != want {
			t.Errorf("Blue Iris reads MotionAlarm State %q, want %s", biState, want)
		}
		if zm.alarmed != (want == "true") {
			t.Errorf("ZoneMinder alarmed %v with motion %s (alarms %v)", zm.alarmed, want, zm.alarms)
		}
	}
	follow("false", 10*time.Second)
	cam.SetMotion(true)
	follow("true", 15*time.Second)
	scryptedSees("MotionStart")
	cam.SetMotion(false)
	follow("false", 30*time.Second)
	scryptedSees("MotionStop")
}
