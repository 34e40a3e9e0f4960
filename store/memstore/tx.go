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

// tx is the store.Tx of one Update or View. An Update writes into the
// tenant's tables as it goes, so that its own reads see its writes, and
// keeps what it replaced in undo: rollback puts it back and removes the
// records it created.
type tx struct {
	t     *tenant
	write bool
	// The tables' lengths when the transaction began: the slots above are
	// records it created.
	customers0, relations0 int
	undo                   []undo
	events                 []store.Event
}

// undo is a record that a transaction replaced.
type undo struct {
	t    *table
	slot int32
	rec  string
}

var _ store.Tx = (*tx)(nil)

var errReadOnly = errors.New("memstore: a write through the Tx of View; write in Update")

func (x *tx) Customer(externalID string) (rules.Customer, bool, error) {
	return get(&x.t.customers, externalID, decodeCustomer)
}

func (x *tx) Relation(id string) (rules.Relation, bool, error) {
	return get(&x.t.relations, id, decodeRelation)
}

// get decodes the record of t with id.
func get[T any](t *table, id string, decode func(string) (T, error)) (T, bool, error) {
	var v T
	rec, ok := t.get(id)
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

// scratch holds the buffers records are encoded into, before they are copied
// into a string of their exact size.
var scratch = sync.Pool{New: func() any { return new([]byte) }}

func (x *tx) PutCustomer(c *rules.Customer) error {
	return x.put(&x.t.customers, c.ExternalID, func(dst []byte) ([]byte, error) { return appendCustomer(dst, c) })
}

func (x *tx) PutRelation(r rules.Relation) error {
	return x.put(&x.t.relations, r.RelationExternalID, func(dst []byte) ([]byte, error) { return appendRelation(dst, &r) })
}

// put encodes a record with encode and stores it in t as the record with id.
func (x *tx) put(t *table, id string, encode func([]byte) ([]byte, error)) error {
	if !x.write {
		return errReadOnly
	}
	buf := scratch.Get().(*[]byte)
	defer func() {
		if cap(*buf) <= 64<<10 { // a very large record's buffer is not kept
			scratch.Put(buf)
		}
	}()
	rec, err := encode((*buf)[:0])
	if err != nil {
		return fmt.Errorf("memstore: %q: %w", id, err)
	}
	*buf = rec
	if slot, old := t.put(id, string(rec)); slot >= 0 {
		x.undo = append(x.undo, undo{t: t, slot: slot, rec: old})
	}
	return nil
}

func (x *tx) Customers(offset, limit int) ([]rules.Customer, int, error) {
	return list(&x.t.customers, offset, limit, decodeCustomer)
}

func (x *tx) Relations(offset, limit int) ([]rules.Relation, int, error) {
	return list(&x.t.relations, offset, limit, decodeRelation)
}

// list decodes one page of t's records in the order of their ids.
func list[T any](t *table, offset, limit int, decode func(string) (T, error)) ([]T, int, error) {
	slots := t.inOrder()
	lo, hi := page(len(slots), offset, limit)
	out := make([]T, 0, hi-lo)
	for _, slot := range slots[lo:hi] {
		v, err := decode(t.recs[slot])
		if err != nil {
			return nil, 0, fmt.Errorf("%q: %w", recordID(t.recs[slot]), err)
		}
		out = append(out, v)
	}
	return out, len(slots), nil
}

func (x *tx) RelationsOf(externalIDs ...string) ([]rules.Relation, error) {
	t := &x.t.relations
	if len(externalIDs) == 0 || t.len() == 0 {
		return nil, nil
	}
	want := make(map[string]bool, len(externalIDs))
	for _, id := range externalIDs {
		want[id] = true
	}
	var out []rules.Relation
	for _, rec := range t.recs {
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

// rollback undoes every write of the transaction, newest first.
func (x *tx) rollback() {
	for i := len(x.undo) - 1; i >= 0; i-- {
		u := x.undo[i]
		u.t.recs[u.slot] = u.rec
	}
	x.t.customers.truncate(x.customers0)
	x.t.relations.truncate(x.relations0)
	x.undo, x.events = nil, nil
}
