package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Resetting a business while saves and reads of it run must not mix old and
// new state, nor lose a save that finished after the reset; run with -race.
func TestResetUnderLoad(t *testing.T) {
	s := memstore.New()
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 300 {
				id := fmt.Sprint("g", g, "-", i)
				assert.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
					return tx.PutCustomer(&rules.Customer{ExternalID: id, LastName: strings.Repeat("x", i)})
				}))
				assert.NoError(t, s.View(ctx, "b", func(tx store.Tx) error {
					c, ok, err := tx.Customer(id)
					if assert.NoError(t, err) && ok {
						assert.Equal(t, strings.Repeat("x", i), c.LastName)
					}
					_, _, err = tx.Customers(0, 5)
					return err
				}))
			}
		})
	}
	for range 50 {
		require.NoError(t, s.Reset(ctx, "b"))
	}
	wg.Wait()
	// Every save after the last reset is there.
	require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error { return tx.PutCustomer(&rules.Customer{ExternalID: "last"}) }))
	require.NoError(t, s.View(ctx, "b", func(tx store.Tx) error {
		_, ok, err := tx.Customer("last")
		assert.True(t, ok)
		return err
	}))
	s.ResetAll()
	assert.Equal(t, memstore.Stats{}, s.Stats())
}

// Stats, Businesses, saves and the creation and reset of businesses run
// together without deadlock: Update holds a business's lock while it takes
// the store's, so nothing may hold the store's lock while it waits for a
// business's.
func TestNoDeadlock(t *testing.T) {
	s := memstore.New()
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	run := func(f func(i int)) {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
					f(i)
				}
			}
		})
	}
	run(func(int) { s.Stats() })
	run(func(int) { _, _, _ = s.Businesses(ctx, 0, 10) })
	run(func(i int) {
		_ = s.Update(ctx, "busy", func(tx store.Tx) error { return tx.PutCustomer(&rules.Customer{ExternalID: fmt.Sprint("c", i%100)}) })
	})
	run(func(i int) { // each round creates a business and resets it: two writers of the store's lock
		_ = s.Update(ctx, "other", func(tx store.Tx) error { return tx.PutCustomer(&rules.Customer{ExternalID: "a"}) })
		_ = s.Reset(ctx, "other")
		_ = s.Update(ctx, "empty", func(store.Tx) error { return nil })
	})
	time.Sleep(300 * time.Millisecond)
	close(stop)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock: Stats, Businesses, Update and Reset did not finish")
	}
}

// Concurrent read-modify-write saves of one record lose none of their
// changes (an optimistic run that read a record another save changed runs
// again); run with -race.
func TestConcurrentReadModifyWrite(t *testing.T) {
	s := memstore.New()
	ctx := context.Background()
	const goroutines, rounds = 8, 200
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range rounds {
				assert.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
					c, _, err := tx.Customer("counter")
					if err != nil {
						return err
					}
					c.ExternalID, c.KYCLevel = "counter", c.KYCLevel+1
					if err := tx.PutCustomer(&c); err != nil {
						return err
					}
					return tx.PutCustomer(&rules.Customer{ExternalID: fmt.Sprint("g", g, "-", i)})
				}))
			}
		})
	}
	wg.Wait()
	require.NoError(t, s.View(ctx, "b", func(tx store.Tx) error {
		c, ok, err := tx.Customer("counter")
		assert.True(t, ok)
		assert.EqualValues(t, goroutines*rounds, c.KYCLevel)
		_, total, err2 := tx.Customers(0, 1)
		assert.Equal(t, goroutines*rounds+1, total)
		return errors.Join(err, err2)
	}))
	t.Logf("%d reruns for %d saves", s.Stats().Reruns, goroutines*rounds)
}
