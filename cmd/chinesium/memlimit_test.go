package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// gomemlimit reads the process's memory limit from the admin server's
// /metrics (go_gc_gomemlimit_bytes).
func gomemlimit(t *testing.T, adminPort int) int64 {
	return goGauge(t, adminPort, "go_gc_gomemlimit_bytes")
}

// goGauge reads one of the Go runtime's gauges from the admin server's
// /metrics.
func goGauge(t *testing.T, adminPort int, name string) int64 {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.7.1:%d/metrics", adminPort))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return int64(f)
		}
	}
	t.Fatalf("no %s in /metrics:\n%s", name, b)
	return 0
}

// TestMemoryLimit: serve sets the soft memory limit of memory_limit_mib
// (256 MiB by default), and GOMEMLIMIT in the environment wins; likewise
// the garbage collector's target of 50 % and GOGC.
func TestMemoryLimit(t *testing.T) {
	t.Parallel()
	for i, c := range []struct {
		env  []string
		want int64
		gogc int64
	}{
		{nil, 256 << 20, gcPercent},
		{[]string{"CHINESIUM_MEMORY_LIMIT_MIB=64"}, 64 << 20, gcPercent},
		{[]string{"CHINESIUM_MEMORY_LIMIT_MIB=64", "GOMEMLIMIT=100MiB", "GOGC=100"}, 100 << 20, 100},
	} {
		admin := 18741 + i
		cmd := exec.Command(bin, "serve", "-discovery=false", "-bind", "127.0.7.1", "-http-port", strconv.Itoa(18744+i),
			"-rtsp-port", strconv.Itoa(18747+i), "-admin-port", strconv.Itoa(admin), "-state-dir", t.TempDir(), "127.0.7.61")
		cmd.Env = append(os.Environ(), c.env...)
		p := startCommand(t, cmd)
		if got := gomemlimit(t, admin); got != c.want {
			t.Errorf("%v: memory limit %d, want %d", c.env, got, c.want)
		}
		if got := goGauge(t, admin, "go_gc_gogc_percent"); got != c.gogc {
			t.Errorf("%v: GOGC %d, want %d", c.env, got, c.gogc)
		}
		_ = p.cmd.Process.Signal(os.Interrupt)
		if code, _ := p.wait(t, 10*time.Second); code != 0 {
			t.Errorf("%v: exit status %d after Ctrl-C", c.env, code)
		}
	}
}
