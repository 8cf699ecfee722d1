package record

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// sizeUnits are the units ParseSize accepts, lower case: decimal (kB, MB,
// GB, TB, also written K, M, G, T) and binary (KiB, MiB, GiB, TiB).
var sizeUnits = []struct {
	name string
	mult float64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1e3}, {"m", 1e6}, {"g", 1e9}, {"t", 1e12},
	{"b", 1}, {"", 1},
}

// ParseSize reads a size such as "20GB", "512 MB", "1.5TB" or "20GiB"
// (GB = 10⁹ bytes, GiB = 2³⁰ bytes; a plain number counts bytes).
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for _, u := range sizeUnits {
		num, ok := strings.CutSuffix(t, u.name)
		if !ok {
			continue
		}
		num = strings.TrimSpace(num)
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || num == "" || strings.ContainsAny(num, "eEnNxX") {
			break
		}
		b := v * u.mult
		if b < 0 || b > math.MaxInt64/2 || math.IsNaN(b) {
			return 0, fmt.Errorf("record: size %q out of range", s)
		}
		return int64(b), nil
	}
	return 0, fmt.Errorf("record: %q is not a size (examples: 20GB, 500MB, 1.5TB)", s)
}

// FormatSize writes a byte count in the largest decimal unit that keeps
// it at least 1, to three significant digits: 20GB, 1.5TB, 512MB, 2.45MB,
// 900B.
func FormatSize(n int64) string {
	units := []struct {
		name string
		mult float64
	}{{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}}
	for _, u := range units {
		if v := float64(n) / u.mult; v >= 1 || v <= -1 {
			if v >= 100 || v <= -100 {
				return strconv.FormatFloat(v, 'f', 0, 64) + u.name
			}
			return strconv.FormatFloat(v, 'g', 3, 64) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// ParseAge reads a duration as time.ParseDuration does, with days in
// front: "7d", "36h", "1d12h", "90m".
func ParseAge(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	var days float64
	if i := strings.IndexByte(t, 'd'); i >= 0 {
		v, err := strconv.ParseFloat(t[:i], 64)
		if err != nil || v < 0 || v > 100*365 || strings.ContainsAny(t[:i], "eEnNxX+-") {
			return 0, fmt.Errorf("record: %q is not a duration (examples: 7d, 36h, 1d12h)", s)
		}
		days, t = v, t[i+1:]
	}
	var rest time.Duration
	if t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("record: %q is not a duration (examples: 7d, 36h, 1d12h)", s)
		}
		rest = d
	}
	return time.Duration(days*float64(24*time.Hour)) + rest, nil
}

// FormatAge writes a duration the way ParseAge reads it, in days when it
// is a whole number of days.
func FormatAge(d time.Duration) string {
	const day = 24 * time.Hour
	if d > 0 && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}
