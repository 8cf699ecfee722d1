package onvif

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/httpauth"
	"github.com/chinesium/chinesium/internal/xsdcheck"
	"github.com/chinesium/chinesium/wsdl"
)

// eventsServer serves an Events over real HTTP the way the bridge mounts it:
// one endpoint on the events service path and the subscription addresses.
type eventsServer struct {
	*testEndpoint
	ev  *Events
	hdr string // WS-Security header to send ("" when no user)
}

func newEventsServer(t testing.TB, cfg EventsConfig, users httpauth.Users) *eventsServer {
	t.Helper()
	ev := NewEvents(cfg)
	t.Cleanup(ev.Close) // after the server has closed
	return &eventsServer{testEndpoint: serve(t, users, EventsService(ev)), ev: ev}
}

// call posts body to url and returns the answer.
func (s *eventsServer) call(t testing.TB, url, body string) (int, []byte, *etree.Element) {
	t.Helper()
	r := s.do(t, call{URL: url, Header: s.hdr, Body: body})
	return r.status, r.body, r.root
}

// ok calls and requires HTTP 200 and a schema-valid response named want.
func (s *eventsServer) ok(t testing.TB, url, body, want string) *etree.Element {
	t.Helper()
	p := s.do(t, call{URL: url, Header: s.hdr, Body: body}).ok(t)
	if p.Tag != want {
		t.Fatalf("answer %s, want %s", p.Tag, want)
	}
	return p
}

func (s *eventsServer) createPullPoint(t testing.TB, inner string) string {
	t.Helper()
	p := s.ok(t, s.srv.URL+"/onvif/events_service", `<tev:CreatePullPointSubscription>`+inner+`</tev:CreatePullPointSubscription>`, "CreatePullPointSubscriptionResponse")
	addr := p.FindElement("SubscriptionReference/Address")
	if addr == nil || !strings.HasPrefix(addr.Text(), s.srv.URL+"/onvif/events/subscription/") {
		t.Fatalf("subscription address %v", addr)
	}
	return addr.Text()
}

// event is one received notification, reduced to what NVRs read.
type event struct {
	topic, op, item string
	value           bool
	source          map[string]string
}

func events(p *etree.Element) []event {
	var out []event
	for _, nm := range p.FindElements("NotificationMessage") {
		msg := nm.FindElement("Message/Message")
		d := msg.FindElement("Data/SimpleItem")
		ev := event{
			topic:  strings.TrimSpace(nm.FindElement("Topic").Text()),
			op:     msg.SelectAttrValue("PropertyOperation", ""),
			item:   d.SelectAttrValue("Name", ""),
			value:  d.SelectAttrValue("Value", "") == "true",
			source: map[string]string{},
		}
		for _, si := range msg.FindElements("Source/SimpleItem") {
			ev.source[si.SelectAttrValue("Name", "")] = si.SelectAttrValue("Value", "")
		}
		out = append(out, ev)
	}
	return out
}

func (s *eventsServer) pull(t testing.TB, addr, timeout string, limit int) []event {
	t.Helper()
	p := s.ok(t, addr, `<tev:PullMessages><tev:Timeout>`+timeout+`</tev:Timeout><tev:MessageLimit>`+itoa(limit)+`</tev:MessageLimit></tev:PullMessages>`, "PullMessagesResponse")
	ct, tt := p.FindElement("CurrentTime"), p.FindElement("TerminationTime")
	if ct == nil || tt == nil {
		t.Fatal("PullMessagesResponse without CurrentTime/TerminationTime")
	}
	return events(p)
}

func TestEventPropertiesAndCapabilities(t *testing.T) {
	s := newEventsServer(t, EventsConfig{MaxPullPoints: 3}, nil)
	url := s.srv.URL + "/onvif/events_service"
	c := s.ok(t, url, `<tev:GetServiceCapabilities></tev:GetServiceCapabilities>`, "GetServiceCapabilitiesResponse")
	if got := c.FindElement("Capabilities").SelectAttrValue("MaxPullPoints", ""); got != "3" {
		t.Errorf("MaxPullPoints %q", got)
	}
	p := s.ok(t, url, `<tev:GetEventProperties></tev:GetEventProperties>`, "GetEventPropertiesResponse")
	for _, path := range []string{"TopicSet/VideoSource/SignalLoss", "TopicSet/VideoSource/MotionAlarm", "TopicSet/RuleEngine/CellMotionDetector/Motion"} {
		topic := p.FindElement(path)
		if topic == nil || topic.SelectAttrValue("wstop:topic", "") != "true" {
			t.Fatalf("topic %s missing", path)
		}
		md := topic.FindElement("MessageDescription")
		if md.SelectAttrValue("IsProperty", "") != "true" || md.FindElement("Data/SimpleItemDescription") == nil {
			t.Errorf("%s: message description incomplete", path)
		}
	}
	// Unimplemented operations fault cleanly.
	status, b, _ := s.call(t, url, `<tev:Seek><tev:UtcTime>2020-01-01T00:00:00Z</tev:UtcTime></tev:Seek>`)
	if status != http.StatusInternalServerError || !strings.Contains(string(b), "ActionNotSupported") {
		t.Errorf("Seek: %d %s", status, b)
	}
}

