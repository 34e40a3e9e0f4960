package storetest

import (
	"bytes"
	"sync"
	"time"

	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var fixedNow = time.Unix(1_700_000_000, 123_456_789)

const lockFor = 15 * time.Minute

// event is an event of business with a payload of its own.
func event(business string, n int) store.Event {
	return store.Event{Business: business, Payload: []byte(label(`{"event":%d,"text":"é"}`, n)),
		CreatedAt: fixedNow.Add(time.Duration(n) * time.Nanosecond)}
}

// assertEvents checks got against want, whose IDs are not known yet.
func (h *harness) assertEvents(want []store.Event, got []store.Event) {
	h.t.Helper()
	require.Len(h.t, got, len(want))
	for i := range want {
		assert.Equal(h.t, want[i].Business, got[i].Business, "event %d", i)
		assert.True(h.t, bytes.Equal(want[i].Payload, got[i].Payload), "event %d: payload %s, want %s", i, got[i].Payload, want[i].Payload)
		assert.True(h.t, want[i].CreatedAt.Equal(got[i].CreatedAt), "event %d: created at %v, want %v", i, got[i].CreatedAt, want[i].CreatedAt)
		if i > 0 {
			assert.Greater(h.t, got[i].ID, got[i-1].ID, "event IDs increase")
		}
	}
}

// outboxAfterCommit checks that an event is pending exactly when the update
// that added it committed. A PendingEvents call made while fn runs may wait
// for the commit; when it answers before, it must not see the event.
func outboxAfterCommit(h *harness) {
	early := make(chan []store.Event, 1)
	answeredEarly := false
	h.update("acme", func(tx store.Tx) error {
		require.NoError(h.t, tx.AddEvent(event("acme", 1)))
		go func() {
			evs, _ := h.s.PendingEvents(h.ctx, 10)
			early <- evs
		}()
		select {
		case evs := <-early:
			answeredEarly = true
			assert.Empty(h.t, evs, "an event is pending before its update commits")
		case <-time.After(100 * time.Millisecond):
		}
		return nil
	})
	if !answeredEarly {
		<-early
	}
	h.assertEvents([]store.Event{event("acme", 1)}, h.pending())
	err := h.s.Update(h.ctx, "acme", func(tx store.Tx) error {
		require.NoError(h.t, tx.AddEvent(event("acme", 2)))
		return errBoom
	})
	require.ErrorIs(h.t, err, errBoom)
	h.assertEvents([]store.Event{event("acme", 1)}, h.pending())
}

func outboxIDs(h *harness) {
	var want []store.Event
	add := func(business string, ns ...int) {
		h.update(business, func(tx store.Tx) error {
			for _, n := range ns {
				require.NoError(h.t, tx.AddEvent(event(business, n)))
				want = append(want, event(business, n))
			}
			return nil
		})
	}
	add("acme", 1)
	add("other", 2, 3)
	add("acme", 4)
	all := h.pending()
	h.assertEvents(want, all)
	first, err := h.s.PendingEvents(h.ctx, 2)
	require.NoError(h.t, err)
	assert.Equal(h.t, all[:2], first, "PendingEvents(2) gives the two oldest")

	require.NoError(h.t, h.s.RecordAttempt(h.ctx, all[0].ID, delivered))
	require.NoError(h.t, h.s.RecordAttempt(h.ctx, all[0].ID, delivered), "delivering an event twice")
	require.NoError(h.t, h.s.RecordAttempt(h.ctx, all[3].ID, delivered), "delivering the newest")
	assert.Equal(h.t, all[1:3], h.pending())
	add("acme", 5)
	got := h.pending()
	require.Len(h.t, got, 3)
	assert.Greater(h.t, got[2].ID, all[3].ID, "an ID is never given twice, even after its event was delivered")
}

func secret(h *harness) {
	first, err := h.s.Secret(h.ctx)
	require.NoError(h.t, err)
	assert.GreaterOrEqual(h.t, len(first), 32, "secret length")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			got, err := h.s.Secret(h.ctx)
			assert.NoError(h.t, err)
			assert.Equal(h.t, first, got, "the secret of a second call")
		})
	}
	wg.Wait()
}

