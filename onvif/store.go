package onvif

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// ONVIF user levels (tt:UserLevel).
const (
	LevelAdministrator = "Administrator"
	LevelOperator      = "Operator"
	LevelUser          = "User"
)

// Discovery modes (tt:DiscoveryMode).
const (
	Discoverable    = "Discoverable"
	NonDiscoverable = "NonDiscoverable"
)

// MaxUsers bounds the number of ONVIF users a device stores.
const MaxUsers = 16

// Errors returned by the Store's user operations. The device service maps
// them to ONVIF faults.
var (
	ErrUserExists   = errors.New("onvif: user already exists")
	ErrUnknownUser  = errors.New("onvif: no such user")
	ErrFixedUser    = errors.New("onvif: a configured user cannot be changed")
	ErrTooManyUsers = errors.New("onvif: too many users")
	ErrBadUser      = errors.New("onvif: invalid user name, password or level")
)

// User is an ONVIF user created through CreateUsers.
type User struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	// Level is LevelAdministrator, LevelOperator or LevelUser.
	Level string `json:"level"`
}

// Profile is a media profile. Fixed profiles are created by the media
// service and cannot be deleted; the others come from CreateProfile.
// Configuration fields hold configuration tokens, "" when the profile has
// no such configuration.
type Profile struct {
	Token        string `json:"token"`
	Name         string `json:"name"`
	Fixed        bool   `json:"fixed,omitempty"`
	VideoSource  string `json:"videoSource,omitempty"`
	VideoEncoder string `json:"videoEncoder,omitempty"`
	AudioSource  string `json:"audioSource,omitempty"`
	AudioEncoder string `json:"audioEncoder,omitempty"`
}

// VideoEncoderSettings are the client-settable parts of a video encoder
// configuration (SetVideoEncoderConfiguration). Zero values mean the
// media service's default.
type VideoEncoderSettings struct {
	Name string `json:"name,omitempty"`
	// FrameRateLimit is in frames per second, 0 for every camera frame.
	FrameRateLimit int `json:"frameRateLimit,omitempty"`
	// BitrateLimit (kbit/s), GovLength and H264Profile are the H.264
	// transcode's.
	BitrateLimit int    `json:"bitrateLimit,omitempty"`
	GovLength    int    `json:"govLength,omitempty"`
	H264Profile  string `json:"h264Profile,omitempty"`
}

// State is the persisted settable state of a device.
type State struct {
	// Scopes are the configurable scopes (fixed scopes come from Device).
	Scopes []string `json:"scopes"`
	// DiscoveryMode is Discoverable or NonDiscoverable.
	DiscoveryMode string `json:"discoveryMode"`
	// Hostname is "" when none was set.
	Hostname string `json:"hostname,omitempty"`
	// Users are the ONVIF users (the configured users are not
	// among them).
	Users []User `json:"users,omitempty"`
	// Profiles are the media profiles, fixed ones included, in order.
	Profiles []Profile `json:"profiles,omitempty"`
	// VideoEncoders holds settings per video encoder configuration token.
	VideoEncoders map[string]VideoEncoderSettings `json:"videoEncoders,omitempty"`
}

// DefaultState is the state of a new device and after a factory reset.
func DefaultState() State {
	return State{Scopes: DefaultScopes(), DiscoveryMode: Discoverable}
}

// clone returns a deep copy so callers never share slices with the store.
func (st State) clone() State {
	c := st
	c.Scopes = slices.Clone(st.Scopes)
	c.Users = slices.Clone(st.Users)
	c.Profiles = slices.Clone(st.Profiles)
	if st.VideoEncoders != nil {
		c.VideoEncoders = make(map[string]VideoEncoderSettings, len(st.VideoEncoders))
		for k, v := range st.VideoEncoders {
			c.VideoEncoders[k] = v
		}
	}
	return c
}

// Store holds a device's settable state, persisted as JSON in one file
// (mode 0600 since it holds passwords), written so that a crash or a power
// cut leaves either the old or the new file: a temporary file beside it,
// synced, renamed over it, and the directory synced. It also answers
// httpauth.Users: the configured users (SetConfigured, not persisted) plus
// the ONVIF users. Safe for concurrent use.
type Store struct {
	path    string
	repairs []string // what OpenStore repaired; read-only after it

	mu         sync.RWMutex
	st         State
	configured []User // from the configuration; not persisted, fixed
	watchers   []func()
	userWatch  []func(names []string)
}

// tempPattern is the os.CreateTemp pattern of the temporary files of the
// state file path: hidden, and named after it, so that each store cleans
// only its own.
func tempPattern(path string) string { return "." + filepath.Base(path) + ".tmp-*" }

