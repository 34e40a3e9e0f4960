package sqlstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/algoreg-kit/algoreg-kit/store"
)

// Store is a store.Store over an engine's DB. It is safe for concurrent use.
type Store struct {
	db DB
	d  *Dialect
	q  queries

	mu     sync.Mutex // guards secret
	secret []byte     // once read: it never changes
}

var _ store.Store = (*Store)(nil)

// New returns a store on db, whose schema Migrate has brought up to date.
// The store's Close closes db.
func New(db DB, d *Dialect) *Store {
	return &Store{db: db, d: d, q: newQueries(d)}
}

// The names of DB.Write's locks: a business's state, an account's lockout.
// Businesses and usernames have their own prefix, so that they never share
// a lock by their name.
func businessLock(business string) string { return "business:" + business }
func accountLock(username string) string  { return "account:" + username }

// Update implements store.Store. The engine serialises the updates of one
// business (DB.Write's lock).
func (s *Store) Update(ctx context.Context, business string, fn func(tx store.Tx) error) error {
	return s.db.Write(ctx, businessLock(business), func(q Querier) error {
		return fn(&tx{ctx: ctx, q: q, s: s, business: business})
	})
}

// View implements store.Store.
func (s *Store) View(ctx context.Context, business string, fn func(tx store.Tx) error) error {
	return s.db.Read(ctx, func(q Querier) error {
		return fn(&tx{ctx: ctx, q: q, s: s, business: business})
	})
}

// Reset implements store.Store: both deletes commit together, serialised
// with the business's updates.
func (s *Store) Reset(ctx context.Context, business string) error {
	return s.db.Write(ctx, businessLock(business), func(q Querier) error {
		if err := q.Exec(ctx, s.q.deleteCustomers, business); err != nil {
			return fmt.Errorf("reset %q: %w", business, err)
		}
		if err := q.Exec(ctx, s.q.deleteRelations, business); err != nil {
			return fmt.Errorf("reset %q: %w", business, err)
		}
		return nil
	})
}

