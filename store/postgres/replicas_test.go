package postgres_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/internal/pgtest"
	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/postgres"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// replicas opens n stores on one fresh database: n processes, each with its
// own pool.
func replicas(t *testing.T, n int) []*postgres.Store {
	t.Helper()
	url := pgtest.NewDatabase(t)
	out := make([]*postgres.Store, n)
	for i := range out {
		out[i] = mustOpen(t, url)
	}
	return out
}

// Goroutines on two replicas save the same new external_ids at once, each
// reading the customer and creating it when absent: each id is created once,
// with the customer_id of the one save that created it.
func TestReplicasCreateOnce(t *testing.T) {
	const goroutines, ids = 8, 20
	rs := replicas(t, 2)
	ctx := context.Background()
	var (
		mu      sync.Mutex
		created = map[string][]uuid.UUID{}
		wg      sync.WaitGroup
		start   = make(chan struct{})
	)
	for g := range goroutines {
		s := rs[g%2]
		wg.Go(func() {
			<-start
			for i := range ids {
				id := fmt.Sprintf("c%d", i) // every goroutine saves the same id at about the same time
				var mine uuid.UUID
				err := s.Update(ctx, "acme", func(tx store.Tx) error {
					mine = uuid.Nil
					if _, ok, err := tx.Customer(id); err != nil || ok {
						return err
					}
					mine = uuid.New()
					return tx.PutCustomer(&rules.Customer{ExternalID: id, CustomerID: mine})
				})
				if !assert.NoError(t, err) {
					return
				}
				if mine != uuid.Nil {
					mu.Lock()
					created[id] = append(created[id], mine)
					mu.Unlock()
				}
			}
		})
	}
	close(start)
	wg.Wait()
	require.Len(t, created, ids)
	require.NoError(t, rs[1].View(ctx, "acme", func(tx store.Tx) error {
		for id, got := range created {
			if assert.Len(t, got, 1, "creations of %s", id) {
				c, _, err := tx.Customer(id)
				require.NoError(t, err)
				assert.Equal(t, got[0], c.CustomerID, "customer_id of %s", id)
			}
		}
		return nil
	}))
}

// Failed logins on two replicas at once, on an account that has no row yet:
// every one is counted.
func TestReplicasCountEveryFailure(t *testing.T) {
	const goroutines, each = 8, 10
	rs := replicas(t, 2)
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	var wg sync.WaitGroup
	for g := range goroutines {
		s := rs[g%2]
		wg.Go(func() {
			for range each {
				_, err := s.RecordFailure(ctx, "alice", now, 1_000_000, time.Minute)
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	l, err := rs[0].Lockout(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, goroutines*each, l.Failures)
}

// Replicas that ask for the token secret at once on a new database get the
// same one.
func TestReplicasShareOneSecret(t *testing.T) {
	rs := replicas(t, 4)
	secrets := make([][]byte, len(rs))
	var wg sync.WaitGroup
	for i, s := range rs {
		wg.Go(func() {
			var err error
			secrets[i], err = s.Secret(context.Background())
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	for i := range secrets {
		assert.Len(t, secrets[i], 32)
		assert.Equal(t, secrets[0], secrets[i], "secret of replica %d", i)
	}
}

// The events of one business, written by two replicas, are in the outbox in
// the order of their saves: each save counts in a customer and writes its
// count as the payload; the IDs order the payloads 1, 2, 3...
func TestReplicasOutboxInSaveOrder(t *testing.T) {
	const goroutines, each = 6, 10
	rs := replicas(t, 2)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range goroutines {
		s := rs[g%2]
		wg.Go(func() {
			for range each {
				err := s.Update(ctx, "acme", func(tx store.Tx) error {
					c, _, err := tx.Customer("counter")
					if err != nil {
						return err
					}
					c.ExternalID, c.HasKYCLevel = "counter", true
					c.KYCLevel++
					if err := tx.PutCustomer(&c); err != nil {
						return err
					}
					return tx.AddEvent(store.Event{Payload: []byte(strconv.FormatInt(c.KYCLevel, 10))})
				})
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	evs, err := rs[0].PendingEvents(ctx, 1000)
	require.NoError(t, err)
	require.Len(t, evs, goroutines*each)
	for i, e := range evs {
		assert.Equal(t, strconv.Itoa(i+1), string(e.Payload), "event %d (id %d)", i, e.ID)
	}
}

// A reset on one replica while another saves: a view never sees half of a
// save or half of a reset (each save writes one customer and one relation).
func TestReplicasResetAtomic(t *testing.T) {
	rs := replicas(t, 2)
	ctx := context.Background()
	var (
		saves atomic.Int64
		wg    sync.WaitGroup
		stop  = make(chan struct{})
	)
	wg.Go(func() {
		for i := 0; ; i++ {
			id := strconv.Itoa(i)
			err := rs[0].Update(ctx, "acme", func(tx store.Tx) error {
				if err := tx.PutCustomer(&rules.Customer{ExternalID: "c" + id}); err != nil {
					return err
				}
				return tx.PutRelation(rules.Relation{RelationExternalID: "r" + id, ParentExternalID: "c" + id, ChildExternalID: "c" + id})
			})
			assert.NoError(t, err)
			saves.Add(1)
			select {
			case <-stop:
				return
			default:
			}
		}
	})
	for range 20 {
		assert.NoError(t, rs[1].Reset(ctx, "acme"))
		assert.NoError(t, rs[1].View(ctx, "acme", func(tx store.Tx) error {
			_, customers, err := tx.Customers(0, 1)
			if err != nil {
				return err
			}
			_, relations, err := tx.Relations(0, 1)
			assert.Equal(t, customers, relations, "customers and relations in one snapshot")
			return err
		}))
	}
	close(stop)
	wg.Wait()
	assert.Positive(t, saves.Load())
}

// Replicas that ask for the webhook lease of a business at once, each for
// a sender of its own: exactly one gets it, every round.
func TestReplicasOneLeaseHolder(t *testing.T) {
	rs := replicas(t, 2)
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	for round := range 10 {
		business := fmt.Sprintf("b%d", round)
		var (
			got   atomic.Int64
			wg    sync.WaitGroup
			start = make(chan struct{})
		)
		for g := range 6 {
			wg.Go(func() {
				<-start
				ok, err := rs[g%2].Lease(ctx, business, fmt.Sprintf("sender-%d", g), now, now.Add(time.Minute))
				assert.NoError(t, err)
				if ok {
					got.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		assert.Equal(t, int64(1), got.Load(), "holders of the lease of %s", business)
	}
}
