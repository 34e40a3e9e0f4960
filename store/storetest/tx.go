package storetest

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func updateAllOrNothing(h *harness) {
	kept := rules.Customer{ExternalID: "kept", LastName: "Before"}
	h.put("acme", []rules.Customer{kept}, []rules.Relation{{RelationExternalID: "r-kept"}})
	err := h.s.Update(h.ctx, "acme", func(tx store.Tx) error {
		changed := rules.Customer{ExternalID: "kept", LastName: "After"}
		require.NoError(h.t, tx.PutCustomer(&changed))
		require.NoError(h.t, tx.PutCustomer(&rules.Customer{ExternalID: "new"}))
		require.NoError(h.t, tx.PutRelation(rules.Relation{RelationExternalID: "r-new"}))
		require.NoError(h.t, tx.PutRelation(rules.Relation{RelationExternalID: "r-kept", RelationType: 9}))
		require.NoError(h.t, tx.AddEvent(store.Event{Business: "acme", Payload: []byte(`{}`)}))
		return errBoom
	})
	assert.ErrorIs(h.t, err, errBoom, "Update returns fn's error")
	err = h.s.Update(h.ctx, "only-failed", func(tx store.Tx) error {
		require.NoError(h.t, tx.PutCustomer(&rules.Customer{ExternalID: "x"}))
		return errBoom
	})
	assert.ErrorIs(h.t, err, errBoom)
	h.view("acme", func(tx store.Tx) error {
		got, _ := customer(h.t, tx, "kept")
		assert.Equal(h.t, kept, got)
		_, ok := customer(h.t, tx, "new")
		assert.False(h.t, ok, "a customer of a failed update")
		_, ok = relation(h.t, tx, "r-new")
		assert.False(h.t, ok, "a relation of a failed update")
		r, _ := relation(h.t, tx, "r-kept")
		assert.Equal(h.t, int64(0), r.RelationType)
		return nil
	})
	assert.Empty(h.t, h.pending(), "events of a failed update")
	list, total, err := h.s.Businesses(h.ctx, 0, 10)
	require.NoError(h.t, err)
	assert.Equal(h.t, []store.BusinessCount{{Business: "acme", Customers: 1, Relations: 1}}, list)
	assert.Equal(h.t, 1, total)
}

func updateReadsOwnWrites(h *harness) {
	h.put("acme", []rules.Customer{{ExternalID: "old"}}, nil)
	h.update("acme", func(tx store.Tx) error {
		require.NoError(h.t, tx.PutCustomer(&rules.Customer{ExternalID: "new", LastName: "One"}))
		require.NoError(h.t, tx.PutCustomer(&rules.Customer{ExternalID: "new", LastName: "Two"}))
		got, ok := customer(h.t, tx, "new")
		assert.True(h.t, ok)
		assert.Equal(h.t, "Two", got.LastName)
		ids, total := customerIDs(h.t, tx, 0, 10)
		assert.Equal(h.t, []string{"new", "old"}, ids)
		assert.Equal(h.t, 2, total)
		require.NoError(h.t, tx.PutRelation(rules.Relation{RelationExternalID: "r", ParentExternalID: "old", ChildExternalID: "new"}))
		r, ok := relation(h.t, tx, "r")
		assert.True(h.t, ok)
		assert.Equal(h.t, "new", r.ChildExternalID)
		rs, total, err := tx.Relations(0, 10)
		require.NoError(h.t, err)
		assert.Equal(h.t, []string{"r"}, relationIDs(rs))
		assert.Equal(h.t, 1, total)
		rs, err = tx.RelationsOf("new")
		require.NoError(h.t, err)
		assert.Equal(h.t, []string{"r"}, relationIDs(rs))
		return nil
	})
}

