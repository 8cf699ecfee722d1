package main

import (
	"log/slog"
	"math"
	"runtime/debug"
	"strings"
)

// applyMemoryLimit sets the process's soft memory limit to mib MiB
// (memory_limit_mib), unless GOMEMLIMIT is in the environment, which the
// runtime has applied already and which wins; 0 sets none. The limit makes
// the garbage collector work harder near it, so that a burst of garbage
// (a flood of requests) does not leave the process large.
func applyMemoryLimit(e *env, mib int, log *slog.Logger) {
	applyGCPercent(e, log)
	for _, kv := range e.environ {
		if v, ok := strings.CutPrefix(kv, "GOMEMLIMIT="); ok {
			log.Debug("memory limit from GOMEMLIMIT", "value", v)
			return
		}
	}
	if mib > 0 {
		debug.SetMemoryLimit(int64(mib) << 20)
	} else {
		debug.SetMemoryLimit(math.MaxInt64) // none (a reload may remove it)
	}
}

// gcPercent is the garbage collector's target for serve: a new cycle starts
// when the heap has grown by half of what was live after the last one,
// instead of Go's default of all of it. Most of serve's heap is JPEG bytes
// (frames kept for viewers), which the collector need not scan, so a cycle
// is cheap, while the frames that every camera turns into garbage 15 times
// a second are most of its memory: at 64 cameras this takes the process
// from about 63 to 53 MB at the same CPU (chinesium bench, scale).
const gcPercent = 50

// applyGCPercent sets gcPercent, unless GOGC is in the environment, which
// the runtime has applied already and which wins.
func applyGCPercent(e *env, log *slog.Logger) {
	for _, kv := range e.environ {
		if v, ok := strings.CutPrefix(kv, "GOGC="); ok {
			log.Debug("garbage collector target from GOGC", "value", v)
			return
		}
	}
	debug.SetGCPercent(gcPercent)
}
