package onvif

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIdentityStableAndDistinct(t *testing.T) {
	a1 := NewIdentity("192.168.1.50")
	a2 := NewIdentity("192.168.1.50")
	b := NewIdentity("192.168.1.51")
	if a1.UUID != a2.UUID || a1.MAC.String() != a2.MAC.String() || a1.Serial != a2.Serial {
		t.Fatalf("identity not stable: %+v vs %+v", a1, a2)
	}
	if a1.UUID == b.UUID || a1.MAC.String() == b.MAC.String() || a1.Serial == b.Serial {
		t.Fatalf("two cameras share an identity: %+v vs %+v", a1, b)
	}
	if a1.UUID.Version() != 5 {
		t.Errorf("UUID version %d, want 5", a1.UUID.Version())
	}
	if len(a1.MAC) != 6 || a1.MAC[0]&0x02 == 0 || a1.MAC[0]&0x01 != 0 {
		t.Errorf("MAC %s is not locally administered unicast", a1.MAC)
	}
}

func TestFixedScopes(t *testing.T) {
	d := NewDevice("Front door/1", "10.0.0.9")
	st, _ := OpenStore("")
	d.Store = st
	got := strings.Join(d.Scopes(), " ")
	for _, want := range []string{
		"onvif://www.onvif.org/Profile/Streaming",
		"onvif://www.onvif.org/name/Front%20door%2F1",
		"onvif://www.onvif.org/mac/" + d.MAC.String(),
		"onvif://www.onvif.org/hardware/" + DefaultModel,
		"onvif://www.onvif.org/location/unknown",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("scopes %q lack %q", got, want)
		}
	}
	if strings.Contains(got, "audio_encoder") {
		t.Errorf("audio scope without audio: %q", got)
	}
}

func TestStorePersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "cam.json")
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 0 {
		t.Fatalf("new store has %d users", s.Len())
	}
	changes := 0
	s.Watch(func() { changes++ })
	if err = s.CreateUsers([]User{{Name: "op", Password: "pw", Level: LevelOperator}}); err != nil {
		t.Fatal(err)
	}
	if err = s.Update(func(st *State) error {
		st.Scopes = append(st.Scopes, "onvif://www.onvif.org/location/garage")
		st.DiscoveryMode = NonDiscoverable
		st.Profiles = append(st.Profiles, Profile{Token: "p1", Name: "Syno"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if changes != 2 {
		t.Errorf("watchers called %d times, want 2", changes)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}

	s2, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	st := s2.Get()
	if st.DiscoveryMode != NonDiscoverable || len(st.Scopes) != 2 || len(st.Profiles) != 1 {
		t.Errorf("reloaded state %+v", st)
	}
	if pw, ok := s2.Password("op"); !ok || pw != "pw" {
		t.Errorf("reloaded user: %q %v", pw, ok)
	}
	if err := s2.Reset(); err != nil {
		t.Fatal(err)
	}
	if st := s2.Get(); len(st.Users) != 0 || st.DiscoveryMode != Discoverable {
		t.Errorf("after reset %+v", st)
	}
}

func TestStoreUsers(t *testing.T) {
	s, _ := OpenStore("")
	s.SetAdmin("admin", "secret")
	if s.Len() != 1 {
		t.Fatalf("Len %d", s.Len())
	}
	if pw, ok := s.Password("admin"); !ok || pw != "secret" {
		t.Fatalf("admin password %q %v", pw, ok)
	}
	if lvl, _ := s.Level("admin"); lvl != LevelAdministrator {
		t.Errorf("admin level %q", lvl)
	}
	if err := s.CreateUsers([]User{{Name: "admin", Password: "x", Level: LevelUser}}); !errors.Is(err, ErrUserExists) {
		t.Errorf("creating the admin: %v", err)
	}
	if err := s.CreateUsers([]User{{Name: "a", Password: "1", Level: LevelUser}, {Name: "b", Password: "", Level: LevelUser}}); !errors.Is(err, ErrBadUser) {
		t.Errorf("empty password accepted: %v", err)
	}
	if _, ok := s.Password("a"); ok {
		t.Error("failed CreateUsers was partly applied")
	}
	if err := s.CreateUsers([]User{{Name: "a", Password: "1", Level: LevelUser}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUsers([]User{{Name: "a", Level: LevelOperator}}); err != nil {
		t.Fatal(err)
	}
	if pw, _ := s.Password("a"); pw != "1" {
		t.Errorf("SetUser without password changed it to %q", pw)
	}
	if err := s.DeleteUsers([]string{"admin"}); !errors.Is(err, ErrFixedUser) {
		t.Errorf("deleting the admin: %v", err)
	}
	if err := s.DeleteUsers([]string{"nobody"}); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("deleting an unknown user: %v", err)
	}
	if err := s.DeleteUsers([]string{"a"}); err != nil || s.Len() != 1 {
		t.Errorf("delete: %v, Len %d", err, s.Len())
	}
}
