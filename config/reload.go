package config

import (
	"reflect"
	"slices"
	"strings"
)

// LiveKeys are the keys outside the camera and user lists that a
// running bridge applies when its configuration is reloaded (SIGHUP):
// audio and h264 restart the cameras whose setting they change, log.level
// and memory_limit_mib take effect at once. The cameras and the users
// are applied too (see bridge.Bridge.Apply). Every other key keeps its
// running value until a restart (RestartKeys).
var LiveKeys = []string{"audio", "h264", "log.level", "memory_limit_mib"}

// RestartKeys returns the keys outside the camera and user lists whose
// value differs between running and c and that a reload does not apply
// (not in LiveKeys), sorted: they take effect at the next start.
func (c Config) RestartKeys(running Config) []string {
	var keys []string
	walkKeys(reflect.TypeFor[Config](), "", func(key string, _ reflect.Type) {
		if strings.Contains(key, "[]") || slices.Contains(LiveKeys, key) {
			return
		}
		now, _ := running.Get(key)
		next, _ := c.Get(key)
		if now != next {
			keys = append(keys, key)
		}
	})
	slices.Sort(keys)
	return keys
}
