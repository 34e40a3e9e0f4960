// Package store defines the state of the mock — customers, relations, the
// accounts' lockouts, the token-signing secret and the webhook outbox — as a
// small interface that each storage engine implements: store/memstore (in
// memory, the default), store/sqlite (one embedded file) and store/postgres
// (shared by replicas). store/storetest holds the one behaviour table every
// engine must pass.
//
// Every method returns an error: a failing database is an error the mock
// answers 503 with Retry-After, never a panic. Errors that mean "the database
// cannot be reached or failed" wrap ErrUnavailable.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/algoreg-kit/algoreg-kit/rules"
)

// ErrNotFound is returned by the inspection reads when a record does not exist
// in the business.
var ErrNotFound = errors.New("not found")

// ErrUnavailable is wrapped by every error that comes from the database
// itself (connection lost, disk full, locked too long): the request may
// succeed later, so the mock answers 503 with Retry-After.
var ErrUnavailable = errors.New("the state database is unavailable")

// Store holds the state of every business (tenant). Implementations are safe
// for concurrent use, keep businesses apart, and serialise the updates of one
// business across every process that shares the store.
type Store interface {
	// Update calls fn in one transaction with the business's state locked for
	// writing: everything fn reads and writes through tx commits together,
	// after fn returns nil and before Update returns; if fn returns an error
	// (or Update cannot commit), nothing fn wrote is kept. fn must not keep tx.
	Update(ctx context.Context, business string, fn func(tx Tx) error) error
	// View calls fn with a consistent read of the business's state; fn must
	// only read through tx.
	View(ctx context.Context, business string, fn func(tx Tx) error) error
	// Reset deletes every customer and relation of business, atomically: on
	// an error the business is as it was.
	Reset(ctx context.Context, business string) error
	// Businesses pages through the businesses that have any customer or
	// relation, ordered by name, and says how many there are.
	Businesses(ctx context.Context, offset, limit int) ([]BusinessCount, int, error)

	Accounts
	Outbox

	// Close releases the store's resources. The caller must not use the
	// store afterwards.
	Close() error
}

// Tx reads and writes one business's state inside Store.Update or Store.View.
type Tx interface {
	// Customer returns the stored customer.
	Customer(externalID string) (rules.Customer, bool, error)
	// PutCustomer creates or replaces the customer with c.ExternalID. The
	// store may keep c: the caller must not change it afterwards.
	PutCustomer(c *rules.Customer) error
	// Relation returns the stored relation.
	Relation(relationExternalID string) (rules.Relation, bool, error)
	// PutRelation creates or replaces the relation with r.RelationExternalID.
	PutRelation(r rules.Relation) error
	// Customers returns up to limit customers ordered by external_id, after
	// skipping offset, and how many the business has.
	Customers(offset, limit int) ([]rules.Customer, int, error)
	// Relations returns up to limit relations ordered by relation_external_id,
	// after skipping offset, and how many the business has.
	Relations(offset, limit int) ([]rules.Relation, int, error)
	// RelationsOf returns the relations in which any of externalIDs is parent
	// or child, ordered by relation_external_id.
	RelationsOf(externalIDs ...string) ([]rules.Relation, error)
	// AddEvent appends an event to the outbox in this transaction, so that
	// it exists exactly when the save that produced it does.
	AddEvent(e Event) error
}

// Preloader is implemented by a Tx that reads many records in one query
// faster than one by one (the SQL engines, where each read is a statement;
// the in-memory store, whose lookups in one pass overlap their cache misses).
// Preload reads the customers and relations with these ids (ids that do not
// exist are fine) and keeps them for the Customer and Relation calls of the
// same transaction, which then answer without a query; a write of a record
// forgets what was preloaded of it. The mock's save calls it with the
// request's ids before it evaluates the rules. A Tx without it is read one
// record at a time.
type Preloader interface {
	Preload(customerIDs, relationIDs []string) error
}

// BatchWriter is implemented by a Tx that writes many records in one
// statement faster than one by one (PostgreSQL, where every statement is a
// round trip). PutCustomers and PutRelations are PutCustomer and PutRelation
// for each record, in order; the ids of one call must be distinct. The mock's
// save writes through them when the Tx has them.
type BatchWriter interface {
	PutCustomers(cs []*rules.Customer) error
	PutRelations(rs []rules.Relation) error
}

