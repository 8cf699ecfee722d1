package onvif

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// errDuration is returned for malformed xs:duration values.
var errDuration = errors.New("invalid xs:duration")

// ParseXSDuration parses an xs:duration such as PT60S, PT1M30.5S, P1DT2H or -PT5S.
// Years and months count as 365 and 30 days.
func ParseXSDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if !strings.HasPrefix(s, "P") || len(s) < 2 || strings.HasSuffix(s, "T") {
		return 0, fmt.Errorf("%w: %q", errDuration, s)
	}
	s = s[1:]
	var total float64
	inTime := false
	seen := false
	for len(s) > 0 {
		if s[0] == 'T' {
			if inTime {
				return 0, fmt.Errorf("%w: two T", errDuration)
			}
			inTime = true
			s = s[1:]
			continue
		}
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, fmt.Errorf("%w: %q", errDuration, s)
		}
		v, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("%w: %w", errDuration, err)
		}
		unit := s[i]
		s = s[i+1:]
		var mul float64
		switch {
		case !inTime && unit == 'Y':
			mul = 365 * 24 * 3600
		case !inTime && unit == 'M':
			mul = 30 * 24 * 3600
		case !inTime && unit == 'D':
			mul = 24 * 3600
		case inTime && unit == 'H':
			mul = 3600
		case inTime && unit == 'M':
			mul = 60
		case inTime && unit == 'S':
			mul = 1
		default:
			return 0, fmt.Errorf("%w: unit %q", errDuration, unit)
		}
		total += v * mul
		seen = true
	}
	if !seen || total > float64(100*365*24*3600) {
		return 0, fmt.Errorf("%w: out of range", errDuration)
	}
	d := time.Duration(total * float64(time.Second))
	if neg {
		d = -d
	}
	return d, nil
}

// FormatXSDuration formats d as an xs:duration in seconds, e.g. PT60S or PT0.5S.
func FormatXSDuration(d time.Duration) string {
	return "PT" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "S"
}

// parseTerminationTime parses a wsnt:AbsoluteOrRelativeTimeType: an xs:duration from now
// or an xs:dateTime (UTC when it has no zone).
func parseTerminationTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "P") || strings.HasPrefix(s, "-P") {
		d, err := ParseXSDuration(s)
		if err != nil {
			return time.Time{}, err
		}
		return now.Add(d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid termination time %q", s)
}

// xsDateTime formats t as an xs:dateTime in UTC.
func xsDateTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