// OpenStore loads the state from path, or starts from DefaultState when the
// file does not exist yet. An empty path keeps the state in memory only.
//
// A file is repaired rather than refused, so that one bad file never stops
// a camera: temporary files left by an interrupted write are removed; a
// file that does not parse is moved aside (to path.corrupt-TIME) and the
// device starts from DefaultState; what does not pass the checks a request
// would have to pass (a user without a password, more profiles than
// MaxProfiles, a malformed scope) is dropped. Repairs says what was done.
// Only a file that cannot be read at all is an error.
func OpenStore(path string) (*Store, error) {
	s := &Store{path: path, st: DefaultState()}
	if path == "" {
		return s, nil
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), tempPattern(path)))
	for _, f := range leftovers {
		if err := os.Remove(f); err == nil {
			s.repairs = append(s.repairs, fmt.Sprintf("removed %s, left by a write that did not finish", f))
		}
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("onvif: read state: %w", err)
	}
	st := DefaultState()
	if err := json.Unmarshal(b, &st); err != nil {
		aside := path + ".corrupt-" + time.Now().UTC().Format("20060102T150405.000Z")
		if rerr := os.Rename(path, aside); rerr != nil {
			s.repairs = append(s.repairs, fmt.Sprintf("state file %s does not parse (%v) and cannot be moved aside (%v): starting from the defaults, the next change overwrites it", path, err, rerr))
		} else {
			s.repairs = append(s.repairs, fmt.Sprintf("state file %s does not parse (%v): moved it to %s and started from the defaults", path, err, aside))
		}
		return s, nil
	}
	s.st, s.repairs = st.checked(s.repairs)
	return s, nil
}

// Repairs returns what OpenStore repaired in the state file, one sentence
// each, for the log; nil when the file was sound.
func (s *Store) Repairs() []string { return slices.Clone(s.repairs) }

// Path returns the file the state is persisted to ("" = memory only).
func (s *Store) Path() string { return s.path }

// Get returns a copy of the current state.
func (s *Store) Get() State {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.clone()
}

// Update applies fn to a copy of the state; if fn returns nil the copy
// becomes the state, is persisted and the watchers are called. If fn or
// the write fails the state is unchanged.
func (s *Store) Update(fn func(st *State) error) error {
	s.mu.Lock()
	next := s.st.clone()
	if err := fn(&next); err != nil {
		s.mu.Unlock()
		return err
	}
	if err := s.save(next); err != nil {
		s.mu.Unlock()
		return err
	}
	before := logins(s.configured, s.st.Users)
	s.st = next
	lost := lostLogins(before, logins(s.configured, s.st.Users))
	watchers, userWatch := slices.Clone(s.watchers), slices.Clone(s.userWatch)
	s.mu.Unlock()
	for _, w := range watchers {
		w()
	}
	if len(lost) > 0 {
		for _, w := range userWatch {
			w(lost)
		}
	}
	return nil
}

// WatchUsers registers fn to be called with the users who can no longer
// log in as they did: deleted, or with another password or level (ONVIF
// DeleteUsers and SetUser, a factory reset, new configured users), and ""
// for anonymous clients when a device without users gets its first one.
// Whoever serves them on the strength of their old credentials (streams,
// RTSP sessions, event subscriptions) ends that. fn runs on the updating
// goroutine, without the store's lock held.
func (s *Store) WatchUsers(fn func(names []string)) {
	s.mu.Lock()
	s.userWatch = append(s.userWatch, fn)
	s.mu.Unlock()
}

// login is how a user logs in.
type login struct{ password, level string }

// logins returns how every user logs in: the configured users, then the
// ONVIF users whose names they do not take.
func logins(configured, users []User) map[string]login {
	m := make(map[string]login, len(configured)+len(users))
	for _, u := range configured {
		if _, ok := m[u.Name]; !ok {
			m[u.Name] = login{u.Password, u.Level}
		}
	}
	for _, u := range users {
		if _, ok := m[u.Name]; !ok {
			m[u.Name] = login{u.Password, u.Level}
		}
	}
	return m
}

// lostLogins returns, sorted, the users of before who log in otherwise or
// not at all in after, and "" when before had no user and after has some
// (anonymous access ends).
func lostLogins(before, after map[string]login) []string {
	var lost []string
	if len(before) == 0 && len(after) > 0 {
		lost = append(lost, "")
	}
	for name, l := range before {
		if a, ok := after[name]; !ok || a != l {
			lost = append(lost, name)
		}
	}
	slices.Sort(lost)
	return lost
}

// Reset restores DefaultState (SetSystemFactoryDefault). Fixed profiles are
// recreated by the media service on its next request.
func (s *Store) Reset() error {
	return s.Update(func(st *State) error {
		*st = DefaultState()
		return nil
	})
}

// Watch registers fn to be called after every successful Update (for
// example to bump the WS-Discovery MetadataVersion when scopes change). fn
// runs on the updating goroutine, without the store's lock held.
func (s *Store) Watch(fn func()) {
	s.mu.Lock()
	s.watchers = append(s.watchers, fn)
	s.mu.Unlock()
}

func (s *Store) save(st State) error {
	if s.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("onvif: encode state: %w", err)
	}
	if err = writeFileSynced(s.path, append(b, '\n')); err != nil {
		return fmt.Errorf("onvif: write state: %w", err)
	}
	return nil
}

