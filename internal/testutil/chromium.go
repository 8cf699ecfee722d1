package testutil

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ChromiumArgs are the flags every test starts headless Chromium with:
// no sandbox (tests run as root), and nothing sent beyond loopback — no
// DNS lookups, no proxy lookup, no cast-target search (the media router
// multicasts SSDP), no component or safe-browsing updates.
var ChromiumArgs = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-dev-shm-usage", "--disable-default-apps", "--mute-audio",
	"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.*", "--proxy-server=127.0.0.1:9",
	"--disable-features=MediaRouter,DialMediaRouteProvider",
}

// Browser is a headless Chromium driven through the DevTools protocol
// over a pipe (--remote-debugging-pipe): no debugging port is opened.
type Browser struct {
	t      testing.TB
	cmd    *exec.Cmd
	stderr SyncBuffer

	wmu sync.Mutex
	w   io.WriteCloser // commands to the browser, NUL-terminated JSON

	mu      sync.Mutex
	nextID  int
	pending map[int]chan cdpMessage
	pages   map[string]*Page // by DevTools session id
	done    chan struct{}    // closed when the browser's output ends
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *cdpError       `json:"error,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
}

type cdpError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// StartChromium starts headless Chromium with ChromiumArgs and a fresh
// profile, and stops it (its whole process group) when the test ends. A
// missing chromium fails the test in CI and skips it locally.
func StartChromium(t testing.TB) *Browser {
	t.Helper()
	bin := NeedTool(t, "chromium")
	// Chromium reads commands from fd 3 and writes to fd 4.
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	args := append(append([]string(nil), ChromiumArgs...), "--remote-debugging-pipe", "--user-data-dir="+t.TempDir(), "about:blank")
	b := &Browser{
		t: t, cmd: exec.Command(bin, args...), w: cmdW,
		pending: map[int]chan cdpMessage{}, pages: map[string]*Page{}, done: make(chan struct{}),
	}
	b.cmd.ExtraFiles = []*os.File{cmdR, outW}
	b.cmd.Stderr = &b.stderr
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmdR.Close()
	outW.Close()
	go b.read(outR)
	t.Cleanup(func() {
		// Chromium forks helpers: end its whole process group.
		_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		_ = b.cmd.Wait()
		cmdW.Close()
		<-b.done
		outR.Close()
		if t.Failed() {
			t.Logf("chromium stderr (last lines):\n%s", lastLines(b.stderr.String(), 30))
		}
	})
	return b
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

// read dispatches the browser's messages: answers to their callers,
// events to the page they belong to.
func (b *Browser) read(r io.Reader) {
	defer close(b.done)
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			for id, ch := range b.pending {
				close(ch)
				delete(b.pending, id)
			}
			b.mu.Unlock()
			return
		}
		var m cdpMessage
		if err := json.Unmarshal(raw[:len(raw)-1], &m); err != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch := b.pending[m.ID]; ch != nil {
				delete(b.pending, m.ID)
				ch <- m
			}
			b.mu.Unlock()
			continue
		}
		p := b.pages[m.SessionID]
		b.mu.Unlock()
		if p != nil {
			p.event(m)
		}
	}
}

// send sends a command and returns the channel its answer arrives on.
func (b *Browser) send(session, method string, params any) (<-chan cdpMessage, error) {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMessage, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	raw, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	b.wmu.Lock()
	defer b.wmu.Unlock()
	if _, err := b.w.Write(append(raw, 0)); err != nil {
		return nil, fmt.Errorf("chromium: %s: %w", method, err)
	}
	return ch, nil
}

// call sends a command and waits up to 30 s for its result.
func (b *Browser) call(session, method string, params any, result any) error {
	ch, err := b.send(session, method, params)
	if err != nil {
		return err
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return fmt.Errorf("chromium: %s: browser gone", method)
		}
		if m.Error != nil {
			return fmt.Errorf("chromium: %s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if result != nil {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("chromium: %s: no answer in 30 s", method)
	}
}

// Page is one browser tab.
type Page struct {
	b       *Browser
	session string

	mu       sync.Mutex
	console  []string // console errors, uncaught exceptions and failed loads
	user     string
	password string
}

// NewPage opens a blank tab and starts collecting its console errors.
// With user set, the tab answers every HTTP authentication challenge with
// user and password, as a person typing them into the browser's prompt.
func (b *Browser) NewPage(user, password string) (*Page, error) {
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		return nil, err
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att); err != nil {
		return nil, err
	}
	p := &Page{b: b, session: att.SessionID, user: user, password: password}
	b.mu.Lock()
	b.pages[p.session] = p
	b.mu.Unlock()
	for _, m := range []string{"Runtime.enable", "Log.enable", "Page.enable"} {
		if err := b.call(p.session, m, nil, nil); err != nil {
			return nil, err
		}
	}
	if user != "" {
		if err := b.call(p.session, "Fetch.enable", map[string]any{"handleAuthRequests": true}, nil); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// event handles an event of this page.
func (p *Page) event(m cdpMessage) {
	switch m.Method {
	case "Runtime.consoleAPICalled":
		var e struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		if json.Unmarshal(m.Params, &e) == nil && (e.Type == "error" || e.Type == "assert") {
			var parts []string
			for _, a := range e.Args {
				if a.Value != nil {
					parts = append(parts, fmt.Sprint(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			p.addConsole("console." + e.Type + ": " + strings.Join(parts, " "))
		}
	case "Runtime.exceptionThrown":
		var e struct {
			Details struct {
				Text      string `json:"text"`
				URL       string `json:"url"`
				Line      int    `json:"lineNumber"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		if json.Unmarshal(m.Params, &e) == nil {
			d := e.Details
			p.addConsole(fmt.Sprintf("exception at %s:%d: %s %s", d.URL, d.Line+1, d.Text, d.Exception.Description))
		}
	case "Log.entryAdded":
		var e struct {
			Entry struct {
				Level  string `json:"level"`
				Source string `json:"source"`
				Text   string `json:"text"`
				URL    string `json:"url"`
			} `json:"entry"`
		}
		if json.Unmarshal(m.Params, &e) == nil && e.Entry.Level == "error" {
			p.addConsole(fmt.Sprintf("%s error: %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL))
		}
	case "Fetch.requestPaused":
		var e struct {
			RequestID string `json:"requestId"`
		}
		if json.Unmarshal(m.Params, &e) == nil {
			_, _ = p.b.send(p.session, "Fetch.continueRequest", map[string]any{"requestId": e.RequestID})
		}
	case "Fetch.authRequired":
		var e struct {
			RequestID string `json:"requestId"`
		}
		if json.Unmarshal(m.Params, &e) == nil {
			_, _ = p.b.send(p.session, "Fetch.continueWithAuth", map[string]any{
				"requestId": e.RequestID,
				"authChallengeResponse": map[string]any{
					"response": "ProvideCredentials", "username": p.user, "password": p.password,
				},
			})
		}
	}
}

func (p *Page) addConsole(s string) {
	p.mu.Lock()
	p.console = append(p.console, s)
	p.mu.Unlock()
}

// ConsoleErrors returns the console errors, uncaught exceptions and
// failed resource loads the page has logged so far.
func (p *Page) ConsoleErrors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.console...)
}