// preload: a Tx that implements store.Preloader answers the reads of what it
// preloaded as the database holds it (records and ids without one), and a
// write after the preload is what a read then sees.
func preload(h *harness) {
	stored := FilledCustomer(h.t, "stored")
	rel := FilledRelation(h.t, "r-stored")
	h.put("acme", []rules.Customer{stored}, []rules.Relation{rel})
	h.put("other", []rules.Customer{{ExternalID: "other-only"}}, nil)
	h.update("acme", func(tx store.Tx) error {
		p, ok := tx.(store.Preloader)
		if !ok {
			return nil // read one by one: nothing to check
		}
		require.NoError(h.t, p.Preload([]string{"stored", "absent", "other-only", "stored"}, []string{"r-stored", "r-absent"}))
		require.NoError(h.t, p.Preload(nil, nil), "nothing to preload")
		got, ok := customer(h.t, tx, "stored")
		assert.True(h.t, ok)
		assert.Equal(h.t, stored, got)
		_, ok = customer(h.t, tx, "absent")
		assert.False(h.t, ok)
		_, ok = customer(h.t, tx, "other-only")
		assert.False(h.t, ok, "a customer of another business")
		r, ok := relation(h.t, tx, "r-stored")
		assert.True(h.t, ok)
		assert.Equal(h.t, rel, r)
		_, ok = relation(h.t, tx, "r-absent")
		assert.False(h.t, ok)

		require.NoError(h.t, p.Preload([]string{"stored", "absent"}, []string{"r-stored", "r-absent"}))
		require.NoError(h.t, tx.PutCustomer(&rules.Customer{ExternalID: "stored", LastName: "Changed"}))
		require.NoError(h.t, tx.PutCustomer(&rules.Customer{ExternalID: "absent", LastName: "New"}))
		require.NoError(h.t, tx.PutRelation(rules.Relation{RelationExternalID: "r-absent", RelationType: 3}))
		got, _ = customer(h.t, tx, "stored")
		assert.Equal(h.t, "Changed", got.LastName, "a write after the preload")
		got, ok = customer(h.t, tx, "absent")
		assert.True(h.t, ok, "created after the preload")
		assert.Equal(h.t, "New", got.LastName)
		r, ok = relation(h.t, tx, "r-absent")
		assert.True(h.t, ok, "created after the preload")
		assert.Equal(h.t, int64(3), r.RelationType)
		return nil
	})
}

// batchWrites: a Tx that implements store.BatchWriter stores every record of
// a batch (77 customers: more than one statement's worth) as PutCustomer
// would, replacing the stored ones, and a read after it sees them.
func batchWrites(h *harness) {
	h.put("acme", []rules.Customer{{ExternalID: "c-00", LastName: "Before"}}, []rules.Relation{{RelationExternalID: "r-00"}})
	var want []string
	h.update("acme", func(tx store.Tx) error {
		bw, ok := tx.(store.BatchWriter)
		if !ok {
			return nil // written one by one: nothing to check
		}
		if p, ok := tx.(store.Preloader); ok {
			require.NoError(h.t, p.Preload([]string{"c-00", "c-01"}, []string{"r-00"}))
		}
		var cs []*rules.Customer
		var rs []rules.Relation
		for i := range 77 {
			c := FilledCustomer(h.t, fmt.Sprintf("c-%02d", i))
			cs = append(cs, &c)
			rs = append(rs, FilledRelation(h.t, fmt.Sprintf("r-%02d", i)))
			want = append(want, c.ExternalID)
		}
		require.NoError(h.t, bw.PutCustomers(cs))
		require.NoError(h.t, bw.PutRelations(rs))
		require.NoError(h.t, bw.PutCustomers(nil), "an empty batch")
		got, ok := customer(h.t, tx, "c-00")
		assert.True(h.t, ok)
		assert.Equal(h.t, *cs[0], got, "replaced by the batch, after a preload")
		got, _ = customer(h.t, tx, "c-76")
		assert.Equal(h.t, *cs[76], got)
		r, _ := relation(h.t, tx, "r-00")
		assert.Equal(h.t, rs[0], r)
		return nil
	})
	if want == nil {
		return
	}
	h.view("acme", func(tx store.Tx) error {
		ids, total := customerIDs(h.t, tx, 0, 100)
		assert.Equal(h.t, want, ids)
		assert.Equal(h.t, 77, total)
		rs, total, err := tx.Relations(0, 100)
		require.NoError(h.t, err)
		assert.Equal(h.t, 77, total)
		assert.Len(h.t, rs, 77)
		return nil
	})
}

