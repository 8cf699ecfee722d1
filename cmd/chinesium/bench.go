package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"
)

const benchHelp = `
Measures the bridge on this machine, all on loopback with fake cameras, and
prints one table: each figure beside a baseline measured in the same run on
the same traffic (a bare write loop, a bare UDP receive loop, the fake
cameras' own cost, a trivial HTTP handler, ...) and the quotient of the two,
so that the numbers mean the same on a fast and a slow machine. -json writes
the same table as JSON.

The sections (-sections, comma-separated; default all):
  latency    last UDP packet of a frame → the frame written into the
             sockets of 50 HTTP MJPEG and 10 RTSP readers of a serve
             process (the kernel's receive timestamps), and as read by
             them, beside a bare relay process writing a message of the
             frame's size to as many loopback TCP sockets for one UDP
             datagram
  receive    CPU per frame of a camera session's receive path, beside a
             bare UDP receive-and-discard loop fed the same packets
  fanout     one camera at 25 fps × 50 KB to 200 HTTP readers, one of
             them stalled: frames lost by the others
  scale      16, 64 and 256 fake cameras in one "chinesium serve" process,
             motion on and off: CPU and memory, beside the fake cameras'
  record     16 cameras recorded vs only served, side by side
  soap       GetStreamUri with WS-Security, requests/s, beside a trivial
             net/http handler
  discovery  WS-Discovery Probe → ProbeMatch (unicast on loopback, no
             random delay), beside a bare UDP echo
  ttff       time to first frame of a new MJPEG, RTSP JPEG and RTSP H.264
             viewer, and after a camera outage, beside the frame interval
  h264       the H.264 transcode of 4 watched cameras: ffmpeg's CPU and
             memory per camera (PSS and private), beside the bridge's own

It uses 127.0.29.x-127.0.31.x and starts child processes (this binary as
"fakecam", "serve" and "bench -relay", ffmpeg). It loads the machine: run it alone.

Examples:
  chinesium bench
  chinesium bench -quick -sections latency,soap -json bench.json`

// benchSections are the sections in the order they run.
var benchSections = []string{"latency", "receive", "fanout", "scale", "record", "soap", "discovery", "ttff", "h264"}

// figure is one measured figure beside its baseline.
type figure struct {
	Section string  `json:"section"`
	Name    string  `json:"name"`
	Unit    string  `json:"unit"`
	Value   float64 `json:"value"`
	// Baseline is what the baseline measured in the same run, in Unit,
	// and BaselineName what it is.
	Baseline     float64 `json:"baseline"`
	BaselineName string  `json:"baseline_name"`
	// Ratio is Value / Baseline.
	Ratio float64 `json:"ratio"`
	// Goal is the target, in words ("≤ 1.5×"), if there is one.
	Goal string `json:"goal,omitempty"`
}

// benchReport is the JSON that -json writes.
type benchReport struct {
	Started  time.Time         `json:"started"`
	Quick    bool              `json:"quick"`
	Machine  map[string]string `json:"machine"`
	Sections []string          `json:"sections"`
	Figures  []figure          `json:"figures"`
	// Notes say how figures were measured where it matters (multicast
	// replaced by unicast, a missing tool).
	Notes []string `json:"notes,omitempty"`
}

// bench is one run of the benchmark.
type bench struct {
	quick bool
	// window is how long each steady-state measurement lasts.
	window time.Duration
	// self is this program, run again for the child processes.
	self   string
	ffmpeg string
	log    *slog.Logger
	stderr io.Writer
	report *benchReport
}

// add records a figure; ratio is computed here.
func (b *bench) add(f figure) {
	if f.Baseline != 0 {
		f.Ratio = f.Value / f.Baseline
	}
	b.report.Figures = append(b.report.Figures, f)
	b.log.Info("measured", "section", f.Section, "figure", f.Name, "value", round3(f.Value), "baseline", round3(f.Baseline), "unit", f.Unit)
}

func (b *bench) note(s string) { b.report.Notes = append(b.report.Notes, s) }

