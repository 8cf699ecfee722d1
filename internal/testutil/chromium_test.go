package testutil

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestChromiumPage: the page helper sees what a developer sees in the
// console (console.error, an uncaught exception, a failed image load),
// answers Basic challenges with the page's credentials, and takes a PNG
// screenshot.
func TestChromiumPage(t *testing.T) {
	b := StartChromium(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/errors", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>e</title><img src="/missing.png">
<script>console.error("boom", 42); setTimeout(() => { throw new Error("thrown later") }, 0);</script>`)
	})
	mux.HandleFunc("/private", func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "pw" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, "401", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `<!doctype html><title>in</title><p id="p">welcome</p>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	p, err := b.NewPage("", "")
	if err != nil {
		t.Fatal(err)
	}
	if err = p.Navigate(srv.URL + "/errors"); err != nil {
		t.Fatal(err)
	}
	want := []string{"boom 42", "thrown later", "404"}
	deadline := time.Now().Add(20 * time.Second)
	for {
		all := strings.Join(p.ConsoleErrors(), "\n")
		missing := ""
		for _, w := range want {
			if !strings.Contains(all, w) {
				missing = w
			}
		}
		if missing == "" {
			t.Logf("console:\n%s", all)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("console errors lack %q:\n%s", missing, all)
		}
		time.Sleep(20 * time.Millisecond)
	}

	p2, err := b.NewPage("alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	if err = p2.Navigate(srv.URL + "/private"); err != nil {
		t.Fatal(err)
	}
	if err = p2.WaitFor(`document.getElementById("p") && document.getElementById("p").textContent === "welcome"`, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if errs := p2.ConsoleErrors(); len(errs) != 0 {
		t.Errorf("console errors after logging in: %q", errs)
	}
	png, err := p2.Screenshot()
	if err != nil {
		t.Fatal(err)
	}
	if !isPNG(png) {
		t.Errorf("screenshot is not a PNG: % x", png[:min(8, len(png))])
	}
}