// Businesses implements store.Store.
func (s *Store) Businesses(ctx context.Context, offset, limit int) ([]store.BusinessCount, int, error) {
	var (
		list  []store.BusinessCount
		total int
	)
	err := s.db.Read(ctx, func(q Querier) error {
		list, total = nil, 0
		if err := q.QueryRow(ctx, s.q.countBusinesses).Scan(&total); err != nil {
			return err
		}
		rows, err := q.Query(ctx, s.q.businesses, max(0, limit), max(0, offset))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b store.BusinessCount
			if err := rows.Scan(&b.Business, &b.Customers, &b.Relations); err != nil {
				return err
			}
			list = append(list, b)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list businesses: %w", err)
	}
	return list, total, nil
}

// Secret implements store.Accounts: the first process to need it stores 32
// random bytes; every later call, here or in another process, reads them.
func (s *Store) Secret(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secret != nil {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return s.secret, nil
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("make the token secret: %w", err)
	}
	var secret []byte
	err := s.db.Write(ctx, "", func(q Querier) error {
		if err := q.Exec(ctx, s.q.putSecret, fresh); err != nil { // does nothing when there is one
			return err
		}
		return q.QueryRow(ctx, s.q.secret).Scan(&secret)
	})
	if err != nil {
		return nil, fmt.Errorf("read the token secret: %w", err)
	}
	s.secret = secret
	return secret, nil
}

// Lockout implements store.Accounts.
func (s *Store) Lockout(ctx context.Context, username string) (store.Lockout, error) {
	var failures, until int64
	err := s.db.Read(ctx, func(q Querier) error {
		return q.QueryRow(ctx, s.q.lockout, username).Scan(&failures, &until)
	})
	if err != nil && !errors.Is(err, ErrNoRows) {
		return store.Lockout{}, fmt.Errorf("read the lockout of %q: %w", username, err)
	}
	return lockoutOf(failures, until), nil
}

// RecordFailure implements store.Accounts. The account's lock serialises it
// with the other RecordFailure and ClearFailures of username in every process,
// and the row is created first when needed and locked for the transaction, so
// that replicas count every failure.
func (s *Store) RecordFailure(ctx context.Context, username string, now time.Time, threshold int, lockFor time.Duration) (store.Lockout, error) {
	var l store.Lockout
	err := s.db.Write(ctx, accountLock(username), func(q Querier) error {
		if err := q.Exec(ctx, s.q.newLockout, username); err != nil {
			return err
		}
		var failures, until int64
		if err := q.QueryRow(ctx, s.q.lockoutForUpdate, username).Scan(&failures, &until); err != nil {
			return err
		}
		l = lockoutOf(failures, until)
		if now.Before(l.LockedUntil) {
			return nil // locked: the attempt does not count
		}
		if !l.LockedUntil.IsZero() { // the lock ended: count again
			l = store.Lockout{}
		}
		l.Failures++
		if l.Failures >= threshold {
			l = store.Lockout{LockedUntil: now.Add(lockFor)}
		}
		until = 0
		if !l.LockedUntil.IsZero() {
			until = l.LockedUntil.UnixNano()
		}
		return q.Exec(ctx, s.q.putLockout, username, int64(l.Failures), until)
	})
	if err != nil {
		return store.Lockout{}, fmt.Errorf("count a failure of %q: %w", username, err)
	}
	return l, nil
}

// lockoutOf is the Lockout of a row.
func lockoutOf(failures, lockedUntil int64) store.Lockout {
	l := store.Lockout{Failures: int(failures)}
	if lockedUntil != 0 {
		l.LockedUntil = time.Unix(0, lockedUntil)
	}
	return l
}

// ClearFailures implements store.Accounts.
func (s *Store) ClearFailures(ctx context.Context, username string) error {
	err := s.db.Write(ctx, accountLock(username), func(q Querier) error { return q.Exec(ctx, s.q.delLock, username) })
	if err != nil {
		return fmt.Errorf("clear the failures of %q: %w", username, err)
	}
	return nil
}

// PendingEvents implements store.Outbox.
func (s *Store) PendingEvents(ctx context.Context, limit int) ([]store.Event, error) {
	evs, err := s.readEvents(ctx, s.q.pendingEvents, max(0, limit))
	if err != nil {
		return nil, fmt.Errorf("read the outbox: %w", err)
	}
	return evs, nil
}

// NextEvents implements store.Outbox.
func (s *Store) NextEvents(ctx context.Context, limit int) ([]store.Event, error) {
	evs, err := s.readEvents(ctx, s.q.nextEvents, max(0, limit))
	if err != nil {
		return nil, fmt.Errorf("read the outbox: %w", err)
	}
	return evs, nil
}

// PendingEventCount returns the number of pending events of the outbox (the
// mock's metrics ask it), in one query.
func (s *Store) PendingEventCount(ctx context.Context) (int, error) {
	var n int
	err := s.db.Read(ctx, func(q Querier) error { return q.QueryRow(ctx, s.q.countPending).Scan(&n) })
	if err != nil {
		return 0, fmt.Errorf("count the pending events: %w", err)
	}
	return n, nil
}

// Events implements store.Outbox: the count and the page in one snapshot.
func (s *Store) Events(ctx context.Context, business string, status store.EventStatus, offset, limit int) ([]store.Event, int, error) {
	var (
		evs   []store.Event
		total int
	)
	err := s.db.Read(ctx, func(q Querier) error {
		if err := q.QueryRow(ctx, s.q.countEvents, business, string(status)).Scan(&total); err != nil {
			return err
		}
		var err error
		evs, err = scanEvents(ctx, q, s.q.events, business, string(status), max(0, limit), max(0, offset))
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list the %s events of %q: %w", status, business, err)
	}
	return evs, total, nil
}

// readEvents runs a query of events in a read transaction.
func (s *Store) readEvents(ctx context.Context, query string, args ...any) ([]store.Event, error) {
	var evs []store.Event
	err := s.db.Read(ctx, func(q Querier) error {
		var err error
		evs, err = scanEvents(ctx, q, query, args...)
		return err
	})
	return evs, err
}

// scanEvents returns the events of a query of eventColumns.
func scanEvents(ctx context.Context, q Querier, query string, args ...any) ([]store.Event, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var evs []store.Event
	for rows.Next() {
		var (
			e                   store.Event
			status              string
			created, last, next int64
		)
		if err := rows.Scan(&e.ID, &e.Business, &e.Payload, &created, &status, &e.Attempts, &e.LastError, &last, &next); err != nil {
			return nil, err
		}
		e.Status, e.CreatedAt, e.LastAttempt, e.NextAttempt = store.EventStatus(status), time.Unix(0, created), timeOrZero(last), timeOrZero(next)
		evs = append(evs, e)
	}
	return evs, rows.Err()
}

// timeOrZero is the time of Unix nanoseconds, the zero time for 0.
func timeOrZero(nanos int64) time.Time {
	if nanos == 0 {
		return time.Time{}
	}
	return time.Unix(0, nanos)
}

// nanosOrZero is the Unix nanoseconds of t, 0 for the zero time.
func nanosOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// RecordAttempt implements store.Outbox: an UPDATE of a pending event only.
func (s *Store) RecordAttempt(ctx context.Context, id int64, a store.Attempt) error {
	status := store.EventPending
	switch {
	case a.Error == "":
		status, a.Next = store.EventDelivered, time.Time{}
	case a.Next.IsZero():
		status = store.EventFailed
	}
	err := s.db.Write(ctx, "", func(q Querier) error {
		return q.Exec(ctx, s.q.recordAttempt, id, string(status), a.Error, nanosOrZero(a.At), nanosOrZero(a.Next))
	})
	if err != nil {
		return fmt.Errorf("record an attempt of event %d: %w", id, err)
	}
	return nil
}

// PruneEvents implements store.Outbox.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) error {
	err := s.db.Write(ctx, "", func(q Querier) error { return q.Exec(ctx, s.q.pruneEvents, before.UnixNano()) })
	if err != nil {
		return fmt.Errorf("prune the delivered events: %w", err)
	}
	return nil
}

// Lease implements store.Outbox with one upsert, which the database
// serialises with any other of the same business: it writes the lease only
// when it is free, expired or holder's, and then returns the row.
func (s *Store) Lease(ctx context.Context, business, holder string, now, until time.Time) (bool, error) {
	var got string
	err := s.db.Write(ctx, "", func(q Querier) error {
		return q.QueryRow(ctx, s.q.lease, business, holder, now.UnixNano(), until.UnixNano()).Scan(&got)
	})
	switch {
	case errors.Is(err, ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("lease the webhooks of %q: %w", business, err)
	}
	return true, nil
}

// Close implements store.Store.
func (s *Store) Close() error { return s.db.Close() }

// Statements returns every statement the store runs with arguments, for an
// engine that prepares them once.
func (s *Store) Statements() []string {
	v := reflect.ValueOf(s.q)
	var out []string
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Slice {
			for j := range f.Len() {
				out = append(out, f.Index(j).String())
			}
		} else {
			out = append(out, f.String())
		}
	}
	return out
}
