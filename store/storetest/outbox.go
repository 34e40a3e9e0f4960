package storetest

import (
	"sync"
	"time"

	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// delivered is the Attempt of a delivery at fixedNow.
var delivered = store.Attempt{At: fixedNow}

// addEvents adds one event per n to business, each in its own Update.
func (h *harness) addEvents(business string, ns ...int) {
	h.t.Helper()
	for _, n := range ns {
		h.update(business, func(tx store.Tx) error { return tx.AddEvent(event(business, n)) })
	}
}

// events returns every event of business with status.
func (h *harness) events(business string, status store.EventStatus) []store.Event {
	h.t.Helper()
	evs, total, err := h.s.Events(h.ctx, business, status, 0, 1000)
	require.NoError(h.t, err)
	require.Len(h.t, evs, total, "Events(%s, %s): the total", business, status)
	return evs
}

// ids returns the IDs of evs.
func ids(evs []store.Event) []int64 {
	out := []int64{}
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

// outboxNextEvents checks that NextEvents gives the oldest pending event of
// each business, in the order of their IDs, and moves on as they are done.
func outboxNextEvents(h *harness) {
	h.addEvents("acme", 1)
	h.addEvents("other", 2)
	h.addEvents("acme", 3)
	h.addEvents("third", 4)
	all := h.pending()
	require.Len(h.t, all, 4)
	next, err := h.s.NextEvents(h.ctx, 10)
	require.NoError(h.t, err)
	assert.Equal(h.t, []int64{all[0].ID, all[1].ID, all[3].ID}, ids(next), "the oldest of acme, other and third")
	assert.Equal(h.t, store.EventPending, next[0].Status)
	two, err := h.s.NextEvents(h.ctx, 2)
	require.NoError(h.t, err)
	assert.Equal(h.t, ids(next[:2]), ids(two), "NextEvents(2)")

	require.NoError(h.t, h.s.RecordAttempt(h.ctx, all[0].ID, delivered))
	require.NoError(h.t, h.s.RecordAttempt(h.ctx, all[1].ID, store.Attempt{At: fixedNow, Error: "gave up"}))
	next, err = h.s.NextEvents(h.ctx, 10)
	require.NoError(h.t, err)
	assert.Equal(h.t, []int64{all[2].ID, all[3].ID}, ids(next), "after acme's first was delivered and other's failed")
}

// outboxAttempts checks how RecordAttempt moves an event: a failure with a
// next time keeps it pending with its error, a delivery or a failure
// without one ends it, and an ended event no longer changes.
func outboxAttempts(h *harness) {
	h.addEvents("acme", 1, 2, 3)
	all := h.pending()
	require.Len(h.t, all, 3)
	assert.Zero(h.t, all[0].Attempts)
	assert.True(h.t, all[0].LastAttempt.IsZero() && all[0].NextAttempt.IsZero(), "a new event has no attempt")
	next := fixedNow.Add(time.Minute)
	require.NoError(h.t, h.s.RecordAttempt(h.ctx, all[0].ID, store.Attempt{At: fixedNow, Error: "receiver answered 503", Next: next}))
	got := h.events("acme", store.EventPending)
	require.Len(h.t, got, 3)
	e := got[0]
	assert.Equal(h.t, 1, e.Attempts)
	assert.Equal(h.t, "receiver answered 503", e.LastError)
	assert.True(h.t, e.LastAttempt.Equal(fixedNow), "last attempt %v", e.LastAttempt)
	assert.True(h.t, e.NextAttempt.Equal(next), "next attempt %v", e.NextAttempt)

	later := fixedNow.Add(2 * time.Minute)
	require.NoError(h.t, h.s.RecordAttempt(h.ctx, all[0].ID, store.Attempt{At: later}))
	require.NoError(h.t, h.s.RecordAttempt(h.ctx, all[1].ID, store.Attempt{At: later, Error: "receiver answered 410"}))
	done := h.events("acme", store.EventDelivered)
	require.Len(h.t, done, 1)
	assert.Equal(h.t, 2, done[0].Attempts)
	assert.True(h.t, done[0].LastAttempt.Equal(later))
	assert.True(h.t, done[0].NextAttempt.IsZero(), "a delivered event has no next attempt")
	assert.Equal(h.t, "receiver answered 503", done[0].LastError, "a delivered event keeps its last error")
	failed := h.events("acme", store.EventFailed)
	require.Len(h.t, failed, 1)
	assert.Equal(h.t, all[1].ID, failed[0].ID)
	assert.Equal(h.t, "receiver answered 410", failed[0].LastError)
	assert.Equal(h.t, 1, failed[0].Attempts)
	assert.Equal(h.t, []int64{all[2].ID}, ids(h.events("acme", store.EventPending)))
	assert.Equal(h.t, []int64{all[2].ID}, ids(h.pending()), "PendingEvents: pending ones only")

	// An event that is not pending does not change, nor does an unknown one.
	require.NoError(h.t, h.s.RecordAttempt(h.ctx, all[0].ID, store.Attempt{At: later, Error: "late", Next: next}))
	require.NoError(h.t, h.s.RecordAttempt(h.ctx, all[1].ID, delivered))
	require.NoError(h.t, h.s.RecordAttempt(h.ctx, all[2].ID+100, delivered))
	assert.Equal(h.t, done, h.events("acme", store.EventDelivered), "a delivered event after another attempt")
	assert.Equal(h.t, failed, h.events("acme", store.EventFailed), "a failed event after another attempt")
	assert.Empty(h.t, h.events("other", store.EventFailed), "another business")
}

// outboxEventsPaging checks Events' order, offset, limit and total.
func outboxEventsPaging(h *harness) {
	h.addEvents("acme", 1, 2, 3, 4, 5)
	h.addEvents("other", 6)
	all := h.pending()
	page, total, err := h.s.Events(h.ctx, "acme", store.EventPending, 1, 2)
	require.NoError(h.t, err)
	assert.Equal(h.t, 5, total)
	assert.Equal(h.t, []int64{all[1].ID, all[2].ID}, ids(page))
	h.assertEvents([]store.Event{event("acme", 2), event("acme", 3)}, page)
	page, total, err = h.s.Events(h.ctx, "acme", store.EventPending, 10, 2)
	require.NoError(h.t, err)
	assert.Equal(h.t, 5, total)
	assert.Empty(h.t, page, "past the end")
}

// outboxPrune checks that PruneEvents deletes the delivered events that
// ended before its time, and nothing else.
func outboxPrune(h *harness) {
	h.addEvents("acme", 1, 2, 3, 4)
	all := h.pending()
	require.NoError(h.t, h.s.RecordAttempt(h.ctx, all[0].ID, store.Attempt{At: fixedNow}))
	require.NoError(h.t, h.s.RecordAttempt(h.ctx, all[1].ID, store.Attempt{At: fixedNow.Add(time.Hour)}))
	require.NoError(h.t, h.s.RecordAttempt(h.ctx, all[2].ID, store.Attempt{At: fixedNow, Error: "gave up"}))
	require.NoError(h.t, h.s.PruneEvents(h.ctx, fixedNow.Add(time.Minute)))
	assert.Equal(h.t, []int64{all[1].ID}, ids(h.events("acme", store.EventDelivered)), "the delivered event after the bound is kept")
	assert.Equal(h.t, []int64{all[2].ID}, ids(h.events("acme", store.EventFailed)), "failed events are kept")
	assert.Equal(h.t, []int64{all[3].ID}, ids(h.pending()), "pending events are kept")
}

// outboxLease checks that one holder at a time has a business's lease, until
// it expires or is released, and that businesses have their own.
func outboxLease(h *harness) {
	lease := func(business, holder string, now, until time.Time) bool {
		h.t.Helper()
		ok, err := h.s.Lease(h.ctx, business, holder, now, until)
		require.NoError(h.t, err)
		return ok
	}
	t0, until := fixedNow, fixedNow.Add(30*time.Second)
	assert.True(h.t, lease("acme", "a", t0, until), "a free lease")
	assert.False(h.t, lease("acme", "b", t0.Add(time.Second), until.Add(time.Second)), "held by another")
	assert.True(h.t, lease("other", "b", t0, until), "another business")
	assert.True(h.t, lease("acme", "a", t0.Add(10*time.Second), until.Add(10*time.Second)), "the holder extends it")
	assert.False(h.t, lease("acme", "b", until.Add(time.Second), until.Add(time.Minute)), "extended: still held")
	assert.True(h.t, lease("acme", "b", until.Add(11*time.Second), until.Add(time.Minute)), "expired: taken over")
	assert.False(h.t, lease("acme", "a", until.Add(12*time.Second), until.Add(time.Minute)), "the old holder lost it")
	now := until.Add(13 * time.Second)
	assert.True(h.t, lease("acme", "b", now, now), "released by its holder")
	assert.True(h.t, lease("acme", "a", now, now.Add(time.Minute)), "free again after the release")

	// Many holders at once: exactly one gets a free lease.
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners int
	)
	for i := range 8 {
		wg.Go(func() {
			ok, err := h.s.Lease(h.ctx, "race", label("holder-%d", i), t0, until)
			assert.NoError(h.t, err)
			if ok {
				mu.Lock()
				winners++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equal(h.t, 1, winners, "holders that got one free lease at once")
}
