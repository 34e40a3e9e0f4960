// Package gcheadroom gives the garbage collector a floor of headroom: after
// every cycle it sets GOGC so that the next cycle starts once the heap has
// grown by at least a fixed number of bytes, or by the live heap (GOGC=100,
// Go's default), whichever is more.
//
// The mock's live heap is small while a business holds few customers (tens
// of MiB), and each save allocates a few hundred KiB: with Go's default the
// collector runs every few dozen saves and takes a quarter to a third of the
// CPU of 100-customer updates (README.md, "The garbage collector of the
// mock", has the figures). With 256 MiB of headroom it runs every few
// hundred, for at most that much more heap (GOMEMLIMIT, when set, still caps
// it); once the live heap is larger than the headroom, the default pacing
// applies unchanged. Unlike a larger GOGC, it does not multiply the heap of
// a mock that stores millions of customers.
package gcheadroom

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// Default is the headroom of algoreg-kit mock (--gc-headroom).
const Default = 256 << 20

// maxPercent bounds GOGC, whatever the live heap (the runtime's own bound is
// far higher; a live heap of a few KiB would otherwise ask for millions).
const maxPercent = 1 << 20

// Start keeps the headroom from now on, until stop is called (which puts
// GOGC back). It does nothing when headroom is not positive or when the
// GOGC environment variable is set: whoever set it chose the pacing. With a
// memory limit (GOMEMLIMIT), the headroom is at most a quarter of it.
func Start(headroom int64) (stop func()) {
	headroom = Capped(headroom, debug.SetMemoryLimit(-1))
	if headroom <= 0 || os.Getenv("GOGC") != "" {
		return func() {}
	}
	base := debug.SetGCPercent(100)
	debug.SetGCPercent(base)
	if base < 0 { // GOGC off by a call of SetGCPercent: nothing to pace
		return func() {}
	}
	t := &tuner{headroom: uint64(headroom), base: base}
	t.samples[0].Name = "/gc/heap/live:bytes"
	t.samples[1].Name = "/gc/scan/stack:bytes"
	t.samples[2].Name = "/gc/scan/globals:bytes"
	t.tune()
	t.arm()
	return func() {
		if !t.stopped.Swap(true) {
			debug.SetGCPercent(base)
		}
	}
}

type tuner struct {
	headroom uint64
	base     int
	stopped  atomic.Bool
	samples  [3]metrics.Sample // what the runtime's basis of GOGC is made of
}

// sentinel is the object whose cleanup runs after the next collection: it
// is unreachable as soon as arm returns.
type sentinel struct{ _ [16]byte }

// arm makes the end of the next collection call tune, and arm again.
func (t *tuner) arm() {
	runtime.AddCleanup(new(sentinel), func(t *tuner) {
		if t.stopped.Load() {
			return
		}
		t.tune()
		t.arm()
	}, t)
}

// tune sets GOGC from what the last collection found: GOGC is a percentage
// of the live heap plus the goroutine stacks and the globals (the runtime's
// basis), at least minBasis (before the first collection there is no live
// heap yet).
func (t *tuner) tune() {
	metrics.Read(t.samples[:])
	basis := uint64(0)
	for _, s := range t.samples {
		if s.Value.Kind() == metrics.KindUint64 {
			basis += s.Value.Uint64()
		}
	}
	debug.SetGCPercent(Percent(basis, t.headroom, t.base))
}

// Capped is headroom under a memory limit of limit bytes (math.MaxInt64:
// none): at most a quarter of it, so that a process sized by GOMEMLIMIT
// keeps its pacing well inside the limit.
func Capped(headroom, limit int64) int64 {
	if limit < math.MaxInt64 {
		return min(headroom, limit/4)
	}
	return headroom
}

// minBasis is the least heap Percent counts with: Go's own smallest heap
// goal is 4 MiB.
const minBasis = 4 << 20

// Percent is the GOGC that gives a heap whose runtime basis (live heap,
// stacks and globals) is basis bytes headroom bytes of growth before the
// next collection, and never less than base.
func Percent(basis, headroom uint64, base int) int {
	p := float64(headroom) / float64(max(basis, minBasis)) * 100
	return max(base, int(min(p, maxPercent)))
}
