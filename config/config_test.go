package config

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chinesium/chinesium/bridge"
	"github.com/chinesium/chinesium/motion"
	"github.com/chinesium/chinesium/onvif"
)

// writeFile writes a configuration file for a test and returns its path.
func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "chinesium.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// load loads text as the file, with env and settings, and validates.
func load(t *testing.T, text string, env []string, settings ...Setting) (Config, []string, error) {
	t.Helper()
	path := writeFile(t, text)
	cfg, warnings, err := Load(Default(), Sources{File: path, Environ: env, Settings: settings})
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		// Errors name the file as it was given; the tests look for its
		// base name.
		err = errors.New(strings.ReplaceAll(err.Error(), filepath.Dir(path)+string(filepath.Separator), ""))
	}
	return cfg, warnings, err
}

// allKeys lists every key of the file, list items written with [0].
func allKeys() []string {
	var keys []string
	walkKeys(reflect.TypeFor[Config](), "", func(key string, _ reflect.Type) {
		keys = append(keys, strings.ReplaceAll(key, "[]", "[0]"))
	})
	return keys
}

// TestEveryKeyBadValue sets each key of the file to a bad value and
// checks that the error names the key, the value and the file's line. The
// table must cover every key: a new key without a case here fails.
func TestEveryKeyBadValue(t *testing.T) {
	t.Parallel()
	const cam = "cameras:\n  - ip: 10.0.0.5\n"
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		key, file, want string
	}{
		{"cameras[0].ip", "cameras:\n  - ip: 10.0.0.300\n", `cameras[0].ip: "10.0.0.300" is not an IPv4 address (`},
		{"cameras[0].ip", "cameras:\n  - name: x\n", `cameras[0].ip: missing`},
		{"cameras[0].ip", "cameras:\n  - ip: 10.0.0.5\n  - ip: 10.0.0.5\n", `cameras[1].ip: "10.0.0.5" is the identity of cameras[0] already`},
		{"cameras[0].name", "cameras:\n  - ip: 10.0.0.5\n    name: \"a\\u0007b\"\n", `cameras[0].name: "a\ab" is not a name`},
		{"cameras[0].name", "cameras:\n  - ip: 10.0.0.5\n    name: Front door\n  - ip: 10.0.0.6\n    name: Front/door\n", `cameras[1].name: "Front/door" gives the same RTSP path, /Front-door/, as cameras[0]`},
		{"cameras[0].id", "cameras:\n  - ip: 10.0.0.5\n    id: " + strings.Repeat("x", 65) + "\n", `cameras[0].id: "xxxx`},
		{"cameras[0].id", "cameras:\n  - ip: 10.0.0.5\n    id: door\n  - ip: 10.0.0.6\n    id: door\n", `cameras[1].id: "door" is the identity of cameras[0] already`},
		{"cameras[0].bind", "cameras:\n  - ip: 10.0.0.5\n    bind: nowhere\n", `cameras[0].bind: "nowhere" is not a local IPv4 address`},
		{"cameras[0].http_port", "cameras:\n  - ip: 10.0.0.5\n    http_port: 70000\n", `cameras[0].http_port: 70000 is not a port number`},
		{"cameras[0].http_port", "cameras:\n  - ip: 10.0.0.5\n    http_port: 8554\n", `cameras[0].http_port: port 8554 is taken by listen.rtsp_port`},
		{"cameras[0].http_port", "cameras:\n  - ip: 10.0.0.5\n    http_port: 9000\n  - ip: 10.0.0.6\n    http_port: 9000\n", `cameras[1].http_port: port 9000 is taken by cameras[0].http_port`},
		{"cameras[0].audio", "cameras:\n  - ip: 10.0.0.5\n    audio: maybe\n", `cameras[0].audio: "maybe" is not true or false (`},
		{"cameras[0].h264", "cameras:\n  - ip: 10.0.0.5\n    h264: [yes]\n", `cameras[0].h264: needs a single value, not a list (`},
		{"cameras[0].rtsp_access", "cameras:\n  - ip: 10.0.0.5\n    rtsp_access: open\n", `cameras[0].rtsp_access: "open" is neither credentials nor anonymous (`},
		{"cameras[0].rtsp_access_from", "cameras:\n  - ip: 10.0.0.5\n    rtsp_access: anonymous\n    rtsp_access_from: [10.0.0.0/33]\n", `cameras[0].rtsp_access_from[0]: "10.0.0.0/33" is not an IP address or a network`},
		{"cameras[0].rtsp_access_from", "cameras:\n  - ip: 10.0.0.5\n    rtsp_access_from: [10.0.0.9]\n", `cameras[0].rtsp_access_from: lists the clients let in without credentials, which needs rtsp_access: anonymous (`},
		{"users[0].name", cam + "users:\n  - password: pw\n", `users[0].name: missing`},
		{"users[0].name", cam + "users:\n  - name: a:b\n    password: pw\n", `users[0].name: "a:b" is not a user name`},
		{"users[0].name", cam + "users:\n  - {name: a, password: pw}\n  - {name: a, password: pw2}\n", `users[1].name: "a" is users[0] already`},
		{"users[0].password", cam + "users:\n  - name: admin\n", `users[0].password: missing`},
		{"users[0].password", cam + "users:\n  - name: admin\n    password: " + strings.Repeat("p", 129) + "\n", `users[0].password: longer than 128`},
		{"users[0].level", cam + "users:\n  - {name: admin, password: pw, level: Root}\n", `users[0].level: "Root" is not Administrator, Operator or User (`},
		{"listen.bind", cam + "listen:\n  bind: \"::1\"\n", `listen.bind: "::1" is not a local IPv4 address`},
		{"listen.http_base_port", cam + "listen:\n  http_base_port: 0\n", `listen.http_base_port: 0 is not a port number`},
		{"listen.http_base_port", cam + "listen:\n  http_base_port: 8554\n", `listen.http_base_port: 8554 gives the cameras the ports 8554-8554, and listen.rtsp_port is 8554`},
		{"listen.rtsp_port", cam + "listen:\n  rtsp_port: -1\n", `listen.rtsp_port: -1 is not a port number`},
		{"listen.rtsp_port", cam + "listen:\n  rtsp_port: abc\n", `listen.rtsp_port: "abc" is not a whole number (`},
		{"listen.admin_port", cam + "listen:\n  admin_port: 65536\n", `listen.admin_port: 65536 is not a port number`},
		{"listen.admin_port", cam + "listen:\n  admin_port: 8554\n", `listen.admin_port: 8554 is the RTSP port too`},
		{"listen.admin_port", cam + "listen:\n  admin_port: 8000\n", `listen.http_base_port: 8000 gives the cameras the ports 8000-8000, and listen.admin_port is 8000`},
		{"audio", cam + "audio: 1x\n", `audio: "1x" is not true or false (`},
		{"h264", cam + "h264:\n  on: true\n", `h264: needs a single value, not keys (`},
		{"ffmpeg", cam + "ffmpeg: /nonexistent/ffmpeg\n", `ffmpeg: "/nonexistent/ffmpeg" is not an executable program`},
		{"motion.enabled", cam + "motion:\n  enabled: yes please\n", `motion.enabled: "yes please" is not true or false (`},
		{"motion.sensitivity", cam + "motion:\n  sensitivity: 101\n", `motion.sensitivity: 101 is not between 1 and 100`},
		{"motion.hold", cam + "motion:\n  hold: 5\n", `motion.hold: "5" is not a duration such as 5s`},
		{"motion.hold", cam + "motion:\n  hold: -1s\n", `motion.hold: -1s is not between 0s and 1h0m0s`},
		{"discovery.enabled", cam + "discovery:\n  enabled: nope\n", `discovery.enabled: "nope" is not true or false (`},
		{"discovery.interfaces", cam + "discovery:\n  interfaces: [eth0, \"has space\"]\n", `discovery.interfaces[1]: "has space" is not a network interface name`},
		{"discovery.interfaces", cam + "discovery:\n  enabled: false\n  interfaces: [eth0]\n", `discovery.interfaces: set while discovery.enabled is false`},
		{"scan.enabled", cam + "scan:\n  enabled: often\n", `scan.enabled: "often" is not true or false (`},
		{"scan.broadcast", cam + "scan:\n  broadcast: 192.168.1.255\n", `scan.broadcast: "192.168.1.255" is not an IPv4 address and port`},
		{"scan.interval", cam + "scan:\n  interval: 10ms\n", `scan.interval: 10ms is not between 1s and 24h0m0s`},
		{"onvif.strict_auth_faults", cam + "onvif:\n  strict_auth_faults: 2\n", `onvif.strict_auth_faults: "2" is not true or false (`},
		{"onvif.push_consumers", cam + "onvif:\n  push_consumers: [10.0.0.0/33]\n", `onvif.push_consumers[0]: "10.0.0.0/33" is not an IP address or a network`},
		{"rtsp.basic_auth", cam + "rtsp:\n  basic_auth: sometimes\n", `rtsp.basic_auth: "sometimes" is not true or false (`},
		{"onvif.token_window", cam + "onvif:\n  token_window: 0s\n", `onvif.token_window: 0s is not between 1s and 24h0m0s`},
		{"memory_limit_mib", cam + "memory_limit_mib: -5\n", `memory_limit_mib: -5 is not between 0 (no limit) and 1048576`},
		{"state_dir", cam + "state_dir: " + notDir + "\n", `state_dir: "` + notDir + `" is not a directory`},
		{"log.format", cam + "log:\n  format: xml\n", `log.format: "xml" is not text or json (`},
		{"log.level", cam + "log:\n  level: loud\n", `log.level: "loud" is not debug, info, warn or error (`},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.key] = true
		_, _, err := load(t, tc.file, nil)
		if err == nil {
			t.Errorf("%s: accepted:\n%s", tc.key, tc.file)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error\n  %v\nwant it to contain\n  %s", tc.key, err, tc.want)
		}
		if !regexp.MustCompile(`chinesium\.yaml line \d+\)`).MatchString(err.Error()) {
			t.Errorf("%s: error %q does not say where in the file", tc.key, err)
		}
	}
	for _, k := range allKeys() {
		if !covered[k] {
			t.Errorf("key %s has no bad-value case in this table", k)
		}
	}
}

