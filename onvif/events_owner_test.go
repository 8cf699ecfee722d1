package onvif

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// The tests of who may do what with subscriptions use client addresses
// of their own in 127.0.6.x.

// levelsStore is a store with one configured user of each level (and a
// few of level User), all with the password "pw".
func levelsStore(t *testing.T) *Store {
	t.Helper()
	st, err := OpenStore("")
	if err != nil {
		t.Fatal(err)
	}
	users := []User{{Name: "admin", Level: LevelAdministrator}, {Name: "op", Level: LevelOperator}}
	for _, n := range []string{"alice", "bob", "carol", "dave", "erin"} {
		users = append(users, User{Name: n, Level: LevelUser})
	}
	for i := range users {
		users[i].Password = "pw"
	}
	st.SetConfigured(users)
	return st
}

// as calls body at url as user.
func (s *eventsServer) as(t *testing.T, user, url, body string) result {
	t.Helper()
	return s.do(t, call{URL: url, Header: securityHeader(user, "pw"), Body: body})
}

const (
	bodyCreatePullPoint = `<tev:CreatePullPointSubscription/>`
	bodyPull            = `<tev:PullMessages><tev:Timeout>PT0S</tev:Timeout><tev:MessageLimit>10</tev:MessageLimit></tev:PullMessages>`
	bodyUnsubscribe     = `<wsnt:Unsubscribe/>`
	bodyRenew           = `<wsnt:Renew><wsnt:TerminationTime>PT60S</wsnt:TerminationTime></wsnt:Renew>`
	bodySync            = `<tev:SetSynchronizationPoint/>`
)

func (s *eventsServer) pullPointOf(t *testing.T, user string) string {
	t.Helper()
	p := s.as(t, user, s.srv.URL+EventsServicePath, bodyCreatePullPoint).ok(t)
	return p.FindElement("SubscriptionReference/Address").Text()
}

// TestSubscriptionOwner: any user could pull the messages of another
// user's pull point, renew it or end it. Now only its owner and an
// Administrator may; to anybody else it does not exist.
func TestSubscriptionOwner(t *testing.T) {
	t.Parallel()
	s := newEventsServer(t, EventsConfig{}, levelsStore(t))
	addr := s.pullPointOf(t, "alice")
	for _, body := range []string{bodyPull, bodyRenew, bodySync, bodyUnsubscribe} {
		s.as(t, "bob", addr, body).fault(t, http.StatusBadRequest, "Sender/InvalidArgVal/ResourceUnknownFault")
		s.as(t, "op", addr, body).fault(t, http.StatusBadRequest, "Sender/InvalidArgVal/ResourceUnknownFault")
	}
	s.as(t, "alice", addr, bodyPull).ok(t)
	s.as(t, "alice", addr, bodyRenew).ok(t)
	s.as(t, "admin", addr, bodyPull).ok(t)
	s.as(t, "admin", addr, bodyUnsubscribe).ok(t)
	s.as(t, "alice", addr, bodyPull).fault(t, http.StatusBadRequest, "Sender/InvalidArgVal/ResourceUnknownFault")
}

// TestPullPointQuotas: one 'User' account took all 10 pull points, and
// then nobody, an Administrator included, could subscribe until they
// expired (24 h). Now a user has at most MaxPerUser (3) of them, its own
// oldest making room for the next; when all are taken another user is
// refused, while an Administrator replaces the oldest of a non-Administrator.
func TestPullPointQuotas(t *testing.T) {
	t.Parallel()
	s := newEventsServer(t, EventsConfig{}, levelsStore(t))
	url := s.srv.URL + EventsServicePath
	var alice []string
	for range 12 {
		alice = append(alice, s.pullPointOf(t, "alice"))
	}
	if n := s.ev.Stats().PullPoints; n != DefaultMaxPerUser {
		t.Fatalf("alice holds %d pull points after 12 subscriptions, want %d", n, DefaultMaxPerUser)
	}
	// Her newest work, her oldest were replaced.
	s.as(t, "alice", alice[11], bodyPull).ok(t)
	s.as(t, "alice", alice[0], bodyPull).fault(t, http.StatusBadRequest, "Sender/InvalidArgVal/ResourceUnknownFault")
	for _, u := range []string{"bob", "carol"} {
		for range DefaultMaxPerUser {
			s.pullPointOf(t, u)
		}
	}
	s.pullPointOf(t, "dave") // the tenth
	s.as(t, "erin", url, bodyCreatePullPoint).fault(t, http.StatusInternalServerError, "Receiver/Action/MaxSubscriptions")
	for range DefaultMaxPerUser {
		s.pullPointOf(t, "admin")
	}
	if n := s.ev.Stats().PullPoints; n != DefaultMaxPullPoints {
		t.Errorf("%d pull points, want %d", n, DefaultMaxPullPoints)
	}
	// The Administrator replaced the oldest: alice's three.
	for _, a := range alice[9:] {
		s.as(t, "admin", a, bodyPull).fault(t, http.StatusBadRequest, "Sender/InvalidArgVal/ResourceUnknownFault")
	}
}

