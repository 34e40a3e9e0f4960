package memstore

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/algoreg-kit/algoreg-kit/store"
)

// The bounds of a Store's outbox. The outbox of the in-memory store lives as
// long as the process, like everything else in it; when no one delivers its
// events (no webhook receiver, or one that is down), it would otherwise grow
// without end. The bounds count every event kept, delivered and failed ones
// too. Past either bound events are dropped, and counted in
// Stats().EventsDropped: first the oldest delivered events, then the oldest
// failed ones, and only when there are none the
// oldest pending ones (lost: they are never sent). A save never fails because
// of the outbox.
const (
	OutboxLimit = 10_000   // events
	OutboxBytes = 64 << 20 // bytes of payloads and errors
)

// outbox is the store.Outbox of a Store.
type outbox struct {
	mu        sync.Mutex     // guards the fields below
	events    []*store.Event // by increasing ID
	lastID    int64
	bytes     int64 // of the payloads and errors of events
	count     map[store.EventStatus]int
	dropped   int64
	maxEvents int
	maxBytes  int64
	leases    map[string]lease // by business

	// pendingFrom is a lower bound of the index of the first pending event
	// (no event before it is pending), so that the reads of pending events
	// skip the delivered and failed ones kept before them; firstPending
	// moves it on.
	pendingFrom int
}

// lease is who holds the lease of a business, and until when.
type lease struct {
	holder string
	until  time.Time
}

func eventBytes(e *store.Event) int64 { return int64(len(e.Payload) + len(e.LastError)) }

// add appends the events a transaction of business added, giving them their
// IDs; Business is set to business, and a zero CreatedAt to now.
func (o *outbox) add(business string, events []store.Event) {
	if len(events) == 0 {
		return
	}
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range events {
		o.lastID++
		e.ID, e.Business = o.lastID, business
		if e.CreatedAt.IsZero() {
			e.CreatedAt = now
		}
		e.Status, e.Attempts, e.LastError, e.LastAttempt, e.NextAttempt = store.EventPending, 0, "", time.Time{}, time.Time{}
		o.events = append(o.events, &e)
		o.bytes += eventBytes(&e)
		o.count[e.Status]++
	}
	for len(o.events) > o.maxEvents || (o.bytes > o.maxBytes && len(o.events) > 1) {
		o.removeAt(o.victim())
		o.dropped++
	}
}

// victim is the index of the event to drop first: the oldest delivered
// event, else the oldest failed one, else the oldest. Events are delivered
// about in the order of their IDs, so the first delivered one is usually at
// the front.
func (o *outbox) victim() int {
	for _, status := range []store.EventStatus{store.EventDelivered, store.EventFailed} {
		if o.count[status] > 0 {
			return slices.IndexFunc(o.events, func(e *store.Event) bool { return e.Status == status })
		}
	}
	return 0
}

// firstPending returns the index of the first pending event (len(events)
// when there is none), moving pendingFrom on to it.
func (o *outbox) firstPending() int {
	for o.pendingFrom < len(o.events) && o.events[o.pendingFrom].Status != store.EventPending {
		o.pendingFrom++
	}
	return o.pendingFrom
}

func (o *outbox) removeAt(i int) {
	if i < o.pendingFrom {
		o.pendingFrom--
	}
	e := o.events[i]
	o.bytes -= eventBytes(e)
	o.count[e.Status]--
	if i == 0 { // the usual case: the oldest
		o.events[0] = nil
		o.events = o.events[1:]
		return
	}
	o.events = slices.Delete(o.events, i, i+1)
}

func (o *outbox) stats() (pending, dropped int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return int64(o.count[store.EventPending]), o.dropped
}

// find returns the index of the event with id, or -1.
func (o *outbox) find(id int64) int {
	i, ok := slices.BinarySearchFunc(o.events, id, func(e *store.Event, id int64) int { return cmp.Compare(e.ID, id) })
	if !ok {
		return -1
	}
	return i
}

// PendingEvents implements store.Outbox. The events share their payloads
// with the outbox: the caller must not change them.
func (s *Store) PendingEvents(ctx context.Context, limit int) (events []store.Event, err error) {
	o := &s.outbox
	err = s.locked(ctx, &o.mu, func() {
		for _, e := range o.events[o.firstPending():] {
			if len(events) >= limit {
				break
			}
			if e.Status == store.EventPending {
				events = append(events, *e)
			}
		}
	})
	return events, err
}

// NextEvents implements store.Outbox.
func (s *Store) NextEvents(ctx context.Context, limit int) (events []store.Event, err error) {
	o := &s.outbox
	err = s.locked(ctx, &o.mu, func() {
		seen := map[string]bool{}
		for _, e := range o.events[o.firstPending():] {
			if len(events) >= limit {
				break
			}
			if e.Status == store.EventPending && !seen[e.Business] {
				seen[e.Business] = true
				events = append(events, *e)
			}
		}
	})
	return events, err
}

// Events implements store.Outbox.
func (s *Store) Events(ctx context.Context, business string, status store.EventStatus, offset, limit int) (events []store.Event, total int, err error) {
	o := &s.outbox
	err = s.locked(ctx, &o.mu, func() {
		from := 0
		if status == store.EventPending {
			from = o.firstPending()
		}
		for _, e := range o.events[from:] {
			if e.Business != business || e.Status != status {
				continue
			}
			if total >= offset && len(events) < limit {
				events = append(events, *e)
			}
			total++
		}
	})
	return events, total, err
}

// RecordAttempt implements store.Outbox.
func (s *Store) RecordAttempt(ctx context.Context, id int64, a store.Attempt) error {
	o := &s.outbox
	return s.locked(ctx, &o.mu, func() {
		i := o.find(id)
		if i < 0 || o.events[i].Status != store.EventPending {
			return
		}
		old := o.events[i]
		e := *old // a new value: the copies callers hold do not change
		e.Attempts++
		e.LastAttempt, e.NextAttempt = a.At, time.Time{}
		switch {
		case a.Error == "":
			e.Status = store.EventDelivered
		case a.Next.IsZero():
			e.Status, e.LastError = store.EventFailed, a.Error
		default:
			e.LastError, e.NextAttempt = a.Error, a.Next
		}
		o.bytes += eventBytes(&e) - eventBytes(old)
		o.count[old.Status]--
		o.count[e.Status]++
		o.events[i] = &e
	})
}

// PruneEvents implements store.Outbox.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) error {
	o := &s.outbox
	return s.locked(ctx, &o.mu, func() {
		o.pendingFrom = 0 // moved on again by the next read
		o.events = slices.DeleteFunc(o.events, func(e *store.Event) bool {
			if e.Status != store.EventDelivered || !e.LastAttempt.Before(before) {
				return false
			}
			o.bytes -= eventBytes(e)
			o.count[e.Status]--
			return true
		})
	})
}

// Lease implements store.Outbox.
func (s *Store) Lease(ctx context.Context, business, holder string, now, until time.Time) (ok bool, err error) {
	o := &s.outbox
	err = s.locked(ctx, &o.mu, func() {
		l, held := o.leases[business]
		if held && l.holder != holder && now.Before(l.until) {
			return
		}
		ok = true
		if !until.After(now) {
			delete(o.leases, business)
			return
		}
		if o.leases == nil {
			o.leases = map[string]lease{}
		}
		o.leases[business] = lease{holder: holder, until: until}
	})
	return ok, err
}