// TestFileErrors: typos and misplaced values in the file are errors that
// name the key; nothing is silently ignored.
func TestFileErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ file, want string }{
		{"cameras:\n  - ip: 10.0.0.5\nlisten:\n  rtsp_prot: 9000\n", "listen.rtsp_prot: unknown key; did you mean listen.rtsp_port? (chinesium.yaml line 4)"},
		{"cameras:\n  - ip: 10.0.0.5\n    nmae: door\n", "cameras[0].nmae: unknown key; did you mean cameras[0].name? (chinesium.yaml line 3)"},
		{"cameras:\n  - ip: 10.0.0.5\ncolour: red\n", "colour: unknown key; the keys here are cameras, users, listen"},
		{"cameras:\n  - ip: 10.0.0.5\naudio: true\naudio: false\n", "audio: given twice (also on line 3) (chinesium.yaml line 4)"},
		{"cameras: 10.0.0.5\n", "cameras: needs a list (items starting with -), not \"10.0.0.5\""},
		{"- 10.0.0.5\n", "the file: needs keys below it, not a list"},
		{"cameras:\n  - ip: 10.0.0.5\n---\naudio: true\n", "more than one YAML document"},
		{"cameras:\n  - ip: [10.0.0.5\n", "chinesium.yaml: yaml:"},
		{"listen:\n  rtsp_port:\n", "listen.rtsp_port: has no value (chinesium.yaml line 2)"},
	} {
		_, _, err := load(t, tc.file, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("file\n%s\nerror %v, want %q", tc.file, err, tc.want)
		}
	}
	// An empty file is the defaults (and then no camera).
	if _, _, err := load(t, "", nil); err == nil || !strings.Contains(err.Error(), "cameras: no camera configured") {
		t.Errorf("empty file: %v", err)
	}
	if _, _, err := Load(Default(), Sources{File: filepath.Join(t.TempDir(), "missing.yaml")}); err == nil {
		t.Error("a missing file is accepted")
	}
}

