package memstore

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
)

// tx is the store.Tx of one Update or View. It works in one of two modes:
//
//   - locked: a View (the tenant locked for reading), or an Update that holds
//     the tenant's write lock from start to end. It reads the tables directly
//     and an Update writes into them as it goes, keeping what it replaced in
//     undo: rollback puts it back and removes the records it created.
//   - optimistic: the first attempt of every Update. It holds no lock while fn
//     runs: each read takes the tenant's read lock for the lookup only and is
//     remembered in reads; each write is encoded at once and kept in writes.
//     Commit takes the write lock, checks that every record read is still the
//     one that was read (value for value, a record absent then is absent
//     now), and only then applies the writes; when a record changed, nothing
//     is applied and the Update runs fn again, locked. So the decoding, the
//     rules and the encoding of concurrent saves of one business run in
//     parallel, and only the check and the map assignments are serialised.
type tx struct {
	s        *Store // of an Update
	business string
	t        *tenant
	write    bool
	locked   bool

	// Locked Update: the tables' lengths when the transaction began (the
	// slots above are records it created), and the records it replaced.
	customers0, relations0 int
	undo                   []undo

	// Optimistic Update: the records read, the records to write in order,
	// for the reads of its own writes the index in writes of each id (kept
	// up to date lazily: own covers writes[:indexed]), and, by kind, the
	// index in reads after the last read that a write was linked to (link).
	reads   []read
	writes  []pending
	own     [2]map[string]int
	indexed int
	cursor  [2]int
	// slabs holds, by kind, the records the writes may create (those not
	// linked to a read that found the record), and slabSize the memory of
	// each once sealed (slab.go).
	slabs    [2]slabBuilder
	slabSize [2]int
	sealed   bool
	// preloaded is, by kind, the reads that Preload made and that fn's
	// reads have not yet been matched with.
	preloaded [2]preloadedReads
	// absent is createdSinceRead's set of hashes, kept for the next commit.
	absent hashSet
	// needLock is set when fn asked for what only a locked transaction
	// answers (a listing, which would have to merge its own writes) and
	// the records x had read had changed, so that x could not turn into a
	// locked transaction (lock): the Update then runs fn again, locked.
	needLock bool

	events []store.Event
}

// optimistic keeps the buffers of optimistic transactions (reads, writes)
// from one Update to the next: growing them was a sixth of the bytes a
// 100-customer save allocated.
var optimistic = sync.Pool{New: func() any { return new(tx) }}

// newOptimistic returns an optimistic transaction of an Update of business,
// whose tenant was t when it began.
func newOptimistic(s *Store, business string, t *tenant) *tx {
	x := optimistic.Get().(*tx)
	*x = tx{s: s, business: business, t: t, write: true, reads: x.reads[:0], writes: x.writes[:0], absent: x.absent,
		slabs: [2]slabBuilder{x.slabs[0].reuse(), x.slabs[1].reuse()}}
	return x
}

// recycle gives the buffers of the optimistic x, which no one uses any more,
// to the next one, holding no record (those of a very large save are let
// go).
func (x *tx) recycle() {
	reads, writes := x.reads, x.writes
	if cap(reads) > 1<<14 || cap(writes) > 1<<14 {
		return
	}
	clear(reads)
	clear(writes)
	*x = tx{reads: reads[:0], writes: writes[:0], absent: x.absent, slabs: [2]slabBuilder{x.slabs[0].reuse(), x.slabs[1].reuse()}}
	optimistic.Put(x)
}

// kind is a table of a tenant.
type kind uint8

const (
	customerKind kind = iota
	relationKind
)

// table returns the tenant's table of kind k.
func (t *tenant) table(k kind) *table {
	if k == customerKind {
		return &t.customers
	}
	return &t.relations
}

// undo is a record that a locked transaction replaced.
type undo struct {
	t    *table
	slot int32
	rec  string
}

// read is a record an optimistic transaction read: rec at slot, or found
// false. n is the length of the table then: a record created since has a
// slot of n or above (slots never move, see table).
type read struct {
	kind  kind
	found bool
	slot  int32
	n     int32
	hash  uint64 // of id (hashID), for the commit
	id    string
	rec   string
}

