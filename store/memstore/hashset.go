package memstore

import (
	"math/bits"
	"slices"
)

// hashSet is a set of hashes of ids, built for one commit and then asked
// about each of the thousands of records created since the transaction
// read (tx.createdSinceRead). In front of the exact set, a sorted slice, is
// a bitmap of the top bits of each hash, of 64 bits or more per hash in the
// set: a hash that is not in the set passes the bitmap once in 64 or less,
// so most questions cost one load from a few KiB that stay in the
// processor's cache, where a probe of a map of the hashes cost ~12 ns and
// each insert into it more (README.md has the figures).
type hashSet struct {
	bits   []uint64
	shift  uint
	exact  []uint64
	sorted bool
}

// reset empties s, which is about to hold up to n hashes.
func (s *hashSet) reset(n int) {
	size := 1 << 12 // bits of the bitmap
	for size < 64*n {
		size <<= 1
	}
	if cap(s.bits) >= size/64 {
		s.bits = s.bits[:size/64]
		clear(s.bits)
	} else {
		s.bits = make([]uint64, size/64)
	}
	s.shift = uint(64 - bits.TrailingZeros(uint(size)))
	s.exact, s.sorted = s.exact[:0], true
}

func (s *hashSet) add(h uint64) {
	b := h >> s.shift
	s.bits[b/64] |= 1 << (b % 64)
	s.exact, s.sorted = append(s.exact, h), false
}

func (s *hashSet) has(h uint64) bool {
	if b := h >> s.shift; s.bits[b/64]&(1<<(b%64)) == 0 {
		return false
	}
	if !s.sorted {
		slices.Sort(s.exact)
		s.sorted = true
	}
	_, ok := slices.BinarySearch(s.exact, h)
	return ok
}
