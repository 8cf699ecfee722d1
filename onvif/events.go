package onvif

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The event engine of a device: the property states the bridge sets and the
// subscriptions that receive their changes, with no SOAP in it (an admin page
// reads State and Stats). EventsService (events_service.go) is its SOAP
// face; push subscriptions are delivered by events_push.go.

// Defaults of EventsConfig.
const (
	// DefaultSubscriptionPath is the path prefix of subscription addresses.
	DefaultSubscriptionPath = "/onvif/events/subscription/"
	// DefaultMaxPullPoints bounds live pull point subscriptions.
	DefaultMaxPullPoints = 10
	// DefaultMaxPushSubscriptions bounds live push subscriptions.
	DefaultMaxPushSubscriptions = 10
	// DefaultMaxPerUser bounds the live subscriptions of each kind of one
	// user: an NVR keeps one per camera, and one that restarted without
	// unsubscribing leaves one behind until it expires.
	DefaultMaxPerUser = 3
	// DefaultMaxQueue bounds the messages queued per subscription.
	DefaultMaxQueue = 100
	// DefaultMaxPullTimeout caps the PullMessages Timeout.
	DefaultMaxPullTimeout = 5 * time.Minute
	// DefaultMaxMessageLimit caps the PullMessages MessageLimit.
	DefaultMaxMessageLimit = 1024
	// DefaultInitialTermination is the lifetime of a subscription created
	// without InitialTerminationTime.
	DefaultInitialTermination = time.Minute
	// DefaultMaxTermination caps the lifetime a client may ask for.
	DefaultMaxTermination = 24 * time.Hour
	// DefaultNotifyTimeout bounds one Notify POST of the default client.
	DefaultNotifyTimeout = 5 * time.Second
	// DefaultNotifyRetries is how often a failed Notify POST is tried again.
	DefaultNotifyRetries = 3
	// DefaultNotifyBackoff is the wait before the first retry of a Notify
	// POST (then 1 s, 2 s).
	DefaultNotifyBackoff = 500 * time.Millisecond
)

// Errors of the event engine; the events service turns them into faults.
var (
	// ErrUnknownSubscription means no live subscription has the id.
	ErrUnknownSubscription = errors.New("onvif: unknown or expired subscription")
	// ErrTooManySubscriptions means the subscriptions of the kind asked
	// for are at their limit.
	ErrTooManySubscriptions = errors.New("onvif: too many subscriptions")
	// ErrNotPullPoint means PullMessages on a push subscription.
	ErrNotPullPoint = errors.New("onvif: not a pull point")
	// ErrConsumer means a push subscription's consumer address is not
	// the subscriber's own address nor one EventsConfig.PushConsumers
	// allows.
	ErrConsumer = errors.New("onvif: push consumer address not allowed")
	// ErrStopped means the engine was closed while a pull waited.
	ErrStopped = errors.New("onvif: events stopped")
	// ErrTerminationTime means a requested termination time is not in
	// the future.
	ErrTerminationTime = errors.New("onvif: termination time is not in the future")
)