// pending is a record an optimistic transaction writes at commit. read is
// the index in reads of the read of the same record that the write is
// linked to, or -1: a commit that finds that a read that found the record
// still holds writes at its slot without looking the id up again. off is
// the offset of rec in the transaction's slab of its kind, or -1 when rec
// is a string of its own (a write linked to a read that found the record:
// it replaces that record).
type pending struct {
	kind kind
	read int32
	off  int32
	n    int32 // the length of rec, which seal sets, for a record in a slab
	id   string
	rec  string
}

var (
	_ store.Tx        = (*tx)(nil)
	_ store.Preloader = (*tx)(nil)
)

var (
	errReadOnly = errors.New("memstore: a write through the Tx of View; write in Update")
	// errNeedsLock is what a listing answers in an optimistic transaction
	// that could not lock (see tx.lock); the Update then runs fn again,
	// locked, and never returns it.
	errNeedsLock = errors.New("memstore: a listing in an optimistic transaction that read changed records")
)

func (x *tx) Customer(externalID string) (rules.Customer, bool, error) {
	return get(x, customerKind, externalID, decodeCustomer)
}

func (x *tx) Relation(id string) (rules.Relation, bool, error) {
	return get(x, relationKind, id, decodeRelation)
}

// get decodes the record of kind k with id.
func get[T any](x *tx, k kind, id string, decode func(string) (T, error)) (T, bool, error) {
	var v T
	rec, ok := x.record(k, id)
	if !ok {
		return v, false, nil
	}
	v, err := decode(rec)
	if err != nil {
		var zero T
		return zero, false, fmt.Errorf("%q: %w", id, err)
	}
	return v, true, nil
}

// record returns the record of kind k with id as x sees it: its own write,
// else the tenant's (which an optimistic x remembers, for its commit).
func (x *tx) record(k kind, id string) (string, bool) {
	if x.locked {
		return x.t.table(k).get(id)
	}
	if len(x.writes) > 0 {
		if i, ok := x.ownWrite(k, id); ok {
			return x.rec(&x.writes[i]), true
		}
	}
	if i, ok := x.preloadedRead(k, id); ok {
		return x.reads[i].rec, x.reads[i].found
	}
	tb := x.t.table(k)
	r := read{kind: k, id: id, hash: hashID(id)}
	x.t.mu.RLock()
	r.slot, r.found = tb.slot(id, r.hash)
	if r.found {
		r.rec = tb.recs.at(r.slot)
	}
	r.n = int32(tb.len())
	x.t.mu.RUnlock()
	x.reads = append(x.reads, r)
	return r.rec, r.found
}

// Preload reads the records of every id in one pass under one read lock,
// remembering them as fn's reads would be (and checked at commit as they
// are). fn's reads, one by one between the rules, then take the one
// Preload made for their id instead of looking it up, when it is among the
// next few (fn reads in the order of the request, as Preload was given the
// ids). In a business of millions of records a lookup that misses the
// processor's caches costs about 0.3 µs; in a loop of lookups several of
// those misses are in flight at once, where fn's reads would wait for each
// in turn (README.md has the figures). A locked transaction reads the
// tables directly and preloads nothing.
func (x *tx) Preload(customerIDs, relationIDs []string) error {
	if x.locked {
		return nil
	}
	x.t.mu.RLock()
	defer x.t.mu.RUnlock()
	for k, ids := range [2][]string{customerKind: customerIDs, relationKind: relationIDs} {
		tb := x.t.table(kind(k))
		n := int32(tb.len())
		x.preloaded[k].next = len(x.reads)
		for _, id := range ids {
			r := read{kind: kind(k), id: id, n: n, hash: hashID(id)}
			if r.slot, r.found = tb.slot(id, r.hash); r.found {
				r.rec = tb.recs.at(r.slot)
			}
			x.reads = append(x.reads, r)
		}
		x.preloaded[k].end = len(x.reads)
	}
	return nil
}

// preloadedReads is the range x.reads[next:end] of reads that Preload made.
type preloadedReads struct{ next, end int }

