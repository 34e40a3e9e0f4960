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
// without end. Past either bound the oldest events are dropped, and counted
// in Stats().EventsDropped: a save never fails because of the outbox.
const (
	OutboxLimit = 10_000   // events
	OutboxBytes = 64 << 20 // bytes of payloads
)

// outbox is the store.Outbox of a Store.
type outbox struct {
	mu        sync.Mutex    // guards the fields below
	events    []store.Event // oldest first, so by increasing ID
	lastID    int64
	bytes     int64 // of the payloads of events
	dropped   int64
	maxEvents int
	maxBytes  int64
}

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
		o.events = append(o.events, e)
		o.bytes += int64(len(e.Payload))
	}
	for len(o.events) > o.maxEvents || (o.bytes > o.maxBytes && len(o.events) > 1) {
		o.removeAt(0)
		o.dropped++
	}
}

func (o *outbox) removeAt(i int) {
	o.bytes -= int64(len(o.events[i].Payload))
	if i == 0 { // the usual case: delivered, or dropped, oldest first
		o.events[0] = store.Event{}
		o.events = o.events[1:]
		return
	}
	o.events = slices.Delete(o.events, i, i+1)
}

func (o *outbox) stats() (events, dropped int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return int64(len(o.events)), o.dropped
}

// PendingEvents implements store.Outbox. The events share their payloads
// with the outbox: the caller must not change them.
func (s *Store) PendingEvents(ctx context.Context, limit int) (events []store.Event, err error) {
	o := &s.outbox
	err = s.locked(ctx, &o.mu, func() { events = slices.Clone(o.events[:min(max(limit, 0), len(o.events))]) })
	return events, err
}

// EventDelivered implements store.Outbox. An id that is not pending (already
// delivered, or dropped) is no error.
func (s *Store) EventDelivered(ctx context.Context, id int64) error {
	o := &s.outbox
	return s.locked(ctx, &o.mu, func() {
		if i, ok := slices.BinarySearchFunc(o.events, id, func(e store.Event, id int64) int { return cmp.Compare(e.ID, id) }); ok {
			o.removeAt(i)
		}
	})
}
