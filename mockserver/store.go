package mockserver

import (
	"context"
	"errors"
	"hash/maphash"
	"sort"
	"strings"
	"sync"

	"github.com/google/uuid"
)

// ErrNotFound is returned by the inspection reads when a record does not exist
// in the business.
var ErrNotFound = errors.New("not found")

// Customer is a customer as the store holds it, after every delta was merged.
// An empty string means "not stored". Its slices are never modified once
// stored: a save builds new slices for the fields it changes, so a copy of a
// Customer (what Tx.Customer returns) is safe to keep.
type Customer struct {
	CustomerID         uuid.UUID
	ExternalID         string
	AccountType        string // "F" or "N"
	FirstName          string
	MiddleName         string
	LastName           string
	CompanyName        string
	TradingName        string
	RegistrationNumber string
	DateOfBirth        string
	Phone              string
	Comment            string
	NationalityCodes   []string // upper case, interned
	DomicileCodes      []string // upper case, interned
	ReviewGroups       []string
	Contacts           []string
	AliasIDs           []string
	Fields             []Field // ordered by key
	Variations         []Variation
	KYCLevel           int64
	KYCLevelRequested  int64
	CreatedAt          int64 // Unix nanoseconds
	UpdatedAt          int64 // Unix nanoseconds
	HasKYCLevel        bool
	HasKYCRequested    bool
	HasDisabled        bool
	Disabled           bool
	RiskScanDisabled   bool
}

// Field is one custom field.
type Field struct {
	Key   string
	Value any
}

// Variation is a stored name variation. Two variations are the same when all
// five names are equal.
type Variation struct {
	FirstName, MiddleName, LastName, CompanyName, TradingName string
}

// Relation is a relation as the store holds it.
type Relation struct {
	RelationExternalID string
	ParentExternalID   string
	ChildExternalID    string
	RelationType       int64
	Fields             []Field
	Disabled           bool
	CreatedAt          int64
	UpdatedAt          int64
}

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
	Customer(externalID string) (Customer, bool)
	// PutCustomer creates or replaces the customer with c.ExternalID. The
	// store keeps c: the caller must not change it afterwards.
	PutCustomer(c *Customer)
	// Relation returns a copy of the stored relation.
	Relation(relationExternalID string) (Relation, bool)
	// PutRelation creates or replaces the relation with r.RelationExternalID.
	PutRelation(r Relation)
	// Customers returns up to limit customers ordered by external_id, after
	// skipping offset, and how many the business has.
	Customers(offset, limit int) ([]Customer, int)
	// Relations returns up to limit relations ordered by relation_external_id,
	// after skipping offset, and how many the business has.
	Relations(offset, limit int) ([]Relation, int)
	// RelationsOf returns the relations in which any of externalIDs is parent
	// or child, ordered by relation_external_id, in one pass over the relations.
	RelationsOf(externalIDs ...string) []Relation
	// Intern returns a shared copy of s, so that values repeated across
	// customers (review groups, custom-field keys) are stored once.
	Intern(s string) string
}

// MemStore is the in-memory Store, the default. Its zero value is not usable;
// call NewMemStore. It is safe for concurrent use: businesses are locked one by
// one, so saves of different businesses run in parallel.
//
// Customers are kept as compact records (see record.go) in a slab outside the
// Go heap, indexed by a hash of their external_id: about 300 bytes per
// customer of the fixtures' shape, and nothing for the garbage collector to
// trace however many are stored.
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
	mu sync.RWMutex // guards every field below
	// customers: records in recs; byHash maps the hash of an external_id to
	// its record, byID the rare external_ids whose hash another one already
	// has. Neither map holds a pointer, except byID's keys.
	recs      slab
	byHash    map[uint64]uint64
	byID      map[string]uint64
	hash      func(string) uint64
	scratch   []byte // the record being written
	relations map[string]*Relation
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
	return &memTenant{
		recs: newSlab(), byHash: map[uint64]uint64{}, byID: map[string]uint64{},
		hash:      func(id string) uint64 { return maphash.String(seed, id) },
		relations: map[string]*Relation{},
	}
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
	t.recs.reset()
	t.byHash, t.byID, t.relations = map[uint64]uint64{}, map[string]uint64{}, map[string]*Relation{}
	t.keysMu.Lock()
	t.customerKeys, t.relationKeys = nil, nil
	t.keysMu.Unlock()
}

// Footprint reports how many customers the store holds across businesses and
// the bytes their records take (the slab chunks, not the Go heap).
func (s *MemStore) Footprint() (customers int, bytes int64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, t := range s.tenants {
		t.mu.RLock()
		customers += len(t.byHash) + len(t.byID)
		bytes += t.recs.footprint()
		t.mu.RUnlock()
	}
	return customers, bytes
}

type memTx struct {
	t     *memTenant
	write bool
}

