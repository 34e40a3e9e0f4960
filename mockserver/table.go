package mockserver

import "strings"

// recordTable holds one kind of record (customers or relations) of one
// business: the records in a slab, and an index from the hash of a record's
// id to its location. byID holds the rare ids whose hash another id already
// has, so a hash collision costs a map lookup, never a wrong record. Apart
// from byID's keys, nothing in a table is a pointer for the collector to
// trace. Its owner locks it.
type recordTable struct {
	recs   slab
	byHash map[uint64]uint64
	byID   map[string]uint64
	hash   func(string) uint64
}

// Every record starts with its id (see recordID), which lets the table check
// a hash match without decoding the record.

func newRecordTable(hash func(string) uint64) recordTable {
	return recordTable{recs: newSlab(), byHash: map[uint64]uint64{}, byID: map[string]uint64{}, hash: hash}
}

func (t *recordTable) len() int { return len(t.byHash) + len(t.byID) }

// find returns the location of the record with id.
func (t *recordTable) find(id string) (uint64, bool) {
	loc, ok := t.byHash[t.hash(id)]
	if !ok {
		return 0, false // byID only has ids whose hash byHash has too
	}
	if string(recordID(t.recs.get(loc))) == id {
		return loc, true
	}
	loc, ok = t.byID[id]
	return loc, ok
}

// put stores rec as the record with id and reports whether it is new.
func (t *recordTable) put(id string, rec []byte) bool {
	h := t.hash(id)
	loc, taken := t.byHash[h]
	if !taken {
		t.byHash[h] = t.recs.put(0, false, rec)
		return true
	}
	if string(recordID(t.recs.get(loc))) == id {
		t.byHash[h] = t.recs.put(loc, true, rec)
		return false
	}
	loc, exists := t.byID[id]
	t.byID[strings.Clone(id)] = t.recs.put(loc, exists, rec)
	return !exists
}

// each calls fn with every record, in no order. The record aliases the
// slab: fn must copy what it keeps.
func (t *recordTable) each(fn func(rec []byte)) {
	for _, loc := range t.byHash {
		fn(t.recs.get(loc))
	}
	for _, loc := range t.byID {
		fn(t.recs.get(loc))
	}
}

// ids returns every id of the table, in no order.
func (t *recordTable) ids() []string {
	ids := make([]string, 0, t.len())
	t.each(func(rec []byte) { ids = append(ids, string(recordID(rec))) })
	return ids
}

// reset frees every record.
func (t *recordTable) reset() {
	t.recs.reset()
	t.byHash, t.byID = map[uint64]uint64{}, map[string]uint64{}
}
