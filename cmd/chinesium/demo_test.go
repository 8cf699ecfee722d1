package main

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chinesium/chinesium/internal/testutil"
)

// plainBinary returns chinesium built as users build it, without the race
// detector (which slows everything down several times): timings are
// measured on it.
func plainBinary(t *testing.T) string {
	t.Helper()
	if !raceEnabled {
		return bin
	}
	plainOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			plainErr = err
			return
		}
		plainBin = filepath.Join(filepath.Dir(bin), "chinesium-plain")
		out, err := exec.Command(goTool, "build", "-o", plainBin, ".").CombinedOutput()
		if err != nil {
			plainErr = fmt.Errorf("%w\n%s", err, out)
		}
	})
	if plainErr != nil {
		t.Fatalf("building chinesium without -race: %v", plainErr)
	}
	return plainBin
}

var (
	plainOnce sync.Once
	plainBin  string
	plainErr  error
)

// demoDeadline is how soon after its start the demo must answer
// everything: the README promises it.
const demoDeadline = 5 * time.Second

// TestDemoAnswersWithin5s runs the README's run command (the demo) as a
// user on a fresh machine does, with a new state directory: within 5 s of
// starting, the web page, an ONVIF GetDeviceInformation, the snapshot and
// ffprobe on both RTSP URLs of a camera all answer, with what the user
// expects in each. The demo's default addresses are busy with other tests
// on this machine, so it listens on 127.0.7.1 with ports of its own; the
// defaults are the same code with other numbers.
func TestDemoAnswersWithin5s(t *testing.T) {
	ffprobe := testutil.NeedTool(t, "ffprobe")
	exe := plainBinary(t)
	args := []string{"demo", "-ip", "127.0.7.44", "-bind", "127.0.7.1",
		"-http-port", "18690", "-rtsp-port", "18693", "-admin-port", "18694", "-state-dir", filepath.Join(t.TempDir(), "state")}
	start := time.Now()
	p := startCommand(t, exec.Command(exe, args...))
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(os.Interrupt)
		p.wait(t, 10*time.Second)
	})
	var web string
	for _, l := range p.lines {
		if rest, ok := strings.CutPrefix(l, "Web page"); ok {
			web = strings.Fields(rest)[0]
		}
	}
	if web != "http://127.0.7.1:18694/" {
		t.Fatalf("web page URL %q in:\n%s", web, strings.Join(p.lines, "\n"))
	}
	onvif, snapshot := urlOf(t, p.lines, 0, "ONVIF"), urlOf(t, p.lines, 0, "snapshot")
	rtspJPEG, rtspH264 := urlOf(t, p.lines, 0, "RTSP"), urlOf(t, p.lines, 0, "RTSP H264")

	get := func(url string) ([]byte, string, error) {
		resp, err := http.Get(url)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s: %s", url, resp.Status)
		}
		return b, resp.Header.Get("Content-Type"), err
	}
	probe := func(url, codec string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, ffprobe, "-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "compact", url).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ffprobe %s: %w: %s", url, err, out)
		}
		if want := "stream|codec_name=" + codec + "|width=640|height=480"; !strings.Contains(string(out), want) {
			return fmt.Errorf("ffprobe %s: no %q in\n%s", url, want, out)
		}
		return nil
	}
	checks := []struct {
		what string
		do   func() error
	}{
		{"web page", func() error {
			b, ct, err := get(web)
			if err == nil && (!strings.HasPrefix(ct, "text/html") || !bytes.Contains(b, []byte("<title>chinesium</title>"))) {
				err = fmt.Errorf("not the page: %s", ct)
			}
			if err == nil {
				// The page's data: both cameras, streaming.
				b, _, err = get(web + "api/cameras")
				if err == nil && bytes.Count(b, []byte(`"online": true`)) != 2 {
					err = fmt.Errorf("not both cameras online:\n%s", b)
				}
			}
			return err
		}},
		{"ONVIF GetDeviceInformation", func() error {
			body := `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">` +
				`<s:Body><GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>`
			resp, err := http.Post(onvif, "application/soap+xml; charset=utf-8", strings.NewReader(body))
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("GetDeviceInformationResponse")) || !bytes.Contains(b, []byte("Manufacturer>")) {
				return fmt.Errorf("%s\n%s", resp.Status, b)
			}
			return nil
		}},
		{"snapshot", func() error {
			b, ct, err := get(snapshot)
			if err != nil {
				return err
			}
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
			if err != nil {
				return fmt.Errorf("snapshot %s: %w", ct, err)
			}
			if ct != "image/jpeg" || cfg.Width != 640 || cfg.Height != 480 {
				return fmt.Errorf("snapshot %s %dx%d", ct, cfg.Width, cfg.Height)
			}
			return nil
		}},
		{"ffprobe RTSP JPEG", func() error { return probe(rtspJPEG, "mjpeg") }},
		{"ffprobe RTSP H.264", func() error { return probe(rtspH264, "h264") }},
	}
	took := make([]time.Duration, len(checks))
	errs := make([]error, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() {
			// Retry until the deadline passed well over, to tell how late.
			for {
				errs[i] = c.do()
				took[i] = time.Since(start)
				if errs[i] == nil || took[i] > 3*demoDeadline {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	for i, c := range checks {
		switch {
		case errs[i] != nil:
			t.Errorf("%s: %v", c.what, errs[i])
		case took[i] > demoDeadline:
			t.Errorf("%s answered %v after the start, more than %v", c.what, took[i].Round(time.Millisecond), demoDeadline)
		default:
			t.Logf("%s answered %v after the start", c.what, took[i].Round(time.Millisecond))
		}
	}
}
