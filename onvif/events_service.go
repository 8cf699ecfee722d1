package onvif

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/soap"
	"github.com/chinesium/chinesium/wsdl"
)

// The SOAP face of the event engine: it reads requests, calls the engine
// and writes the answers and faults.

// Topic expression dialects and URIs of the events service.
const (
	DialectConcreteSet = "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
	DialectConcrete    = "http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete"
	dialectItemFilter  = "http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter"
)

// EventsService returns the events service (ver10) of e: pull point
// subscriptions and WS-BaseNotification push subscriptions. The
// operations of event.wsdl not in the table (Seek, event brokers, the
// pausable and CreatePullPoint interfaces) are classed by what they would
// do (soap.Policy) and answered with env:Receiver/ter:ActionNotSupported.
// GetServiceCapabilities is PRE_AUTH, Subscribe (push) ACTUATE, so that
// only an Operator or an Administrator makes the bridge send HTTP requests
// to another host, everything else READ_MEDIA. A subscription belongs to
// the user who made it: only that user and Administrators may pull, renew
// or end it. The endpoint serving it must also serve the subscription
// addresses, e.BasePath and below.
func EventsService(e *Events) soap.Service {
	s := &eventsService{e: e}
	return soap.Service{
		Namespace:     wsdl.NSEvents,
		Path:          EventsServicePath,
		Version:       serviceVersion,
		Declared:      wsdl.EventsOperations(),
		Unimplemented: soap.Policy{Read: soap.ReadMedia, Write: soap.WriteSystem},
		Capabilities:  s.capabilities,
		Ops: []soap.Op{
			{Name: wsdl.EventsGetServiceCapabilities, Access: soap.PreAuth, Handle: s.getServiceCapabilities},
			{Name: wsdl.EventsGetEventProperties, Access: soap.ReadMedia, Handle: s.getEventProperties},
			{Name: wsdl.EventsCreatePullPointSubscription, Access: soap.ReadMedia, Handle: s.createPullPoint},
			{Name: wsdl.EventsPullMessages, Access: soap.ReadMedia, Handle: s.pullMessages},
			{Name: wsdl.EventsSetSynchronizationPoint, Access: soap.ReadMedia, Handle: s.setSynchronizationPoint},
			{Name: wsdl.WSNTRenew, Namespace: wsdl.NSWSNT, Access: soap.ReadMedia, Handle: s.renew},
			{Name: wsdl.WSNTUnsubscribe, Namespace: wsdl.NSWSNT, Access: soap.ReadMedia, Handle: s.unsubscribe},
			{Name: wsdl.WSNTSubscribe, Namespace: wsdl.NSWSNT, Access: soap.Actuate, Handle: s.subscribe},
		},
	}
}

// eventsService implements the events operations on an engine.
type eventsService struct {
	e *Events
}

// eventsFault turns an engine error into its fault.
func eventsFault(err error) error {
	switch {
	case errors.Is(err, ErrUnknownSubscription), errors.Is(err, ErrNotPullPoint):
		return soap.InvalidArgVal(err.Error(), "ResourceUnknownFault")
	case errors.Is(err, ErrConsumer):
		return soap.InvalidArgVal(err.Error())
	case errors.Is(err, ErrTooManySubscriptions):
		return soap.Action(err.Error(), "MaxSubscriptions")
	case errors.Is(err, ErrTerminationTime):
		return soap.InvalidArgVal(err.Error(), "UnacceptableTerminationTimeFault")
	case errors.Is(err, ErrStopped):
		return soap.Receiver("events service stopped")
	}
	return err
}

func (s *eventsService) getServiceCapabilities(_ context.Context, r *soap.Request) (*etree.Element, error) {
	resp := response("tev:GetServiceCapabilitiesResponse")
	resp.AddChild(s.capabilities(r))
	return resp, nil
}

