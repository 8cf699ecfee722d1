package camsession

import "time"

// SetTimeNow replaces the clock of s's monitor (media silence, reports)
// before Run.
func SetTimeNow(s *Session, now func() time.Time) { s.timeNow = now }
