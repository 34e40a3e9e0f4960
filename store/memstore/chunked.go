package memstore

import "iter"

// chunkLen is how many items a full chunk of a chunked slice holds: 4,096
// (64 KiB of record strings, 32 KiB of hashes).
const chunkLen = 1 << 12

// chunked is a slice of a table's items by slot that grows a chunk at a
// time: appending never copies the items it holds. A table of millions of
// records grown as one slice copied all of them, under the business's
// lock, every time it grew by a quarter (48 MiB of string headers at 3M
// customers, into memory the process had not touched yet), and held both
// copies until the next collection (README.md has the figures). Its first
// chunk grows as a slice does, so a table of a few records takes a few
// items of memory.
type chunked[T any] struct {
	chunks [][]T // every chunk but the last holds chunkLen items
	n      int
}

func (c *chunked[T]) len() int { return c.n }

// at returns the item at slot i, which the caller knows is below len.
func (c *chunked[T]) at(i int32) T { return c.chunks[i/chunkLen][i%chunkLen] }

// set replaces the item at slot i, which is below len.
func (c *chunked[T]) set(i int32, v T) { c.chunks[i/chunkLen][i%chunkLen] = v }

func (c *chunked[T]) append(v T) {
	if last := len(c.chunks) - 1; last >= 0 && len(c.chunks[last]) < chunkLen {
		c.chunks[last] = append(c.chunks[last], v)
	} else if last < 0 {
		c.chunks = append(c.chunks, []T{v})
	} else {
		c.chunks = append(c.chunks, append(make([]T, 0, chunkLen), v))
	}
	c.n++
}

// truncate removes the items of slots n and above, and zeroes them (so that
// nothing they pointed to stays reachable).
func (c *chunked[T]) truncate(n int) {
	for c.n > n {
		last := len(c.chunks) - 1
		keep := max(n-last*chunkLen, 0)
		clear(c.chunks[last][keep:])
		c.chunks[last] = c.chunks[last][:keep]
		c.n = last*chunkLen + keep
		if keep == 0 {
			c.chunks = c.chunks[:last]
		}
	}
}

// from returns the slots from first up with their items, in order.
func (c *chunked[T]) from(first int) iter.Seq2[int32, T] {
	return func(yield func(int32, T) bool) {
		for k := first / chunkLen; k < len(c.chunks); k++ {
			chunk := c.chunks[k]
			for i := max(first-k*chunkLen, 0); i < len(chunk); i++ {
				if !yield(int32(k*chunkLen+i), chunk[i]) {
					return
				}
			}
		}
	}
}
