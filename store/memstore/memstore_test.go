package memstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ids returns the external_ids of a page of customers.
func ids(tb testing.TB, tx store.Tx, offset, limit int) ([]string, int) {
	tb.Helper()
	cs, total, err := tx.Customers(offset, limit)
	require.NoError(tb, err)
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ExternalID
	}
	return out, total
}

func put(tb testing.TB, tx store.Tx, id, last string) {
	tb.Helper()
	require.NoError(tb, tx.PutCustomer(&rules.Customer{ExternalID: id, LastName: last}))
}

// A failed transaction that had read a listing (so the order of the
// listings holds the records it created) leaves that order as it was, and the
// ids it created can be created again. (storetest checks the rest of all or
// nothing.)
func TestRollbackAfterListing(t *testing.T) {
	s := New()
	ctx := context.Background()
	require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
		put(t, tx, "m", "v1")
		put(t, tx, "c", "v1")
		return nil
	}))
	boom := errors.New("boom")
	err := s.Update(ctx, "b", func(tx store.Tx) error {
		put(t, tx, "m", "v2")
		put(t, tx, "a", "new")
		put(t, tx, "z", "new")
		got, total := ids(t, tx, 0, 10)
		assert.Equal(t, []string{"a", "c", "m", "z"}, got)
		assert.Equal(t, 4, total)
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.NoError(t, s.View(ctx, "b", func(tx store.Tx) error {
		got, total := ids(t, tx, 0, 10)
		assert.Equal(t, []string{"c", "m"}, got)
		assert.Equal(t, 2, total)
		return nil
	}))
	require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
		put(t, tx, "a", "again")
		return nil
	}))
	require.NoError(t, s.View(ctx, "b", func(tx store.Tx) error {
		got, _ := ids(t, tx, 0, 10)
		assert.Equal(t, []string{"a", "c", "m"}, got)
		return nil
	}))
}

// Ids of every length find their record: ids that differ only by trailing
// NUL bytes or by length stay apart, a replace keeps the slot, and a
// rolled-back create leaves no index entry. TestIndexClashes runs it with
// ids whose hashes clash.
func TestIndexKeys(t *testing.T) {
	var idsOf []string
	for _, n := range []int{0, 1, 30, 31, 32, 200} {
		idsOf = append(idsOf, strings.Repeat("x", n), strings.Repeat("x", n)+"\x00")
	}
	s := New()
	ctx := context.Background()
	require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
		for i, id := range idsOf {
			put(t, tx, id, fmt.Sprint("v", i))
		}
		put(t, tx, idsOf[4], "replaced")  // a short id, replaced in the same transaction
		put(t, tx, idsOf[10], "replaced") // a long one
		return nil
	}))
	boom := errors.New("boom")
	require.ErrorIs(t, s.Update(ctx, "b", func(tx store.Tx) error {
		ids(t, tx, 0, 1) // a listing: the transaction writes as it goes, and rolls back
		put(t, tx, "short-new", "v")
		put(t, tx, strings.Repeat("y", 36), "v")
		return boom
	}), boom)
	require.NoError(t, s.View(ctx, "b", func(tx store.Tx) error {
		for i, id := range idsOf {
			want := fmt.Sprint("v", i)
			if i == 4 || i == 10 {
				want = "replaced"
			}
			c, ok, err := tx.Customer(id)
			require.NoError(t, err)
			assert.True(t, ok, "id of %d bytes", len(id))
			assert.Equal(t, want, c.LastName, "id of %d bytes", len(id))
		}
		for _, id := range []string{"short-new", strings.Repeat("y", 36), "xx\x00\x00", strings.Repeat("x", 3)} {
			_, ok, err := tx.Customer(id)
			require.NoError(t, err)
			assert.False(t, ok, "%q", id)
		}
		_, total := ids(t, tx, 0, 100)
		assert.Equal(t, len(idsOf), total)
		return nil
	}))
}

