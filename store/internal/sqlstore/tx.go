package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"time"

	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
)

// tx is a store.Tx: the statements of one business in one transaction.
type tx struct {
	ctx      context.Context
	q        Querier
	s        *Store
	business string
	// What Preload read, by id: the record, or nil when it does not exist.
	// A write of a record deletes its entry, so that a read after it asks
	// the database.
	customers map[string]*storedCustomer
	relations map[string]*storedRelation
}

var (
	_ store.Preloader   = (*tx)(nil)
	_ store.BatchWriter = (*tx)(nil)
)

// Preload implements store.Preloader: one query for the customers, one for
// the relations.
func (t *tx) Preload(customerIDs, relationIDs []string) error {
	var err error
	t.customers, err = preload(t, scanStoredCustomer, t.s.q.customersIn, customerIDs, func(c *storedCustomer) string { return c.ExternalID })
	if err != nil {
		return fmt.Errorf("read customers: %w", err)
	}
	t.relations, err = preload(t, scanStoredRelation, t.s.q.relationsIn, relationIDs, func(r *storedRelation) string { return r.RelationExternalID })
	if err != nil {
		return fmt.Errorf("read relations: %w", err)
	}
	return nil
}

// preload reads the records with ids through query, by id (nil for an id
// without a record).
func preload[T any](t *tx, scan func(func(dest ...any) error, *T) error, query string, ids []string, idOf func(*T) string) (map[string]*T, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	arg, err := t.s.d.listArg(ids)
	if err != nil {
		return nil, err
	}
	vs, err := list(t, scan, len(ids), query, t.business, arg)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*T, len(ids))
	for _, id := range ids {
		m[id] = nil
	}
	for i := range vs {
		m[idOf(&vs[i])] = &vs[i]
	}
	return m, nil
}

// preloaded answers a read from what Preload read, when it read that id.
func preloaded[T any](m map[string]*T, id string) (v T, found, known bool) {
	p, known := m[id]
	if p != nil {
		v, found = *p, true
	}
	return v, found, known
}

func (t *tx) Customer(externalID string) (rules.Customer, bool, error) {
	if c, found, known := preloaded(t.customers, externalID); known {
		return c.Customer, found, nil
	}
	return get(t, scanCustomer, t.s.q.customer, "customer", externalID)
}

func (t *tx) PutCustomer(c *rules.Customer) error {
	delete(t.customers, c.ExternalID)
	args, err := customerArgs(t.business, c)
	if err != nil {
		return fmt.Errorf("save %w", err)
	}
	if err := t.q.Exec(t.ctx, t.s.q.putCustomer, args...); err != nil {
		return fmt.Errorf("save customer %q: %w", c.ExternalID, err)
	}
	return nil
}

// PutCustomers implements store.BatchWriter. The customers whose row would
// be written as Preload read it but for updated_at (a save that repeats
// what is stored) have only their updated_at written, by one statement.
func (t *tx) PutCustomers(cs []*rules.Customer) error {
	cs, err := touchUnchanged(t, cs, t.customers, t.s.q.touchCustomers, "customer",
		func(c *rules.Customer) (string, int64) { return c.ExternalID, c.UpdatedAt }, customerUnchanged)
	if err != nil {
		return err
	}
	return putBatches(t, cs, t.s.q.putCustomers, func(c *rules.Customer) (string, []any, error) {
		delete(t.customers, c.ExternalID)
		args, err := customerArgs(t.business, c)
		return "customer " + c.ExternalID, args, err
	})
}

// PutRelations implements store.BatchWriter; the relations that Preload
// read unchanged but for updated_at have only their updated_at written, as
// PutCustomers does.
func (t *tx) PutRelations(rs []rules.Relation) error {
	rs, err := touchUnchanged(t, rs, t.relations, t.s.q.touchRelations, "relation",
		func(r rules.Relation) (string, int64) { return r.RelationExternalID, r.UpdatedAt }, relationUnchanged)
	if err != nil {
		return err
	}
	return putBatches(t, rs, t.s.q.putRelations, func(r rules.Relation) (string, []any, error) {
		delete(t.relations, r.RelationExternalID)
		args, err := relationArgs(t.business, &r)
		return "relation " + r.RelationExternalID, args, err
	})
}

// touchUnchanged writes, with query (updated_at = $1 for the ids of the
// list $3 of business $2), the updated_at of the records that Preload read
// into stored and that unchanged finds unchanged, those of the first such
// one's updated_at (in a save, every one); it forgets what it wrote from
// stored and returns the other records. key gives a record's id and
// updated_at.
func touchUnchanged[T, S any](t *tx, records []T, stored map[string]*S, query, what string,
	key func(T) (string, int64), unchanged func(*S, T) bool) ([]T, error) {
	var (
		ids  []string
		at   int64
		rest = records[:0:0]
	)
	for _, r := range records {
		id, updated := key(r)
		s := stored[id]
		if s == nil || len(ids) > 0 && updated != at || !unchanged(s, r) {
			rest = append(rest, r)
			continue
		}
		delete(stored, id)
		ids, at = append(ids, id), updated
	}
	if len(ids) == 0 {
		return records, nil
	}
	list, err := t.s.d.listArg(ids)
	if err == nil {
		err = t.q.Exec(t.ctx, query, at, t.business, list)
	}
	if err != nil {
		return nil, fmt.Errorf("save %s %q and %d more: %w", what, ids[0], len(ids)-1, err)
	}
	return rest, nil
}