func runBench(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench", "[flags]", benchHelp)
	sections := fs.String("sections", strings.Join(benchSections, ","), "comma-separated `sections` to run")
	quick := fs.Bool("quick", false, "a short run: fewer frames, shorter windows, the smallest scale only")
	window := fs.Duration("window", 0, "how long each steady-state measurement lasts (default 10s, 2s with -quick)")
	jsonOut := fs.String("json", "", "also write the results as JSON to this `file`")
	ffmpegFlag := fs.String("ffmpeg", "", "the ffmpeg program (default ffmpeg from PATH)")
	childSpec := fs.String("child", "", childUsage)
	relaySpec := fs.String("relay", "", relayUsage)
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process (what runs in it: the receive section's session, the bridge of fanout, ttff, soap and discovery) to `file`")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("bench takes no arguments (got %q)", pos)
	}
	if *childSpec != "" {
		return benchChild(ctx, e, *childSpec)
	}
	if *relaySpec != "" {
		return benchRelay(ctx, e, *relaySpec)
	}
	var run []string
	for s := range strings.SplitSeq(*sections, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(benchSections, s) {
			return usagef("unknown section %q: the sections are %s", s, strings.Join(benchSections, ", "))
		}
		run = append(run, s)
	}
	if len(run) == 0 {
		return usagef("no section to run")
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench: cannot find this program to run its fake cameras: %w", err)
	}
	b := &bench{
		quick:  *quick,
		window: *window,
		self:   self,
		ffmpeg: *ffmpegFlag,
		log:    fs.logger(e).With("component", "bench"),
		stderr: e.stderr,
		report: &benchReport{Started: time.Now().UTC(), Quick: *quick, Machine: machineInfo(), Sections: run},
	}
	if b.window <= 0 {
		b.window = 10 * time.Second
		if b.quick {
			b.window = 2 * time.Second
		}
	}
	if *cpuProfile != "" {
		f, perr := os.Create(*cpuProfile)
		if perr != nil {
			return fmt.Errorf("bench: %w", perr)
		}
		defer f.Close()
		if perr := pprof.StartCPUProfile(f); perr != nil {
			return fmt.Errorf("bench: %w", perr)
		}
		defer pprof.StopCPUProfile()
	}
	b.log.Info("benchmark", "sections", strings.Join(run, ","), "window", b.window.String(), "quick", b.quick)
	var errs []error
	for _, s := range run {
		if ctx.Err() != nil {
			break
		}
		start := time.Now()
		b.log.Info("section", "name", s)
		if serr := b.section(ctx, s); serr != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s, serr))
			b.log.Error("section failed", "name", s, "err", serr)
		}
		b.log.Info("section done", "name", s, "took", time.Since(start).Round(time.Millisecond).String())
	}
	printBenchTable(e.stdout, b.report)
	if *jsonOut != "" {
		j, jerr := json.MarshalIndent(b.report, "", "  ")
		if jerr == nil {
			jerr = os.WriteFile(*jsonOut, append(j, '\n'), 0o644)
		}
		if jerr != nil {
			errs = append(errs, fmt.Errorf("bench: writing %s: %w", *jsonOut, jerr))
		}
	}
	if ctx.Err() != nil {
		errs = append(errs, ctx.Err())
	}
	return errors.Join(errs...)
}

func (b *bench) section(ctx context.Context, name string) error {
	switch name {
	case "latency":
		return b.latency(ctx)
	case "receive":
		return b.receive(ctx)
	case "fanout":
		return b.fanout(ctx)
	case "scale":
		return b.scale(ctx)
	case "record":
		return b.record(ctx)
	case "soap":
		return b.soap(ctx)
	case "discovery":
		return b.discovery(ctx)
	case "ttff":
		return b.ttff(ctx)
	case "h264":
		return b.h264(ctx)
	}
	return fmt.Errorf("bench: no section %q", name)
}

// printBenchTable prints the figures as one table.
func printBenchTable(w io.Writer, r *benchReport) {
	fmt.Fprintf(w, "chinesium bench, %s, %s CPUs (%s), load %s at start\n\n",
		r.Started.Format(time.RFC3339), r.Machine["cpus"], r.Machine["cpu_model"], r.Machine["load"])
	rows := [][]string{{"section", "figure", "value", "baseline", "", "ratio", "goal"}}
	for _, f := range r.Figures {
		base, ratio := "", ""
		if f.Baseline != 0 {
			base = fmtNum(f.Baseline) + " " + f.Unit
			ratio = fmt.Sprintf("%.2f×", f.Ratio)
		}
		rows = append(rows, []string{f.Section, f.Name, fmtNum(f.Value) + " " + f.Unit, base, f.BaselineName, ratio, f.Goal})
	}
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	for i, row := range rows {
		var sb strings.Builder
		for j, c := range row {
			pad := widths[j] - len([]rune(c))
			if j == 2 || j == 3 || j == 5 { // numbers to the right
				sb.WriteString(strings.Repeat(" ", pad) + c)
			} else {
				sb.WriteString(c + strings.Repeat(" ", pad))
			}
			if j < len(row)-1 {
				sb.WriteString("  ")
			}
		}
		fmt.Fprintln(w, strings.TrimRight(sb.String(), " "))
		if i == 0 {
			total := 2 * (len(widths) - 1)
			for _, wd := range widths {
				total += wd
			}
			fmt.Fprintln(w, strings.Repeat("-", total))
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note: "+n)
	}
}

// fmtNum prints a figure with three significant digits or so.
func fmtNum(v float64) string {
	a := v
	if a < 0 {
		a = -a
	}
	switch {
	case a == 0:
		return "0"
	case a >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case a >= 0.01:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func round3(v float64) string { return fmtNum(v) }

// machineInfo describes the machine the benchmark runs on.
func machineInfo() map[string]string {
	m := map[string]string{
		"cpus":       strconv.Itoa(runtime.NumCPU()),
		"go":         runtime.Version(),
		"os":         runtime.GOOS + "/" + runtime.GOARCH,
		"cpu_model":  "unknown",
		"chinesium":  versionString(),
		"load":       "unknown",
		"memory_mib": "unknown",
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu_model"] = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			m["load"] = strings.Join(f[:3], " ")
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				m["memory_mib"] = strconv.FormatInt(kb>>10, 10)
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m["kernel"] = strings.TrimSpace(string(b))
	}
	return m
}
