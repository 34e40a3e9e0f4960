package mockserver

import (
	"context"
	"errors"
	"hash/maphash"
	"sort"
	"sync"

	"github.com/algoreg-kit/algoreg-kit/rules"
)

// ErrNotFound is returned by the inspection reads when a record does not exist
// in the business.
var ErrNotFound = errors.New("not found")

// Store holds the state of every business (tenant). Implementations must be
// safe for concurrent use and keep businesses apart.
type Store interface {
	// Update calls fn with the business's state locked for writing: everything
	// fn reads and writes through tx is one atomic step, so concurrent saves of
	// the same business are serialised. fn must not keep tx after it returns.
	Update(ctx context.Context, business string, fn func(tx Tx) error) error
	// View calls fn with the business's state locked for reading; fn must only
	// read through tx.
	View(ctx context.Context, business string, fn func(tx Tx) error) error
	// Reset deletes every customer and relation of business.
	Reset(ctx context.Context, business string) error
}

// Tx reads and writes one business's state inside Store.Update or Store.View.
type Tx interface {
	// Customer returns a copy of the stored customer.
	Customer(externalID string) (rules.Customer, bool)
	// PutCustomer creates or replaces the customer with c.ExternalID. The
	// store keeps c: the caller must not change it afterwards.
	PutCustomer(c *rules.Customer)
	// Relation returns a copy of the stored relation.
	Relation(relationExternalID string) (rules.Relation, bool)
	// PutRelation creates or replaces the relation with r.RelationExternalID.
	PutRelation(r rules.Relation)
	// Customers returns up to limit customers ordered by external_id, after
	// skipping offset, and how many the business has.
	Customers(offset, limit int) ([]rules.Customer, int)
	// Relations returns up to limit relations ordered by relation_external_id,
	// after skipping offset, and how many the business has.
	Relations(offset, limit int) ([]rules.Relation, int)
	// RelationsOf returns the relations in which any of externalIDs is parent
	// or child, ordered by relation_external_id, in one pass over the relations.
	RelationsOf(externalIDs ...string) []rules.Relation
}

// MemStore is the in-memory Store, the default. Its zero value is not usable;
// call NewMemStore. It is safe for concurrent use: businesses are locked one by
// one, so saves of different businesses run in parallel.
//
// Customers and relations are kept as compact records (see record.go) in
// slabs outside the Go heap, indexed by a hash of their ids: about 250 bytes
// per customer of the fixtures' shape, and nothing for the garbage collector
// to trace however many are stored.
type MemStore struct {
	mu      sync.RWMutex // guards tenants
	tenants map[string]*memTenant
	seed    maphash.Seed
}

var _ Store = (*MemStore)(nil)

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{tenants: map[string]*memTenant{}, seed: maphash.MakeSeed()}
}

type memTenant struct {
	mu        sync.RWMutex // guards every field below
	customers recordTable  // by external_id
	relations recordTable  // by relation_external_id
	scratch   []byte       // the record being written
	// Sorted keys for the paged listings, rebuilt when a key was added. They
	// are built under a read lock too, so keysMu guards them (the *New flags
	// are set under mu's write lock, when no reader holds keysMu).
	keysMu       sync.Mutex
	customerKeys []string
	relationKeys []string
	customersNew bool
	relationsNew bool
}

func (s *MemStore) newTenant() *memTenant {
	seed := s.seed
	hash := func(id string) uint64 { return maphash.String(seed, id) }
	return &memTenant{customers: newRecordTable(hash), relations: newRecordTable(hash)}
}

