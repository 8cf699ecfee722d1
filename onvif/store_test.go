package onvif

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chinesium/chinesium/internal/testutil"
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

// writeState writes a state file as another program (or a crash) left it.
func writeState(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestStoreCorruptFileMovedAside: a state file that does not parse (cut
// short by a crash, edited by hand) is moved aside and the device starts
// from the defaults, saying so; it never stops the camera. The next
// change writes a sound file, and the bad one is kept for inspection.
func TestStoreCorruptFileMovedAside(t *testing.T) {
	for name, text := range map[string]string{
		"truncated":  `{"scopes": ["onvif://www.onvif.org/name/x"], "users": [{"name": "a", "pass`,
		"empty":      "",
		"wrong type": `{"users": "admin"}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "cam.json")
			writeState(t, path, text)
			s, err := OpenStore(path)
			if err != nil {
				t.Fatalf("OpenStore: %v", err)
			}
			if st := s.Get(); !reflect.DeepEqual(st, DefaultState()) {
				t.Errorf("state %+v, want the defaults", st)
			}
			aside, _ := filepath.Glob(path + ".corrupt-*")
			if len(aside) != 1 {
				t.Fatalf("moved aside: %v", aside)
			}
			if b, _ := os.ReadFile(aside[0]); string(b) != text {
				t.Errorf("the moved file holds %q", b)
			}
			if r := s.Repairs(); len(r) != 1 || !strings.Contains(r[0], "does not parse") || !strings.Contains(r[0], aside[0]) {
				t.Errorf("repairs %q", r)
			}
			if err = s.Update(func(st *State) error { st.Hostname = "cam"; return nil }); err != nil {
				t.Fatal(err)
			}
			s2, err := OpenStore(path)
			if err != nil || s2.Get().Hostname != "cam" || len(s2.Repairs()) != 0 {
				t.Errorf("reopened: %v %+v %q", err, s2.Get(), s2.Repairs())
			}
		})
	}
}

// TestStoreChecksOnLoad: what a request could not set, a state file
// cannot either: a user without a password (who would log in with an
// empty one), 1002 profiles where 16 is the limit, malformed scopes and
// encoder settings are dropped, each named in Repairs.
func TestStoreChecksOnLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cam.json")
	var profiles []string
	for i := range 1002 {
		profiles = append(profiles, fmt.Sprintf(`{"token": "p%d", "name": "P%d"}`, i, i))
	}
	writeState(t, path, `{
		"scopes": ["onvif://www.onvif.org/location/hall", "no scope", "onvif://www.onvif.org/location/hall"],
		"discoveryMode": "Sometimes",
		"hostname": "-bad-",
		"users": [
			{"name": "bob", "password": "", "level": "Administrator"},
			{"name": "eve", "password": "pw", "level": "Root"},
			{"name": "ann", "password": "pw", "level": "User"},
			{"name": "ann", "password": "other", "level": "Administrator"}
		],
		"profiles": [`+strings.Join(profiles, ",")+`],
		"videoEncoders": {
			"jpeg_enc": {"bitrateLimit": 500},
			"h264_enc": {"govLength": 20, "frameRateLimit": 10},
			"x_enc": {"quality": 50}
		}
	}`)
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	st := s.Get()
	if _, ok := s.Password("bob"); ok {
		t.Error("a user with an empty password from the state file can log in")
	}
	if _, ok := s.Password("eve"); ok {
		t.Error("a user with an unknown level was kept")
	}
	if pw, ok := s.Password("ann"); !ok || pw != "pw" {
		t.Errorf("ann: %q %v", pw, ok)
	}
	if len(st.Profiles) != MaxProfiles {
		t.Errorf("%d profiles loaded, the limit is %d", len(st.Profiles), MaxProfiles)
	}
	if !slices.Equal(st.Scopes, []string{"onvif://www.onvif.org/location/hall"}) || st.DiscoveryMode != Discoverable || st.Hostname != "" {
		t.Errorf("scopes %q, mode %q, host name %q", st.Scopes, st.DiscoveryMode, st.Hostname)
	}
	if want := map[string]VideoEncoderSettings{H264EncoderToken: {GovLength: 20, FrameRateLimit: 10}}; !reflect.DeepEqual(st.VideoEncoders, want) {
		t.Errorf("encoders %+v", st.VideoEncoders)
	}
	all := strings.Join(s.Repairs(), "\n")
	for _, want := range []string{`user "bob": empty password`, `user "eve"`, `second user named "ann"`, "dropped 986 profiles beyond the limit of 16",
		`malformed scope "no scope"`, `repeated scope`, `discovery mode "Sometimes"`, `host name "-bad-"`, `"jpeg_enc" to its defaults: bitrate 500`, `unknown video encoder "x_enc"`} {
		if !strings.Contains(all, want) {
			t.Errorf("repairs lack %q:\n%s", want, all)
		}
	}
}

// TestStoreRemovesUnfinishedWrites: temporary files of this state file,
// left by a write a crash interrupted, are removed when it is opened;
// another camera's are not touched.
func TestStoreRemovesUnfinishedWrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cam-a.json")
	mine := filepath.Join(dir, ".cam-a.json.tmp-123")
	other := filepath.Join(dir, ".cam-b.json.tmp-456")
	writeState(t, mine, `{"hostname": "half`)
	writeState(t, other, `{}`)
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(mine); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the unfinished write is still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another store's file was touched: %v", err)
	}
	if r := s.Repairs(); len(r) != 1 || !strings.Contains(r[0], mine) {
		t.Errorf("repairs %q", r)
	}
}

// TestStoreWriteIsDurable traces a state write with strace: the data is
// written to a temporary file in the state directory, that file is
// synced, then renamed over the state file, then the directory is synced,
// in this order; nothing else is left in the directory.
func TestStoreWriteIsDurable(t *testing.T) {
	if os.Getenv("CHINESIUM_STORE_WRITER") != "" {
		s, err := OpenStore(os.Getenv("CHINESIUM_STORE_WRITER"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Update(func(st *State) error { st.Hostname = "traced"; return nil }); err != nil {
			t.Fatal(err)
		}
		return
	}
	strace := testutil.NeedTool(t, "strace")
	dir := t.TempDir()
	path := filepath.Join(dir, "cam.json")
	cmd := exec.Command(strace, "-f", "-qq", "-e", "trace=openat,fsync,fdatasync,rename,renameat,renameat2", "-o", filepath.Join(dir, "trace"),
		os.Args[0], "-test.run", "^TestStoreWriteIsDurable$")
	cmd.Env = append(os.Environ(), "CHINESIUM_STORE_WRITER="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("traced write: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "trace"))
	if err != nil {
		t.Fatal(err)
	}
	// Follow the file descriptors: which one is the temporary file, which
	// the directory.
	fds := map[string]string{} // fd -> "tmp" or "dir"
	var steps []string
	open := regexp.MustCompile(`openat\(AT_FDCWD, "([^"]+)", [^)]*\) = (\d+)`)
	sync := regexp.MustCompile(`f(?:data)?sync\((\d+)\) += 0`)
	rename := regexp.MustCompile(`rename(?:at2?)?\(.*"([^"]+)".*"` + regexp.QuoteMeta(path) + `"`)
	pending := map[string]string{} // pid -> a call strace left unfinished
	for line := range strings.SplitSeq(string(b), "\n") {
		// With several threads, strace splits a call that another
		// thread's call interrupts: "PID fsync(5 <unfinished ...>", later
		// "PID <... fsync resumed>) = 0". Join the two halves.
		// strace pads the pid column: "PID  call".
		pid, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimLeft(rest, " ")
		if head, ok := strings.CutSuffix(rest, "<unfinished ...>"); ok {
			pending[pid] = strings.TrimSpace(head)
			continue
		}
		if after, ok := strings.CutPrefix(rest, "<... "); ok {
			if _, tail, ok := strings.Cut(after, " resumed>"); ok {
				line = pid + " " + pending[pid] + tail
				delete(pending, pid)
			}
		}
		if m := open.FindStringSubmatch(line); m != nil {
			switch {
			case strings.HasPrefix(m[1], filepath.Join(dir, ".cam.json.tmp-")):
				fds[m[2]] = "tmp"
			case m[1] == dir:
				fds[m[2]] = "dir"
			default:
				delete(fds, m[2])
			}
		}
		if m := sync.FindStringSubmatch(line); m != nil && fds[m[1]] != "" {
			steps = append(steps, "sync "+fds[m[1]])
		}
		if m := rename.FindStringSubmatch(line); m != nil && strings.HasPrefix(m[1], filepath.Join(dir, ".cam.json.tmp-")) {
			steps = append(steps, "rename")
		}
	}
	if want := []string{"sync tmp", "rename", "sync dir"}; !slices.Equal(steps, want) {
		t.Errorf("write steps %q, want %q; trace:\n%s", steps, want, b)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "cam.json" && e.Name() != "trace" {
			t.Errorf("left in the state directory: %s", e.Name())
		}
	}
	if s, err := OpenStore(path); err != nil || s.Get().Hostname != "traced" {
		t.Errorf("after the traced write: %v", err)
	}
}