// A transaction whose fn panics is rolled back too, and the business is
// unlocked.
func TestUpdatePanicRollsBack(t *testing.T) {
	s := New()
	ctx := context.Background()
	require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error { put(t, tx, "a", "v1"); return nil }))
	assert.Panics(t, func() {
		_ = s.Update(ctx, "b", func(tx store.Tx) error {
			put(t, tx, "a", "v2")
			put(t, tx, "b", "v2")
			panic("a bug")
		})
	})
	require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
		got, total := ids(t, tx, 0, 10)
		assert.Equal(t, []string{"a"}, got)
		assert.Equal(t, 1, total)
		a, _, err := tx.Customer("a")
		assert.Equal(t, "v1", a.LastName)
		return err
	}))
}

// The order of the listings, kept between listings, is kept up to date as
// records are added in several transactions, in any order, with a listing
// after each (each merges the new ids into the order kept).
func TestListingOrderIsMerged(t *testing.T) {
	s := New()
	ctx := context.Background()
	stored := map[string]bool{}
	for round := range 5 {
		require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
			for i := range 20 {
				id := fmt.Sprintf("c%03d", (i*37+round*11)%100)
				put(t, tx, id, "x")
				stored[id] = true
			}
			return nil
		}))
		require.NoError(t, s.View(ctx, "b", func(tx store.Tx) error {
			got, total := ids(t, tx, 0, 1000)
			for i := 1; i < len(got); i++ {
				require.Less(t, got[i-1], got[i], "round %d", round)
			}
			assert.Len(t, got, len(stored), "round %d", round)
			assert.Equal(t, len(got), total)
			page, _ := ids(t, tx, 3, 4)
			assert.Equal(t, got[3:7], page)
			return nil
		}))
	}
}

// A View cannot write, a custom-field value without a JSON form is an error
// (not a panic), and a closed store refuses every call.
func TestRefusals(t *testing.T) {
	s := New()
	ctx := context.Background()
	require.NoError(t, s.View(ctx, "b", func(tx store.Tx) error {
		assert.Error(t, tx.PutCustomer(&rules.Customer{ExternalID: "a"}))
		assert.Error(t, tx.PutRelation(rules.Relation{RelationExternalID: "r"}))
		assert.Error(t, tx.AddEvent(store.Event{}))
		return nil
	}))
	err := s.Update(ctx, "b", func(tx store.Tx) error {
		return tx.PutCustomer(&rules.Customer{ExternalID: "a", Fields: []rules.Field{{Key: "f", Value: make(chan int)}}})
	})
	assert.ErrorContains(t, err, "no JSON form")
	require.NoError(t, s.Close())
	storetest.CheckUnavailable(t, s)
}

// A business whose transactions stored nothing (dry runs, rejected batches)
// leaves no trace: Businesses does not list it and the store keeps no tenant.
func TestEmptyBusinessesAreNotKept(t *testing.T) {
	s := New()
	ctx := context.Background()
	for i := range 1000 {
		require.NoError(t, s.Update(ctx, fmt.Sprint("dry", i), func(store.Tx) error { return nil }))
	}
	require.NoError(t, s.Update(ctx, "real", func(tx store.Tx) error { put(t, tx, "a", "x"); return nil }))
	bs, total, err := s.Businesses(ctx, 0, 10)
	require.NoError(t, err)
	assert.Equal(t, []store.BusinessCount{{Business: "real", Customers: 1}}, bs)
	assert.Equal(t, 1, total)
	assert.Len(t, s.tenants, 1)
	assert.Equal(t, 1, s.Stats().Businesses)
}

// Past its bounds the outbox drops its oldest events and counts them; a
// save never fails because of it.
func TestOutboxBound(t *testing.T) {
	s := New()
	s.outbox.maxEvents, s.outbox.maxBytes = 5, 100
	ctx := context.Background()
	add := func(payload string) {
		require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
			put(t, tx, "a", "x")
			return tx.AddEvent(store.Event{Payload: []byte(payload)})
		}))
	}
	for i := range 8 {
		add(fmt.Sprint(i))
	}
	events, err := s.PendingEvents(ctx, 100)
	require.NoError(t, err)
	require.Len(t, events, 5)
	assert.Equal(t, int64(4), events[0].ID, "the three oldest were dropped")
	assert.Equal(t, "b", events[0].Business)
	assert.False(t, events[0].CreatedAt.IsZero())
	st := s.Stats()
	assert.Equal(t, int64(5), st.Events)
	assert.Equal(t, int64(3), st.EventsDropped)
	add(strings.Repeat("x", 98)) // 103 bytes: the oldest go until 100 are left
	events, err = s.PendingEvents(ctx, 100)
	require.NoError(t, err)
	assert.Len(t, events, 3)
	add(strings.Repeat("y", 1000)) // larger than the bound alone: still kept
	events, err = s.PendingEvents(ctx, 100)
	require.NoError(t, err)
	require.Len(t, events, 1)
	assert.Equal(t, int64(10), events[0].ID)
	// Delivered in any order; an unknown id is no error.
	require.NoError(t, s.RecordAttempt(ctx, 10, store.Attempt{At: time.Now()}))
	require.NoError(t, s.RecordAttempt(ctx, 10, store.Attempt{At: time.Now()}))
	require.NoError(t, s.RecordAttempt(ctx, 99, store.Attempt{At: time.Now()}))
	assert.Zero(t, s.Stats().Events)
}

