package memstore

import (
	"slices"
	"strings"
	"sync"
)

// table holds one kind of record (customers or relations) of one business.
// A record has a slot, its index in recs, from its creation until the
// business is reset: records are replaced, never deleted one by one, so
// slots never move. The index maps an id to its slot: short maps the ids of
// up to shortIDLen bytes, held in the key itself, long the others, by copies
// of the ids (so that an old record is freed as soon as recs no longer holds
// it). A key of short has no pointer: the garbage collector does not scan
// that map, and growing it rehashes keys without reading other memory.
// The owner (a tenant) locks the table, except for what mu guards.
type table struct {
	short map[shortID]int32
	long  map[string]int32
	recs  []string // by slot; every record starts with its id (see recordID)

	mu sync.Mutex // guards sorted, which listings rebuild under a read lock
	// sorted holds the slots 0 to len(sorted)-1 in the order of their ids.
	// It is replaced, never changed in place, so a listing may go on reading
	// the one it got.
	sorted []int32
}

func (t *table) len() int { return len(t.recs) }

// shortIDLen is the longest id that short holds (a key of 32 bytes).
const shortIDLen = 31

// shortID is an id of at most shortIDLen bytes: its length and its bytes,
// the rest zero (the length keeps "a" and "a\x00" apart).
type shortID struct {
	n  uint8
	id [shortIDLen]byte
}

func toShort(id string) shortID {
	k := shortID{n: uint8(len(id))}
	copy(k.id[:], id)
	return k
}

// slot returns the slot of the record with id.
func (t *table) slot(id string) (int32, bool) {
	if len(id) <= shortIDLen {
		slot, ok := t.short[toShort(id)]
		return slot, ok
	}
	slot, ok := t.long[id]
	return slot, ok
}

// get returns the record with id.
func (t *table) get(id string) (string, bool) {
	slot, ok := t.slot(id)
	if !ok {
		return "", false
	}
	return t.recs[slot], true
}

// put stores rec as the record with id. It returns the slot and the record
// it replaced, or -1 for a new record.
func (t *table) put(id, rec string) (slot int32, old string) {
	if slot, ok := t.slot(id); ok {
		old, t.recs[slot] = t.recs[slot], rec
		return slot, old
	}
	t.create(id, rec)
	return -1, ""
}

// create stores rec as the record with id, which the table does not hold.
func (t *table) create(id, rec string) {
	slot := int32(len(t.recs))
	if len(id) <= shortIDLen {
		if t.short == nil {
			t.short = map[shortID]int32{}
		}
		t.short[toShort(id)] = slot
	} else {
		if t.long == nil {
			t.long = map[string]int32{}
		}
		t.long[strings.Clone(id)] = slot
	}
	t.recs = append(t.recs, rec)
}

// forget removes id from the index.
func (t *table) forget(id string) {
	if len(id) <= shortIDLen {
		delete(t.short, toShort(id))
	} else {
		delete(t.long, id)
	}
}

// truncate removes the records of slots n and above (the ones a rolled-back
// transaction created).
func (t *table) truncate(n int) {
	for _, rec := range t.recs[n:] {
		t.forget(recordID(rec))
	}
	clear(t.recs[n:])
	t.recs = t.recs[:n]
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
	if len(t.sorted) == len(t.recs) {
		return t.sorted
	}
	// Sort the slots added since, and merge them in.
	byID := func(a, b int32) int { return strings.Compare(recordID(t.recs[a]), recordID(t.recs[b])) }
	added := make([]int32, 0, len(t.recs)-len(t.sorted))
	for slot := len(t.sorted); slot < len(t.recs); slot++ {
		added = append(added, int32(slot))
	}
	slices.SortFunc(added, byID)
	merged := make([]int32, 0, len(t.recs))
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
	for _, rec := range t.recs {
		n += int64(len(rec))
	}
	return n
}