func lockout(h *harness) {
	const threshold = 3
	l, err := h.s.Lockout(h.ctx, "alice")
	require.NoError(h.t, err)
	assert.Equal(h.t, store.Lockout{}, l, "an account that never failed")
	for i := 1; i < threshold; i++ {
		l, err = h.s.RecordFailure(h.ctx, "alice", fixedNow.Add(time.Duration(i)*time.Second), threshold, lockFor)
		require.NoError(h.t, err)
		assert.Equal(h.t, store.Lockout{Failures: i}, l, "failure %d", i)
	}
	lockedAt := fixedNow.Add(threshold * time.Second)
	l, err = h.s.RecordFailure(h.ctx, "alice", lockedAt, threshold, lockFor)
	require.NoError(h.t, err)
	until := lockedAt.Add(lockFor)
	assertLocked(h, l, 0, until, "at the threshold")
	l, err = h.s.RecordFailure(h.ctx, "alice", lockedAt.Add(time.Minute), threshold, lockFor)
	require.NoError(h.t, err)
	assertLocked(h, l, 0, until, "a failure while locked")
	l, err = h.s.Lockout(h.ctx, "alice")
	require.NoError(h.t, err)
	assertLocked(h, l, 0, until, "Lockout while locked")
	other, err := h.s.Lockout(h.ctx, "bob")
	require.NoError(h.t, err)
	assert.Equal(h.t, store.Lockout{}, other, "another account")

	l, err = h.s.RecordFailure(h.ctx, "alice", until.Add(time.Second), threshold, lockFor)
	require.NoError(h.t, err)
	assert.Equal(h.t, store.Lockout{Failures: 1}, l, "the first failure after the lock ended")
	require.NoError(h.t, h.s.ClearFailures(h.ctx, "alice"))
	require.NoError(h.t, h.s.ClearFailures(h.ctx, "never-failed"))
	l, err = h.s.Lockout(h.ctx, "alice")
	require.NoError(h.t, err)
	assert.Equal(h.t, store.Lockout{}, l, "after ClearFailures")
}

func assertLocked(h *harness, l store.Lockout, failures int, until time.Time, what string) {
	h.t.Helper()
	assert.Equal(h.t, failures, l.Failures, "%s: failures", what)
	assert.True(h.t, until.Equal(l.LockedUntil), "%s: locked until %v, want %v", what, l.LockedUntil, until)
}

// durable checks that the state survives closing and reopening the store.
func durable(h *harness) {
	c := FilledCustomer(h.t, "c")
	r := FilledRelation(h.t, "r")
	h.put("acme", []rules.Customer{c}, []rules.Relation{r})
	h.update("acme", func(tx store.Tx) error { return tx.AddEvent(event("acme", 1)) })
	require.NoError(h.t, h.s.RecordAttempt(h.ctx, h.pending()[0].ID,
		store.Attempt{At: fixedNow, Error: "receiver answered 503", Next: fixedNow.Add(time.Second)}))
	_, err := h.s.RecordFailure(h.ctx, "alice", fixedNow, 3, lockFor)
	require.NoError(h.t, err)
	secret, err := h.s.Secret(h.ctx)
	require.NoError(h.t, err)
	before := h.pending()

	h.s = h.opts.reopen(h.t, h.s)
	h.view("acme", func(tx store.Tx) error {
		got, _ := customer(h.t, tx, "c")
		assert.Equal(h.t, c, got, "a customer after a reopen")
		gotR, _ := relation(h.t, tx, "r")
		assert.Equal(h.t, r, gotR, "a relation after a reopen")
		return nil
	})
	assert.Equal(h.t, before, h.pending(), "pending events after a reopen")
	assert.Equal(h.t, 1, before[0].Attempts, "the attempt recorded before the reopen")
	got, err := h.s.Secret(h.ctx)
	require.NoError(h.t, err)
	assert.Equal(h.t, secret, got, "the secret after a reopen")
	l, err := h.s.Lockout(h.ctx, "alice")
	require.NoError(h.t, err)
	assert.Equal(h.t, 1, l.Failures, "failures after a reopen")
	require.NoError(h.t, h.s.RecordAttempt(h.ctx, before[0].ID, delivered))
	h.update("acme", func(tx store.Tx) error { return tx.AddEvent(event("acme", 2)) })
	after := h.pending()
	require.Len(h.t, after, 1)
	assert.Greater(h.t, after[0].ID, before[0].ID, "event IDs after a reopen")
}
