package bridge

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chinesium/chinesium/internal/testutil"
	"github.com/chinesium/chinesium/onvif"
)

// statePath returns the state file of the camera at ip in dir.
func statePath(dir, ip string) string {
	return filepath.Join(dir, onvif.NewIdentity(ip).UUID.String()+".json")
}

// TestCorruptStateFile: a camera whose state file does not parse starts
// all the same, from the defaults, with one log line saying where the bad
// file went; the bridge and its other cameras are not held up.
func TestCorruptStateFile(t *testing.T) {
	t.Parallel()
	startFakeCams(t, "127.0.5.102", "127.0.5.103")
	dir := t.TempDir()
	bad := statePath(dir, "127.0.5.102")
	if err := os.WriteFile(bad, []byte(`{"scopes": ["onvif://www.onvif.org/name/x"], "users": [{"na`), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &testutil.SyncBuffer{}
	cfg := testConfig(t, dir, "127.0.5.102", "127.0.5.103")
	cfg.Logger = debugLogger(logs)
	for _, c := range startBridge(t, cfg).Cameras() {
		waitFrame(t, c)
	}
	aside, _ := filepath.Glob(bad + ".corrupt-*")
	if len(aside) != 1 {
		t.Fatalf("the bad file was not moved aside: %v", aside)
	}
	var lines []string
	for _, l := range logLines(logs) {
		if strings.Contains(l, "does not parse") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], aside[0]) || !strings.Contains(lines[0], "camera=cam-127-0-5-102") {
		t.Errorf("log lines about the bad file: %q", lines)
	}
}

// TestStateFileUserWithoutPassword: a user with an empty password in a
// state file (edited by hand, or from an older version) cannot log in with
// an empty password; the configured administrator still can.
func TestStateFileUserWithoutPassword(t *testing.T) {
	t.Parallel()
	startFakeCams(t, "127.0.5.104")
	dir := t.TempDir()
	if err := os.WriteFile(statePath(dir, "127.0.5.104"), []byte(`{"users": [{"name": "bob", "password": "", "level": "Administrator"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c := startBridge(t, testConfig(t, dir, "127.0.5.104")).Cameras()[0]
	waitFrame(t, c)
	get := func(user, password string) int {
		req, _ := http.NewRequest(http.MethodGet, c.SnapshotURL(bindIP.String()), nil)
		req.SetBasicAuth(user, password)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("bob", ""); code != http.StatusUnauthorized {
		t.Errorf("bob with an empty password: %d", code)
	}
	if code := get("admin", "secret"); code != http.StatusOK {
		t.Errorf("admin: %d", code)
	}
}
