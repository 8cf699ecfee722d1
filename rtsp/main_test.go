package rtsp

import (
	"flag"
	"os"
	"sync"
	"testing"
)

// recycled records, for each pool, the units it took back in this test
// binary and how often each.
var recycled struct {
	sync.Mutex
	units map[*unitPool]map[*unit]int
}

// TestMain makes every pool overwrite each unit it takes back with 0xEE
// before a producer can fill it again. A holder that wrote a unit after
// releasing it would send that garbage instead of the frame, which the
// tests' clients (and ffmpeg) refuse; so every test that plays a track
// checks the holds too. Benchmarks (-test.bench) time the units as they
// are, not overwritten.
func TestMain(m *testing.M) {
	flag.Parse()
	bench := flag.Lookup("test.bench").Value.String() != ""
	recycled.units = map[*unitPool]map[*unit]int{}
	unitRecycled = func(u *unit) {
		if !bench {
			poison(u.buf[:cap(u.buf)])
			for _, c := range u.others[:cap(u.others)] {
				poison(c.buf[:cap(c.buf)])
			}
		}
		recycled.Lock()
		defer recycled.Unlock()
		if recycled.units[u.pool] == nil {
			recycled.units[u.pool] = map[*unit]int{}
		}
		recycled.units[u.pool][u]++
	}
	os.Exit(m.Run())
}

func poison(b []byte) {
	for i := range b {
		b[i] = 0xEE
	}
}

// recycledBy returns how many units pool p took back, and how many
// different ones.
func recycledBy(p *unitPool) (times, units int) {
	recycled.Lock()
	defer recycled.Unlock()
	for _, n := range recycled.units[p] {
		times += n
	}
	return times, len(recycled.units[p])
}