func reset(h *harness) {
	h.put("acme", []rules.Customer{{ExternalID: "a"}, {ExternalID: "b"}}, []rules.Relation{{RelationExternalID: "r"}})
	h.put("other", []rules.Customer{{ExternalID: "a"}}, []rules.Relation{{RelationExternalID: "r"}})
	require.NoError(h.t, h.s.Reset(h.ctx, "acme"))
	require.NoError(h.t, h.s.Reset(h.ctx, "acme"), "a second reset")
	require.NoError(h.t, h.s.Reset(h.ctx, "never-saved"))
	c, r := h.counts("acme")
	assert.Equal(h.t, [2]int{0, 0}, [2]int{c, r}, "customers and relations after a reset")
	h.view("acme", func(tx store.Tx) error {
		_, ok := customer(h.t, tx, "a")
		assert.False(h.t, ok)
		rs, err := tx.RelationsOf("a")
		require.NoError(h.t, err)
		assert.Empty(h.t, rs)
		return nil
	})
	c, r = h.counts("other")
	assert.Equal(h.t, [2]int{1, 1}, [2]int{c, r}, "another business")
	list, total, err := h.s.Businesses(h.ctx, 0, 10)
	require.NoError(h.t, err)
	assert.Equal(h.t, []store.BusinessCount{{Business: "other", Customers: 1, Relations: 1}}, list)
	assert.Equal(h.t, 1, total)
	h.put("acme", []rules.Customer{{ExternalID: "b", LastName: "again"}}, nil)
	c, _ = h.counts("acme")
	assert.Equal(h.t, 1, c, "a business saves again after its reset")
}

func businessesPaging(h *harness) {
	h.put("b3", []rules.Customer{{ExternalID: "1"}, {ExternalID: "2"}, {ExternalID: "3"}}, nil)
	h.put("b1", []rules.Customer{{ExternalID: "1"}}, []rules.Relation{{RelationExternalID: "r"}})
	h.put("B2", []rules.Customer{{ExternalID: "1"}, {ExternalID: "2"}}, nil)
	h.put("b10", []rules.Customer{{ExternalID: "1"}}, nil)
	h.put("relations only", nil, []rules.Relation{{RelationExternalID: "r1"}, {RelationExternalID: "r2"}})
	bc := func(b string, customers, relations int) store.BusinessCount {
		return store.BusinessCount{Business: b, Customers: customers, Relations: relations}
	}
	all := []store.BusinessCount{bc("B2", 2, 0), bc("b1", 1, 1), bc("b10", 1, 0), bc("b3", 3, 0), bc("relations only", 0, 2)}
	for _, w := range [][2]int{{0, 10}, {0, 2}, {1, 3}, {4, 1}, {5, 3}, {50, 1}} {
		list, total, err := h.s.Businesses(h.ctx, w[0], w[1])
		require.NoError(h.t, err)
		want := all[min(w[0], len(all)):min(len(all), w[0]+w[1])]
		if len(want) == 0 {
			assert.Empty(h.t, list, "Businesses(%d, %d)", w[0], w[1])
		} else {
			assert.Equal(h.t, want, list, "Businesses(%d, %d)", w[0], w[1])
		}
		assert.Equal(h.t, len(all), total, "Businesses(%d, %d) total", w[0], w[1])
	}
}