// EventsConfig configures the event engine. The zero value of every field
// means its default.
type EventsConfig struct {
	// BasePath is the path prefix of subscription addresses; every
	// subscription gets BasePath+<id>. It defaults to
	// DefaultSubscriptionPath.
	BasePath string
	// MaxPullPoints bounds live pull point subscriptions. It defaults to
	// DefaultMaxPullPoints.
	MaxPullPoints int
	// MaxPushSubscriptions bounds live WS-BaseNotification (push)
	// subscriptions. It defaults to DefaultMaxPushSubscriptions.
	MaxPushSubscriptions int
	// MaxPerUser bounds the live subscriptions of each kind (pull point,
	// push) of one user: a user at it replaces its own oldest. When
	// MaxPullPoints or MaxPushSubscriptions are reached, an Administrator
	// replaces the oldest subscription of another level, so that other
	// users' subscriptions never lock an Administrator out; anybody else
	// is refused. It defaults to DefaultMaxPerUser.
	MaxPerUser int
	// PushConsumers are the addresses, besides the subscriber's own, that
	// push notifications may be sent to. Without them a push consumer
	// must be an IP address of the subscriber's host, so that nobody can
	// make the bridge post to other hosts (or to its own loopback).
	PushConsumers []netip.Prefix
	// MaxQueue bounds the messages kept per subscription; the oldest are
	// dropped. It defaults to DefaultMaxQueue.
	MaxQueue int
	// MaxPullTimeout caps the PullMessages Timeout. It defaults to
	// DefaultMaxPullTimeout.
	MaxPullTimeout time.Duration
	// MaxMessageLimit caps the PullMessages MessageLimit. It defaults to
	// DefaultMaxMessageLimit.
	MaxMessageLimit int
	// InitialTermination is the lifetime of a subscription created
	// without InitialTerminationTime. It defaults to
	// DefaultInitialTermination.
	InitialTermination time.Duration
	// MaxTermination caps requested lifetimes. It defaults to
	// DefaultMaxTermination.
	MaxTermination time.Duration
	// Client sends push notifications. It defaults to a client with a
	// DefaultNotifyTimeout timeout that follows no redirects.
	Client *http.Client
	// NotifyRetries is how often a failed Notify POST (a network error or
	// a non-2xx answer) is tried again while the subscription is alive;
	// after that its messages are dropped and counted (Stats.NotifyLost).
	// It defaults to DefaultNotifyRetries.
	NotifyRetries int
	// NotifyBackoff is the wait before the first retry; it doubles for
	// every further one. It defaults to DefaultNotifyBackoff.
	NotifyBackoff time.Duration
	// Now returns the current time. It defaults to time.Now.
	Now func() time.Time
	// Logger receives the engine's logs, tagged component=events. Nil
	// discards them.
	Logger *slog.Logger
}