// preloadedRead returns the index in x.reads of the read Preload made of
// (k, id), when it is among the next few not yet matched.
func (x *tx) preloadedRead(k kind, id string) (int, bool) {
	const ahead = 8
	p := &x.preloaded[k]
	for i := p.next; i < min(p.next+ahead, p.end); i++ {
		if x.reads[i].id == id {
			p.next = i + 1
			return i, true
		}
	}
	return 0, false
}

// ownWrite returns the index in x.writes of x's last write of id of kind k.
func (x *tx) ownWrite(k kind, id string) (int, bool) {
	for ; x.indexed < len(x.writes); x.indexed++ {
		w := &x.writes[x.indexed]
		if x.own[w.kind] == nil {
			x.own[w.kind] = map[string]int{}
		}
		x.own[w.kind][w.id] = x.indexed
	}
	i, ok := x.own[k][id]
	return i, ok
}

// valid reports whether every record x read is, in t, as x read it. The
// caller holds t's lock. In the tenant x read (the usual case) it looks
// nothing up: a record read is checked at its slot, and the records found
// absent against the ids of those created since (createdSinceRead).
func (x *tx) valid(t *tenant) bool {
	if t != x.t {
		return x.validByID(t)
	}
	for i := range x.reads {
		r := &x.reads[i]
		if !r.found {
			continue
		}
		if tb := t.table(r.kind); int(r.slot) >= tb.len() || tb.recs.at(r.slot) != r.rec {
			return false
		}
	}
	return !x.createdSinceRead(&t.customers, customerKind) && !x.createdSinceRead(&t.relations, relationKind)
}

// validByID is valid for a tenant other than the one x read (the business
// was reset, or had no state when x began): each record is looked up by id.
func (x *tx) validByID(t *tenant) bool {
	for i := range x.reads {
		r := &x.reads[i]
		rec, ok := t.table(r.kind).get(r.id)
		if ok != r.found || rec != r.rec {
			return false
		}
	}
	return true
}

// scanPerLookup is how many hashes of created records createdSinceRead
// compares rather than look one id up in the index: a lookup in the index
// of a large business misses the processor's caches (~0.2 µs), a hash of
// the table's hashes read in order and probed in a small set does not.
const scanPerLookup = 32

// createdSinceRead reports whether tb (of kind k) has a record, created
// since x read, with an id that x found absent. The ids created since are
// those of the slots from the smallest table length that x's absent reads
// saw; it compares their hashes (tb.hashes, in order) with a set of the
// hashes of the ids x found absent, and reads a record only when a hash
// is in the set. When far more records were created than x found absent,
// it looks each of those ids up instead.
func (x *tx) createdSinceRead(tb *table, k kind) bool {
	from, absent := int32(tb.len()), 0
	for i := range x.reads {
		if r := &x.reads[i]; r.kind == k && !r.found {
			from, absent = min(from, r.n), absent+1
		}
	}
	switch created := tb.len() - int(from); {
	case created == 0:
		return false
	case created > scanPerLookup*absent:
		for i := range x.reads {
			if r := &x.reads[i]; r.kind == k && !r.found && int(r.n) < tb.len() {
				if slot, ok := tb.slot(r.id, r.hash); ok && slot >= r.n {
					return true
				}
			}
		}
		return false
	}
	x.absent.reset(absent)
	for i := range x.reads {
		if r := &x.reads[i]; r.kind == k && !r.found {
			x.absent.add(r.hash)
		}
	}
	for slot, h := range tb.hashes.from(int(from)) {
		if x.absent.has(h) && x.foundAbsent(k, slot, recordID(tb.recs.at(slot))) {
			return true
		}
	}
	return false
}

// foundAbsent reports whether x found id, of kind k, absent before slot
// was created.
func (x *tx) foundAbsent(k kind, slot int32, id string) bool {
	for j := range x.reads {
		if r := &x.reads[j]; r.kind == k && !r.found && r.id == id && slot >= r.n {
			return true
		}
	}
	return false
}