// At the bound the outbox drops delivered events first (the oldest first),
// then failed ones, and pending ones last.
func TestOutboxBoundDropsFinishedEventsFirst(t *testing.T) {
	s := New()
	s.outbox.maxEvents = 4
	ctx := context.Background()
	add := func() {
		require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
			return tx.AddEvent(store.Event{Payload: []byte(`{}`)})
		}))
	}
	for range 4 {
		add()
	}
	t0 := time.Now()
	require.NoError(t, s.RecordAttempt(ctx, 3, store.Attempt{At: t0}))
	require.NoError(t, s.RecordAttempt(ctx, 4, store.Attempt{At: t0.Add(-time.Second)}))
	require.NoError(t, s.RecordAttempt(ctx, 2, store.Attempt{At: t0, Error: "gave up"}))
	statusOf := func() map[int64]store.EventStatus {
		m := map[int64]store.EventStatus{}
		for _, st := range []store.EventStatus{store.EventPending, store.EventDelivered, store.EventFailed} {
			evs, _, err := s.Events(ctx, "b", st, 0, 100)
			require.NoError(t, err)
			for _, e := range evs {
				m[e.ID] = e.Status
			}
		}
		return m
	}
	add() // drops 3, the oldest delivered
	assert.Equal(t, map[int64]store.EventStatus{1: store.EventPending, 2: store.EventFailed, 4: store.EventDelivered, 5: store.EventPending}, statusOf())
	add() // drops 4, the last delivered
	add() // drops 2, failed
	add() // drops 1, the oldest pending
	assert.Equal(t, map[int64]store.EventStatus{5: store.EventPending, 6: store.EventPending, 7: store.EventPending, 8: store.EventPending}, statusOf())
	assert.Equal(t, int64(4), s.Stats().EventsDropped)
	assert.Equal(t, int64(4), s.Stats().Events)
}

// manyBusinesses is the size of the "many businesses" test of issue 11: the
// mmap'd store it replaced ran out of kernel mappings (vm.max_map_count) at
// this scale, and answered resets with errors.
const manyBusinesses = 150_000

// Many businesses, each with one customer, every other one reset: no error,
// and the others intact.
func TestManyBusinesses(t *testing.T) {
	s := New()
	ctx := context.Background()
	name := func(i int) string { return fmt.Sprint("biz-", i) }
	for i := range manyBusinesses {
		require.NoError(t, s.Update(ctx, name(i), func(tx store.Tx) error {
			return tx.PutCustomer(&rules.Customer{ExternalID: "c", LastName: name(i)})
		}))
	}
	for i := 0; i < manyBusinesses; i += 2 {
		require.NoError(t, s.Reset(ctx, name(i)))
	}
	for i := range manyBusinesses {
		require.NoError(t, s.View(ctx, name(i), func(tx store.Tx) error {
			c, ok, err := tx.Customer("c")
			if i%2 == 0 {
				require.False(t, ok, "%s was reset", name(i))
			} else {
				require.True(t, ok, "%s lost its customer", name(i))
				require.Equal(t, name(i), c.LastName)
			}
			return err
		}))
	}
	_, total, err := s.Businesses(ctx, 0, 1)
	require.NoError(t, err)
	assert.Equal(t, manyBusinesses/2, total)
}

