// Package gcfloor keeps the garbage collector of a process whose live heap
// is small from running far more often than its memory needs: with Go's
// default (GOGC=100) a heap of 6 MiB of live data is collected every time
// 6 MiB more is allocated, which for the mock under a load of 100-customer
// saves (≈250 MiB allocated a second, most of it the requests in flight) is
// 30 to 40 collections a second, each of which stops every goroutine to
// scan its stack. Start sets GOGC after each collection so that the next one
// comes when the heap reaches a floor, as long as twice the live heap is
// below it; above, GOGC is Go's default again. So the heap stays under the
// larger of the floor and twice what is live, as with the default.
//
// It is a process setting: the mock command starts it with DefaultFloor (see
// the README, "The garbage collector of the mock"); the GOGC environment
// variable, when set, takes precedence and Start then does nothing.
package gcfloor

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// DefaultFloor is the floor the mock command starts (bench/RESULTS.md has
// what it changes).
const DefaultFloor = 64 << 20

// defaultPercent is Go's GOGC when the environment does not set it.
const defaultPercent = 100

// maxPercent bounds GOGC, for a live heap so small that the floor would be
// hundreds of times it (at start, before anything is live).
const maxPercent = 2000

// Start makes the garbage collector wait until the heap reaches floor bytes
// before it collects, while the live heap is below floor/2, and returns the
// function that stops that and restores GOGC=100. It does nothing (and
// returns a function that does nothing) when the GOGC environment variable
// is set or floor is 0.
func Start(floor uint64) (stop func()) {
	if floor == 0 || os.Getenv("GOGC") != "" {
		return func() {}
	}
	t := &tuner{floor: floor, set: defaultPercent}
	t.tune()
	t.arm()
	return t.stop
}

// tuner sets GOGC after each garbage collection.
type tuner struct {
	floor uint64

	mu      sync.Mutex // guards the fields below
	set     int        // the GOGC last set
	stopped bool
}

// sentinel is an object that only a finalizer refers to: it becomes garbage
// at once, so its finalizer runs after the next collection.
type sentinel struct{ _ *int }

// arm makes tune run after the next garbage collection, and arm again.
func (t *tuner) arm() {
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
		if t.tune() {
			t.arm()
		}
	})
}

// tune sets GOGC for the live heap the last collection left, and reports
// whether t is still running.
func (t *tuner) tune() bool {
	live := heapLive()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	// A change of less than a tenth is not worth the call.
	if p := Percent(t.floor, live); p*10 < t.set*9 || p*10 > t.set*11 {
		debug.SetGCPercent(p)
		t.set = p
	}
	return true
}

// heapLive returns the heap the last collection marked live (0 before the
// first).
func heapLive() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}

func (t *tuner) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.stopped {
		t.stopped = true
		debug.SetGCPercent(defaultPercent)
	}
}

// Percent returns the GOGC for a live heap of live bytes: the one that
// puts the next collection at floor bytes of heap (live × (1 + GOGC/100) =
// floor), but not below Go's default 100 nor above 2,000.
func Percent(floor, live uint64) int {
	if live == 0 || floor/live >= maxPercent/100+1 {
		return maxPercent
	}
	return min(max(int(floor*100/live)-100, defaultPercent), maxPercent)
}
