package testutil

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// stopTB records how a helper stopped the test: Fatal or Skip.
type stopTB struct {
	testing.TB
	how, msg string
}

func (s *stopTB) Helper() {}
func (s *stopTB) Fatalf(f string, a ...any) {
	s.how, s.msg = "fatal", fmt.Sprintf(f, a...)
	runtime.Goexit()
}
func (s *stopTB) Skip(a ...any) { s.how, s.msg = "skip", fmt.Sprint(a...); runtime.Goexit() }

// stopped runs fn with a recording TB on its own goroutine (Fatal and Skip
// end it like in a real test) and returns the record.
func stopped(fn func(tb testing.TB)) *stopTB {
	s := &stopTB{}
	done := make(chan struct{})
	go func() { defer close(done); fn(s) }()
	<-done
	return s
}

func TestNeedToolMissingFailsInCIAndSkipsLocally(t *testing.T) {
	const missing = "chinesium-no-such-tool"
	for _, tc := range []struct{ ci, want string }{{"true", "fatal"}, {"", "skip"}} {
		t.Setenv("CI", tc.ci)
		s := stopped(func(tb testing.TB) { NeedTool(tb, missing) })
		if s.how != tc.want || !strings.Contains(s.msg, missing) {
			t.Errorf("CI=%q: stopped with %q %q, want %s naming the tool", tc.ci, s.how, s.msg, tc.want)
		}
	}
}

func TestNeedToolFound(t *testing.T) {
	t.Setenv("CI", "true")
	var p string
	s := stopped(func(tb testing.TB) { p = NeedTool(tb, "sh") })
	if s.how != "" || !strings.HasSuffix(p, "/sh") {
		t.Errorf("sh: path %q, stopped %q %q", p, s.how, s.msg)
	}
}

func TestSyncBufferConcurrentWrites(t *testing.T) {
	var b SyncBuffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				_, _ = b.Write([]byte("x"))
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	if n := len(b.String()); n != 800 {
		t.Errorf("%d bytes, want 800", n)
	}
}

// sink keeps an allocation alive so the compiler cannot drop it.
var sink []byte

func TestHugeHeaderJPEG(t *testing.T) {
	b := HugeHeaderJPEG(t)
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width != 8192 || cfg.Height != 8192 {
		t.Fatalf("DecodeConfig: %+v %v", cfg, err)
	}
	if len(b) > 4096 {
		t.Errorf("%d bytes, want a small file", len(b))
	}
	if n := Allocated(func() { sink = make([]byte, 1<<20) }); n < 1<<20 {
		t.Errorf("Allocated reports %d bytes for a 1 MiB allocation", n)
	}
}

// TestOnlyTestsImportIt: no package's non-test files import testutil (it
// imports testing and is not meant for the product).
func TestOnlyTestsImportIt(t *testing.T) {
	goTool := NeedTool(t, "go")
	out, err := exec.Command(goTool, "list", "-f", `{{.ImportPath}}: {{join .Imports " "}}`, "github.com/chinesium/chinesium/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const self = "github.com/chinesium/chinesium/internal/testutil"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ": ")
		if slices.Contains(strings.Fields(imports), self) {
			t.Errorf("%s imports %s outside its tests", pkg, self)
		}
	}
}