func (s *MemStore) tenant(business string, create bool) *memTenant {
	s.mu.RLock()
	t := s.tenants[business]
	s.mu.RUnlock()
	if t != nil || !create {
		return t
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t = s.tenants[business]; t == nil {
		t = s.newTenant()
		s.tenants[business] = t
	}
	return t
}

// Update implements Store.
func (s *MemStore) Update(ctx context.Context, business string, fn func(tx Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for {
		t := s.tenant(business, true)
		t.mu.Lock()
		// Reset may have dropped this tenant between the lookup and the lock.
		s.mu.RLock()
		current := s.tenants[business] == t
		s.mu.RUnlock()
		if !current {
			t.mu.Unlock()
			continue
		}
		defer t.mu.Unlock()
		return fn(memTx{t: t, write: true})
	}
}

// View implements Store.
func (s *MemStore) View(ctx context.Context, business string, fn func(tx Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t := s.tenant(business, false)
	if t == nil {
		return fn(memTx{t: emptyTenant})
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return fn(memTx{t: t})
}

var emptyTenant = (&MemStore{seed: maphash.MakeSeed()}).newTenant()

// Reset implements Store.
func (s *MemStore) Reset(ctx context.Context, business string) error {
	s.mu.Lock()
	t := s.tenants[business]
	delete(s.tenants, business)
	s.mu.Unlock()
	if t != nil {
		t.drop()
	}
	return nil
}

// ResetAll deletes the state of every business.
func (s *MemStore) ResetAll() {
	s.mu.Lock()
	old := s.tenants
	s.tenants = map[string]*memTenant{}
	s.mu.Unlock()
	for _, t := range old {
		t.drop()
	}
}

// drop frees the memory of a tenant that is no longer in the store. A save or
// read that found t before it was removed may still be waiting for its lock:
// it then sees an empty business, as if it had started after the reset.
func (t *memTenant) drop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.customers.reset()
	t.relations.reset()
	t.keysMu.Lock()
	t.customerKeys, t.relationKeys = nil, nil
	t.keysMu.Unlock()
}

// Footprint reports how many customers the store holds across businesses and
// the bytes the records of customers and relations take (the slab chunks, not
// the Go heap).
func (s *MemStore) Footprint() (customers int, bytes int64) {
	// Tenants are locked after s.mu is released: Update holds a tenant's lock
	// while it takes s.mu, so holding both the other way round could deadlock.
	s.mu.RLock()
	tenants := make([]*memTenant, 0, len(s.tenants))
	for _, t := range s.tenants {
		tenants = append(tenants, t)
	}
	s.mu.RUnlock()
	for _, t := range tenants {
		t.mu.RLock()
		customers += t.customers.len()
		bytes += t.customers.recs.footprint() + t.relations.recs.footprint()
		t.mu.RUnlock()
	}
	return customers, bytes
}

type memTx struct {
	t     *memTenant
	write bool
}

func (tx memTx) Customer(externalID string) (rules.Customer, bool) {
	loc, ok := tx.t.customers.find(externalID)
	if !ok {
		return rules.Customer{}, false
	}
	return mustDecode(decodeCustomer(tx.t.customers.recs.get(loc))), true
}

func (tx memTx) PutCustomer(c *rules.Customer) {
	tx.mustWrite()
	t := tx.t
	t.scratch = mustEncode(appendCustomer(t.scratch[:0], c))
	if t.customers.put(c.ExternalID, t.scratch) {
		t.customersNew = true
	}
	t.trimScratch()
}

// trimScratch lets go of a scratch buffer that one very large record grew, so
// that it is not kept for the life of the business.
func (t *memTenant) trimScratch() {
	if cap(t.scratch) > 64<<10 {
		t.scratch = nil
	}
}

func (tx memTx) Relation(id string) (rules.Relation, bool) {
	loc, ok := tx.t.relations.find(id)
	if !ok {
		return rules.Relation{}, false
	}
	return mustDecode(decodeRelation(tx.t.relations.recs.get(loc))), true
}

func (tx memTx) PutRelation(r rules.Relation) {
	tx.mustWrite()
	t := tx.t
	t.scratch = mustEncode(appendRelation(t.scratch[:0], &r))
	if t.relations.put(r.RelationExternalID, t.scratch) {
		t.relationsNew = true
	}
	t.trimScratch()
}

// mustEncode and mustDecode turn the codec's errors into panics: only a Go
// type no request decoder produces (encode) or a bug in record.go (decode)
// can cause one, and answering with a record that is not the one stored would
// be worse than the 500 the panic becomes.
func mustEncode(rec []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return rec
}

func mustDecode[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func (tx memTx) mustWrite() {
	if !tx.write {
		panic("mockserver: write through a read-only Tx")
	}
}

func (tx memTx) Customers(offset, limit int) ([]rules.Customer, int) {
	t := tx.t
	return readPage(t.sortedKeys(&t.customers, &t.customerKeys, &t.customersNew), offset, limit, tx.Customer)
}

func (tx memTx) Relations(offset, limit int) ([]rules.Relation, int) {
	t := tx.t
	return readPage(t.sortedKeys(&t.relations, &t.relationKeys, &t.relationsNew), offset, limit, tx.Relation)
}

// readPage returns the records of the page of keys at offset (see page), each
// read by get, and the number of keys.
func readPage[T any](keys []string, offset, limit int, get func(string) (T, bool)) ([]T, int) {
	lo, hi := page(len(keys), offset, limit)
	out := make([]T, 0, hi-lo)
	for _, k := range keys[lo:hi] {
		v, _ := get(k)
		out = append(out, v)
	}
	return out, len(keys)
}

// sortedKeys returns the ids of table in order, rebuilding *keys when an id
// was added since.
func (t *memTenant) sortedKeys(table *recordTable, keys *[]string, added *bool) []string {
	t.keysMu.Lock()
	defer t.keysMu.Unlock()
	if *added || len(*keys) != table.len() {
		*keys = table.ids()
		sort.Strings(*keys)
		*added = false
	}
	return *keys
}

func (tx memTx) RelationsOf(externalIDs ...string) []rules.Relation {
	t := tx.t
	if len(externalIDs) == 0 || t.relations.len() == 0 {
		return nil
	}
	want := make(map[string]bool, len(externalIDs))
	for _, id := range externalIDs {
		want[id] = true
	}
	var out []rules.Relation
	t.relations.each(func(rec []byte) {
		if parent, child := relationEnds(rec); want[string(parent)] || want[string(child)] {
			out = append(out, mustDecode(decodeRelation(rec)))
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].RelationExternalID < out[j].RelationExternalID })
	return out
}

func page(n, offset, limit int) (lo, hi int) {
	lo = min(max(offset, 0), n)
	hi = min(lo+max(limit, 0), n)
	return lo, hi
}