// capabilities is tev:Capabilities.
func (s *eventsService) capabilities(*soap.Request) *etree.Element {
	c := etree.NewElement("tev:Capabilities")
	c.CreateAttr("WSSubscriptionPolicySupport", "true")
	c.CreateAttr("WSPausableSubscriptionManagerInterfaceSupport", "false")
	c.CreateAttr("MaxNotificationProducers", itoa(s.e.cfg.MaxPushSubscriptions))
	c.CreateAttr("MaxPullPoints", itoa(s.e.cfg.MaxPullPoints))
	c.CreateAttr("PersistentNotificationStorage", "false")
	return c
}

func (s *eventsService) getEventProperties(context.Context, *soap.Request) (*etree.Element, error) {
	resp := response("tev:GetEventPropertiesResponse")
	resp.CreateAttr("xmlns:xs", wsdl.NSXS)
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
			addItems(md, t, true, false)
		}
	}
	add(resp, "wsnt:TopicExpressionDialect", DialectConcreteSet)
	add(resp, "wsnt:TopicExpressionDialect", DialectConcrete)
	add(resp, "tev:MessageContentFilterDialect", dialectItemFilter)
	add(resp, "tev:MessageContentSchemaLocation", "http://www.onvif.org/onvif/ver10/schema/onvif.xsd")
	return resp, nil
}

// addItems adds the topic's tt:Source and tt:Data to a tt:Message
// (tt:SimpleItem elements with Name and Value; the data item's value is
// value) or, when describe is set, to a tt:MessageDescription
// (tt:SimpleItemDescription elements with Name and Type).
func addItems(parent *etree.Element, t eventTopic, describe, value bool) {
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
	addItems(msg, t, false, m.value)
	return nm
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
			return nil, soap.InvalidArgVal("topic expression dialect not supported: "+d, "TopicExpressionDialectUnknownFault")
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

// requestedTermination reads a termination time element (an xs:dateTime
// or an xs:duration from now); zero when el is absent or empty.
func requestedTermination(el *etree.Element, now time.Time) (time.Time, error) {
	if el == nil || strings.TrimSpace(el.Text()) == "" {
		return time.Time{}, nil
	}
	t, err := parseTerminationTime(el.Text(), now)
	if err != nil {
		return time.Time{}, soap.InvalidArgVal(err.Error(), "UnacceptableTerminationTimeFault")
	}
	return t, nil
}

// subscriber returns who makes request r.
func subscriber(r *soap.Request) Subscriber {
	return Subscriber{User: r.User, Admin: r.Level() == soap.LevelAdministrator}
}

// subscriptionAddress is the endpoint URL of a subscription, on the host the client used.
func (s *eventsService) subscriptionAddress(r *soap.Request, id string) string {
	scheme, host := "http", "localhost"
	if r.HTTP != nil {
		host = r.HTTP.Host
		if r.HTTP.TLS != nil {
			scheme = "https"
		}
	}
	return scheme + "://" + host + s.e.cfg.BasePath + id
}

// subscriptionID returns the id of the subscription a request addresses: by
// the request path, else by the WS-Addressing To header.
func (s *eventsService) subscriptionID(r *soap.Request) string {
	base := s.e.cfg.BasePath
	if r.HTTP != nil {
		if id, ok := strings.CutPrefix(r.HTTP.URL.Path, base); ok && id != "" {
			return id
		}
	}
	if to := child(r.Header, "To"); to != nil {
		if u, err := url.Parse(strings.TrimSpace(to.Text())); err == nil {
			id, _ := strings.CutPrefix(u.Path, base)
			return id
		}
	}
	return ""
}

func (s *eventsService) createPullPoint(_ context.Context, r *soap.Request) (*etree.Element, error) {
	return s.create(r, "")
}

func (s *eventsService) subscribe(_ context.Context, r *soap.Request) (*etree.Element, error) {
	addr, _ := childText(child(r.Body, "ConsumerReference"), "Address")
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, soap.InvalidArgVal("ConsumerReference Address must be an http(s) URL")
	}
	if err := s.e.consumerAllowed(u, r.HTTP); err != nil {
		return nil, eventsFault(err)
	}
	return s.create(r, u.String())
}

