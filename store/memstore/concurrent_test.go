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

// An optimistic save that found a customer absent must not create it a
// second time when another save created it meanwhile, whether few or many
// other records were created in between (the commit checks the ones
// created since, or looks the id up), nor overwrite one it read that was
// replaced meanwhile. The first run of fn waits, after its read, for the
// other save to commit.
func TestOptimisticCommitSeesConcurrentWrites(t *testing.T) {
	for _, tt := range []struct {
		name   string
		stored bool // "x" exists before the race
		others int  // records the other save creates besides "x"
		touchX bool // whether the other save writes "x" too
	}{
		{"absent, created with few others", false, 3, true},
		{"absent, created with many others", false, 500, true},
		{"absent, others created but not it", false, 50, false},
		{"absent, few others created but not it", false, 5, false},
		{"stored, replaced meanwhile", true, 10, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := memstore.New()
			ctx := context.Background()
			seed := "seed" // the business exists: its commit checks the reads at their slots
			if tt.stored {
				seed = "x"
			}
			require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
				return tx.PutCustomer(&rules.Customer{ExternalID: seed, LastName: "v0"})
			}))
			read, other := make(chan struct{}), make(chan struct{})
			go func() {
				<-read
				assert.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
					for i := range tt.others {
						if err := tx.PutCustomer(&rules.Customer{ExternalID: fmt.Sprint("o", i)}); err != nil {
							return err
						}
					}
					if !tt.touchX {
						return nil
					}
					return tx.PutCustomer(&rules.Customer{ExternalID: "x", LastName: "other"})
				}))
				close(other)
			}()
			runs := 0
			require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
				runs++
				c, ok, err := tx.Customer("x")
				if err != nil {
					return err
				}
				if runs == 1 {
					close(read)
					<-other
				}
				c.ExternalID = "x"
				if ok {
					c.LastName += "+mine"
				} else {
					c.LastName = "mine"
				}
				return tx.PutCustomer(&c)
			}))
			want, wantRuns := "other+mine", 2
			if !tt.touchX {
				want, wantRuns = "mine", 1
			}
			assert.Equal(t, wantRuns, runs, "runs of fn")
			require.NoError(t, s.View(ctx, "b", func(tx store.Tx) error {
				c, _, err := tx.Customer("x")
				assert.Equal(t, want, c.LastName)
				_, total, err2 := tx.Customers(0, 1)
				want := tt.others + 2 // x and seed
				if tt.stored {
					want--
				}
				assert.Equal(t, want, total, "customers stored")
				return errors.Join(err, err2)
			}))
		})
	}
}

// One optimistic transaction that writes a record twice, reads its own
// write, and writes records in another order than it read them (so that
// some writes cannot be linked to their reads) stores each record once,
// with its last content.
func TestOptimisticWritesInAnyOrder(t *testing.T) {
	s := memstore.New()
	ctx := context.Background()
	const n = 40
	require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
		for i := 0; i < n; i += 2 { // the even ones exist
			if err := tx.PutCustomer(&rules.Customer{ExternalID: fmt.Sprint("c", i), LastName: "old"}); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, s.Update(ctx, "b", func(tx store.Tx) error {
		for i := range n {
			if _, _, err := tx.Customer(fmt.Sprint("c", i)); err != nil {
				return err
			}
		}
		for i := n - 1; i >= 0; i-- { // reversed: mostly beyond the link window
			if err := tx.PutCustomer(&rules.Customer{ExternalID: fmt.Sprint("c", i), LastName: "first"}); err != nil {
				return err
			}
		}
		for i := range n {
			c, ok, err := tx.Customer(fmt.Sprint("c", i))
			if err != nil || !ok || c.LastName != "first" {
				return fmt.Errorf("own write of c%d: %v %v %q", i, ok, err, c.LastName)
			}
			if err := tx.PutCustomer(&rules.Customer{ExternalID: c.ExternalID, LastName: fmt.Sprint("last", i)}); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, s.View(ctx, "b", func(tx store.Tx) error {
		cs, total, err := tx.Customers(0, 2*n)
		assert.Equal(t, n, total)
		for _, c := range cs {
			assert.Equal(t, "last"+strings.TrimPrefix(c.ExternalID, "c"), c.LastName, c.ExternalID)
		}
		return err
	}))
}