// An Update whose fn read a record that another save changed before it
// committed keeps nothing of that run and runs fn again (optimistically once
// more, then locked): whatever the other save did is in what it finally
// reads, also when the record did not exist when it first read it.
func TestUpdateRunsAgainAfterAConcurrentChange(t *testing.T) {
	for _, tc := range []struct {
		name       string
		stored     bool // "a" exists before
		interfere  int  // the first runs of fn during which another save writes "a"
		wantRuns   int
		wantReruns int64
	}{
		{name: "changed once", stored: true, interfere: 1, wantRuns: 2, wantReruns: 1},
		{name: "created once", stored: false, interfere: 1, wantRuns: 2, wantReruns: 1},
		{name: "changed twice: the third run is locked", stored: true, interfere: 2, wantRuns: 3, wantReruns: 2},
		{name: "no change", stored: true, interfere: 0, wantRuns: 1, wantReruns: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New()
			ctx := context.Background()
			require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
				if tc.stored {
					put(t, tx, "a", "v0")
				}
				put(t, tx, "other", "x") // so that the business exists either way
				return nil
			}))
			runs := 0
			err := s.Update(ctx, "b", func(tx store.Tx) error {
				runs++
				a, _, err := tx.Customer("a")
				if err != nil {
					return err
				}
				if runs <= tc.interfere {
					// Another save writes "a" after this run read it, and
					// commits first (in a goroutine of its own: this run
					// holds no lock).
					done := make(chan error)
					go func() {
						done <- s.Update(ctx, "b", func(tx store.Tx) error {
							put(t, tx, "a", fmt.Sprint("v", runs))
							return nil
						})
					}()
					require.NoError(t, <-done)
				}
				put(t, tx, "a", a.LastName+"+1")
				return nil
			})
			require.NoError(t, err)
			assert.Equal(t, tc.wantRuns, runs)
			assert.Equal(t, tc.wantReruns, s.Stats().Reruns)
			want := "v0+1"
			if tc.interfere > 0 {
				want = fmt.Sprint("v", tc.interfere, "+1")
			}
			require.NoError(t, s.View(ctx, "b", func(tx store.Tx) error {
				a, _, err := tx.Customer("a")
				assert.Equal(t, want, a.LastName)
				return err
			}))
		})
	}
}

// With a hash that makes most ids clash (three hashes in all), every record
// is still found by its id, replaced in place, listed once, and a rolled-back
// create, the reset of a business and a rolled-back create that freed a hash
// another id clashed on leave the index right.
func TestIndexClashes(t *testing.T) {
	defer func(h func(string) uint64) { hashID = h }(hashID)
	hashID = func(id string) uint64 { return uint64(len(id) % 3) }
	t.Run("keys", TestIndexKeys)

	s := New()
	ctx := context.Background()
	const n = 60
	id := func(i int) string { return fmt.Sprint("c-", i) }
	require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
		for i := range n {
			put(t, tx, id(i), fmt.Sprint("v", i))
		}
		return nil
	}))
	boom := errors.New("boom")
	require.ErrorIs(t, s.Update(ctx, "b", func(tx store.Tx) error {
		ids(t, tx, 0, 1)            // a listing: the transaction writes as it goes, and rolls back
		for i := n; i < n+20; i++ { // created, then rolled back
			put(t, tx, id(i), "gone")
		}
		put(t, tx, id(3), "gone")
		return boom
	}), boom)
	require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
		for i := 0; i < n; i += 2 {
			put(t, tx, id(i), fmt.Sprint("w", i))
		}
		return nil
	}))
	check := func(stored int) {
		t.Helper()
		require.NoError(t, s.View(ctx, "b", func(tx store.Tx) error {
			for i := range n + 20 {
				c, ok, err := tx.Customer(id(i))
				require.NoError(t, err)
				if i >= stored {
					assert.False(t, ok, id(i))
					continue
				}
				want := fmt.Sprint("v", i)
				if i%2 == 0 {
					want = fmt.Sprint("w", i)
				}
				assert.True(t, ok, id(i))
				assert.Equal(t, want, c.LastName, id(i))
			}
			_, total := ids(t, tx, 0, 1000)
			assert.Equal(t, stored, total)
			return nil
		}))
	}
	check(n)
	require.NoError(t, s.Reset(ctx, "b"))
	check(0)
}

