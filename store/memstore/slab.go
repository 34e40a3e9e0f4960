package memstore

import (
	"slices"
	"sort"
	"strings"
)

// A slab is one string holding the records of one kind that one optimistic
// commit created, each record a substring of it: one allocation for the
// hundred customers of a save instead of a hundred. The records still are
// immutable strings on the Go heap (the slab is a copy, made at seal, of
// the chunks the transaction built it in), so there is nothing to free by hand;
// what a slab costs is that any record of it keeps the whole slab alive.
// The table therefore counts, for each slab, the bytes of its records that
// are still in place; once a replaced record leaves less than half the slab
// in use, the records left are copied into strings of their own and the
// slab is no longer the table's (a reader that holds one of its records
// keeps it until it lets go). So the slabs never hold more dead bytes than
// live ones.
//
// Why: under bench/run.sh's 100-customer creates the business grows to
// millions of records, and allocating each record on its own (mallocgc,
// and the sweeping of millions of small objects) was about a tenth of the
// mock's CPU. README.md has the figures.

// slab is the table's account of one slab: the slots first to first+n-1,
// created by one commit, whose records were substrings of a string of size
// bytes. bit i of inPlace is set while slot first+i still holds its
// substring; live is the length of those.
type slab struct {
	first, n   int32
	size, live int
	inPlace    []uint64
}

// slabBuilder collects the records of one kind that an optimistic
// transaction may create, in chunks that the transactions of the store
// reuse (see tx.recycle); seal copies them into the slab, one string of
// their exact size. Built as a growing strings.Builder, the slab of a
// 100-customer commit took three buffers of doubling size and often a copy
// to its exact size: 3.5x its bytes, a seventh of the bytes a save
// allocated (README.md has the figures). Chunks are never copied as the
// slab grows, and hold whole records; the spare end of a chunk is not part
// of the slab.
type slabBuilder struct {
	chunks [][]byte // chunks[:cur+1] hold the records; the others are spare
	cur    int
	n      int // the bytes of the records added
}

const (
	// slabChunk is the size chunks double up to; a larger record gets a
	// chunk of its size.
	slabChunk = 64 << 10
	// maxSlabBuffer is the most chunk memory a recycled transaction keeps.
	maxSlabBuffer = 1 << 20
)

func (s *slabBuilder) len() int { return s.n }

// add appends rec to the slab and returns its offset.
func (s *slabBuilder) add(rec []byte) (off int32) {
	if len(s.chunks) == 0 || cap(s.chunks[s.cur])-len(s.chunks[s.cur]) < len(rec) {
		prev := 0
		if len(s.chunks) > 0 {
			prev = cap(s.chunks[s.cur])
			s.cur++
		}
		if s.cur == len(s.chunks) {
			s.chunks = append(s.chunks, nil)
		}
		if cap(s.chunks[s.cur]) < len(rec) {
			s.chunks[s.cur] = make([]byte, 0, max(len(rec), min(slabChunk, max(2<<10, 2*prev))))
		}
	}
	off = int32(s.n)
	s.chunks[s.cur] = append(s.chunks[s.cur], rec...)
	s.n += len(rec)
	return off
}

// at returns a copy of the record at off, of n bytes, before the slab is
// sealed.
func (s *slabBuilder) at(off, n int32) string {
	start := int32(0)
	for _, c := range s.chunks[:s.cur+1] {
		if off < start+int32(len(c)) {
			return string(c[off-start : off-start+n])
		}
		start += int32(len(c))
	}
	panic("memstore: a record past the slab") // a bug: pend gave the offset
}

// seal returns the slab's records in one string, and empties the builder.
func (s *slabBuilder) seal() string {
	var b strings.Builder
	b.Grow(s.n)
	for _, c := range s.chunks[:s.cur+1] {
		b.Write(c)
	}
	s.empty()
	return b.String()
}

func (s *slabBuilder) empty() {
	for i := range s.chunks {
		s.chunks[i] = s.chunks[i][:0]
	}
	s.cur, s.n = 0, 0
}

// reuse returns the builder's chunks, emptied, for the next transaction;
// none when they are too large to keep.
func (s *slabBuilder) reuse() slabBuilder {
	size := 0
	for _, c := range s.chunks {
		size += cap(c)
	}
	if size > maxSlabBuffer {
		return slabBuilder{}
	}
	s.empty()
	return slabBuilder{chunks: s.chunks}
}

// addSlab accounts for the records of slots first and above, created by
// one commit from a slab of size bytes. When they use less than half of it
// (most of the commit's writes replaced records), each gets a string of
// its own instead.
func (t *table) addSlab(first, size int) {
	n := t.len() - first
	if n <= 0 || size <= 0 {
		return
	}
	live := 0
	for _, rec := range t.recs.from(first) {
		live += len(rec)
	}
	if 2*live < size {
		for slot, rec := range t.recs.from(first) {
			t.recs.set(slot, strings.Clone(rec))
		}
		return
	}
	in := make([]uint64, (n+63)/64)
	for i := range n {
		in[i/64] |= 1 << (i % 64)
	}
	t.slabs = append(t.slabs, slab{first: int32(first), n: int32(n), size: size, live: live, inPlace: in})
}

// replace puts rec at slot, which holds a record, and returns the record it
// held. When rec is a substring of a slab, the caller gives slot a copy
// afterwards unless the slot is one the slab accounts for (tx.apply).
func (t *table) replace(slot int32, rec string) (old string) {
	old = t.recs.at(slot)
	t.recs.set(slot, rec)
	t.released(slot, len(old))
	return old
}

// released accounts for the record of n bytes that slot held and no longer
// holds: when it was a slab's, the slab has that much less in use, and
// when that is less than half of it, the slab's records left in place are
// copied out.
func (t *table) released(slot int32, n int) {
	i := sort.Search(len(t.slabs), func(i int) bool { return t.slabs[i].first+t.slabs[i].n > slot })
	if i == len(t.slabs) || t.slabs[i].first > slot {
		return
	}
	s := &t.slabs[i]
	bit := uint(slot - s.first)
	if s.inPlace[bit/64]&(1<<(bit%64)) == 0 {
		return // replaced before
	}
	s.inPlace[bit/64] &^= 1 << (bit % 64)
	s.live -= n
	if 2*s.live >= s.size {
		return
	}
	for b := range uint(s.n) {
		if s.inPlace[b/64]&(1<<(b%64)) != 0 {
			slot := s.first + int32(b)
			t.recs.set(slot, strings.Clone(t.recs.at(slot)))
		}
	}
	t.slabs = slices.Delete(t.slabs, i, i+1)
}
