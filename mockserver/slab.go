package mockserver

import "encoding/binary"

// slab stores variable-size byte records in large chunks and hands out a
// location (a uint64) for each. A replaced record is overwritten in place
// when it still fits its slot; otherwise its slot goes to a free list for the
// next record of that slot size, so that a mock taking updates all day does
// not grow.
//
// The chunks are allocated outside the Go heap where the platform allows it
// (see chunk_unix.go): the collector then neither scans nor counts them, and
// the heap it manages, and the spare room it keeps (GOGC), stay the size of
// the requests in flight rather than of everything stored. A slab is not safe
// for concurrent use; its owner locks it.
type slab struct {
	chunks [][]byte            // by chunk number; nil once a dedicated chunk is freed
	cur    int                 // the chunk being filled, or -1
	used   int                 // bytes used in chunks[cur]
	free   map[uint32][]uint64 // slot size → free slots of that size
	live   int64               // bytes of the records stored (not of their slots)
	slots  int64               // bytes of the slots holding them
}

const (
	slotHeader = 8 // uint32 record length, uint32 slot size
	// Chunks grow from minChunk to maxChunk, so that a business with a few
	// customers costs a few KiB and a big one a few hundred chunks.
	minChunk = 64 << 10
	maxChunk = 1 << 20
	// A record whose slot needs more than dedicatedSlot bytes gets a chunk of
	// its own, given back when the record moves.
	dedicatedSlot = maxChunk / 4
)

func newSlab() slab { return slab{cur: -1, free: map[uint32][]uint64{}} }

func location(chunk, offset int) uint64 { return uint64(chunk)<<32 | uint64(offset) }

func (s *slab) slot(loc uint64) []byte {
	chunk, off := int(loc>>32), int(uint32(loc))
	return s.chunks[chunk][off:]
}

// get returns the record at loc. It aliases the slab: copy it before the next
// put, or before the owner's lock is released.
func (s *slab) get(loc uint64) []byte {
	b := s.slot(loc)
	n := binary.LittleEndian.Uint32(b)
	return b[slotHeader : slotHeader+n]
}

// slotSize rounds a record's slot up, so that records which grow a little
// keep their slot and freed slots find takers: to 16 bytes up to 512, then to
// a sixteenth of the power of two above (at most 12.5 % waste).
func slotSize(recordLen int) int {
	n := recordLen + slotHeader
	if n <= 512 {
		return (n + 15) &^ 15
	}
	step := 1
	for step<<4 < n {
		step <<= 1
	}
	return (n + step - 1) &^ (step - 1)
}

// put stores rec, replacing the record at old when replace is true, and
// returns its location.
func (s *slab) put(old uint64, replace bool, rec []byte) uint64 {
	size := slotSize(len(rec))
	var oldLen int64
	var oldSize int
	if replace {
		b := s.slot(old)
		oldLen = int64(binary.LittleEndian.Uint32(b))
		oldSize = int(binary.LittleEndian.Uint32(b[4:]))
		// Overwrite in place when the record fits, unless it would leave
		// most of a large slot unused.
		if size <= oldSize && (size > oldSize/2 || oldSize <= 512) {
			s.live += int64(len(rec)) - oldLen
			s.write(b, rec, oldSize)
			return old
		}
	}
	// The new slot first: if getting memory fails, the old record is still
	// where the index says.
	loc := s.alloc(size)
	s.live += int64(len(rec))
	s.slots += int64(size)
	s.write(s.slot(loc), rec, size)
	if replace {
		s.release(old, oldLen, oldSize)
	}
	return loc
}

func (s *slab) write(b, rec []byte, size int) {
	binary.LittleEndian.PutUint32(b, uint32(len(rec)))
	binary.LittleEndian.PutUint32(b[4:], uint32(size))
	copy(b[slotHeader:], rec)
}

func (s *slab) release(loc uint64, recLen int64, size int) {
	s.live -= recLen
	s.slots -= int64(size)
	if size > dedicatedSlot {
		chunk := int(loc >> 32)
		freeChunk(s.chunks[chunk])
		s.chunks[chunk] = nil
		return
	}
	s.free[uint32(size)] = append(s.free[uint32(size)], loc)
}

func (s *slab) alloc(size int) uint64 {
	if size > dedicatedSlot {
		s.chunks = append(s.chunks, allocChunk(size))
		return location(len(s.chunks)-1, 0)
	}
	if l := s.free[uint32(size)]; len(l) > 0 {
		loc := l[len(l)-1]
		s.free[uint32(size)] = l[:len(l)-1]
		return loc
	}
	if s.cur < 0 || s.used+size > len(s.chunks[s.cur]) {
		n := minChunk
		if s.cur >= 0 {
			n = min(2*len(s.chunks[s.cur]), maxChunk)
		}
		s.chunks = append(s.chunks, allocChunk(n))
		s.cur, s.used = len(s.chunks)-1, 0
	}
	loc := location(s.cur, s.used)
	s.used += size
	return loc
}

// reset gives every chunk back. The owner must make sure no record of s is
// read afterwards.
func (s *slab) reset() {
	for _, c := range s.chunks {
		if c != nil {
			freeChunk(c)
		}
	}
	*s = newSlab()
}

// footprint is the memory the slab holds: its chunks.
func (s *slab) footprint() int64 {
	var n int64
	for _, c := range s.chunks {
		n += int64(len(c))
	}
	return n
}