// concurrentUpdates has 8 goroutines read, increment and write one counter
// 50 times each: any update that is not serialised with the others loses an
// increment.
func concurrentUpdates(h *harness) {
	const goroutines, rounds = 8, 50
	h.put("acme", []rules.Customer{{ExternalID: "counter", HasKYCLevel: true}}, nil)
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for range goroutines {
		wg.Go(func() {
			for range rounds {
				err := h.s.Update(h.ctx, "acme", func(tx store.Tx) error {
					c, _, err := tx.Customer("counter")
					if err != nil {
						return err
					}
					c.KYCLevel++
					return tx.PutCustomer(&c)
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		h.t.Errorf("concurrent update: %v", err)
	}
	h.view("acme", func(tx store.Tx) error {
		c, _ := customer(h.t, tx, "counter")
		assert.Equal(h.t, int64(goroutines*rounds), c.KYCLevel, "increments kept")
		return nil
	})
}

func contextCancelled(h *harness) {
	h.put("acme", []rules.Customer{{ExternalID: "a"}}, nil)
	h.update("acme", func(tx store.Tx) error { return tx.AddEvent(store.Event{Business: "acme", Payload: []byte(`1`)}) })
	_, err := h.s.RecordFailure(h.ctx, "alice", fixedNow, 3, lockFor)
	require.NoError(h.t, err)
	ctx, cancel := context.WithCancel(h.ctx)
	cancel()
	s := h.s
	assertCanceled(h.t, "Update", s.Update(ctx, "acme", func(tx store.Tx) error {
		return tx.PutCustomer(&rules.Customer{ExternalID: "b"})
	}))
	assertCanceled(h.t, "View", s.View(ctx, "acme", func(tx store.Tx) error { return nil }))
	assertCanceled(h.t, "Reset", s.Reset(ctx, "acme"))
	_, _, err = s.Businesses(ctx, 0, 10)
	assertCanceled(h.t, "Businesses", err)
	_, err = s.Secret(ctx)
	assertCanceled(h.t, "Secret", err)
	_, err = s.Lockout(ctx, "alice")
	assertCanceled(h.t, "Lockout", err)
	_, err = s.RecordFailure(ctx, "alice", fixedNow, 3, lockFor)
	assertCanceled(h.t, "RecordFailure", err)
	assertCanceled(h.t, "ClearFailures", s.ClearFailures(ctx, "alice"))
	_, err = s.PendingEvents(ctx, 10)
	assertCanceled(h.t, "PendingEvents", err)
	_, err = s.NextEvents(ctx, 10)
	assertCanceled(h.t, "NextEvents", err)
	_, _, err = s.Events(ctx, "acme", store.EventPending, 0, 10)
	assertCanceled(h.t, "Events", err)
	assertCanceled(h.t, "PruneEvents", s.PruneEvents(ctx, fixedNow))
	_, err = s.Lease(ctx, "acme", "me", fixedNow, fixedNow.Add(time.Minute))
	assertCanceled(h.t, "Lease", err)
	evs := h.pending()
	require.Len(h.t, evs, 1)
	assertCanceled(h.t, "RecordAttempt", s.RecordAttempt(ctx, evs[0].ID, delivered))

	c, _ := h.counts("acme")
	assert.Equal(h.t, 1, c, "customers after a cancelled Update and Reset")
	assert.Len(h.t, h.pending(), 1, "events after a cancelled RecordAttempt")
	l, err := s.Lockout(h.ctx, "alice")
	require.NoError(h.t, err)
	assert.Equal(h.t, 1, l.Failures, "failures after a cancelled RecordFailure and ClearFailures")
}

// contextCancelledInsideUpdate cancels the context while fn runs: Update
// must then fail and keep nothing.
func contextCancelledInsideUpdate(h *harness) {
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	err := h.s.Update(ctx, "acme", func(tx store.Tx) error {
		require.NoError(h.t, tx.PutCustomer(&rules.Customer{ExternalID: "a"}))
		require.NoError(h.t, tx.AddEvent(store.Event{Business: "acme", Payload: []byte(`1`)}))
		cancel()
		return nil
	})
	assertCanceled(h.t, "Update cancelled inside fn", err)
	c, _ := h.counts("acme")
	assert.Equal(h.t, 0, c, "customers of an Update cancelled before its commit")
	assert.Empty(h.t, h.pending(), "events of an Update cancelled before its commit")
}

// replaceOneField: after a Preload, a batch of puts each differing from its
// stored record in one field only (every field of rules.Customer and
// rules.Relation in turn, UpdatedAt alone included) stores each as given:
// an engine that writes less for a record it finds unchanged (the SQL
// engines write only updated_at) must look at every field.
func replaceOneField(h *harness) {
	cs := oneFieldChanges(h, FilledCustomer(h.t, ""), "ExternalID", func(c *rules.Customer, id string) { c.ExternalID = id })
	rs := oneFieldChanges(h, FilledRelation(h.t, ""), "RelationExternalID", func(r *rules.Relation, id string) { r.RelationExternalID = id })
	var stored, changed []rules.Customer
	for _, c := range cs {
		stored, changed = append(stored, c[0]), append(changed, c[1])
	}
	var storedRels, changedRels []rules.Relation
	for _, r := range rs {
		storedRels, changedRels = append(storedRels, r[0]), append(changedRels, r[1])
	}
	h.put("acme", stored, storedRels)
	h.put("expected", changed, changedRels) // as the engine gives them back
	h.update("acme", func(tx store.Tx) error {
		var ids, relIDs []string
		for _, c := range changed {
			ids = append(ids, c.ExternalID)
		}
		for _, r := range changedRels {
			relIDs = append(relIDs, r.RelationExternalID)
		}
		if p, ok := tx.(store.Preloader); ok {
			require.NoError(h.t, p.Preload(ids, relIDs))
		}
		return putAll(tx, changed, changedRels)
	})
	var want, got []rules.Customer
	var wantRels, gotRels []rules.Relation
	for business, out := range map[string]*[]rules.Customer{"expected": &want, "acme": &got} {
		h.view(business, func(tx store.Tx) error {
			for _, c := range changed {
				v, _ := customer(h.t, tx, c.ExternalID)
				*out = append(*out, v)
			}
			return nil
		})
	}
	for business, out := range map[string]*[]rules.Relation{"expected": &wantRels, "acme": &gotRels} {
		h.view(business, func(tx store.Tx) error {
			for _, r := range changedRels {
				v, _ := relation(h.t, tx, r.RelationExternalID)
				*out = append(*out, v)
			}
			return nil
		})
	}
	for i := range want {
		assert.Equal(h.t, want[i], got[i], "customer %s", want[i].ExternalID)
	}
	for i := range wantRels {
		assert.Equal(h.t, wantRels[i], gotRels[i], "relation %s", wantRels[i].RelationExternalID)
	}
}

// putAll writes cs and rs through store.PutAll.
func putAll(tx store.Tx, cs []rules.Customer, rs []rules.Relation) error {
	ptrs := make([]*rules.Customer, len(cs))
	for i := range cs {
		ptrs[i] = &cs[i]
	}
	return store.PutAll(tx, ptrs, rs)
}

// oneFieldChanges returns, for each field of T but its id (the field
// named idField), a pair of records with an id of their own: base, and base
// with that field changed.
func oneFieldChanges[T any](h *harness, base T, idField string, setID func(*T, string)) [][2]T {
	var pairs [][2]T
	typ := reflect.TypeFor[T]()
	for i := range typ.NumField() {
		if typ.Field(i).Name == idField {
			continue
		}
		pair := [2]T{base, base}
		for j := range pair {
			setID(&pair[j], "one "+typ.Field(i).Name)
		}
		changeField(h.t, reflect.ValueOf(&pair[1]).Elem().Field(i))
		pairs = append(pairs, pair)
	}
	return pairs
}

// changeField gives f, a field as fill sets it, another value.
func changeField(tb testing.TB, f reflect.Value) {
	tb.Helper()
	switch {
	case f.Type() == uuidType:
		f.Set(reflect.ValueOf(uuid.NewSHA1(uuid.NameSpaceOID, []byte("storetest changed"))))
	case f.Type() == fieldsType:
		f.Set(reflect.ValueOf([]rules.Field{{Key: "changed", Value: "yes"}}))
	case f.Kind() == reflect.String:
		f.SetString(f.String() + " changed")
	case f.Kind() == reflect.Int64:
		f.SetInt(f.Int() + 1)
	case f.Kind() == reflect.Bool:
		f.SetBool(!f.Bool())
	case f.Kind() == reflect.Slice:
		f.Set(reflect.Append(f, f.Index(0)))
	default:
		tb.Fatalf("storetest: cannot change a field of type %s: teach changeField this type", f.Type())
	}
}
