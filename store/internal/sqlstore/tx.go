package sqlstore

import (
	"context"
	"errors"
	"fmt"
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
}

func (t *tx) Customer(externalID string) (rules.Customer, bool, error) {
	c, err := scanCustomer(t.q.QueryRow(t.ctx, t.s.q.customer, t.business, externalID).Scan)
	if errors.Is(err, ErrNoRows) {
		return rules.Customer{}, false, nil
	}
	if err != nil {
		return rules.Customer{}, false, fmt.Errorf("read customer %q: %w", externalID, err)
	}
	return c, true, nil
}

func (t *tx) PutCustomer(c *rules.Customer) error {
	args, err := customerArgs(t.business, c)
	if err != nil {
		return fmt.Errorf("save %w", err)
	}
	if err := t.q.Exec(t.ctx, t.s.q.putCustomer, args...); err != nil {
		return fmt.Errorf("save customer %q: %w", c.ExternalID, err)
	}
	return nil
}

func (t *tx) Relation(relationExternalID string) (rules.Relation, bool, error) {
	r, err := scanRelation(t.q.QueryRow(t.ctx, t.s.q.relation, t.business, relationExternalID).Scan)
	if errors.Is(err, ErrNoRows) {
		return rules.Relation{}, false, nil
	}
	if err != nil {
		return rules.Relation{}, false, fmt.Errorf("read relation %q: %w", relationExternalID, err)
	}
	return r, true, nil
}

func (t *tx) PutRelation(r rules.Relation) error {
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
	var total int
	if err := t.q.QueryRow(t.ctx, t.s.q.countCustomers, t.business).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count customers: %w", err)
	}
	cs, err := list(t, scanCustomer, t.s.q.customers, t.business, max(0, limit), max(0, offset))
	if err != nil {
		return nil, 0, fmt.Errorf("list customers: %w", err)
	}
	return cs, total, nil
}

func (t *tx) Relations(offset, limit int) ([]rules.Relation, int, error) {
	var total int
	if err := t.q.QueryRow(t.ctx, t.s.q.countRelations, t.business).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count relations: %w", err)
	}
	rs, err := list(t, scanRelation, t.s.q.relations, t.business, max(0, limit), max(0, offset))
	if err != nil {
		return nil, 0, fmt.Errorf("list relations: %w", err)
	}
	return rs, total, nil
}

func (t *tx) RelationsOf(externalIDs ...string) ([]rules.Relation, error) {
	if len(externalIDs) == 0 {
		return nil, nil
	}
	ids, err := t.s.d.listArg(externalIDs)
	if err != nil {
		return nil, fmt.Errorf("relations of %q: %w", externalIDs, err)
	}
	rs, err := list(t, scanRelation, t.s.q.relatedTo, t.business, ids)
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

// list returns the records of a query, read by scan.
func list[T any](t *tx, scan func(func(dest ...any) error) (T, error), query string, args ...any) ([]T, error) {
	rows, err := t.q.Query(t.ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