// hash returns the hash of w's id: its read's, when it has one.
func (x *tx) hash(w *pending) uint64 {
	if w.read >= 0 {
		return x.reads[w.read].hash
	}
	return hashID(w.id)
}

// apply writes x's pending records into t, which the caller holds locked
// and which valid found as x read it.
func (x *tx) apply(t *tenant) {
	n0 := [2]int{t.customers.len(), t.relations.len()}
	for i := range x.writes {
		w := &x.writes[i]
		tb := t.table(w.kind)
		switch {
		case w.read >= 0 && t == x.t && x.reads[w.read].found:
			tb.replace(x.reads[w.read].slot, w.rec)
		default:
			// A record of the slab that replaces one created before this
			// commit gets a string of its own (it would keep the slab
			// alive without being counted in it).
			if slot, _ := tb.put(w.id, x.hash(w), w.rec); slot >= 0 && w.off >= 0 && int(slot) < n0[w.kind] {
				tb.recs.set(slot, strings.Clone(w.rec))
			}
		}
	}
	for k, n := range n0 {
		t.table(kind(k)).addSlab(n, x.slabSize[k])
	}
}

// link returns the index in x.reads of the read of (k, id) that a new
// write of it is linked to, or -1. A save writes its records in the order
// it read them, some skipped, so link looks a few reads of kind k ahead of
// the last one linked; a write it does not link is looked up at commit.
func (x *tx) link(k kind, id string) int32 {
	const ahead = 8
	seen := 0
	for i := x.cursor[k]; i < len(x.reads) && seen < ahead; i++ {
		r := &x.reads[i]
		if r.kind != k {
			continue
		}
		if r.id == id {
			x.cursor[k] = i + 1
			return int32(i)
		}
		seen++
	}
	return -1
}

// lock turns the optimistic x into a locked transaction, for what only a
// locked one answers: it locks the business for writing and, when every
// record x read is unchanged, writes x's pending records as a locked
// transaction would have written them, and reports true. When a record
// changed, it unlocks, sets needLock and reports false.
func (x *tx) lock() bool {
	if x.locked {
		return true
	}
	t := x.s.lock(x.business)
	if !x.valid(t) {
		x.s.release(x.business, t)
		x.needLock = true
		return false
	}
	x.t, x.locked = t, true
	x.customers0, x.relations0 = t.customers.len(), t.relations.len()
	for i := range x.writes {
		// A record for the slab gets a string of its own: only a commit
		// opens a slab's account.
		w := &x.writes[i]
		x.putLocked(w.kind, w.id, x.rec(w))
	}
	x.reads, x.writes, x.own, x.indexed, x.cursor, x.preloaded = nil, nil, [2]map[string]int{}, 0, [2]int{}, [2]preloadedReads{}
	return true
}

// scratch holds the buffers records are encoded into, before they are copied
// into a string of their exact size.
var scratch = sync.Pool{New: func() any { return new([]byte) }}

func (x *tx) PutCustomer(c *rules.Customer) error {
	return x.put(customerKind, c.ExternalID, func(dst []byte) ([]byte, error) { return appendCustomer(dst, c) })
}

func (x *tx) PutRelation(r rules.Relation) error {
	return x.put(relationKind, r.RelationExternalID, func(dst []byte) ([]byte, error) { return appendRelation(dst, &r) })
}

// put encodes a record with encode and stores it as the record of kind k
// with id: at once when x is locked, at commit when it is optimistic.
func (x *tx) put(k kind, id string, encode func([]byte) ([]byte, error)) error {
	if !x.write {
		return errReadOnly
	}
	buf := scratch.Get().(*[]byte)
	defer func() {
		if cap(*buf) <= 64<<10 { // a very large record's buffer is not kept
			scratch.Put(buf)
		}
	}()
	b, err := encode((*buf)[:0])
	if err != nil {
		return fmt.Errorf("memstore: %q: %w", id, err)
	}
	*buf = b
	if !x.locked {
		x.pend(k, id, b)
		return nil
	}
	x.putLocked(k, id, string(b))
	return nil
}