// setDefaults fills every zero field with its default.
func (c *EventsConfig) setDefaults() {
	if c.BasePath == "" {
		c.BasePath = DefaultSubscriptionPath
	}
	if !strings.HasSuffix(c.BasePath, "/") {
		c.BasePath += "/"
	}
	if c.MaxPullPoints <= 0 {
		c.MaxPullPoints = DefaultMaxPullPoints
	}
	if c.MaxPushSubscriptions <= 0 {
		c.MaxPushSubscriptions = DefaultMaxPushSubscriptions
	}
	if c.MaxPerUser <= 0 {
		c.MaxPerUser = DefaultMaxPerUser
	}
	if c.MaxQueue <= 0 {
		c.MaxQueue = DefaultMaxQueue
	}
	if c.MaxPullTimeout <= 0 {
		c.MaxPullTimeout = DefaultMaxPullTimeout
	}
	if c.MaxMessageLimit <= 0 {
		c.MaxMessageLimit = DefaultMaxMessageLimit
	}
	if c.InitialTermination <= 0 {
		c.InitialTermination = DefaultInitialTermination
	}
	if c.MaxTermination <= 0 {
		c.MaxTermination = DefaultMaxTermination
	}
	if c.Client == nil {
		c.Client = &http.Client{
			Timeout:       DefaultNotifyTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if c.NotifyRetries <= 0 {
		c.NotifyRetries = DefaultNotifyRetries
	}
	if c.NotifyBackoff <= 0 {
		c.NotifyBackoff = DefaultNotifyBackoff
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// eventMsg is one property event.
type eventMsg struct {
	topic string
	utc   time.Time
	op    string
	value bool
}

// Subscriber is who makes a subscription or asks about one: a user (""
// when the device has no users) and whether it is an Administrator, who
// may manage everybody's subscriptions and is never refused for other
// users' (EventsConfig.MaxPerUser).
type Subscriber struct {
	User  string
	Admin bool
}

type subscription struct {
	id          string
	owner       Subscriber
	seq         uint64 // creation order
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

// Events is the event engine of one virtual device: the property states the
// bridge sets (SetState) and the pull point and push subscriptions that
// receive their changes. Create it with NewEvents; it is safe for concurrent
// use. EventsService is its SOAP face.
type Events struct {
	cfg EventsConfig
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	notifyLost atomic.Uint64 // push messages dropped after the last retry

	mu     sync.Mutex
	states map[string]*propState // guarded by mu
	order  []string              // topics in the order first set, guarded by mu
	subs   map[string]*subscription
	seq    uint64 // subscriptions created, guarded by mu
}

// NewEvents returns an event engine with cfg's defaults filled in.
func NewEvents(cfg EventsConfig) *Events {
	cfg.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Events{
		cfg: cfg, log: cfg.Logger.With("component", "events"),
		ctx: ctx, cancel: cancel,
		states: map[string]*propState{}, subs: map[string]*subscription{},
	}
}

// BasePath is the path prefix of the subscription addresses; the endpoint
// serving EventsService must serve it too.
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
		e.log.Warn("unknown topic", "topic", topic)
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

// SetSignalLoss sets TopicSignalLoss: lost is true while the camera delivers no frames.
func (e *Events) SetSignalLoss(lost bool) { e.SetState(TopicSignalLoss, lost) }

// SetMotion sets both motion topics, TopicMotionAlarm and TopicCellMotion. It fits
// motion.Config.OnChange.
func (e *Events) SetMotion(motion bool) {
	e.SetState(TopicMotionAlarm, motion)
	e.SetState(TopicCellMotion, motion)
}

// EventsStats are the counters of an event engine.
type EventsStats struct {
	// PullPoints and PushSubscriptions are the live subscriptions.
	PullPoints, PushSubscriptions int
	// NotifyLost counts the push notification messages dropped because
	// their consumer did not accept them after NotifyRetries retries.
	NotifyLost uint64
}

// Stats returns the engine's counters.
func (e *Events) Stats() EventsStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.expireLocked()
	st := EventsStats{NotifyLost: e.notifyLost.Load()}
	for _, s := range e.subs {
		if s.push() {
			st.PushSubscriptions++
		} else {
			st.PullPoints++
		}
	}
	return st
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
			e.log.Debug("subscription expired", "id", id)
			e.removeLocked(id, s)
		}
	}
}

func (e *Events) removeLocked(id string, s *subscription) {
	delete(e.subs, id)
	s.gone = true
	s.notifyLocked()
}

func newSubscriptionID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// termination returns the termination time of a subscription asked to
// live until requested (zero: the default lifetime), capped at
// MaxTermination; a time not after now is an error.
func (e *Events) termination(requested, now time.Time) (time.Time, error) {
	if requested.IsZero() {
		return now.Add(e.cfg.InitialTermination), nil
	}
	if !requested.After(now) {
		return time.Time{}, ErrTerminationTime
	}
	if limit := now.Add(e.cfg.MaxTermination); requested.After(limit) {
		return limit, nil
	}
	return requested, nil
}

// subscribe creates, at time now, for who, a pull point (consumer "") or a
// push subscription to consumer that lives until requested (zero: the
// default lifetime), with the topic filter (nil: everything) and, with
// changedOnly, no Initialized messages. It returns the subscription's id
// and termination time. See EventsConfig.MaxPerUser for who is refused or
// replaces what when the limits are reached.
func (e *Events) subscribe(now time.Time, who Subscriber, consumer string, filter []string, changedOnly bool, requested time.Time) (id string, expires time.Time, err error) {
	expires, err = e.termination(requested, now)
	if err != nil {
		return "", time.Time{}, err
	}
	push := consumer != ""
	limit := e.cfg.MaxPullPoints
	if push {
		limit = e.cfg.MaxPushSubscriptions
	}
	e.mu.Lock()
	e.expireLocked()
	var all, own []*subscription // of this kind, oldest first
	for _, s := range e.subs {
		if s.push() == push {
			all = append(all, s)
			if s.owner == who {
				own = append(own, s)
			}
		}
	}
	byAge := func(a, b *subscription) int { return cmp.Compare(a.seq, b.seq) }
	slices.SortFunc(all, byAge)
	slices.SortFunc(own, byAge)
	var replaced *subscription
	switch {
	case len(own) >= e.cfg.MaxPerUser:
		replaced = own[0]
	case len(all) >= limit && who.Admin:
		if i := slices.IndexFunc(all, func(s *subscription) bool { return !s.owner.Admin }); i >= 0 {
			replaced = all[i]
		}
	}
	if replaced == nil && len(all) >= limit {
		e.mu.Unlock()
		return "", time.Time{}, fmt.Errorf("%w: at most %d of this kind", ErrTooManySubscriptions, limit)
	}
	if replaced != nil {
		e.log.Debug("subscription replaced", "id", replaced.id, "user", replaced.owner.User, "by", who.User)
		e.removeLocked(replaced.id, replaced)
	}
	e.seq++
	s := &subscription{
		id: newSubscriptionID(), owner: who, seq: e.seq, consumer: consumer, filter: filter, changedOnly: changedOnly,
		expires: expires, wake: make(chan struct{}),
	}
	e.subs[s.id] = s
	e.initializedLocked(s)
	e.mu.Unlock()
	if push {
		e.wg.Add(1)
		go e.pushLoop(s)
	}
	e.log.Debug("subscription created", "id", s.id, "user", who.User, "push", push, "expires", expires)
	return s.id, expires, nil
}

// lookupLocked returns the live subscription id if who may use it: its
// owner or an Administrator. Anybody else is told it does not exist.
func (e *Events) lookupLocked(id string, who Subscriber) (*subscription, error) {
	e.expireLocked()
	s := e.subs[id]
	if id == "" || s == nil || (s.owner.User != who.User && !who.Admin) {
		return nil, ErrUnknownSubscription
	}
	return s, nil
}

// CloseUser ends the subscriptions of user ("" for those made without
// credentials) and returns how many: the user was deleted or its
// credentials changed.
func (e *Events) CloseUser(user string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for id, s := range e.subs {
		if s.owner.User == user {
			e.removeLocked(id, s)
			n++
		}
	}
	return n
}

// pull waits up to timeout (capped at MaxPullTimeout) for messages of the
// pull point id and returns at most limit of them (capped at
// MaxMessageLimit), with the current time and the termination time. A pull
// point stays alive while it is being pulled.
func (e *Events) pull(ctx context.Context, who Subscriber, id string, timeout time.Duration, limit int) (msgs []eventMsg, now, expires time.Time, err error) {
	timeout = min(timeout, e.cfg.MaxPullTimeout)
	limit = max(1, min(limit, e.cfg.MaxMessageLimit))
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		e.mu.Lock()
		s, err := e.lookupLocked(id, who)
		if err != nil {
			e.mu.Unlock()
			return nil, time.Time{}, time.Time{}, err
		}
		if s.push() {
			e.mu.Unlock()
			return nil, time.Time{}, time.Time{}, ErrNotPullPoint
		}
		if keep := e.cfg.Now().Add(timeout + 10*time.Second); s.expires.Before(keep) && timeout > 0 {
			s.expires = keep
		}
		if len(s.queue) > 0 || timeout == 0 {
			n := min(limit, len(s.queue))
			msgs = slices.Clone(s.queue[:n])
			s.queue = slices.Delete(s.queue, 0, n)
			now, expires = e.cfg.Now(), s.expires
			e.mu.Unlock()
			return msgs, now, expires, nil
		}
		wake := s.wake
		e.mu.Unlock()
		select {
		case <-wake:
		case <-deadline.C:
			timeout = 0 // answer with what there is (nothing)
		case <-ctx.Done():
			return nil, time.Time{}, time.Time{}, ctx.Err()
		case <-e.ctx.Done():
			return nil, time.Time{}, time.Time{}, ErrStopped
		}
	}
}

// synchronize queues the current state of every property again for
// subscription id (SetSynchronizationPoint).
func (e *Events) synchronize(who Subscriber, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.lookupLocked(id, who)
	if err != nil {
		return err
	}
	e.initializedLocked(s)
	return nil
}

// renew sets, at time now, the termination time of subscription id
// (requested zero: the default lifetime) and returns it.
func (e *Events) renew(now time.Time, who Subscriber, id string, requested time.Time) (time.Time, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.lookupLocked(id, who)
	if err != nil {
		return time.Time{}, err
	}
	expires, err := e.termination(requested, now)
	if err != nil {
		return time.Time{}, err
	}
	s.expires = expires
	s.notifyLocked() // the pusher re-arms its expiry timer
	return expires, nil
}

// unsubscribe ends subscription id.
func (e *Events) unsubscribe(who Subscriber, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.lookupLocked(id, who)
	if err != nil {
		return err
	}
	e.removeLocked(s.id, s)
	return nil
}