// PutAll writes cs and then rs through tx: in one call each when tx is a
// BatchWriter, else one record at a time.
func PutAll(tx Tx, cs []*rules.Customer, rs []rules.Relation) error {
	if bw, ok := tx.(BatchWriter); ok {
		if err := bw.PutCustomers(cs); err != nil {
			return err
		}
		return bw.PutRelations(rs)
	}
	for _, c := range cs {
		if err := tx.PutCustomer(c); err != nil {
			return err
		}
	}
	for _, r := range rs {
		if err := tx.PutRelation(r); err != nil {
			return err
		}
	}
	return nil
}

// BusinessCount is one business and the size of its state.
type BusinessCount struct {
	Business  string
	Customers int
	Relations int
}

// Accounts is the state of authentication that must survive a restart and be
// the same on every replica.
type Accounts interface {
	// Secret returns the key that signs access tokens: created at random on
	// first use and then the same for every process of the store.
	Secret(ctx context.Context) ([]byte, error)
	// Lockout returns username's failed attempts in a row and, when it is
	// locked, until when.
	Lockout(ctx context.Context, username string) (Lockout, error)
	// RecordFailure counts one more failed attempt of username at now: at
	// threshold failures in a row the account locks until now+lockFor and
	// the count starts again. Attempts while locked do not extend the lock.
	RecordFailure(ctx context.Context, username string, now time.Time, threshold int, lockFor time.Duration) (Lockout, error)
	// ClearFailures forgets username's failed attempts and lock.
	ClearFailures(ctx context.Context, username string) error
}

// Lockout is an account's failed attempts and lock.
type Lockout struct {
	Failures    int
	LockedUntil time.Time // zero when not locked
}

// Outbox holds the events written by Tx.AddEvent and the state of their
// delivery. An event is pending until an attempt delivers it (delivered) or
// the sender gives it up (failed); delivered and failed events stay listed
// (Events) until PruneEvents. The sender delivers the events of one business
// in the order of their IDs, one at a time: NextEvents gives the oldest
// pending event of each business, and Lease lets one sender of all those that
// share the store deliver a business at a time.
type Outbox interface {
	// PendingEvents returns up to limit pending events of every business,
	// oldest first (in the order of their IDs).
	PendingEvents(ctx context.Context, limit int) ([]Event, error)
	// NextEvents returns the oldest pending event of each business that has
	// one, up to limit businesses, in the order of the events' IDs.
	NextEvents(ctx context.Context, limit int) ([]Event, error)
	// Events pages through business's events of one status, oldest first,
	// and says how many there are.
	Events(ctx context.Context, business string, status EventStatus, offset, limit int) ([]Event, int, error)
	// RecordAttempt records the outcome of an attempt to deliver the pending
	// event id: one more attempt, at a.At, and the event delivered (a.Error
	// empty), pending until a.Next, or failed (a.Next zero). An id that is not
	// pending (already delivered or failed, or dropped) is no error and is
	// left as it is, so that a sender that lost its lease changes nothing.
	RecordAttempt(ctx context.Context, id int64, a Attempt) error
	// PruneEvents deletes the delivered events whose delivery was before
	// before (failed and pending events are kept).
	PruneEvents(ctx context.Context, before time.Time) error
	// Lease gives holder the right to deliver business's events until
	// until, and reports whether it has it: it does when no one holds it,
	// when the lease of another holder has expired at now, or when holder
	// holds it already (which extends it). An until not after now releases
	// holder's lease. Leases use the clocks of the callers: senders sharing a
	// store must have clocks that agree far better than a lease is long.
	Lease(ctx context.Context, business, holder string, now, until time.Time) (bool, error)
}

// EventStatus is where an event is in its delivery.
type EventStatus string

// The statuses of an event.
const (
	EventPending   EventStatus = "pending"
	EventDelivered EventStatus = "delivered"
	EventFailed    EventStatus = "failed"
)

// Event is one webhook event in the outbox. Tx.AddEvent sets Business,
// Payload and CreatedAt; the store sets ID and the delivery fields.
type Event struct {
	ID        int64 // assigned by the store, increasing
	Business  string
	Payload   []byte // the webhook body, JSON
	CreatedAt time.Time

	Status      EventStatus // pending when added
	Attempts    int         // attempts recorded
	LastError   string      // of the last failed attempt, "" if none
	LastAttempt time.Time   // when the last attempt ended; zero before any
	NextAttempt time.Time   // a pending event's: not before then (zero: at once)
}

// Attempt is the outcome of one attempt to deliver an event.
type Attempt struct {
	At    time.Time // when it ended
	Error string    // "": delivered
	Next  time.Time // after a failure: when to try again; zero: give the event up
}