func TestPullPointLifecycle(t *testing.T) {
	s := newEventsServer(t, EventsConfig{MaxPullPoints: 2}, nil)
	s.ev.SetState(TopicSignalLoss, false)
	s.ev.SetState(TopicMotionAlarm, false)
	s.ev.SetState(TopicCellMotion, false)
	addr := s.createPullPoint(t, `<tev:InitialTerminationTime>PT60S</tev:InitialTerminationTime>`)

	// First pull: the current state of every property as Initialized.
	got := s.pull(t, addr, "PT5S", 10)
	if len(got) != 3 {
		t.Fatalf("initial events %+v", got)
	}
	for _, e := range got {
		if e.op != PropertyInitialized || e.value {
			t.Errorf("initial %+v", e)
		}
	}
	if got[0].topic != TopicSignalLoss || got[0].item != "State" || got[0].source["Source"] != VideoSourceToken {
		t.Errorf("SignalLoss event %+v", got[0])
	}
	if got[2].topic != TopicCellMotion || got[2].item != "IsMotion" || got[2].source["VideoSourceConfigurationToken"] != VideoSourceConfigToken || got[2].source["Rule"] == "" {
		t.Errorf("CellMotion event %+v", got[2])
	}

	// A long poll returns as soon as an event happens.
	go func() {
		time.Sleep(200 * time.Millisecond)
		s.ev.SetState(TopicSignalLoss, true)
		s.ev.SetState(TopicSignalLoss, true) // no change, no event
	}()
	start := time.Now()
	got = s.pull(t, addr, "PT20S", 10)
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("long poll took %v", el)
	}
	if len(got) != 1 || got[0].topic != TopicSignalLoss || got[0].op != PropertyChanged || !got[0].value {
		t.Fatalf("after SetState: %+v", got)
	}
	// Timeout with nothing new: an empty answer.
	if got = s.pull(t, addr, "PT0.3S", 10); len(got) != 0 {
		t.Errorf("empty poll %+v", got)
	}
	// MessageLimit is honoured; the rest stays queued.
	s.ev.SetState(TopicMotionAlarm, true)
	s.ev.SetState(TopicCellMotion, true)
	if got = s.pull(t, addr, "PT1S", 1); len(got) != 1 || got[0].topic != TopicMotionAlarm {
		t.Errorf("limit 1: %+v", got)
	}
	if got = s.pull(t, addr, "PT1S", 1); len(got) != 1 || got[0].topic != TopicCellMotion || !got[0].value {
		t.Errorf("second: %+v", got)
	}

	// SetSynchronizationPoint re-sends all current states as Initialized.
	s.ok(t, addr, `<tev:SetSynchronizationPoint></tev:SetSynchronizationPoint>`, "SetSynchronizationPointResponse")
	got = s.pull(t, addr, "PT1S", 10)
	if len(got) != 3 || got[0].op != PropertyInitialized || !got[0].value || !got[1].value || !got[2].value {
		t.Errorf("after SetSynchronizationPoint: %+v", got)
	}

	// Renew, relative and absolute.
	r := s.ok(t, addr, `<wsnt:Renew><wsnt:TerminationTime>PT120S</wsnt:TerminationTime></wsnt:Renew>`, "RenewResponse")
	tt, _ := time.Parse(time.RFC3339, r.FindElement("TerminationTime").Text())
	ct, _ := time.Parse(time.RFC3339, r.FindElement("CurrentTime").Text())
	if d := tt.Sub(ct); d < 119*time.Second || d > 121*time.Second {
		t.Errorf("relative renew: %v", d)
	}
	abs := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	r = s.ok(t, addr, `<wsnt:Renew><wsnt:TerminationTime>`+abs+`</wsnt:TerminationTime></wsnt:Renew>`, "RenewResponse")
	if got := r.FindElement("TerminationTime").Text(); !strings.HasPrefix(got, abs[:19]) {
		t.Errorf("absolute renew: %s, want %s", got, abs)
	}

	// The maximum number of pull points.
	s.createPullPoint(t, "")
	if status, b, _ := s.call(t, s.srv.URL+"/onvif/events_service", `<tev:CreatePullPointSubscription></tev:CreatePullPointSubscription>`); status == http.StatusOK {
		t.Errorf("third pull point created with MaxPullPoints 2: %s", b)
	}

	// Unsubscribe: the endpoint is gone.
	s.ok(t, addr, `<wsnt:Unsubscribe></wsnt:Unsubscribe>`, "UnsubscribeResponse")
	status, b, _ := s.call(t, addr, `<tev:PullMessages><tev:Timeout>PT1S</tev:Timeout><tev:MessageLimit>1</tev:MessageLimit></tev:PullMessages>`)
	if status == http.StatusOK || !strings.Contains(string(b), "Fault") {
		t.Errorf("pull after Unsubscribe: %d %s", status, b)
	}
	if pull := s.ev.Stats().PullPoints; pull != 1 {
		t.Errorf("%d pull points left, want 1", pull)
	}
}

