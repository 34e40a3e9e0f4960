package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An Option changes what Run checks.
type Option func(*options)

type options struct {
	reopen func(tb testing.TB, s store.Store) store.Store
}

// WithReopen tells Run that the engine is durable: reopen closes s and
// returns a store opened on the same state (and closes it in tb.Cleanup). Run
// then checks that customers, relations, lockouts, pending events (with
// their attempts) and the secret survive, and that event IDs keep increasing.
func WithReopen(reopen func(tb testing.TB, s store.Store) store.Store) Option {
	return func(o *options) { o.reopen = reopen }
}

// harness is what one case gets: a fresh store and the engine's functions.
type harness struct {
	t    *testing.T
	ctx  context.Context
	s    store.Store
	opts options
}

// Run runs the behaviour table against an engine. open must return a fresh,
// empty store and close it in tb.Cleanup; Run calls it once per case.
func Run(t *testing.T, open func(tb testing.TB) store.Store, opts ...Option) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	cases := []struct {
		name string
		run  func(h *harness)
	}{
		{"customer round trip", customerRoundTrip},
		{"customer replace", customerReplace},
		{"relation round trip", relationRoundTrip},
		{"missing records", missingRecords},
		{"customers paging", customersPaging},
		{"relations paging", relationsPaging},
		{"relations of", relationsOf},
		{"businesses apart", businessesApart},
		{"update all or nothing", updateAllOrNothing},
		{"update reads its own writes", updateReadsOwnWrites},
		{"preload", preload},
		{"batch writes", batchWrites},
		{"replace one field", replaceOneField},
		{"reset", reset},
		{"businesses paging", businessesPaging},
		{"concurrent updates serialised", concurrentUpdates},
		{"outbox after commit", outboxAfterCommit},
		{"outbox ids and delivery", outboxIDs},
		{"outbox next events per business", outboxNextEvents},
		{"outbox attempts", outboxAttempts},
		{"outbox events paging", outboxEventsPaging},
		{"outbox prune", outboxPrune},
		{"outbox lease", outboxLease},
		{"secret", secret},
		{"lockout", lockout},
		{"context cancelled", contextCancelled},
		{"context cancelled inside update", contextCancelledInsideUpdate},
		{"durable", durable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "durable" && o.reopen == nil {
				t.Skip("storetest: the engine keeps no state after Close (no WithReopen)")
			}
			tc.run(&harness{t: t, ctx: t.Context(), s: open(t), opts: o})
		})
	}
}

// update runs fn in s.Update and fails the test on an error.
func (h *harness) update(business string, fn func(tx store.Tx) error) {
	h.t.Helper()
	require.NoError(h.t, h.s.Update(h.ctx, business, fn))
}

// view runs fn in s.View and fails the test on an error.
func (h *harness) view(business string, fn func(tx store.Tx) error) {
	h.t.Helper()
	require.NoError(h.t, h.s.View(h.ctx, business, fn))
}

// put stores customers and relations in one Update.
func (h *harness) put(business string, cs []rules.Customer, rs []rules.Relation) {
	h.t.Helper()
	h.update(business, func(tx store.Tx) error {
		for i := range cs {
			c := cs[i] // the store may keep the pointer
			if err := tx.PutCustomer(&c); err != nil {
				return err
			}
		}
		for _, r := range rs {
			if err := tx.PutRelation(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// customer returns the stored customer, failing the test on an error.
func customer(tb testing.TB, tx store.Tx, externalID string) (rules.Customer, bool) {
	tb.Helper()
	c, ok, err := tx.Customer(externalID)
	require.NoError(tb, err)
	return c, ok
}

// relation returns the stored relation, failing the test on an error.
func relation(tb testing.TB, tx store.Tx, id string) (rules.Relation, bool) {
	tb.Helper()
	r, ok, err := tx.Relation(id)
	require.NoError(tb, err)
	return r, ok
}

// customerIDs returns the external IDs of a page of customers and the total.
func customerIDs(tb testing.TB, tx store.Tx, offset, limit int) ([]string, int) {
	tb.Helper()
	cs, total, err := tx.Customers(offset, limit)
	require.NoError(tb, err)
	ids := []string{}
	for _, c := range cs {
		ids = append(ids, c.ExternalID)
	}
	return ids, total
}

// relationIDs returns the IDs of relations.
func relationIDs(rs []rules.Relation) []string {
	ids := []string{}
	for _, r := range rs {
		ids = append(ids, r.RelationExternalID)
	}
	return ids
}

// counts returns the number of customers and relations of business.
func (h *harness) counts(business string) (customers, relations int) {
	h.t.Helper()
	h.view(business, func(tx store.Tx) error {
		var err error
		if _, customers, err = tx.Customers(0, 1); err != nil {
			return err
		}
		_, relations, err = tx.Relations(0, 1)
		return err
	})
	return customers, relations
}

// pending returns every pending event.
func (h *harness) pending() []store.Event {
	h.t.Helper()
	evs, err := h.s.PendingEvents(h.ctx, 1000)
	require.NoError(h.t, err)
	return evs
}

var errBoom = errors.New("storetest: fn failed on purpose")

// assertCanceled checks that err reports the cancellation of its context.
func assertCanceled(tb testing.TB, what string, err error) {
	tb.Helper()
	assert.ErrorIs(tb, err, context.Canceled, "%s with a cancelled context", what)
}

func label(format string, args ...any) string { return fmt.Sprintf(format, args...) }
