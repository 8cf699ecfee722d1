package onvif

import (
	"errors"
	"slices"
	"testing"
)

// TestStoreConfiguredUsers: users from the configuration log in with
// their own levels, are listed, cannot be created, changed or deleted
// over ONVIF, and can be replaced while the store is in use (a reload).
func TestStoreConfiguredUsers(t *testing.T) {
	s, _ := OpenStore("")
	s.SetConfigured([]User{
		{Name: "admin", Password: "secret", Level: LevelAdministrator},
		{Name: "viewer", Password: "look", Level: LevelUser},
	})
	if lvl, ok := s.Level("viewer"); !ok || lvl != LevelUser {
		t.Errorf("viewer level %q %v", lvl, ok)
	}
	if pw, ok := s.Password("viewer"); !ok || pw != "look" {
		t.Errorf("viewer password %q %v", pw, ok)
	}
	if got := s.Configured(); !slices.Equal(got, []User{{Name: "admin", Level: LevelAdministrator}, {Name: "viewer", Level: LevelUser}}) {
		t.Errorf("Configured %+v (passwords must not be returned)", got)
	}
	if err := s.CreateUsers([]User{{Name: "viewer", Password: "x", Level: LevelAdministrator}}); !errors.Is(err, ErrUserExists) {
		t.Errorf("creating a configured user: %v", err)
	}
	if err := s.SetUsers([]User{{Name: "viewer", Password: "x", Level: LevelAdministrator}}); !errors.Is(err, ErrFixedUser) {
		t.Errorf("changing a configured user: %v", err)
	}
	if err := s.DeleteUsers([]string{"viewer"}); !errors.Is(err, ErrFixedUser) {
		t.Errorf("deleting a configured user: %v", err)
	}
	if s.Len() != 2 {
		t.Errorf("Len %d", s.Len())
	}
	s.SetConfigured([]User{{Name: "other", Password: "pw", Level: LevelOperator}})
	if _, ok := s.Password("viewer"); ok {
		t.Error("a user removed from the configuration still logs in")
	}
	if lvl, _ := s.Level("other"); lvl != LevelOperator || s.Len() != 1 {
		t.Errorf("after replacing: level %q, Len %d", lvl, s.Len())
	}
	s.SetConfigured(nil)
	if s.Len() != 0 {
		t.Errorf("no users: Len %d", s.Len())
	}
}
