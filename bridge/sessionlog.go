package bridge

import (
	"context"
	"log/slog"
)

// sessionLogHandler adapts a camera session's log lines to the bridge's:
//
//   - The bridge's camera logger already carries camera=<name> and
//     ip=<address>; the session adds camera=<address> itself, which would
//     give every session line the key "camera" twice. That attribute is
//     dropped.
//   - A camera that does not answer makes the session warn on every port
//     request until its back-off is at the maximum. The first unanswered
//     request of a handshake becomes one clear warning; the repetitions
//     (warnings with an "attempt" above 1) go to debug level.
type sessionLogHandler struct {
	inner slog.Handler
}

func newSessionLogHandler(inner slog.Handler) *sessionLogHandler {
	return &sessionLogHandler{inner: inner}
}

// Enabled implements slog.Handler.
func (h *sessionLogHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

// Handle implements slog.Handler.
func (h *sessionLogHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level != slog.LevelWarn {
		return h.inner.Handle(ctx, r)
	}
	attempt, ok := int64(0), false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key != "attempt" {
			return true
		}
		switch v := a.Value.Resolve(); v.Kind() {
		case slog.KindInt64:
			attempt, ok = v.Int64(), true
		case slog.KindUint64:
			attempt, ok = int64(v.Uint64()), true
		}
		return false
	})
	switch {
	case !ok:
		return h.inner.Handle(ctx, r)
	case attempt > 1:
		if !h.inner.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		d := r.Clone()
		d.Level = slog.LevelDebug
		return h.inner.Handle(ctx, d)
	}
	n := slog.NewRecord(r.Time, slog.LevelWarn,
		"camera does not answer: check its IP address and that it is powered on and reachable; "+
			"retrying in the background (its ONVIF device stays up and reports SignalLoss)", r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "control" {
			n.AddAttrs(a)
		}
		return true
	})
	return h.inner.Handle(ctx, n)
}

// WithAttrs implements slog.Handler, dropping the session's own "camera".
func (h *sessionLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	kept := make([]slog.Attr, 0, len(attrs))
	for _, a := range attrs {
		if a.Key != "camera" {
			kept = append(kept, a)
		}
	}
	return &sessionLogHandler{inner: h.inner.WithAttrs(kept)}
}

// WithGroup implements slog.Handler.
func (h *sessionLogHandler) WithGroup(name string) slog.Handler {
	return &sessionLogHandler{inner: h.inner.WithGroup(name)}
}