// clientAt is an HTTP client whose connections come from ip.
func clientAt(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// subscribeFrom posts a Subscribe of user for consumer from the client
// address ip.
func (s *eventsServer) subscribeFrom(t *testing.T, ip, user, consumer string) result {
	t.Helper()
	env := soapEnvelope(envelopeNS, securityHeader(user, "pw"), `<wsnt:Subscribe><wsnt:ConsumerReference><wsa:Address>`+consumer+
		`</wsa:Address></wsnt:ConsumerReference></wsnt:Subscribe>`)
	resp, err := clientAt(ip).Post(s.srv.URL+EventsServicePath, "application/soap+xml", strings.NewReader(env))
	if err != nil {
		t.Fatal(err)
	}
	return s.answer(t, resp, env)
}

// TestPushSubscribeRules: a 'User' account made the bridge POST to any URL
// it named (a blind SSRF, into the host's loopback too). Now only an
// Operator or an Administrator may subscribe, and only an address of its
// own host, unless PushConsumers allows more.
func TestPushSubscribeRules(t *testing.T) {
	t.Parallel()
	own := &consumer{wake: make(chan struct{}, 8)}
	ln, err := net.Listen("tcp4", "127.0.6.40:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(own)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	allowed := netip.MustParsePrefix("127.0.6.48/29")
	s := newEventsServer(t, EventsConfig{PushConsumers: []netip.Prefix{allowed}}, levelsStore(t))

	s.subscribeFrom(t, "127.0.6.40", "alice", srv.URL+"/hook").fault(t, http.StatusBadRequest, "Sender/NotAuthorized")
	for _, target := range []string{"http://127.0.0.1:8080/admin", "http://127.0.6.41/x", "http://localhost:9/", "http://[::1]/"} {
		s.subscribeFrom(t, "127.0.6.40", "op", target).fault(t, http.StatusBadRequest, "Sender/InvalidArgVal")
	}
	s.subscribeFrom(t, "127.0.6.40", "op", srv.URL+"/hook").ok(t)
	s.subscribeFrom(t, "127.0.6.40", "admin", "http://127.0.6.50:9/hook").ok(t) // in PushConsumers
	if n := s.ev.Stats().PushSubscriptions; n != 2 {
		t.Errorf("%d push subscriptions, want 2", n)
	}
	// The operator's own consumer gets the notifications.
	s.ev.SetMotion(true)
	select {
	case <-own.wake:
	case <-time.After(10 * time.Second):
		t.Fatal("no notification within 10 s")
	}
	own.mu.Lock()
	defer own.mu.Unlock()
	if len(own.got) == 0 || !slices.ContainsFunc(own.got, func(e event) bool { return e.topic != "" }) || len(own.bad) != 0 {
		t.Errorf("consumer got %v, bad %v", own.got, own.bad)
	}
}

// TestStoreWatchUsers: the store names the users who can no longer log in
// as they did.
func TestStoreWatchUsers(t *testing.T) {
	t.Parallel()
	st, err := OpenStore("")
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	st.WatchUsers(func(names []string) { got = append(got, names) })
	step := func(what string, fn func() error, want ...string) {
		t.Helper()
		got = nil
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		switch {
		case len(want) == 0 && len(got) != 0:
			t.Errorf("%s: told %q, want nothing", what, got)
		case len(want) > 0 && (len(got) != 1 || !slices.Equal(got[0], want)):
			t.Errorf("%s: told %q, want %q", what, got, want)
		}
	}
	step("first users", func() error {
		return st.CreateUsers([]User{{"alice", "pw", LevelUser}, {"bob", "pw", LevelOperator}})
	}, "") // anonymous access ends
	step("another user", func() error { return st.CreateUsers([]User{{"carol", "pw", LevelUser}}) })
	step("scopes", func() error { return st.Update(func(s *State) error { s.Hostname = "x"; return nil }) })
	step("password", func() error { return st.SetUsers([]User{{"alice", "new", LevelUser}}) }, "alice")
	step("same password", func() error { return st.SetUsers([]User{{"alice", "new", LevelUser}}) })
	step("level", func() error { return st.SetUsers([]User{{"bob", "", LevelUser}}) }, "bob")
	step("delete", func() error { return st.DeleteUsers([]string{"carol", "alice"}) }, "alice", "carol")
	step("configured user takes a name", func() error {
		st.SetConfigured([]User{{"bob", "other", LevelAdministrator}})
		return nil
	}, "bob")
	step("factory reset", st.Reset) // bob stays configured; the ONVIF bob was hidden
	step("configuration reload", func() error { st.SetConfigured(nil); return nil }, "bob")
}
