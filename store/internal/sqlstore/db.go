package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/algoreg-kit/algoreg-kit/store"
)

// DB is what an engine gives the shared SQL: transactions on its database.
type DB interface {
	// Write runs fn in a read-write transaction and commits it when fn
	// returns nil; fn's error is returned as it is. When lock is not empty,
	// the transactions of the same lock are serialised across every process
	// that shares the database.
	Write(ctx context.Context, lock string, fn func(q Querier) error) error
	// Read runs fn in a read-only transaction that sees one snapshot.
	Read(ctx context.Context, fn func(q Querier) error) error
	// Close releases the database. It may be called more than once.
	Close() error
}

// Querier runs statements inside a transaction. Queries are written with
// PostgreSQL's $1 placeholders (Dialect.Rebind turns them into SQLite's ?1).
// Its errors already wrap store.ErrUnavailable or the context's error
// (Unavailable).
type Querier interface {
	Exec(ctx context.Context, query string, args ...any) error
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// QueryRow runs a query that returns at most one row; its Scan returns
	// ErrNoRows when there is none.
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Statement is one statement and its arguments.
type Statement struct {
	Query string
	Args  []any
}

// Batcher is implemented by a Querier that sends many statements in one
// round trip (PostgreSQL's pipeline). ExecAll runs stmts in order and stops
// at the first error, which it returns with the index of the statement that
// failed. A Querier without it runs them one by one (SQLite, where a
// statement is a call, not a round trip).
type Batcher interface {
	ExecAll(ctx context.Context, stmts []Statement) (failed int, err error)
}

// execAll runs stmts on q, through ExecAll when q is a Batcher, and returns
// the index of the statement that failed with its error.
func execAll(ctx context.Context, q Querier, stmts []Statement) (int, error) {
	if b, ok := q.(Batcher); ok && len(stmts) > 1 {
		i, err := b.ExecAll(ctx, stmts)
		return min(i, len(stmts)-1), err
	}
	for i, s := range stmts {
		if err := q.Exec(ctx, s.Query, s.Args...); err != nil {
			return i, err
		}
	}
	return 0, nil
}

// Rows is the result of Querier.Query: database/sql's and pgx's rows both fit.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is the result of Querier.QueryRow.
type Row interface {
	Scan(dest ...any) error
}

// ErrNoRows is returned by Row.Scan when the query returned no row.
var ErrNoRows = errors.New("sqlstore: no rows")

// Unavailable wraps an error of the database driver: the error of ctx when
// ctx is done (the caller gave up: not the database's fault), else
// store.ErrUnavailable and err. It returns nil for nil and ErrNoRows as it is.
func Unavailable(ctx context.Context, err error) error {
	switch {
	case err == nil, errors.Is(err, ErrNoRows):
		return err
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return err
	case ctx.Err() != nil:
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}