func TestSubscriptionExpires(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	s := newEventsServer(t, EventsConfig{Now: clock}, nil)
	abs := clock().Add(10 * time.Second).UTC().Format(time.RFC3339)
	addr := s.createPullPoint(t, `<tev:InitialTerminationTime>`+abs+`</tev:InitialTerminationTime>`)
	short := s.createPullPoint(t, `<tev:InitialTerminationTime>PT5S</tev:InitialTerminationTime>`)
	s.pull(t, addr, "PT0S", 10)
	now.Add(int64(6 * time.Second))
	if status, b, _ := s.call(t, short, `<tev:PullMessages><tev:Timeout>PT0S</tev:Timeout><tev:MessageLimit>1</tev:MessageLimit></tev:PullMessages>`); status == http.StatusOK {
		t.Errorf("pull on an expired pull point: %s", b)
	}
	s.pull(t, addr, "PT0S", 10)
	now.Add(int64(5 * time.Second))
	if pull := s.ev.Stats().PullPoints; pull != 0 {
		t.Errorf("%d pull points alive after expiry", pull)
	}
	status, b, _ := s.call(t, addr, `<wsnt:Renew><wsnt:TerminationTime>PT60S</wsnt:TerminationTime></wsnt:Renew>`)
	if status == http.StatusOK || !strings.Contains(string(b), "ResourceUnknown") {
		t.Errorf("renew of an expired subscription: %d %s", status, b)
	}
	// A termination time in the past is refused.
	if status, _, _ := s.call(t, s.srv.URL+"/onvif/events_service", `<tev:CreatePullPointSubscription><tev:InitialTerminationTime>2001-01-01T00:00:00Z</tev:InitialTerminationTime></tev:CreatePullPointSubscription>`); status == http.StatusOK {
		t.Error("subscription with a past termination time created")
	}
}

func TestTopicFilterAndWSAddressingTo(t *testing.T) {
	s := newEventsServer(t, EventsConfig{}, nil)
	s.ev.SetState(TopicSignalLoss, false)
	s.ev.SetState(TopicCellMotion, false)
	addr := s.createPullPoint(t, `<tev:Filter><wsnt:TopicExpression Dialect="`+DialectConcreteSet+`">tns1:RuleEngine//.</wsnt:TopicExpression></tev:Filter>`+
		`<tev:InitialTerminationTime>PT60S</tev:InitialTerminationTime>`)
	s.ev.SetState(TopicSignalLoss, true)
	s.ev.SetState(TopicCellMotion, true)
	// Some clients post to the events service URL and name the subscription in wsa:To.
	s.hdr = `<s:Header><wsa:To xmlns:wsa="http://www.w3.org/2005/08/addressing">` + addr + `</wsa:To></s:Header>`
	got := s.pull(t, s.srv.URL+"/onvif/events_service", "PT1S", 10)
	s.hdr = ""
	if len(got) != 2 || got[0].topic != TopicCellMotion || got[1].topic != TopicCellMotion || got[0].op != PropertyInitialized || !got[1].value {
		t.Errorf("filtered events %+v", got)
	}
	for _, c := range []struct {
		filter []string
		topic  string
		want   bool
	}{
		{nil, TopicSignalLoss, true},
		{[]string{"VideoSource/SignalLoss"}, TopicSignalLoss, true},
		{[]string{"VideoSource/*"}, TopicMotionAlarm, true},
		{[]string{"VideoSource//."}, TopicMotionAlarm, true},
		{[]string{"VideoSource"}, TopicMotionAlarm, false},
		{[]string{"RuleEngine/CellMotionDetector/Motion"}, TopicSignalLoss, false},
		{[]string{}, TopicSignalLoss, false},
	} {
		if got := matchTopic(c.filter, c.topic); got != c.want {
			t.Errorf("matchTopic(%q, %s) = %v", c.filter, c.topic, got)
		}
	}
}

