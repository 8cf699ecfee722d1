package motion

import "math"

// The sensitivity scale of WithSensitivity.
const (
	// MinSensitivity detects only large, strong changes.
	MinSensitivity = 1
	// MaxSensitivity detects small, faint changes.
	MaxSensitivity = 100
	// DefaultSensitivity gives DefaultThreshold and DefaultMinArea.
	DefaultSensitivity = 50
)

// WithSensitivity returns cfg with Threshold and MinArea set from a
// sensitivity between MinSensitivity and MaxSensitivity (values outside are
// clamped): DefaultSensitivity gives the defaults, and every 25 steps up
// halve the luma change a cell needs and the share of cells that must
// change (every 25 steps down double them).
func (cfg Config) WithSensitivity(sensitivity int) Config {
	sensitivity = min(max(sensitivity, MinSensitivity), MaxSensitivity)
	scale := math.Exp2(float64(DefaultSensitivity-sensitivity) / 25)
	cfg.Threshold = DefaultThreshold * scale
	cfg.MinArea = DefaultMinArea * scale
	return cfg
}
