package onvif

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/soap"
	"github.com/chinesium/chinesium/wsdl"
)

// Event topics the bridge raises (ONVIF topic namespace tns1).
const (
	// TopicSignalLoss is true while the camera delivers no frames.
	TopicSignalLoss = "tns1:VideoSource/SignalLoss"
	// TopicMotionAlarm is true while motion is detected (data item State).
	TopicMotionAlarm = "tns1:VideoSource/MotionAlarm"
	// TopicCellMotion is the same motion state as the cell motion detector rule
	// (data item IsMotion), the topic most NVRs (Frigate, Home Assistant) read.
	TopicCellMotion = "tns1:RuleEngine/CellMotionDetector/Motion"
)

// Topic expression dialects and URIs of the events service.
const (
	DialectConcreteSet = "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
	DialectConcrete    = "http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete"
	dialectItemFilter  = "http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter"
	actionNotify       = "http://docs.oasis-open.org/wsn/bw-2/NotificationConsumer/Notify"
	nsXS               = "http://www.w3.org/2001/XMLSchema"
	// CellMotionRule is the Rule source item of TopicCellMotion events.
	CellMotionRule = "MyMotionDetectorRule"
	// AnalyticsToken is the VideoAnalyticsConfigurationToken source item of
	// TopicCellMotion events.
	AnalyticsToken = "VideoAnalyticsToken"
)

// Property operations of property events.
const (
	PropertyInitialized = "Initialized"
	PropertyChanged     = "Changed"
	PropertyDeleted     = "Deleted"
)

type simpleItem struct{ name, typ, value string }

// eventTopic describes one topic: where it sits in the topic tree, its source items
// and its boolean data item.
type eventTopic struct {
	name   string
	source []simpleItem
	data   string
}

// eventTopics is the fixed topic set.
var eventTopics = []eventTopic{
	{TopicSignalLoss, []simpleItem{{"Source", "tt:ReferenceToken", VideoSourceToken}}, "State"},
	{TopicMotionAlarm, []simpleItem{{"Source", "tt:ReferenceToken", VideoSourceToken}}, "State"},
	{TopicCellMotion, []simpleItem{
		{"VideoSourceConfigurationToken", "tt:ReferenceToken", VideoSourceConfigToken},
		{"VideoAnalyticsConfigurationToken", "tt:ReferenceToken", AnalyticsToken},
		{"Rule", "xs:string", CellMotionRule},
	}, "IsMotion"},
}

// addItems adds the topic's tt:Source and tt:Data to a tt:Message
// (tt:SimpleItem elements with Name and Value; the data item's value is
// value) or, when describe is set, to a tt:MessageDescription
// (tt:SimpleItemDescription elements with Name and Type).
func (t eventTopic) addItems(parent *etree.Element, describe, value bool) {
	tag := "tt:SimpleItem"
	if describe {
		tag = "tt:SimpleItemDescription"
	}
	data := simpleItem{t.data, "xs:boolean", strconv.FormatBool(value)}
	for _, part := range []struct {
		tag   string
		items []simpleItem
	}{{"tt:Source", t.source}, {"tt:Data", []simpleItem{data}}} {
		p := parent.CreateElement(part.tag)
		for _, it := range part.items {
			e := p.CreateElement(tag)
			e.CreateAttr("Name", it.name)
			if describe {
				e.CreateAttr("Type", it.typ)
			} else {
				e.CreateAttr("Value", it.value)
			}
		}
	}
}

func topicByName(name string) (eventTopic, bool) {
	for _, t := range eventTopics {
		if t.name == name {
			return t, true
		}
	}
	return eventTopic{}, false
}

