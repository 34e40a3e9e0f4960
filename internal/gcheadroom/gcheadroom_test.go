package gcheadroom

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPercent(t *testing.T) {
	for _, tt := range []struct {
		live, headroom uint64
		base, want     int
	}{
		{live: 32 << 20, headroom: 256 << 20, base: 100, want: 800},
		{live: 256 << 20, headroom: 256 << 20, base: 100, want: 100},
		{live: 1 << 30, headroom: 256 << 20, base: 100, want: 100},   // larger than the headroom: Go's default
		{live: 100 << 20, headroom: 256 << 20, base: 300, want: 300}, // never under base
		{live: 0, headroom: 256 << 20, base: 100, want: 6400},        // before the first collection: 4 MiB
		{live: 1 << 20, headroom: 256 << 20, base: 100, want: 6400},  // a heap goal of 4 MiB at least
		{live: 3, headroom: 1 << 62, base: 100, want: maxPercent},    // no overflow
	} {
		assert.Equal(t, tt.want, Percent(tt.live, tt.headroom, tt.base), "live %d headroom %d", tt.live, tt.headroom)
	}
}

func TestCapped(t *testing.T) {
	assert.EqualValues(t, 256<<20, Capped(256<<20, math.MaxInt64), "no limit")
	assert.EqualValues(t, 128<<20, Capped(256<<20, 512<<20), "a quarter of GOMEMLIMIT")
	assert.EqualValues(t, 64<<20, Capped(64<<20, 8<<30), "under a quarter already")
}

// gcPercent returns GOGC as it is.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// After a collection, a small live heap gets a GOGC that leaves the
// headroom, a live heap larger than the headroom Go's default, and stop puts
// the default back. (Not parallel: GOGC is the process's.)
func TestStart(t *testing.T) {
	if testing.Short() {
		t.Skip("forces collections")
	}
	t.Setenv("GOGC", "") // as run by the mock: not set
	require.Equal(t, 100, gcPercent())
	waitFor := func(ok func(int) bool) int {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			runtime.GC()
			p := gcPercent()
			if ok(p) || time.Now().After(deadline) {
				return p
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	stop := Start(1 << 30)
	assert.Greater(t, waitFor(func(p int) bool { return p > 1000 }), 1000, "1 GiB of headroom over a heap of a few MiB")
	live := make([]byte, 64<<20) // a live heap over the headroom below
	stop()
	assert.Equal(t, 100, gcPercent(), "stop puts Go's default back")

	stop = Start(16 << 20)
	defer stop()
	assert.Equal(t, 100, waitFor(func(p int) bool { return p == 100 }), "16 MiB of headroom over 64 MiB of live heap")
	runtime.KeepAlive(live)
}

// A GOGC in the environment is left alone.
func TestStartLeavesGOGCAlone(t *testing.T) {
	t.Setenv("GOGC", "150")
	debug.SetGCPercent(150)
	defer debug.SetGCPercent(100)
	stop := Start(1 << 30)
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, 150, gcPercent())
	stop()
	assert.Equal(t, 150, gcPercent())
}
