package onvif

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chinesium/chinesium/internal/xsdcheck"
)

// flakyConsumer answers 503 to the first fail POSTs (fail < 0: to all of them)
// and hands the rest to the consumer.
type flakyConsumer struct {
	*consumer
	fail  int64
	tries atomic.Int64
}

func (f *flakyConsumer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if n := f.tries.Add(1); f.fail < 0 || n <= f.fail {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	f.consumer.ServeHTTP(w, r)
}

func (s *eventsServer) subscribe(t *testing.T, url string) {
	t.Helper()
	s.ok(t, s.srv.URL+"/onvif/events_service", `<wsnt:Subscribe><wsnt:ConsumerReference><wsa:Address>`+url+`</wsa:Address></wsnt:ConsumerReference>`+
		`<wsnt:InitialTerminationTime>PT60S</wsnt:InitialTerminationTime></wsnt:Subscribe>`, "SubscribeResponse")
}

// TestPushRetry: a consumer that refuses the first two Notify POSTs gets the
// message exactly once on the third try; a consumer that refuses everything loses
// its message after the retries (counted) without delaying the healthy one.
func TestPushRetry(t *testing.T) {
	xsdcheck.Require(t)
	s := newEventsServer(t, EventsConfig{NotifyRetries: 3, NotifyBackoff: 100 * time.Millisecond}, nil)
	s.ev.SetState(TopicSignalLoss, false)

	dead := &flakyConsumer{consumer: &consumer{wake: make(chan struct{}, 1)}, fail: -1}
	deadSrv := httptest.NewServer(dead)
	defer deadSrv.Close()
	s.subscribe(t, deadSrv.URL+"/hook")

	flaky := &flakyConsumer{consumer: &consumer{wake: make(chan struct{}, 1)}, fail: 2}
	flakySrv := httptest.NewServer(flaky)
	defer flakySrv.Close()
	start := time.Now()
	s.subscribe(t, flakySrv.URL+"/hook")

	got := flaky.wait(t, 1)
	// Two refusals, then back-offs of 100 ms and 200 ms before the third try.
	if el := time.Since(start); el < 300*time.Millisecond {
		t.Errorf("delivered after %v, before the back-off (>= 300 ms)", el)
	}
	if got[0].topic != TopicSignalLoss || got[0].op != PropertyInitialized || got[0].value {
		t.Errorf("notification %+v", got[0])
	}
	if n := flaky.tries.Load(); n != 3 {
		t.Errorf("flaky consumer saw %d POSTs, want 3", n)
	}
	if lost := s.ev.Stats().NotifyLost; lost != 0 {
		t.Errorf("NotifyLost %d while the dead consumer still has retries left, want 0", lost)
	}

	// The dead consumer: 1 try + 3 retries (100+200+400 ms back-off), then the loss.
	deadline := time.Now().Add(5 * time.Second)
	for s.ev.Stats().NotifyLost == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if lost := s.ev.Stats().NotifyLost; lost != 1 {
		t.Fatalf("NotifyLost %d, want 1", lost)
	}
	if n := dead.tries.Load(); n != 4 {
		t.Errorf("dead consumer saw %d POSTs, want 4 (1 + 3 retries)", n)
	}

	// Both subscriptions still live: the next change reaches the healthy consumer
	// once, and nothing is sent twice.
	s.ev.SetState(TopicSignalLoss, true)
	got = flaky.wait(t, 2)
	if got[1].op != PropertyChanged || !got[1].value {
		t.Errorf("second notification %+v", got[1])
	}
	time.Sleep(200 * time.Millisecond)
	flaky.mu.Lock()
	n := len(flaky.got)
	flaky.mu.Unlock()
	if n != 2 {
		t.Errorf("flaky consumer got %d notifications, want 2 (no duplicates)", n)
	}
}

// TestPushRetryStopsOnUnsubscribe: retries end with the subscription.
func TestPushRetryStopsOnUnsubscribe(t *testing.T) {
	s := newEventsServer(t, EventsConfig{NotifyRetries: 3, NotifyBackoff: time.Second}, nil)
	s.ev.SetState(TopicSignalLoss, false)
	dead := &flakyConsumer{consumer: &consumer{wake: make(chan struct{}, 1)}, fail: -1}
	deadSrv := httptest.NewServer(dead)
	defer deadSrv.Close()
	p := s.ok(t, s.srv.URL+"/onvif/events_service", `<wsnt:Subscribe><wsnt:ConsumerReference><wsa:Address>`+deadSrv.URL+`/hook</wsa:Address></wsnt:ConsumerReference>`+
		`<wsnt:InitialTerminationTime>PT60S</wsnt:InitialTerminationTime></wsnt:Subscribe>`, "SubscribeResponse")
	for dead.tries.Load() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	s.ok(t, p.FindElement("SubscriptionReference/Address").Text(), `<wsnt:Unsubscribe></wsnt:Unsubscribe>`, "UnsubscribeResponse")
	deadline := time.Now().Add(2 * time.Second)
	for s.ev.Stats().NotifyLost == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if lost := s.ev.Stats().NotifyLost; lost != 1 {
		t.Errorf("NotifyLost %d after Unsubscribe during the back-off, want 1", lost)
	}
	time.Sleep(1200 * time.Millisecond)
	if n := dead.tries.Load(); n != 1 {
		t.Errorf("%d POSTs, want 1: retried after Unsubscribe", n)
	}
}
