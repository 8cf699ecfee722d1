package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBenchQuick runs "chinesium bench -quick" on most sections (all but
// the H.264 transcode, the slowest) and checks what a user reads: a table
// with every figure, and JSON that parses, in which every figure has a
// plausible value and baseline and its ratio is their quotient. It asserts
// no duration: the figures are for people to compare.
func TestBenchQuick(t *testing.T) {
	sections := []string{"latency", "receive", "fanout", "scale", "record", "soap", "discovery", "ttff"}
	file := filepath.Join(t.TempDir(), "bench.json")
	stdout, stderr, code := runCLI(t, 5*time.Minute, "bench", "-quick", "-window", "1s",
		"-sections", strings.Join(sections, ","), "-json", file)
	if code != 0 {
		t.Fatalf("bench exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var r benchReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("JSON: %v\n%s", err, b)
	}
	if !r.Quick || r.Machine["cpus"] == "" || r.Machine["cpu_model"] == "" || strings.Join(r.Sections, ",") != strings.Join(sections, ",") {
		t.Errorf("report header: quick %v, machine %v, sections %v", r.Quick, r.Machine, r.Sections)
	}
	per := map[string]int{}
	for _, f := range r.Figures {
		per[f.Section]++
		if !strings.Contains(stdout, f.Name) {
			t.Errorf("figure %q is not in the table", f.Name)
		}
		// Frames lost may be 0 (that is the goal); everything else
		// measured something.
		zeroOK := f.Section == "fanout"
		if f.Value < 0 || (f.Value == 0 && !zeroOK) || math.IsNaN(f.Value) || math.IsInf(f.Value, 0) {
			t.Errorf("%s %q: value %v %s", f.Section, f.Name, f.Value, f.Unit)
		}
		if f.Baseline <= 0 || f.BaselineName == "" || f.Unit == "" {
			t.Errorf("%s %q: baseline %v (%q), unit %q", f.Section, f.Name, f.Baseline, f.BaselineName, f.Unit)
			continue
		}
		if want := f.Value / f.Baseline; math.Abs(f.Ratio-want) > 1e-9*math.Max(1, want) {
			t.Errorf("%s %q: ratio %v, want %v / %v = %v", f.Section, f.Name, f.Ratio, f.Value, f.Baseline, want)
		}
	}
	want := map[string]int{"latency": 8, "receive": 2, "fanout": 1, "scale": 6, "record": 4, "soap": 1, "discovery": 2, "ttff": 3}
	for _, s := range sections {
		if per[s] < want[s] {
			t.Errorf("section %s: %d figures, want at least %d\n%s", s, per[s], want[s], stdout)
		}
	}
	if t.Failed() {
		t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
}
