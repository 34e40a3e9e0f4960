package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/stretchr/testify/assert"
)

// CheckUnavailable checks that every method of s returns an error that wraps
// store.ErrUnavailable, as it must when its database is closed or cannot be
// reached. s must not have read its secret before (a store may keep it).
func CheckUnavailable(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	check := func(what string, err error) {
		t.Helper()
		assert.ErrorIs(t, err, store.ErrUnavailable, what)
	}
	called := false
	check("Update", s.Update(ctx, "acme", func(tx store.Tx) error {
		called = true
		return tx.PutCustomer(&rules.Customer{ExternalID: "a"})
	}))
	check("View", s.View(ctx, "acme", func(tx store.Tx) error {
		called = true
		_, _, err := tx.Customer("a")
		return err
	}))
	assert.False(t, called, "Update or View called fn without a database")
	check("Reset", s.Reset(ctx, "acme"))
	_, _, err := s.Businesses(ctx, 0, 10)
	check("Businesses", err)
	_, err = s.Secret(ctx)
	check("Secret", err)
	_, err = s.Lockout(ctx, "alice")
	check("Lockout", err)
	_, err = s.RecordFailure(ctx, "alice", time.Now(), 3, time.Minute)
	check("RecordFailure", err)
	check("ClearFailures", s.ClearFailures(ctx, "alice"))
	_, err = s.PendingEvents(ctx, 10)
	check("PendingEvents", err)
	_, err = s.NextEvents(ctx, 10)
	check("NextEvents", err)
	_, _, err = s.Events(ctx, "acme", store.EventPending, 0, 10)
	check("Events", err)
	check("RecordAttempt", s.RecordAttempt(ctx, 1, store.Attempt{At: time.Now()}))
	check("PruneEvents", s.PruneEvents(ctx, time.Now()))
	_, err = s.Lease(ctx, "acme", "me", time.Now(), time.Now().Add(time.Minute))
	check("Lease", err)
}
