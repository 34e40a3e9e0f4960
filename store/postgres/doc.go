// Package postgres is the state engine that keeps the mock's state in a
// PostgreSQL database, through pgx (github.com/jackc/pgx/v5), so that any
// number of mock replicas share one state: a token one replica signs is
// valid on the others, a lockout on one holds on all, and a business's saves
// are serialised across all of them.
//
// Open(ctx, "postgres://user:password@host:5432/db", Options{}) connects,
// migrates the schema (store/SCHEMA.md) and returns a store.Store. Several
// processes may start at once on an empty database: the migration runs under
// an advisory lock, once. A database a newer algoreg-kit migrated is
// refused; one that cannot be reached is one error line, wrapping
// store.ErrUnavailable, that names the URL without its password.
//
// Every update of a business runs in one READ COMMITTED transaction that
// first takes pg_advisory_xact_lock on a 64-bit hash of the business's
// name: the saves of one business run one after the other on every replica
// (two replicas saving the same new external_id create one customer), and
// those of different businesses in parallel. A lockout counter takes the
// lock of its account the same way. Reads (View) run in a REPEATABLE READ,
// read-only transaction: one snapshot. A save answered 200 is committed
// before the answer; what survives a crash is what PostgreSQL's own
// settings (fsync, synchronous_commit) keep. README.md has the design and
// the figures.
package postgres