// pend keeps rec as the record of kind k with id that the optimistic x
// writes at commit: in x's slab of kind k, unless it replaces a record x
// read.
func (x *tx) pend(k kind, id string, rec []byte) {
	w := pending{kind: k, read: x.link(k, id), id: id}
	if w.read >= 0 && x.reads[w.read].found {
		w.off, w.rec = -1, string(rec)
	} else {
		w.off, w.n = x.slabs[k].add(rec), int32(len(rec))
	}
	x.writes = append(x.writes, w)
}

// rec returns the record w writes: before seal, a copy of the one in its
// slab.
func (x *tx) rec(w *pending) string {
	if w.off >= 0 && !x.sealed {
		return x.slabs[w.kind].at(w.off, w.n)
	}
	return w.rec
}

// seal gives x's writes in slabs their place in the slabs' final strings.
// It runs once fn has returned, before the commit.
func (x *tx) seal() {
	var all [2]string
	for k := range x.slabs {
		if x.slabs[k].len() > 0 {
			all[k] = x.slabs[k].seal()
			x.slabSize[k] = len(all[k])
		}
	}
	for i := range x.writes {
		if w := &x.writes[i]; w.off >= 0 {
			w.rec = all[w.kind][w.off : w.off+w.n]
		}
	}
	x.sealed = true
}

// putLocked writes rec into the table of the locked x, keeping what it
// replaces in undo.
func (x *tx) putLocked(k kind, id, rec string) {
	t := x.t.table(k)
	if slot, old := t.put(id, hashID(id), rec); slot >= 0 {
		x.undo = append(x.undo, undo{t: t, slot: slot, rec: old})
	}
}

func (x *tx) Customers(offset, limit int) ([]rules.Customer, int, error) {
	if !x.lock() {
		return nil, 0, errNeedsLock
	}
	return list(&x.t.customers, offset, limit, decodeCustomer)
}

func (x *tx) Relations(offset, limit int) ([]rules.Relation, int, error) {
	if !x.lock() {
		return nil, 0, errNeedsLock
	}
	return list(&x.t.relations, offset, limit, decodeRelation)
}

// list decodes one page of t's records in the order of their ids.
func list[T any](t *table, offset, limit int, decode func(string) (T, error)) ([]T, int, error) {
	slots := t.inOrder()
	lo, hi := page(len(slots), offset, limit)
	out := make([]T, 0, hi-lo)
	for _, slot := range slots[lo:hi] {
		v, err := decode(t.recs.at(slot))
		if err != nil {
			return nil, 0, fmt.Errorf("%q: %w", recordID(t.recs.at(slot)), err)
		}
		out = append(out, v)
	}
	return out, len(slots), nil
}

func (x *tx) RelationsOf(externalIDs ...string) ([]rules.Relation, error) {
	if !x.lock() {
		return nil, errNeedsLock
	}
	t := &x.t.relations
	if len(externalIDs) == 0 || t.len() == 0 {
		return nil, nil
	}
	want := make(map[string]bool, len(externalIDs))
	for _, id := range externalIDs {
		want[id] = true
	}
	var out []rules.Relation
	for _, rec := range t.recs.from(0) {
		if parent, child := relationEnds(rec); !want[parent] && !want[child] {
			continue
		}
		r, err := decodeRelation(rec)
		if err != nil {
			return nil, fmt.Errorf("relation %q: %w", recordID(rec), err)
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b rules.Relation) int {
		return strings.Compare(a.RelationExternalID, b.RelationExternalID)
	})
	return out, nil
}

func (x *tx) AddEvent(e store.Event) error {
	if !x.write {
		return errReadOnly
	}
	e.Payload = slices.Clone(e.Payload)
	x.events = append(x.events, e)
	return nil
}

// rollback undoes every write of a locked transaction, newest first.
func (x *tx) rollback() {
	for i := len(x.undo) - 1; i >= 0; i-- {
		// A copy: the slab the record may be a substring of no longer
		// counts it (table.released).
		u := x.undo[i]
		u.t.recs.set(u.slot, strings.Clone(u.rec))
	}
	x.t.customers.truncate(x.customers0)
	x.t.relations.truncate(x.relations0)
	x.undo, x.events = nil, nil
}
