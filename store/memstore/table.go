package memstore

import (
	"hash/maphash"
	"slices"
	"strings"
	"sync"
)

// table holds one kind of record (customers or relations) of one business.
// A record has a slot, its index in recs, from its creation until the
// business is reset: records are replaced, never deleted one by one, so
// slots never move. The index maps the hash of an id (hashID) to the slot of
// the record with that id; the rare id whose hash another id of the table
// has already is in clash instead, by a copy of the id. A key of index is a
// number: the garbage collector does not scan that map, and an entry takes
// a third of what a key holding the id took, so that the lookups of a large
// business miss the processor's caches less (README.md has the figures).
// The owner (a tenant) locks the table, except for what mu guards.
type table struct {
	index map[uint64]int32
	clash map[string]int32
	recs  chunked[string] // by slot; every record starts with its id (see recordID)
	// hashes is, by slot, the hash of each record's id: what the commit of
	// a transaction compares with the ids it found absent, for the records
	// created since it read (tx.createdSinceRead), without reading those
	// records.
	hashes chunked[uint64]
	// slabs accounts for the records that share a string (slab.go), by
	// first slot.
	slabs []slab

	mu sync.Mutex // guards sorted, which listings rebuild under a read lock
	// sorted holds the slots 0 to len(sorted)-1 in the order of their ids.
	// It is replaced, never changed in place, so a listing may go on reading
	// the one it got.
	sorted []int32
}

func (t *table) len() int { return t.recs.len() }

// hashSeed makes the index's hashes unpredictable from outside, so that no
// one can choose ids that all clash.
var hashSeed = maphash.MakeSeed()

// hashID is the hash the index keys an id by (a variable, so that a test can
// make ids clash).
var hashID = func(id string) uint64 { return maphash.String(hashSeed, id) }

// slot returns the slot of the record with id, whose hash is h (hashID).
func (t *table) slot(id string, h uint64) (int32, bool) {
	slot, ok := t.index[h]
	if !ok {
		return 0, false // no id with that hash, in index or clash
	}
	if recordID(t.recs.at(slot)) == id {
		return slot, true
	}
	slot, ok = t.clash[id]
	return slot, ok
}

// get returns the record with id.
func (t *table) get(id string) (string, bool) {
	slot, ok := t.slot(id, hashID(id))
	if !ok {
		return "", false
	}
	return t.recs.at(slot), true
}

// put stores rec as the record with id, whose hash is h. It returns the
// slot and the record it replaced, or -1 for a new record. A new id whose
// hash is new costs one probe of the index and an insert into the group
// that probe just read.
// When rec is a substring of a slab and replaces a record, the caller gives
// that slot a copy afterwards (tx.apply).
func (t *table) put(id string, h uint64, rec string) (slot int32, old string) {
	slot, taken := t.index[h]
	if taken && recordID(t.recs.at(slot)) != id {
		slot, taken = t.clash[id]
		if !taken { // a new id with the hash of another
			if t.clash == nil {
				t.clash = map[string]int32{}
			}
			t.clash[strings.Clone(id)] = int32(t.len())
			t.recs.append(rec)
			t.hashes.append(h)
			return -1, ""
		}
	}
	if taken {
		return slot, t.replace(slot, rec)
	}
	if t.index == nil {
		t.index = map[uint64]int32{}
	}
	t.index[h] = int32(t.len())
	t.recs.append(rec)
	t.hashes.append(h)
	return -1, ""
}

// forget removes id, whose record is at slot, from the index. Only truncate
// forgets, the newest records first: an id in clash is newer than the one
// whose hash it has, so it is gone before that one is.
func (t *table) forget(id string, slot int32) {
	if h := t.hashes.at(slot); t.index[h] == slot {
		delete(t.index, h)
		return
	}
	delete(t.clash, id)
}

// truncate removes the records of slots n and above (the ones a rolled-back
// transaction created).
func (t *table) truncate(n int) {
	for i := t.len() - 1; i >= n; i-- { // newest first (see forget)
		t.forget(recordID(t.recs.at(int32(i))), int32(i))
	}
	t.recs.truncate(n)
	t.hashes.truncate(n)
	// Only a locked transaction rolls back, and it creates no slab; none
	// can start at n or above, but should one, it goes too.
	t.slabs = slices.DeleteFunc(t.slabs, func(s slab) bool { return int(s.first) >= n })
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.sorted) > n {
		t.sorted = slices.DeleteFunc(slices.Clone(t.sorted), func(slot int32) bool { return int(slot) >= n })
	}
}

// inOrder returns every slot in the order of the records' ids. The caller
// holds at least the owner's read lock.
func (t *table) inOrder() []int32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.sorted) == t.len() {
		return t.sorted
	}
	// Sort the slots added since, and merge them in.
	byID := func(a, b int32) int { return strings.Compare(recordID(t.recs.at(a)), recordID(t.recs.at(b))) }
	added := make([]int32, 0, t.len()-len(t.sorted))
	for slot := len(t.sorted); slot < t.len(); slot++ {
		added = append(added, int32(slot))
	}
	slices.SortFunc(added, byID)
	merged := make([]int32, 0, t.len())
	old := t.sorted
	for len(old) > 0 && len(added) > 0 {
		if byID(old[0], added[0]) < 0 {
			merged, old = append(merged, old[0]), old[1:]
		} else {
			merged, added = append(merged, added[0]), added[1:]
		}
	}
	t.sorted = append(append(merged, old...), added...)
	return t.sorted
}

// page returns the bounds of one page of n items.
func page(n, offset, limit int) (lo, hi int) {
	lo = min(max(offset, 0), n)
	hi = min(lo+max(limit, 0), n)
	return lo, hi
}

// bytes is the size of the records.
func (t *table) bytes() int64 {
	var n int64
	for _, rec := range t.recs.from(0) {
		n += int64(len(rec))
	}
	return n
}