// writeFileSynced replaces path with data so that after a crash path holds
// either the old or the new data, whole: the data goes to a temporary file
// in the same directory, which is synced to disk, renamed over path, and
// the directory is synced so that the rename itself is on disk.
func writeFileSynced(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, tempPattern(path))
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// SetConfigured sets the users of the configuration (config file or
// command line). They are not persisted, cannot be changed or deleted
// through ONVIF, and come before the ONVIF users: an ONVIF user of the
// same name can no longer log in. nil removes them. It may be called
// while the store is in use (a configuration reload).
func (s *Store) SetConfigured(users []User) {
	s.mu.Lock()
	before := logins(s.configured, s.st.Users)
	s.configured = slices.Clone(users)
	lost := lostLogins(before, logins(s.configured, s.st.Users))
	userWatch := slices.Clone(s.userWatch)
	s.mu.Unlock()
	if len(lost) > 0 {
		for _, w := range userWatch {
			w(lost)
		}
	}
}

// SetAdmin sets one configured administrator (see SetConfigured); an empty
// user removes the configured users.
func (s *Store) SetAdmin(user, password string) {
	if user == "" {
		s.SetConfigured(nil)
		return
	}
	s.SetConfigured([]User{{Name: user, Password: password, Level: LevelAdministrator}})
}

// Configured returns the configured users' names and levels (passwords
// left empty).
func (s *Store) Configured() []User {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]User, len(s.configured))
	for i, u := range s.configured {
		out[i] = User{Name: u.Name, Level: u.Level}
	}
	return out
}

// configuredLocked returns the configured user called name, comparing in
// constant time. s.mu is held (Update's fn runs with it held too).
func (s *Store) configuredLocked(name string) (User, bool) {
	var found User
	ok := false
	for _, u := range s.configured {
		if subtle.ConstantTimeCompare([]byte(name), []byte(u.Name)) == 1 && !ok {
			found, ok = u, true
		}
	}
	return found, ok
}

// Password returns the password of user: a configured user or an ONVIF
// user. It implements httpauth.Users.
func (s *Store) Password(user string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if u, ok := s.configuredLocked(user); ok {
		return u.Password, true
	}
	for _, u := range s.st.Users {
		if u.Name == user {
			return u.Password, true
		}
	}
	return "", false
}

// Level returns the user level of user.
func (s *Store) Level(user string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if u, ok := s.configuredLocked(user); ok {
		return u.Level, true
	}
	for _, u := range s.st.Users {
		if u.Name == user {
			return u.Level, true
		}
	}
	return "", false
}

// Len returns the number of users that can log in (configured ones
// included). Zero means the device is open: no credentials are required.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.st.Users) + len(s.configured)
}

// CreateUsers adds users atomically (CreateUsers): all or none.
func (s *Store) CreateUsers(users []User) error {
	return s.Update(func(st *State) error {
		for _, u := range users {
			if !validUser(u) {
				return fmt.Errorf("%w: %q", ErrBadUser, u.Name)
			}
			if _, fixed := s.configuredLocked(u.Name); fixed {
				return fmt.Errorf("%w: %q", ErrUserExists, u.Name)
			}
			if slices.ContainsFunc(st.Users, func(x User) bool { return x.Name == u.Name }) {
				return fmt.Errorf("%w: %q", ErrUserExists, u.Name)
			}
			st.Users = append(st.Users, u)
		}
		if len(st.Users) > MaxUsers {
			return ErrTooManyUsers
		}
		return nil
	})
}

// DeleteUsers removes users by name atomically (DeleteUsers).
func (s *Store) DeleteUsers(names []string) error {
	return s.Update(func(st *State) error {
		for _, n := range names {
			if _, fixed := s.configuredLocked(n); fixed {
				return ErrFixedUser
			}
			i := slices.IndexFunc(st.Users, func(x User) bool { return x.Name == n })
			if i < 0 {
				return fmt.Errorf("%w: %q", ErrUnknownUser, n)
			}
			st.Users = slices.Delete(st.Users, i, i+1)
		}
		return nil
	})
}

// SetUsers changes existing users' passwords and levels atomically
// (SetUser). An empty Password keeps the old one.
func (s *Store) SetUsers(users []User) error {
	return s.Update(func(st *State) error {
		for _, u := range users {
			if _, fixed := s.configuredLocked(u.Name); fixed {
				return ErrFixedUser
			}
			i := slices.IndexFunc(st.Users, func(x User) bool { return x.Name == u.Name })
			if i < 0 {
				return fmt.Errorf("%w: %q", ErrUnknownUser, u.Name)
			}
			if u.Password == "" {
				u.Password = st.Users[i].Password
			}
			if !validUser(u) {
				return fmt.Errorf("%w: %q", ErrBadUser, u.Name)
			}
			st.Users[i] = u
		}
		return nil
	})
}

func validUser(u User) bool {
	if u.Name == "" || len(u.Name) > 64 || u.Password == "" || len(u.Password) > 128 {
		return false
	}
	switch u.Level {
	case LevelAdministrator, LevelOperator, LevelUser:
		return true
	}
	return false
}
