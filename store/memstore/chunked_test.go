package memstore

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// seeded returns a source of random numbers for t, whose seed t logs so
// that a failure can be run again.
func seeded(t *testing.T) *rand.Rand {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	return rand.New(rand.NewPCG(seed, 0))
}

// A chunked slice holds what a plain slice would through random appends,
// replacements and truncations across chunk boundaries, its full chunks
// hold chunkLen items each, and truncated items are zeroed.
func TestChunkedAgainstASlice(t *testing.T) {
	rng := seeded(t)
	var c chunked[*int]
	var want []*int
	for step := range 300 {
		switch op := rng.IntN(10); {
		case op < 6: // append a run, sometimes past a boundary
			for range rng.IntN(3 * chunkLen / 2) {
				v := new(int)
				*v = step
				c.append(v)
				want = append(want, v)
			}
		case op < 8 && len(want) > 0:
			i := rng.IntN(len(want))
			v := new(int)
			c.set(int32(i), v)
			want[i] = v
		default:
			n := rng.IntN(len(want) + 1)
			tails := [][]*int{}
			for k, chunk := range c.chunks {
				if lo := max(n-k*chunkLen, 0); lo < len(chunk) {
					tails = append(tails, chunk[lo:]) // shares the chunk's array
				}
			}
			c.truncate(n)
			want = want[:n]
			for _, tail := range tails {
				for _, p := range tail {
					require.Nil(t, p, "step %d: a truncated item is not zeroed", step)
				}
			}
		}
		require.Equal(t, len(want), c.len(), "step %d", step)
		for k, chunk := range c.chunks {
			if k < len(c.chunks)-1 {
				require.Len(t, chunk, chunkLen, "step %d: chunk %d is not full", step, k)
			}
		}
		from := 0
		if len(want) > 0 {
			from = rng.IntN(len(want))
			require.Same(t, want[from], c.at(int32(from)), "step %d: at", step)
		}
		got := []*int{} // compared with a non-nil copy of want[from:]: nil and empty are alike here
		next := int32(from)
		for slot, v := range c.from(from) {
			require.Equal(t, next, slot, "step %d: from yields slots in order", step)
			next++
			got = append(got, v)
		}
		require.Equal(t, append([]*int{}, want[from:]...), got, "step %d: from %d", step, from)
	}
}
