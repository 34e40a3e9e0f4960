package memstore

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A hashSet answers as a map of the same hashes does, for sets small and
// large, reused from one size to another, with hashes that share their top
// bits (which the bitmap keys) but not the rest, and with random ones.
func TestHashSetAgainstAMap(t *testing.T) {
	rng := seeded(t)
	var s hashSet
	for _, n := range []int{0, 1, 3, 64, 65, 500, 2, 5000, 10} {
		s.reset(n)
		want := map[uint64]bool{}
		for range n {
			h := rng.Uint64()
			if rng.IntN(4) == 0 {
				h &= 0xffff // top bits zero: all in the first bit of the bitmap
			}
			s.add(h)
			want[h] = true
		}
		for h := range want {
			require.True(t, s.has(h), "n %d: %#x added", n, h)
			require.False(t, s.has(h^1) && !want[h^1], "n %d: %#x not added, its top bits were", n, h^1)
		}
		misses := 0
		for range 20000 {
			h := rng.Uint64()
			require.Equal(t, want[h], s.has(h), "n %d: %#x", n, h)
			if b := h >> s.shift; s.bits[b/64]&(1<<(b%64)) != 0 && !want[h] {
				misses++
			}
		}
		// The bitmap lets through at most one hash in 64 that is not in the
		// set (n/bits of them); 2x that, for chance.
		require.LessOrEqual(t, misses, 2*20000/64+10, "n %d: the bitmap is too full", n)
	}
}