// putBatches writes records with the multi-row upserts of queries (of 2^k
// rows for each k), the largest that fits first: 100 records are 64 + 32 +
// 4 rows in 3 statements, sent in one round trip when the Querier is a
// Batcher. args returns a record's name (for errors) and its row's values.
func putBatches[T any](t *tx, records []T, queries []string, args func(T) (string, []any, error)) error {
	var (
		stmts []Statement
		names []string // what each statement writes, for its error
	)
	for len(records) > 0 {
		k := min(bits.Len(uint(len(records)))-1, len(queries)-1)
		batch := records[:1<<k]
		records = records[len(batch):]
		var values []any
		var first string
		for i, rec := range batch {
			name, a, err := args(rec)
			if err != nil {
				return fmt.Errorf("save %w", err)
			}
			if i == 0 {
				first = name
			}
			values = append(values, a...)
		}
		if len(batch) > 1 {
			first = fmt.Sprintf("%s and %d more", first, len(batch)-1)
		}
		stmts, names = append(stmts, Statement{queries[k], values}), append(names, first)
	}
	if i, err := execAll(t.ctx, t.q, stmts); err != nil {
		return fmt.Errorf("save %s: %w", names[i], err)
	}
	return nil
}

func (t *tx) Relation(relationExternalID string) (rules.Relation, bool, error) {
	if r, found, known := preloaded(t.relations, relationExternalID); known {
		return r.Relation, found, nil
	}
	return get(t, scanRelation, t.s.q.relation, "relation", relationExternalID)
}

func (t *tx) PutRelation(r rules.Relation) error {
	delete(t.relations, r.RelationExternalID)
	args, err := relationArgs(t.business, &r)
	if err != nil {
		return fmt.Errorf("save %w", err)
	}
	if err := t.q.Exec(t.ctx, t.s.q.putRelation, args...); err != nil {
		return fmt.Errorf("save relation %q: %w", r.RelationExternalID, err)
	}
	return nil
}

func (t *tx) Customers(offset, limit int) ([]rules.Customer, int, error) {
	return page(t, scanCustomer, t.s.q.countCustomers, t.s.q.customers, "customers", offset, limit)
}

func (t *tx) Relations(offset, limit int) ([]rules.Relation, int, error) {
	return page(t, scanRelation, t.s.q.countRelations, t.s.q.relations, "relations", offset, limit)
}

func (t *tx) RelationsOf(externalIDs ...string) ([]rules.Relation, error) {
	if len(externalIDs) == 0 {
		return nil, nil
	}
	ids, err := t.s.d.listArg(externalIDs)
	if err != nil {
		return nil, fmt.Errorf("relations of %q: %w", externalIDs, err)
	}
	rs, err := list(t, scanRelation, 0, t.s.q.relatedTo, t.business, ids)
	if err != nil {
		return nil, fmt.Errorf("relations of %q: %w", externalIDs, err)
	}
	return rs, nil
}

// AddEvent implements store.Tx. An event without a business is the
// transaction's, and one without a time is now's.
func (t *tx) AddEvent(e store.Event) error {
	if e.Business == "" {
		e.Business = t.business
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now()
	}
	if e.Payload == nil {
		e.Payload = []byte{} // payload is NOT NULL
	}
	if err := t.q.Exec(t.ctx, t.s.q.addEvent, e.Business, e.Payload, e.CreatedAt.UnixNano()); err != nil {
		return fmt.Errorf("add an event to the outbox: %w", err)
	}
	return nil
}

// list returns the records of a query, read by scan; hint is how many
// there may be (0 for unknown), so that they are one allocation.
func list[T any](t *tx, scan func(func(dest ...any) error, *T) error, hint int, query string, args ...any) ([]T, error) {
	rows, err := t.q.Query(t.ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		out  []T
		zero T
	)
	for rows.Next() {
		if out == nil && hint > 0 { // on the first row: a query of absent records allocates nothing
			out = make([]T, 0, hint)
		}
		out = append(out, zero)
		if err := scan(rows.Scan, &out[len(out)-1]); err != nil {
			return nil, err
		}
	}
	return out, rows.Err()
}

// get returns the record of the business with id, read by scan.
func get[T any](t *tx, scan func(func(dest ...any) error, *T) error, query, what, id string) (T, bool, error) {
	var v T
	err := scan(t.q.QueryRow(t.ctx, query, t.business, id).Scan, &v)
	var zero T
	if errors.Is(err, ErrNoRows) {
		return zero, false, nil
	}
	if err != nil {
		return zero, false, fmt.Errorf("read %s %q: %w", what, id, err)
	}
	return v, true, nil
}

// page returns a page of the records of the business, and how many it has.
func page[T any](t *tx, scan func(func(dest ...any) error, *T) error, count, query, what string, offset, limit int) ([]T, int, error) {
	var total int
	if err := t.q.QueryRow(t.ctx, count, t.business).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count %s: %w", what, err)
	}
	vs, err := list(t, scan, 0, query, t.business, max(0, limit), max(0, offset))
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", what, err)
	}
	return vs, total, nil
}
