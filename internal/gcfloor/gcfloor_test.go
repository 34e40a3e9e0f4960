package gcfloor

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		floor, live uint64
		want        int
	}{
		{floor: 32 * mib, live: 0, want: maxPercent},              // nothing live yet
		{floor: 32 * mib, live: 1 * mib, want: maxPercent},        // 3,100 capped
		{floor: 32 * mib, live: 4 * mib, want: 700},               // next collection at 32 MiB
		{floor: 32 * mib, live: 8 * mib, want: 300},               // at 32 MiB
		{floor: 32 * mib, live: 16 * mib, want: defaultPercent},   // twice live is the floor
		{floor: 32 * mib, live: 1000 * mib, want: defaultPercent}, // a large heap: Go's default
	} {
		if got := Percent(tc.floor, tc.live); got != tc.want {
			t.Errorf("Percent(%d MiB, %d MiB) = %d, want %d", tc.floor/mib, tc.live/mib, got, tc.want)
		}
	}
}

// gcPercent returns the current GOGC.
func gcPercent() int {
	p := debug.SetGCPercent(defaultPercent)
	debug.SetGCPercent(p)
	return p
}

// waitPercent collects until GOGC is what ok wants (tune runs after a
// collection, in the finalizer goroutine), and reports whether it came.
func waitPercent(ok func(int) bool) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		if ok(gcPercent()) {
			return true
		}
	}
	return false
}

// Start raises GOGC while the heap is small, puts Go's default back once the
// live heap is half the floor or more, raises it again when the heap
// shrinks, and stop puts the default back; with GOGC in the environment it
// changes nothing.
func TestStart(t *testing.T) {
	defer debug.SetGCPercent(gcPercent())
	t.Setenv("GOGC", "")
	const floor = 64 << 20
	stop := Start(floor)
	if p := gcPercent(); p < 200 {
		t.Errorf("GOGC after Start = %d, want at least 200 (this test's heap is small)", p)
	}
	live := make([]byte, floor) // half the floor is the limit
	if !waitPercent(func(p int) bool { return p == defaultPercent }) {
		t.Errorf("GOGC with %d MiB live = %d, want %d", len(live)>>20, gcPercent(), defaultPercent)
	}
	runtime.KeepAlive(live)
	live = nil
	if !waitPercent(func(p int) bool { return p > defaultPercent }) {
		t.Errorf("GOGC once the heap is small again = %d, want more than %d", gcPercent(), defaultPercent)
	}
	stop()
	if p := gcPercent(); p != defaultPercent {
		t.Errorf("GOGC after stop = %d, want %d", p, defaultPercent)
	}
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	if p := gcPercent(); p != defaultPercent {
		t.Errorf("GOGC after stop and a collection = %d, want %d", p, defaultPercent)
	}

	t.Setenv("GOGC", "50")
	debug.SetGCPercent(50)
	Start(floor)()
	if p := gcPercent(); p != 50 {
		t.Errorf("GOGC with GOGC=50 in the environment = %d, want 50", p)
	}
}