func (tx memTx) Customer(externalID string) (Customer, bool) {
	loc, ok := tx.t.find(externalID)
	if !ok {
		return Customer{}, false
	}
	c, err := decodeCustomer(tx.t.recs.get(loc))
	if err != nil {
		// Only a bug in record.go can get here; fail loudly rather than
		// answer with a customer that is not the one stored.
		panic(err)
	}
	return c, true
}

func (tx memTx) PutCustomer(c *Customer) {
	tx.mustWrite()
	t := tx.t
	rec, err := appendCustomer(t.scratch[:0], c)
	if err != nil {
		panic(err) // a Go type no decoder produces reached the store
	}
	t.scratch = rec
	if t.put(c.ExternalID, rec) {
		t.customersNew = true
	}
}

// find returns the location of the customer with externalID.
func (t *memTenant) find(externalID string) (uint64, bool) {
	h := t.hash(externalID)
	loc, ok := t.byHash[h]
	if !ok {
		return 0, false // byID only has ids whose hash byHash has too
	}
	if recordID(t.recs.get(loc)) == externalID {
		return loc, true
	}
	loc, ok = t.byID[externalID]
	return loc, ok
}

// put stores rec as the customer with externalID and reports whether the
// customer is new.
func (t *memTenant) put(externalID string, rec []byte) bool {
	h := t.hash(externalID)
	loc, taken := t.byHash[h]
	if !taken {
		t.byHash[h] = t.recs.put(0, false, rec)
		return true
	}
	if recordID(t.recs.get(loc)) == externalID {
		t.byHash[h] = t.recs.put(loc, true, rec)
		return false
	}
	loc, exists := t.byID[externalID]
	t.byID[strings.Clone(externalID)] = t.recs.put(loc, exists, rec)
	return !exists
}

// customerIDs returns every external_id of the business, unordered.
func (t *memTenant) customerIDs() []string {
	ids := make([]string, 0, len(t.byHash)+len(t.byID))
	for _, loc := range t.byHash {
		ids = append(ids, strings.Clone(recordID(t.recs.get(loc))))
	}
	for id := range t.byID {
		ids = append(ids, id)
	}
	return ids
}

func (tx memTx) Relation(id string) (Relation, bool) {
	r, ok := tx.t.relations[id]
	if !ok {
		return Relation{}, false
	}
	return *r, true
}

func (tx memTx) PutRelation(r Relation) {
	tx.mustWrite()
	if old, ok := tx.t.relations[r.RelationExternalID]; ok {
		*old = r
		return
	}
	tx.t.relations[r.RelationExternalID] = &r
	tx.t.relationsNew = true
}

func (tx memTx) mustWrite() {
	if !tx.write {
		panic("mockserver: write through a read-only Tx")
	}
}

func (tx memTx) Customers(offset, limit int) ([]Customer, int) {
	t := tx.t
	t.keysMu.Lock()
	if n := len(t.byHash) + len(t.byID); t.customersNew || len(t.customerKeys) != n {
		keys := t.customerIDs()
		sort.Strings(keys)
		t.customerKeys, t.customersNew = keys, false
	}
	keys := t.customerKeys
	t.keysMu.Unlock()
	lo, hi := page(len(keys), offset, limit)
	out := make([]Customer, 0, hi-lo)
	for _, k := range keys[lo:hi] {
		c, _ := tx.Customer(k)
		out = append(out, c)
	}
	return out, len(keys)
}

func (tx memTx) Relations(offset, limit int) ([]Relation, int) {
	t := tx.t
	t.keysMu.Lock()
	if t.relationsNew || len(t.relationKeys) != len(t.relations) {
		t.relationKeys, t.relationsNew = sortedKeys(t.relations), false
	}
	keys := t.relationKeys
	t.keysMu.Unlock()
	lo, hi := page(len(keys), offset, limit)
	out := make([]Relation, 0, hi-lo)
	for _, k := range keys[lo:hi] {
		out = append(out, *t.relations[k])
	}
	return out, len(keys)
}

func (tx memTx) RelationsOf(externalIDs ...string) []Relation {
	if len(externalIDs) == 0 || len(tx.t.relations) == 0 {
		return nil
	}
	want := make(map[string]bool, len(externalIDs))
	for _, id := range externalIDs {
		want[id] = true
	}
	var out []Relation
	for _, r := range tx.t.relations {
		if want[r.ParentExternalID] || want[r.ChildExternalID] {
			out = append(out, *r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RelationExternalID < out[j].RelationExternalID })
	return out
}

// Intern returns s: the MemStore copies every value into its records, so
// there is nothing to share.
func (tx memTx) Intern(s string) string { return s }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func page(n, offset, limit int) (lo, hi int) {
	lo = min(max(offset, 0), n)
	hi = min(lo+max(limit, 0), n)
	return lo, hi
}