// TestEnvOverridesFile: CHINESIUM_* variables override the file, for
// every kind of value, the shorthands included; unknown ones are warned
// about; empty ones count as unset.
func TestEnvOverridesFile(t *testing.T) {
	t.Parallel()
	file := "cameras:\n  - ip: 10.0.0.5\n    name: door\nlisten:\n  rtsp_port: 9000\n  http_base_port: 9100\nmotion:\n  hold: 2s\n"
	cfg, warnings, err := load(t, file, []string{
		"HOME=/root",
		"CHINESIUM_LISTEN_RTSP_PORT=9554",
		"CHINESIUM_LISTEN_HTTP_BASE_PORT=",
		"CHINESIUM_MOTION_HOLD=1m",
		"CHINESIUM_MOTION_ENABLED=false",
		"CHINESIUM_DISCOVERY_INTERFACES=eth0, wlan0",
		"CHINESIUM_CAMERAS=10.0.0.7 10.0.0.8@10.0.0.99",
		"CHINESIUM_USER=admin",
		"CHINESIUM_PASSWORD=secret",
		"CHINESIUM_LOG_FORMAT=json",
		"CHINESIUM_LISTEN_RTSP_PROT=1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen.RTSPPort != 9554 || cfg.Listen.HTTPBasePort != 9100 || cfg.Motion.Hold != time.Minute || cfg.Motion.Enabled ||
		!slices.Equal(cfg.Discovery.Interfaces, []string{"eth0", "wlan0"}) || cfg.Log.Format != LogJSON {
		t.Errorf("environment not applied: %+v", cfg)
	}
	if want := []Camera{{IP: "10.0.0.7"}, {IP: "10.0.0.8", Bind: "10.0.0.99"}}; !reflect.DeepEqual(cfg.Cameras, want) {
		t.Errorf("cameras %+v, want %+v", cfg.Cameras, want)
	}
	if want := []User{{Name: "admin", Password: "secret", Level: onvif.LevelAdministrator}}; !reflect.DeepEqual(cfg.Users, want) {
		t.Errorf("users %+v", cfg.Users)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "CHINESIUM_LISTEN_RTSP_PROT") {
		t.Errorf("warnings %q", warnings)
	}
	// A bad value names the variable.
	_, _, err = load(t, file, []string{"CHINESIUM_LISTEN_RTSP_PORT=99999"})
	if err == nil || err.Error() != "listen.rtsp_port: 99999 is not a port number (1-65535) (CHINESIUM_LISTEN_RTSP_PORT)" {
		t.Errorf("bad variable: %v", err)
	}
	_, _, err = load(t, file, []string{"CHINESIUM_USER=admin"})
	if err == nil || !strings.Contains(err.Error(), "user: needs a password as well (CHINESIUM_USER sets only the user)") {
		t.Errorf("user without password: %v", err)
	}
	// Every documented key outside the lists has its variable.
	for _, k := range allKeys() {
		if strings.Contains(k, "[") {
			continue
		}
		v, err := Default().Get(k)
		if err != nil {
			t.Errorf("%s: %v", k, err)
			continue
		}
		if v == "" {
			continue // nothing to set it back to
		}
		if _, _, err := Load(Default(), Sources{Environ: []string{EnvName(k) + "=" + v}}); err != nil {
			t.Errorf("%s=%s: %v", EnvName(k), v, err)
		}
	}
}

// TestPrecedence: defaults < file < environment < command line, a list
// replaced as a whole, and keys nobody set keep the file's or the
// default value.
func TestPrecedence(t *testing.T) {
	t.Parallel()
	file := "cameras:\n  - ip: 10.0.0.5\n  - ip: 10.0.0.6\nlisten:\n  rtsp_port: 9000\n  bind: 10.0.0.1\naudio: true\nmotion:\n  sensitivity: 80\n"
	cfg, _, err := load(t, file, []string{"CHINESIUM_LISTEN_RTSP_PORT=9100", "CHINESIUM_MOTION_SENSITIVITY=70"},
		Setting{Key: "listen.rtsp_port", Value: "9200", Origin: "-rtsp-port"},
		Setting{Key: "audio", Value: "false", Origin: "-audio"},
		Setting{Key: KeyCameras, Value: "10.0.0.9"},
	)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen.RTSPPort != 9200 || cfg.Audio || cfg.Motion.Sensitivity != 70 || cfg.Listen.Bind != "10.0.0.1" ||
		cfg.Listen.HTTPBasePort != bridge.DefaultHTTPBasePort || len(cfg.Cameras) != 1 || cfg.Cameras[0].IP != "10.0.0.9" {
		t.Errorf("%+v", cfg)
	}
	// The error says which source set the bad value.
	_, _, err = load(t, file, nil, Setting{Key: KeyCameras, Value: "10.0.0.300"})
	if err == nil || err.Error() != `cameras[0].ip: "10.0.0.300" is not an IPv4 address (the command line)` {
		t.Errorf("bad camera on the command line: %v", err)
	}
	_, _, err = load(t, file, nil, Setting{Key: "motion.hold", Value: "soon", Origin: "-motion-hold"})
	if err == nil || err.Error() != `motion.hold: "soon" is not a duration such as 5s, 500ms or 1m30s (-motion-hold)` {
		t.Errorf("bad flag: %v", err)
	}
	if _, _, err := Load(Default(), Sources{Settings: []Setting{{Key: "listen.nope", Value: "1"}}}); err == nil {
		t.Error("unknown setting accepted")
	}
}

// TestExample: the example file loads and validates as it is, shows every
// key, and its values are the defaults (apart from its cameras).
func TestExample(t *testing.T) {
	t.Parallel()
	ex := string(Example())
	cfg, warnings, err := load(t, ex, nil)
	if err != nil || len(warnings) > 0 {
		t.Fatalf("example: %v %q\n%s", err, warnings, ex)
	}
	if len(cfg.Cameras) == 0 {
		t.Error("the example has no camera")
	}
	got := cfg
	got.Cameras, got.origin = nil, nil
	if want := Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("the example's values are not the defaults:\n got %+v\nwant %+v", got, want)
	}
	for _, k := range allKeys() {
		name := k[strings.LastIndexAny(k, ".]")+1:]
		if !regexp.MustCompile(`(?m)^[ #]*(- )?` + regexp.QuoteMeta(name) + `:`).MatchString(ex) {
			t.Errorf("the example does not show %s", k)
		}
	}
}

// TestBridge: the bridge configuration follows the keys, per-camera
// settings overriding the top-level ones.
func TestBridge(t *testing.T) {
	t.Parallel()
	cfg, _, err := load(t, `
cameras:
  - ip: 10.0.0.5
    name: door
    id: door-cam
    bind: 10.0.0.50
    http_port: 9005
    audio: false
    h264: false
    rtsp_access: anonymous
    rtsp_access_from: [10.0.0.9, 10.2.0.0/16]
  - ip: 10.0.0.6
    rtsp_access: anonymous
  - ip: 10.0.0.7
    rtsp_access: credentials
users:
  - {name: admin, password: pw}
  - {name: viewer, password: pw2, level: User}
listen:
  bind: 10.0.0.1
  rtsp_port: 9554
  admin_port: 9080
audio: true
motion:
  sensitivity: 75
  hold: 3s
discovery:
  interfaces: [eth0]
onvif:
  strict_auth_faults: true
  token_window: 10m
  push_consumers: [10.0.0.9, 10.1.0.0/16]
rtsp:
  basic_auth: true
state_dir: /var/lib/chinesium
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	bc := cfg.Bridge()
	want := bridge.Config{
		Cameras: []bridge.CameraConfig{
			{IP: netip.MustParseAddr("10.0.0.5"), Name: "door", ID: "door-cam", BindIP: netip.MustParseAddr("10.0.0.50"), HTTPPort: 9005, Audio: false, NoH264: true,
				RTSPAnonymous: []netip.Prefix{netip.MustParsePrefix("10.0.0.9/32"), netip.MustParsePrefix("10.2.0.0/16")}},
			{IP: netip.MustParseAddr("10.0.0.6"), Audio: true, RTSPAnonymous: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}},
			{IP: netip.MustParseAddr("10.0.0.7"), Audio: true},
		},
		RTSPBasicAuth: true,
		Users: []onvif.User{
			{Name: "admin", Password: "pw", Level: onvif.LevelAdministrator},
			{Name: "viewer", Password: "pw2", Level: onvif.LevelUser},
		},
		Bind:             netip.MustParseAddr("10.0.0.1"),
		HTTPBasePort:     bridge.DefaultHTTPBasePort,
		RTSPPort:         9554,
		AdminPort:        9080,
		StateDir:         "/var/lib/chinesium",
		Motion:           motion.Config{Hold: 3 * time.Second}.WithSensitivity(75),
		StrictAuthFaults: true,
		TokenWindow:      10 * time.Minute,
		PushConsumers:    []netip.Prefix{netip.MustParsePrefix("10.0.0.9/32"), netip.MustParsePrefix("10.1.0.0/16")},
	}
	if bc.Discovery == nil || !slices.Equal(bc.Discovery.Interfaces, []string{"eth0"}) {
		t.Errorf("discovery %+v", bc.Discovery)
	}
	bc.Discovery = nil
	if !reflect.DeepEqual(bc, want) {
		t.Errorf("bridge config\n got %+v\nwant %+v", bc, want)
	}
	cfg.Discovery.Enabled, cfg.Motion.Enabled, cfg.Listen.AdminPort = false, false, 0
	if bc := cfg.Bridge(); bc.Discovery != nil || !bc.NoMotion || !bc.NoAdmin {
		t.Errorf("off: discovery %+v, no motion %v, no admin %v", bc.Discovery, bc.NoMotion, bc.NoAdmin)
	}
}

// TestREADMEExample: the README's Configuration section shows the example
// file as "chinesium config example" prints it.
func TestREADMEExample(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i := strings.Index(readme, "## Configuration")
	if i < 0 {
		t.Fatal("README has no Configuration section")
	}
	start := strings.Index(readme[i:], "```yaml\n")
	if start < 0 {
		t.Fatal("README's Configuration section has no yaml block")
	}
	block := readme[i+start+len("```yaml\n"):]
	block = block[:strings.Index(block, "```")]
	if block != string(Example()) {
		t.Errorf("README's example differs from chinesium config example; paste its output into the README:\n%s", Example())
	}
}

// TestRestartKeys: a reload names the changed keys it cannot apply, not
// the ones it applies (cameras, users, LiveKeys).
func TestRestartKeys(t *testing.T) {
	t.Parallel()
	running := Default()
	running.Cameras = []Camera{{IP: "10.0.0.5"}}
	next := running
	next.Cameras = []Camera{{IP: "10.0.0.6"}}
	next.Users = []User{{Name: "a", Password: "b"}}
	next.Audio, next.H264 = true, false
	next.Log.Level, next.MemoryLimitMiB = "debug", 0
	if got := next.RestartKeys(running); len(got) != 0 {
		t.Errorf("live changes need a restart: %v", got)
	}
	next.Listen.RTSPPort = 9000
	next.Discovery.Interfaces = []string{"eth0"}
	next.Log.Format = LogJSON
	if got, want := strings.Join(next.RestartKeys(running), " "), "discovery.interfaces listen.rtsp_port log.format"; got != want {
		t.Errorf("RestartKeys: %s, want %s", got, want)
	}
}

// TestScan: with scan.enabled no camera needs to be configured, and the
// scan reaches the bridge's configuration.
func TestScan(t *testing.T) {
	t.Parallel()
	cfg, _, err := load(t, "scan:\n  enabled: true\n  interval: 30s\n", []string{"CHINESIUM_SCAN_BROADCAST=192.168.1.255:10104"})
	if err != nil {
		t.Fatal(err)
	}
	sc := cfg.Bridge().Scan
	if sc == nil || sc.Broadcast.String() != "192.168.1.255:10104" || sc.Interval != 30*time.Second {
		t.Errorf("bridge scan configuration %+v", sc)
	}
	if cfg, _, _ := load(t, "cameras:\n  - ip: 10.0.0.5\n", nil); cfg.Bridge().Scan != nil {
		t.Error("a scan without scan.enabled")
	}
}