func TestEventsNeedCredentials(t *testing.T) {
	d := testDevice(t, false, false, t.TempDir()+"/state.json")
	d.Store.SetAdmin("admin", "secret")
	s := newEventsServer(t, EventsConfig{}, d.Store)
	url := s.srv.URL + "/onvif/events_service"
	if status, _, _ := s.call(t, url, `<tev:GetServiceCapabilities></tev:GetServiceCapabilities>`); status != http.StatusOK {
		t.Errorf("GetServiceCapabilities (PRE_AUTH) without credentials: %d", status)
	}
	if status, _, _ := s.call(t, url, `<tev:CreatePullPointSubscription></tev:CreatePullPointSubscription>`); status != http.StatusUnauthorized {
		t.Errorf("CreatePullPointSubscription without credentials: %d", status)
	}
	s.hdr = securityHeader("admin", "secret")
	addr := s.createPullPoint(t, "")
	s.hdr = ""
	if status, _, _ := s.call(t, addr, `<tev:PullMessages><tev:Timeout>PT1S</tev:Timeout><tev:MessageLimit>1</tev:MessageLimit></tev:PullMessages>`); status != http.StatusUnauthorized {
		t.Errorf("PullMessages without credentials: %d", status)
	}
	s.hdr = securityHeader("admin", "secret")
	s.pull(t, addr, "PT0S", 1)
}

// consumer is a test notification consumer (the Home Assistant webhook role).
type consumer struct {
	mu   sync.Mutex
	got  []event
	bad  []string
	wake chan struct{}
}

func (c *consumer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	doc := etree.NewDocument()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := doc.ReadFromBytes(b); err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/soap+xml") {
		c.bad = append(c.bad, string(b))
		return
	}
	if err := xsdcheckValidate(b, "{"+wsdl.NSWSNT+"}Notify"); err != nil {
		c.bad = append(c.bad, err.Error())
	}
	n := doc.FindElement("//Notify")
	if n == nil {
		c.bad = append(c.bad, string(b))
		return
	}
	c.got = append(c.got, events(n)...)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

var xsdcheckValidate = func(b []byte, expect string) error {
	v, err := xsdcheck.New()
	if err != nil {
		return nil // Require in the test reports unavailability
	}
	return v.Validate(b, expect)
}

func (c *consumer) wait(t *testing.T, n int) []event {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		c.mu.Lock()
		got, bad := append([]event(nil), c.got...), c.bad
		c.mu.Unlock()
		if len(bad) > 0 {
			t.Fatalf("bad notifications: %q", bad)
		}
		if len(got) >= n {
			return got
		}
		select {
		case <-c.wake:
		case <-deadline:
			t.Fatalf("consumer got %d notifications, want %d: %+v", len(got), n, got)
		}
	}
}

