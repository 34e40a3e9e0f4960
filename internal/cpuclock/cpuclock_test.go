//go:build unix

package cpuclock

import "testing"

// On unix the clock must move once the process has done some work.
func TestProcessAdvances(t *testing.T) {
	before := Process()
	x := 0
	for i := 0; i < 50_000_000 && Process() == before; i++ {
		x += i
	}
	if Process() <= before {
		t.Fatalf("CPU clock did not advance (sum %d)", x)
	}
}