// A commit compares the ids it found absent with those created since by
// their hashes (createdSinceRead): with a hash that makes most ids clash,
// ids created since with the hash of one found absent, but not that id, do
// not make fn run again, and that id does; whether the ids created since
// are few (compared by hash) or many (looked up).
func TestCreatedSinceReadWithClashingHashes(t *testing.T) {
	defer func(h func(string) uint64) { hashID = h }(hashID)
	hashID = func(id string) uint64 { return uint64(len(id) % 3) }
	for _, tc := range []struct {
		name     string
		others   int  // ids created meanwhile, each with the hash of "x" or "yy"
		createX  bool // and "x" among them
		wantRuns int
	}{
		{name: "few clashing, not it", others: 4, wantRuns: 1},
		{name: "few clashing, and it", others: 4, createX: true, wantRuns: 2},
		{name: "many clashing, not it", others: 200, wantRuns: 1},
		{name: "many clashing, and it", others: 200, createX: true, wantRuns: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New()
			ctx := context.Background()
			require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
				put(t, tx, "seed", "v0") // the business exists: reads are checked in place
				return nil
			}))
			runs := 0
			require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
				runs++
				for _, id := range []string{"x", "yy"} {
					if _, ok, err := tx.Customer(id); err != nil || (ok && runs == 1) {
						return fmt.Errorf("%s: found %v, %v", id, ok, err)
					}
				}
				if runs == 1 {
					done := make(chan error)
					go func() {
						done <- s.Update(ctx, "b", func(tx store.Tx) error {
							for i := range tc.others {
								id := fmt.Sprint("o", i%10, strings.Repeat("-", i/10*3)) // lengths 2, 5, 8, ...: the hash of "yy"
								if i%2 == 1 {
									id = fmt.Sprint("p", strings.Repeat("-", i/10*3)) // lengths 1, 4, ...: the hash of "x"
								}
								put(t, tx, id, "other")
							}
							if tc.createX {
								put(t, tx, "x", "other")
							}
							return nil
						})
					}()
					require.NoError(t, <-done)
				}
				if runs > 1 {
					return nil // "x" was created: found stored, nothing to write
				}
				put(t, tx, "x", "mine")
				put(t, tx, "yy", "mine")
				return nil
			}))
			assert.Equal(t, tc.wantRuns, runs, "runs of fn")
		})
	}
}

// incrementA adds 1 to the number that customer "a" holds as its last name.
func incrementA(t *testing.T, tx store.Tx) error {
	a, _, err := tx.Customer("a")
	if err != nil {
		return err
	}
	v, err := strconv.Atoi(a.LastName)
	if err != nil {
		return err
	}
	put(t, tx, "a", strconv.Itoa(v+1))
	return nil
}

// Saves that collided run again one at a time: n concurrent saves of the
// same customer, whose first runs all read it before any commits, rerun
// once each but the first, never two reruns at once, and none runs a third
// time (locked); every increment is kept.
func TestRerunsRunOneAtATime(t *testing.T) {
	const n = 8
	s := New()
	ctx := context.Background()
	require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
		put(t, tx, "a", "0")
		return nil
	}))
	var read sync.WaitGroup // the first runs, until each has read "a"
	read.Add(n)
	var inRerun, maxInRerun, thirdRuns atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			runs := 0
			err := s.Update(ctx, "b", func(tx store.Tx) error {
				runs++
				if err := incrementA(t, tx); err != nil {
					return err
				}
				switch runs { // the commit comes after fn returns
				case 1:
					read.Done()
					read.Wait()
				case 2:
					in := inRerun.Add(1)
					defer inRerun.Add(-1)
					for m := maxInRerun.Load(); in > m && !maxInRerun.CompareAndSwap(m, in); m = maxInRerun.Load() {
					}
					time.Sleep(2 * time.Millisecond) // room for another rerun to overlap, were it let in
				default:
					thirdRuns.Add(1)
				}
				return nil
			})
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, int64(1), maxInRerun.Load(), "reruns at once")
	assert.Zero(t, thirdRuns.Load(), "third (locked) runs")
	assert.Equal(t, int64(n-1), s.Stats().Reruns)
	require.NoError(t, s.View(ctx, "b", func(tx store.Tx) error {
		a, _, err := tx.Customer("a")
		assert.Equal(t, strconv.Itoa(n), a.LastName, "every save's increment")
		return err
	}))
}
