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