func TestPushSubscription(t *testing.T) {
	xsdcheck.Require(t)
	s := newEventsServer(t, EventsConfig{}, nil)
	s.ev.SetState(TopicSignalLoss, false)
	c := &consumer{wake: make(chan struct{}, 1)}
	cs := httptest.NewServer(c)
	defer cs.Close()
	p := s.ok(t, s.srv.URL+"/onvif/events_service", `<wsnt:Subscribe><wsnt:ConsumerReference><wsa:Address>`+cs.URL+`/hook</wsa:Address></wsnt:ConsumerReference>`+
		`<wsnt:InitialTerminationTime>PT60S</wsnt:InitialTerminationTime></wsnt:Subscribe>`, "SubscribeResponse")
	if p.FindElement("CurrentTime") == nil || p.FindElement("TerminationTime") == nil {
		t.Error("SubscribeResponse without CurrentTime/TerminationTime")
	}
	mgr := p.FindElement("SubscriptionReference/Address").Text()
	got := c.wait(t, 1)
	if got[0].topic != TopicSignalLoss || got[0].op != PropertyInitialized || got[0].value {
		t.Errorf("first notification %+v", got[0])
	}
	s.ev.SetState(TopicMotionAlarm, true)
	got = c.wait(t, 2)
	if got[1].topic != TopicMotionAlarm || got[1].op != PropertyInitialized || !got[1].value {
		t.Errorf("second notification %+v", got[1])
	}
	s.ev.SetState(TopicMotionAlarm, false)
	if got = c.wait(t, 3); got[2].op != PropertyChanged || got[2].value {
		t.Errorf("third notification %+v", got[2])
	}
	s.ok(t, mgr, `<wsnt:Renew><wsnt:TerminationTime>PT30S</wsnt:TerminationTime></wsnt:Renew>`, "RenewResponse")
	s.ok(t, mgr, `<wsnt:Unsubscribe></wsnt:Unsubscribe>`, "UnsubscribeResponse")
	s.ev.SetState(TopicMotionAlarm, true)
	time.Sleep(200 * time.Millisecond)
	c.mu.Lock()
	n := len(c.got)
	c.mu.Unlock()
	if n != 3 {
		t.Errorf("%d notifications after Unsubscribe, want 3", n)
	}
	// A consumer that is not an http(s) URL is refused.
	if status, _, _ := s.call(t, s.srv.URL+"/onvif/events_service", `<wsnt:Subscribe><wsnt:ConsumerReference><wsa:Address>file:///etc/passwd</wsa:Address></wsnt:ConsumerReference></wsnt:Subscribe>`); status == http.StatusOK {
		t.Error("file: consumer accepted")
	}
}

func TestXSDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"PT60S": time.Minute, "PT1M30.5S": 90500 * time.Millisecond, "P1DT2H": 26 * time.Hour, "-PT5S": -5 * time.Second, "PT0S": 0,
	} {
		if got, err := ParseXSDuration(in); err != nil || got != want {
			t.Errorf("ParseXSDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "P", "PT", "60", "PT5", "P5H", "PTS", "PT1S2", "P99999999Y"} {
		if got, err := ParseXSDuration(bad); err == nil {
			t.Errorf("ParseXSDuration(%q) = %v, want error", bad, got)
		}
	}
}

// FuzzXSDuration checks the xs:duration parser (PullMessages Timeout, termination
// times) on arbitrary input: no panic, and what parses formats back to the same value.
func FuzzXSDuration(f *testing.F) {
	for _, s := range []string{"PT60S", "PT1M30.5S", "P1DT2H", "-PT5S", "PT0S", "P1Y2M3DT4H5M6.7S", "PT", "P", "PT1.S", "PT.5S"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseXSDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			d = -d
		}
		back, err := ParseXSDuration(FormatXSDuration(d))
		if err != nil {
			t.Fatalf("%q -> %v -> %q does not parse: %v", s, d, FormatXSDuration(d), err)
		}
		if diff := back - d; diff > time.Microsecond || diff < -time.Microsecond {
			t.Fatalf("%q -> %v -> %q -> %v", s, d, FormatXSDuration(d), back)
		}
	})
}

// TestEngineWithoutSOAP: the event engine works on its own, the way an
// admin page reads it: states, a subscription's messages and the counters.
func TestEngineWithoutSOAP(t *testing.T) {
	ev := NewEvents(EventsConfig{})
	defer ev.Close()
	if _, ok := ev.State(TopicMotionAlarm); ok {
		t.Error("motion state set before anything happened")
	}
	ev.SetMotion(true)
	if v, ok := ev.State(TopicMotionAlarm); !ok || !v {
		t.Errorf("motion state %v %v, want true", v, ok)
	}
	who := Subscriber{User: "admin", Admin: true}
	id, _, err := ev.subscribe(time.Now(), who, "", []string{"VideoSource//."}, false, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if st := ev.Stats(); st.PullPoints != 1 || st.PushSubscriptions != 0 {
		t.Errorf("stats %+v", st)
	}
	ev.SetMotion(false)
	msgs, _, _, err := ev.pull(context.Background(), who, id, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		got = append(got, m.topic+" "+m.op+" "+strconv.FormatBool(m.value))
	}
	want := []string{TopicMotionAlarm + " Initialized true", TopicMotionAlarm + " Changed false"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("messages %q, want %q", got, want)
	}
	if err := ev.unsubscribe(who, id); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := ev.pull(context.Background(), who, id, 0, 10); !errors.Is(err, ErrUnknownSubscription) {
		t.Errorf("pull after unsubscribe: %v", err)
	}
}