// EventsConfig configures the events service. Zero fields take the documented defaults.
type EventsConfig struct {
	// BasePath is the path prefix of subscription endpoints; every subscription gets
	// BasePath+<id>. Default "/onvif/events/subscription/".
	BasePath string
	// MaxPullPoints bounds live pull point subscriptions. Default 10.
	MaxPullPoints int
	// MaxPushSubscriptions bounds live WS-BaseNotification (push) subscriptions.
	// Default 10.
	MaxPushSubscriptions int
	// MaxQueue bounds the messages kept per subscription; the oldest are dropped.
	// Default 100.
	MaxQueue int
	// MaxPullTimeout caps the PullMessages Timeout. Default 5 min.
	MaxPullTimeout time.Duration
	// MaxMessageLimit caps the PullMessages MessageLimit. Default 1024.
	MaxMessageLimit int
	// DefaultTermination is the lifetime of a subscription created without
	// InitialTerminationTime. Default 60 s.
	DefaultTermination time.Duration
	// MaxTermination caps requested lifetimes. Default 24 h.
	MaxTermination time.Duration
	// Client sends push notifications. Default: 5 s timeout, no redirects.
	Client *http.Client
	// NotifyRetries is how often a failed Notify POST (a network error or a non-2xx
	// answer) is tried again while the subscription is alive; after that its
	// messages are dropped and counted (see NotifyLost). Default 3.
	NotifyRetries int
	// NotifyBackoff is the wait before the first retry; it doubles for every
	// further one. Default 500 ms (so 0.5 s, 1 s, 2 s).
	NotifyBackoff time.Duration
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// eventMsg is one property event.
type eventMsg struct {
	topic string
	utc   time.Time
	op    string
	value bool
}

type subscription struct {
	id          string
	consumer    string // push consumer URL; "" for pull points
	filter      []string
	changedOnly bool
	expires     time.Time
	queue       []eventMsg
	dropped     uint64
	wake        chan struct{} // closed and replaced when the queue grows or the subscription ends
	gone        bool
}

func (s *subscription) push() bool { return s.consumer != "" }

// notifyLocked wakes waiters (pull) or the pusher.
func (s *subscription) notifyLocked() {
	close(s.wake)
	s.wake = make(chan struct{})
}

type propState struct {
	value   bool
	deleted bool
}

// Events is the ONVIF events service (ver10) of one virtual device: pull point
// subscriptions, WS-BaseNotification push subscriptions and the property states the
// bridge sets. Create it with NewEvents; it is safe for concurrent use.
type Events struct {
	cfg EventsConfig
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	notifyLost atomic.Uint64 // push messages dropped after the last retry

	mu     sync.Mutex
	states map[string]*propState
	order  []string // topics in the order first set
	subs   map[string]*subscription
}

// NewEvents returns an events service with cfg's defaults filled in.
func NewEvents(cfg EventsConfig) *Events {
	if cfg.BasePath == "" {
		cfg.BasePath = "/onvif/events/subscription/"
	}
	if !strings.HasSuffix(cfg.BasePath, "/") {
		cfg.BasePath += "/"
	}
	orDefault(&cfg.MaxPullPoints, 10)
	orDefault(&cfg.MaxPushSubscriptions, 10)
	orDefault(&cfg.MaxQueue, 100)
	orDefault(&cfg.MaxPullTimeout, 5*time.Minute)
	orDefault(&cfg.MaxMessageLimit, 1024)
	orDefault(&cfg.DefaultTermination, time.Minute)
	orDefault(&cfg.MaxTermination, 24*time.Hour)
	orDefault(&cfg.NotifyRetries, 3)
	orDefault(&cfg.NotifyBackoff, 500*time.Millisecond)
	if cfg.Client == nil {
		cfg.Client = &http.Client{
			Timeout:       5 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Events{
		cfg: cfg, log: cfg.Logger.With("component", "events"),
		ctx: ctx, cancel: cancel,
		states: map[string]*propState{}, subs: map[string]*subscription{},
	}
}

// orDefault sets *v to def when *v is zero or negative.
func orDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// BasePath is the path prefix of the subscription endpoints; the bridge routes it to
// the same SOAP service as the events service.
func (e *Events) BasePath() string { return e.cfg.BasePath }

// Close ends all subscriptions and stops push deliveries.
func (e *Events) Close() {
	e.cancel()
	e.mu.Lock()
	for id, s := range e.subs {
		e.removeLocked(id, s)
	}
	e.mu.Unlock()
	e.wg.Wait()
}

// SetState sets a property topic (one of the Topic constants) to value. The first
// call raises an Initialized event, later calls a Changed event when the value
// changes; setting the same value again raises nothing.
func (e *Events) SetState(topic string, value bool) {
	if _, ok := topicByName(topic); !ok {
		e.log.Warn("events: unknown topic", "topic", topic)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	op := PropertyChanged
	st := e.states[topic]
	switch {
	case st == nil:
		st = &propState{}
		e.states[topic] = st
		e.order = append(e.order, topic)
		op = PropertyInitialized
	case st.deleted:
		op = PropertyInitialized
	case st.value == value:
		return
	}
	st.value, st.deleted = value, false
	e.publishLocked(eventMsg{topic: topic, utc: e.cfg.Now(), op: op, value: value})
}

// DeleteState removes a property (the source went away), raising a Deleted event.
func (e *Events) DeleteState(topic string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.states[topic]
	if st == nil || st.deleted {
		return
	}
	st.deleted = true
	e.publishLocked(eventMsg{topic: topic, utc: e.cfg.Now(), op: PropertyDeleted, value: st.value})
}

// State returns a property's current value and whether it is set.
func (e *Events) State(topic string) (value, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.states[topic]
	if st == nil || st.deleted {
		return false, false
	}
	return st.value, true
}

func (e *Events) publishLocked(m eventMsg) {
	e.expireLocked()
	for _, s := range e.subs {
		e.enqueueLocked(s, m)
	}
}

func (e *Events) enqueueLocked(s *subscription, m eventMsg) {
	if !matchTopic(s.filter, m.topic) {
		return
	}
	if s.changedOnly && m.op != PropertyChanged {
		return
	}
	if len(s.queue) >= e.cfg.MaxQueue {
		s.queue = s.queue[1:]
		s.dropped++
	}
	s.queue = append(s.queue, m)
	s.notifyLocked()
}

// initializedLocked queues the current state of every property as Initialized.
func (e *Events) initializedLocked(s *subscription) {
	if s.changedOnly {
		return
	}
	now := e.cfg.Now()
	for _, topic := range e.order {
		st := e.states[topic]
		if st.deleted || !matchTopic(s.filter, topic) {
			continue
		}
		if len(s.queue) >= e.cfg.MaxQueue {
			s.queue = s.queue[1:]
			s.dropped++
		}
		s.queue = append(s.queue, eventMsg{topic: topic, utc: now, op: PropertyInitialized, value: st.value})
	}
	s.notifyLocked()
}

// expireLocked removes subscriptions past their termination time.
func (e *Events) expireLocked() {
	now := e.cfg.Now()
	for id, s := range e.subs {
		if !now.Before(s.expires) {
			e.log.Debug("events: subscription expired", "id", id)
			e.removeLocked(id, s)
		}
	}
}

func (e *Events) removeLocked(id string, s *subscription) {
	delete(e.subs, id)
	s.gone = true
	s.notifyLocked()
}

// Subscriptions returns the number of live pull point and push subscriptions.
func (e *Events) Subscriptions() (pull, push int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.expireLocked()
	for _, s := range e.subs {
		if s.push() {
			push++
		} else {
			pull++
		}
	}
	return pull, push
}

// matchTopic applies a topic filter: nil matches everything; each entry is a topic
// path without prefixes, optionally ending in "//." (the topic and its descendants),
// with "*" matching one segment.
func matchTopic(filter []string, topic string) bool {
	if filter == nil {
		return true
	}
	path := stripTopicPrefixes(topic)
	for _, f := range filter {
		if rest, ok := strings.CutSuffix(f, "//."); ok {
			if path == rest || strings.HasPrefix(path, rest+"/") || rest == "" {
				return true
			}
			continue
		}
		fs, ps := strings.Split(f, "/"), strings.Split(path, "/")
		if len(fs) != len(ps) {
			continue
		}
		ok := true
		for i := range fs {
			if fs[i] != "*" && fs[i] != ps[i] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// stripTopicPrefixes removes namespace prefixes from every segment: tns1:A/tns1:B -> A/B.
func stripTopicPrefixes(s string) string {
	segs := strings.Split(strings.TrimSpace(s), "/")
	for i, seg := range segs {
		if _, local, ok := strings.Cut(seg, ":"); ok {
			segs[i] = local
		}
	}
	return strings.Join(segs, "/")
}

// parseFilter reads a wsnt:Filter: the topic expressions become a filter list (nil
// when there is none). An unknown dialect is a fault.
func parseFilter(f *etree.Element) ([]string, error) {
	if f == nil {
		return nil, nil
	}
	var out []string
	found := false
	for _, te := range f.ChildElements() {
		if te.Tag != "TopicExpression" {
			continue
		}
		found = true
		d := te.SelectAttrValue("Dialect", DialectConcreteSet)
		if d != DialectConcreteSet && d != DialectConcrete && !strings.HasPrefix(d, "http://docs.oasis-open.org/wsn/t-1/TopicExpression/") {
			return nil, soap.Sender("topic expression dialect not supported: "+d, "InvalidArgVal", "TopicExpressionDialectUnknownFault")
		}
		for _, alt := range strings.Split(te.Text(), "|") {
			if alt = strings.TrimSpace(alt); alt != "" {
				out = append(out, stripTopicPrefixes(alt))
			}
		}
	}
	if !found {
		return nil, nil
	}
	if out == nil {
		out = []string{} // an empty expression matches nothing
	}
	return out, nil
}

func newSubscriptionID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// terminationTime computes a requested termination time, defaulting and capping it.
func (e *Events) terminationTime(el *etree.Element, now time.Time) (time.Time, error) {
	if el == nil || strings.TrimSpace(el.Text()) == "" {
		return now.Add(e.cfg.DefaultTermination), nil
	}
	t, err := parseTerminationTime(el.Text(), now)
	if err != nil {
		return time.Time{}, soap.Sender(err.Error(), "InvalidArgVal", "UnacceptableTerminationTimeFault")
	}
	if !t.After(now) {
		return time.Time{}, soap.Sender("termination time is not in the future", "InvalidArgVal", "UnacceptableTerminationTimeFault")
	}
	if t.Sub(now) > e.cfg.MaxTermination {
		t = now.Add(e.cfg.MaxTermination)
	}
	return t, nil
}

// subscriptionAddress is the endpoint URL of a subscription, on the host the client used.
func (e *Events) subscriptionAddress(r *soap.Request, id string) string {
	scheme, host := "http", "localhost"
	if r.HTTP != nil {
		host = r.HTTP.Host
		if r.HTTP.TLS != nil {
			scheme = "https"
		}
	}
	return scheme + "://" + host + e.cfg.BasePath + id
}

// lookup finds the subscription a request addresses: by the request path, else by
// the WS-Addressing To header. It faults when the subscription is unknown or expired.
func (e *Events) lookupLocked(r *soap.Request) (*subscription, error) {
	e.expireLocked()
	var id string
	if r.HTTP != nil {
		id, _ = strings.CutPrefix(r.HTTP.URL.Path, e.cfg.BasePath)
		if id == r.HTTP.URL.Path {
			id = ""
		}
	}
	if id == "" {
		if to := child(r.Header, "To"); to != nil {
			if u, err := url.Parse(strings.TrimSpace(to.Text())); err == nil {
				id, _ = strings.CutPrefix(u.Path, e.cfg.BasePath)
			}
		}
	}
	s := e.subs[id]
	if id == "" || s == nil {
		return nil, soap.Sender("unknown or expired subscription", "InvalidArgVal", "ResourceUnknownFault")
	}
	return s, nil
}

// EventsService returns the events service (ver10) of e: pull point
// subscriptions and WS-BaseNotification push subscriptions. The
// operations of event.wsdl not in the table (Seek, event brokers, the
// pausable and CreatePullPoint interfaces) are classed by what they would
// do (soap.Policy) and answered with env:Receiver/ter:ActionNotSupported. GetServiceCapabilities is PRE_AUTH,
// everything else READ_MEDIA. The endpoint serving it must also serve the
// subscription addresses, Events.BasePath and below.
func EventsService(e *Events) soap.Service {
	return soap.Service{
		Namespace:     wsdl.NSEvents,
		Path:          EventsServicePath,
		Version:       serviceVersion,
		Declared:      wsdl.EventsOperations(),
		Unimplemented: soap.Policy{Read: soap.ReadMedia, Write: soap.WriteSystem},
		Capabilities:  e.capabilities,
		Ops: []soap.Op{
			{Name: wsdl.EventsGetServiceCapabilities, Access: soap.PreAuth, Handle: e.getServiceCapabilities},
			{Name: wsdl.EventsGetEventProperties, Access: soap.ReadMedia, Handle: e.getEventProperties},
			{Name: wsdl.EventsCreatePullPointSubscription, Access: soap.ReadMedia, Handle: e.createPullPoint},
			{Name: wsdl.EventsPullMessages, Access: soap.ReadMedia, Handle: e.pullMessages},
			{Name: wsdl.EventsSetSynchronizationPoint, Access: soap.ReadMedia, Handle: e.setSynchronizationPoint},
			{Name: wsdl.WSNTRenew, Namespace: wsdl.NSWSNT, Access: soap.ReadMedia, Handle: e.renew},
			{Name: wsdl.WSNTUnsubscribe, Namespace: wsdl.NSWSNT, Access: soap.ReadMedia, Handle: e.unsubscribe},
			{Name: wsdl.WSNTSubscribe, Namespace: wsdl.NSWSNT, Access: soap.ReadMedia, Handle: e.subscribe},
		},
	}
}

func (e *Events) getServiceCapabilities(_ context.Context, r *soap.Request) (*etree.Element, error) {
	resp := response("tev:GetServiceCapabilitiesResponse")
	resp.AddChild(e.capabilities(r))
	return resp, nil
}

// capabilities is tev:Capabilities.
func (e *Events) capabilities(*soap.Request) *etree.Element {
	c := etree.NewElement("tev:Capabilities")
	c.CreateAttr("WSSubscriptionPolicySupport", "true")
	c.CreateAttr("WSPausableSubscriptionManagerInterfaceSupport", "false")
	c.CreateAttr("MaxNotificationProducers", itoa(e.cfg.MaxPushSubscriptions))
	c.CreateAttr("MaxPullPoints", itoa(e.cfg.MaxPullPoints))
	c.CreateAttr("PersistentNotificationStorage", "false")
	return c
}

func (e *Events) getEventProperties(context.Context, *soap.Request) (*etree.Element, error) {
	resp := response("tev:GetEventPropertiesResponse")
	resp.CreateAttr("xmlns:xs", nsXS)
	add(resp, "tev:TopicNamespaceLocation", "http://www.onvif.org/onvif/ver10/topics/topicns.xml")
	add(resp, "wsnt:FixedTopicSet", "true")
	set := resp.CreateElement("wstop:TopicSet")
	for _, t := range eventTopics {
		parent := set
		segs := strings.Split(t.name, "/")
		for i, seg := range segs {
			if !strings.Contains(seg, ":") {
				seg = "tns1:" + seg
			}
			var next *etree.Element
			for _, c := range parent.ChildElements() {
				if c.FullTag() == seg {
					next = c
				}
			}
			if next == nil {
				next = parent.CreateElement(seg)
			}
			parent = next
			if i < len(segs)-1 {
				continue
			}
			parent.CreateAttr("wstop:topic", "true")
			md := parent.CreateElement("tt:MessageDescription")
			md.CreateAttr("IsProperty", "true")
			t.addItems(md, true, false)
		}
	}
	add(resp, "wsnt:TopicExpressionDialect", DialectConcreteSet)
	add(resp, "wsnt:TopicExpressionDialect", DialectConcrete)
	add(resp, "tev:MessageContentFilterDialect", dialectItemFilter)
	add(resp, "tev:MessageContentSchemaLocation", "http://www.onvif.org/onvif/ver10/schema/onvif.xsd")
	return resp, nil
}

func (e *Events) createPullPoint(_ context.Context, r *soap.Request) (*etree.Element, error) {
	return e.create(r, "")
}

// create makes a pull point (consumer "") or push subscription from a
// CreatePullPointSubscription or Subscribe request.
func (e *Events) create(r *soap.Request, consumer string) (*etree.Element, error) {
	filter, err := parseFilter(child(r.Body, "Filter"))
	if err != nil {
		return nil, err
	}
	now := e.cfg.Now()
	expires, err := e.terminationTime(child(r.Body, "InitialTerminationTime"), now)
	if err != nil {
		return nil, err
	}
	changedOnly := child(child(r.Body, "SubscriptionPolicy"), "ChangedOnly") != nil
	e.mu.Lock()
	e.expireLocked()
	n := 0
	for _, s := range e.subs {
		if s.push() == (consumer != "") {
			n++
		}
	}
	limit := e.cfg.MaxPullPoints
	if consumer != "" {
		limit = e.cfg.MaxPushSubscriptions
	}
	if n >= limit {
		e.mu.Unlock()
		return nil, soap.Receiver(fmt.Sprintf("at most %d subscriptions of this kind", limit), "Action", "MaxSubscriptions")
	}
	s := &subscription{
		id: newSubscriptionID(), consumer: consumer, filter: filter, changedOnly: changedOnly,
		expires: expires, wake: make(chan struct{}),
	}
	e.subs[s.id] = s
	e.initializedLocked(s)
	e.mu.Unlock()
	if consumer != "" {
		e.wg.Add(1)
		go e.pushLoop(s)
	}
	e.log.Debug("events: subscription created", "id", s.id, "push", consumer != "", "expires", expires)

	name, refName := "tev:CreatePullPointSubscriptionResponse", "tev:SubscriptionReference"
	if consumer != "" {
		name, refName = "wsnt:SubscribeResponse", "wsnt:SubscriptionReference"
	}
	resp := response(name)
	add(resp.CreateElement(refName), "wsa:Address", e.subscriptionAddress(r, s.id))
	add(resp, "wsnt:CurrentTime", xsDateTime(now))
	add(resp, "wsnt:TerminationTime", xsDateTime(expires))
	return resp, nil
}

func (e *Events) pullMessages(ctx context.Context, r *soap.Request) (*etree.Element, error) {
	timeoutText, _ := childText(r.Body, "Timeout")
	timeout, err := ParseXSDuration(timeoutText)
	if err != nil || timeout < 0 {
		return nil, soap.InvalidArgVal("PullMessages Timeout must be an xs:duration")
	}
	timeout = min(timeout, e.cfg.MaxPullTimeout)
	limitText, _ := childText(r.Body, "MessageLimit")
	limit, err := strconv.Atoi(limitText)
	if err != nil || limit < 0 {
		return nil, soap.InvalidArgVal("PullMessages MessageLimit must be an int")
	}
	limit = max(1, min(limit, e.cfg.MaxMessageLimit))

	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		e.mu.Lock()
		s, err := e.lookupLocked(r)
		if err != nil {
			e.mu.Unlock()
			return nil, err
		}
		if s.push() {
			e.mu.Unlock()
			return nil, soap.Sender("PullMessages on a push subscription", "InvalidArgVal", "ResourceUnknownFault")
		}
		// A pull point stays alive while it is being pulled.
		if keep := e.cfg.Now().Add(timeout + 10*time.Second); s.expires.Before(keep) && timeout > 0 {
			s.expires = keep
		}
		if len(s.queue) > 0 || timeout == 0 {
			n := min(limit, len(s.queue))
			msgs := slices.Clone(s.queue[:n])
			s.queue = slices.Delete(s.queue, 0, n)
			now, expires := e.cfg.Now(), s.expires
			e.mu.Unlock()
			resp := response("tev:PullMessagesResponse")
			add(resp, "tev:CurrentTime", xsDateTime(now))
			add(resp, "tev:TerminationTime", xsDateTime(expires))
			for _, m := range msgs {
				resp.AddChild(notificationMessage(m, ""))
			}
			return resp, nil
		}
		wake := s.wake
		e.mu.Unlock()
		select {
		case <-wake:
		case <-deadline.C:
			timeout = 0 // answer with what there is (nothing)
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-e.ctx.Done():
			return nil, soap.Receiver("events service stopped")
		}
	}
}

// notificationMessage builds a wsnt:NotificationMessage for m; subscription, if not
// empty, is added as the SubscriptionReference (push).
func notificationMessage(m eventMsg, subscription string) *etree.Element {
	nm := etree.NewElement("wsnt:NotificationMessage")
	if subscription != "" {
		add(nm.CreateElement("wsnt:SubscriptionReference"), "wsa:Address", subscription)
	}
	topic := add(nm, "wsnt:Topic", m.topic)
	topic.CreateAttr("Dialect", DialectConcreteSet)
	msg := nm.CreateElement("wsnt:Message").CreateElement("tt:Message")
	msg.CreateAttr("UtcTime", xsDateTime(m.utc))
	msg.CreateAttr("PropertyOperation", m.op)
	t, _ := topicByName(m.topic)
	t.addItems(msg, false, m.value)
	return nm
}

func (e *Events) setSynchronizationPoint(_ context.Context, r *soap.Request) (*etree.Element, error) {
	e.mu.Lock()
	s, err := e.lookupLocked(r)
	if err == nil {
		e.initializedLocked(s)
	}
	e.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return response("tev:SetSynchronizationPointResponse"), nil
}

func (e *Events) renew(_ context.Context, r *soap.Request) (*etree.Element, error) {
	now := e.cfg.Now()
	tt := child(r.Body, "TerminationTime")
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.lookupLocked(r)
	if err != nil {
		return nil, err
	}
	expires, err := e.terminationTime(tt, now)
	if err != nil {
		return nil, err
	}
	s.expires = expires
	s.notifyLocked() // the pusher re-arms its expiry timer
	resp := response("wsnt:RenewResponse")
	add(resp, "wsnt:TerminationTime", xsDateTime(expires))
	add(resp, "wsnt:CurrentTime", xsDateTime(now))
	return resp, nil
}

func (e *Events) unsubscribe(_ context.Context, r *soap.Request) (*etree.Element, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.lookupLocked(r)
	if err != nil {
		return nil, err
	}
	e.removeLocked(s.id, s)
	return response("wsnt:UnsubscribeResponse"), nil
}

func (e *Events) subscribe(_ context.Context, r *soap.Request) (*etree.Element, error) {
	addr, _ := childText(child(r.Body, "ConsumerReference"), "Address")
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, soap.InvalidArgVal("ConsumerReference Address must be an http(s) URL")
	}
	return e.create(r, u.String())
}

// pushLoop delivers a push subscription's messages to its consumer until the
// subscription ends.
func (e *Events) pushLoop(s *subscription) {
	defer e.wg.Done()
	for {
		e.mu.Lock()
		if s.gone {
			e.mu.Unlock()
			return
		}
		msgs := s.queue
		s.queue = nil
		wake, expires := s.wake, s.expires
		e.mu.Unlock()
		if len(msgs) > 0 {
			e.deliver(s, msgs)
			continue
		}
		wait := time.NewTimer(max(0, expires.Sub(e.cfg.Now())))
		select {
		case <-wake:
		case <-wait.C:
			e.mu.Lock()
			e.expireLocked()
			e.mu.Unlock()
		case <-e.ctx.Done():
			wait.Stop()
			return
		}
		wait.Stop()
	}
}

// NotifyLost returns how many push notification messages were dropped because their
// consumer did not accept them after NotifyRetries retries.
func (e *Events) NotifyLost() uint64 { return e.notifyLost.Load() }

// deliver sends msgs to the push consumer, retrying a failed POST up to
// NotifyRetries times with a doubling back-off while the subscription is alive.
// It runs on the subscription's own pushLoop, so a slow or failing consumer
// delays no other subscription. Messages still undelivered at the end are dropped,
// counted and logged.
func (e *Events) deliver(s *subscription, msgs []eventMsg) {
	backoff := e.cfg.NotifyBackoff
	for try := 0; ; try++ {
		err := e.notify(s, msgs)
		if err == nil {
			return
		}
		if try == e.cfg.NotifyRetries || !e.waitAlive(s, backoff) {
			e.notifyLost.Add(uint64(len(msgs)))
			if e.ctx.Err() == nil {
				e.log.Error("events: notification lost", "id", s.id, "consumer", s.consumer,
					"messages", len(msgs), "tries", try+1, "lost_total", e.notifyLost.Load(), "err", err)
			}
			return
		}
		e.log.Warn("events: notify failed, retrying", "id", s.id, "consumer", s.consumer,
			"try", try+1, "in", backoff, "err", err)
		backoff *= 2
	}
}

// waitAlive waits d and reports whether s is still alive (neither removed,
// expired nor the service closed) afterwards. It returns false early when s ends.
func (e *Events) waitAlive(s *subscription, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		e.mu.Lock()
		if !s.gone && !e.cfg.Now().Before(s.expires) {
			e.expireLocked()
		}
		gone, wake := s.gone, s.wake
		e.mu.Unlock()
		if gone {
			return false
		}
		select {
		case <-timer.C:
			e.mu.Lock()
			gone = s.gone
			e.mu.Unlock()
			return !gone
		case <-e.ctx.Done():
			return false
		case <-wake: // new messages, a Renew or the end: look again
		}
	}
}

// notify POSTs one wsnt:Notify with msgs to the consumer and returns why it
// was not accepted (a network error or a non-2xx status).
func (e *Events) notify(s *subscription, msgs []eventMsg) error {
	n := etree.NewElement("wsnt:Notify")
	for _, m := range msgs {
		n.AddChild(notificationMessage(m, ""))
	}
	doc := soap.NewResponse(soap.V12, n)
	env := doc.Root()
	h := etree.NewElement(soap.EnvPrefix + ":Header")
	add(h, "wsa:Action", actionNotify)
	add(h, "wsa:To", s.consumer)
	env.InsertChildAt(0, h)
	body := soap.Marshal(doc)
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.Client.Timeout+time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.consumer, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("notify request: %w", err)
	}
	req.Header.Set("Content-Type", `application/soap+xml; charset=utf-8; action="`+actionNotify+`"`)
	resp, err := e.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("notify rejected: %s", resp.Status)
	}
	return nil
}

// SetSignalLoss sets TopicSignalLoss: lost is true while the camera delivers no frames.
func (e *Events) SetSignalLoss(lost bool) { e.SetState(TopicSignalLoss, lost) }

// SetMotion sets both motion topics, TopicMotionAlarm and TopicCellMotion. It fits
// motion.Config.OnChange.
func (e *Events) SetMotion(motion bool) {
	e.SetState(TopicMotionAlarm, motion)
	e.SetState(TopicCellMotion, motion)
}