// Navigate loads url in the tab and waits for the navigation to commit.
func (p *Page) Navigate(url string) error {
	var r struct {
		ErrorText string `json:"errorText"`
	}
	if err := p.b.call(p.session, "Page.navigate", map[string]any{"url": url}, &r); err != nil {
		return err
	}
	if r.ErrorText != "" {
		return fmt.Errorf("chromium: navigate to %s: %s", url, r.ErrorText)
	}
	return nil
}

// Eval evaluates a JavaScript expression in the page (awaiting it when it
// is a promise) and decodes its value into result.
func (p *Page) Eval(expr string, result any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := p.b.call(p.session, "Runtime.evaluate", map[string]any{
		"expression": expr, "returnByValue": true, "awaitPromise": true,
	}, &r)
	if err != nil {
		return err
	}
	if e := r.ExceptionDetails; e != nil {
		return fmt.Errorf("chromium: %s: %s %s", expr, e.Text, e.Exception.Description)
	}
	if result == nil || len(r.Result.Value) == 0 {
		return nil
	}
	return json.Unmarshal(r.Result.Value, result)
}

// WaitFor evaluates expr until it is true, for up to timeout.
func (p *Page) WaitFor(expr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		err := p.Eval("Boolean("+expr+")", &ok)
		if err == nil && ok {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("still false")
			}
			return fmt.Errorf("chromium: waiting %v for %s: %w", timeout, expr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// GrantClipboard lets the tab's scripts write and read the clipboard and
// brings it to the front (the clipboard needs a focused document).
func (p *Page) GrantClipboard() error {
	err := p.b.call("", "Browser.grantPermissions", map[string]any{
		"permissions": []string{"clipboardReadWrite", "clipboardSanitizedWrite"},
	}, nil)
	if err != nil {
		return err
	}
	return p.b.call(p.session, "Page.bringToFront", nil, nil)
}

// SetViewport sets the tab's size in CSS pixels.
func (p *Page) SetViewport(width, height int) error {
	return p.b.call(p.session, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false,
	}, nil)
}

// Screenshot returns a PNG of the tab's viewport.
func (p *Page) Screenshot() ([]byte, error) {
	var r struct {
		Data string `json:"data"`
	}
	if err := p.b.call(p.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &r); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(r.Data)
}

// ArtifactDir returns the directory where tests keep what a person may
// want to look at after the run (screenshots): $CHINESIUM_ARTIFACTS, or
// chinesium-artifacts in the system's temporary directory. It is created
// if needed.
func ArtifactDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("CHINESIUM_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "chinesium-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifact directory: %v", err)
	}
	return dir
}

// SaveArtifact writes b to name in ArtifactDir and logs where.
func SaveArtifact(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(ArtifactDir(t), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatalf("artifact: %v", err)
	}
	t.Logf("saved %s (%d bytes)", p, len(b))
	return p
}

// isPNG reports whether b starts with the PNG signature.
func isPNG(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) }