// create makes a pull point (consumer "") or push subscription from a
// CreatePullPointSubscription or Subscribe request.
func (s *eventsService) create(r *soap.Request, consumer string) (*etree.Element, error) {
	filter, err := parseFilter(child(r.Body, "Filter"))
	if err != nil {
		return nil, err
	}
	now := s.e.cfg.Now()
	requested, err := requestedTermination(child(r.Body, "InitialTerminationTime"), now)
	if err != nil {
		return nil, err
	}
	changedOnly := child(child(r.Body, "SubscriptionPolicy"), "ChangedOnly") != nil
	id, expires, err := s.e.subscribe(now, subscriber(r), consumer, filter, changedOnly, requested)
	if err != nil {
		return nil, eventsFault(err)
	}
	name, refName := "tev:CreatePullPointSubscriptionResponse", "tev:SubscriptionReference"
	if consumer != "" {
		name, refName = "wsnt:SubscribeResponse", "wsnt:SubscriptionReference"
	}
	resp := response(name)
	add(resp.CreateElement(refName), "wsa:Address", s.subscriptionAddress(r, id))
	add(resp, "wsnt:CurrentTime", xsDateTime(now))
	add(resp, "wsnt:TerminationTime", xsDateTime(expires))
	return resp, nil
}

func (s *eventsService) pullMessages(ctx context.Context, r *soap.Request) (*etree.Element, error) {
	timeoutText, _ := childText(r.Body, "Timeout")
	timeout, err := ParseXSDuration(timeoutText)
	if err != nil || timeout < 0 {
		return nil, soap.InvalidArgVal("PullMessages Timeout must be an xs:duration")
	}
	limitText, _ := childText(r.Body, "MessageLimit")
	limit, err := strconv.Atoi(limitText)
	if err != nil || limit < 0 {
		return nil, soap.InvalidArgVal("PullMessages MessageLimit must be an int")
	}
	msgs, now, expires, err := s.e.pull(ctx, subscriber(r), s.subscriptionID(r), timeout, limit)
	if err != nil {
		return nil, eventsFault(err)
	}
	resp := response("tev:PullMessagesResponse")
	add(resp, "tev:CurrentTime", xsDateTime(now))
	add(resp, "tev:TerminationTime", xsDateTime(expires))
	for _, m := range msgs {
		resp.AddChild(notificationMessage(m, ""))
	}
	return resp, nil
}

func (s *eventsService) setSynchronizationPoint(_ context.Context, r *soap.Request) (*etree.Element, error) {
	if err := s.e.synchronize(subscriber(r), s.subscriptionID(r)); err != nil {
		return nil, eventsFault(err)
	}
	return response("tev:SetSynchronizationPointResponse"), nil
}

func (s *eventsService) renew(_ context.Context, r *soap.Request) (*etree.Element, error) {
	now := s.e.cfg.Now()
	requested, err := requestedTermination(child(r.Body, "TerminationTime"), now)
	if err != nil {
		return nil, err
	}
	expires, err := s.e.renew(now, subscriber(r), s.subscriptionID(r), requested)
	if err != nil {
		return nil, eventsFault(err)
	}
	resp := response("wsnt:RenewResponse")
	add(resp, "wsnt:TerminationTime", xsDateTime(expires))
	add(resp, "wsnt:CurrentTime", xsDateTime(now))
	return resp, nil
}

func (s *eventsService) unsubscribe(_ context.Context, r *soap.Request) (*etree.Element, error) {
	if err := s.e.unsubscribe(subscriber(r), s.subscriptionID(r)); err != nil {
		return nil, eventsFault(err)
	}
	return response("wsnt:UnsubscribeResponse"), nil
}
