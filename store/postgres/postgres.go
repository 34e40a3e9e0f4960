package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/internal/sqlstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options are the settings of Open. The zero value is the default.
type Options struct {
	// MaxConns is the size of the connection pool of this process; 0 means
	// pgxpool's default (the larger of 4 and the number of CPUs).
	MaxConns int
}

// Store is the state in one PostgreSQL database, shared by every process
// that opens it. It is safe for concurrent use. The caller should call Close
// when finished.
type Store struct {
	*sqlstore.Store
}

// connectTimeout bounds each connection attempt when the URL sets no
// connect_timeout, so that an unreachable host fails Open instead of hanging.
const connectTimeout = 10 * time.Second

// Open connects to the database at url (postgres://user:password@host:port/db
// or a keyword/value connection string, as libpq and pgx accept) and migrates
// its schema; any number of processes may open the same database at once.
// A database that cannot be reached (wrong host, refused login, no such
// database) is an error that wraps store.ErrUnavailable and names the URL
// without its password; a database whose schema is newer than this
// algoreg-kit is refused with an error wrapping sqlstore's ErrNewerSchema.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	shown := redact(url)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: state %s is not a PostgreSQL URL (postgres://user:password@host:port/database): %s",
			shown, parseReason(err))
	}
	if opts.MaxConns < 0 {
		return nil, fmt.Errorf("postgres: MaxConns is %d: give 0 (the default) or more", opts.MaxConns)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = int32(min(opts.MaxConns, 1<<20))
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: state %s: %w", shown, sqlstore.Unavailable(ctx, err))
	}
	d := &db{pool: pool}
	if err := pool.Ping(ctx); err != nil {
		d.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("postgres: connect to %s: %w", shown, sqlstore.Unavailable(ctx, err))
		}
		return nil, fmt.Errorf("postgres: cannot reach the state database %s (is PostgreSQL running there, and are the user, password and database name right?): %w",
			shown, connectError{err})
	}
	err = sqlstore.Migrate(ctx, d, sqlstore.Postgres, "PostgreSQL database "+shown, sqlstore.Migrations())
	if err != nil {
		d.Close()
		if errors.Is(err, sqlstore.ErrNewerSchema) {
			return nil, err
		}
		return nil, fmt.Errorf("postgres: open the state database: %w", err)
	}
	return &Store{Store: sqlstore.New(d, sqlstore.Postgres)}, nil
}

// redact returns the URL as the user can recognise it, without a password:
// in the user information or in a password= parameter of a URL, or in a
// password= keyword of a connection string.
func redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.Scheme != "" {
		if q := u.Query(); q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	if scheme, rest, ok := strings.Cut(s, "://"); ok { // a URL url.Parse refuses (a bad port)
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if user, _, ok := strings.Cut(rest[:at], ":"); ok {
				rest = user + ":xxxxx" + rest[at:]
			}
		}
		return scheme + "://" + rest
	}
	fields := strings.Fields(s)
	for i, f := range fields {
		if strings.HasPrefix(f, "password=") {
			fields[i] = "password=xxxxx"
		}
	}
	return strings.Join(fields, " ")
}

// parseReason returns the reason of a pgconn parse error without the
// connection string it repeats (redacted).
func parseReason(err error) string {
	msg := err.Error()
	if strings.HasPrefix(msg, "cannot parse `") {
		if _, reason, ok := strings.Cut(msg, "`: "); ok {
			return reason
		}
	}
	return msg
}

// connectError is a failed connection: pgx's reason on one line (each
// address it tried once), and an error that wraps store.ErrUnavailable.
type connectError struct{ err error }

func (e connectError) Error() string {
	var (
		lines []string
		b     strings.Builder
	)
	for _, l := range strings.Split(e.err.Error(), "\n") {
		if l = strings.TrimSpace(l); l == "" || slices.Contains(lines, l) {
			continue
		}
		if b.Len() > 0 && !strings.HasSuffix(b.String(), ":") {
			b.WriteByte(';')
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		lines = append(lines, l)
		b.WriteString(l)
	}
	return b.String()
}

func (e connectError) Unwrap() error { return e.err }

func (e connectError) Is(target error) bool { return target == store.ErrUnavailable }

// db is the sqlstore.DB of a pool: READ COMMITTED write transactions that
// first take a transaction-level advisory lock, and REPEATABLE READ
// read-only ones.
type db struct {
	pool      *pgxpool.Pool
	closeOnce sync.Once
}

// lockQuery takes the transaction-level advisory lock of a name: a 64-bit
// hash of it, held until commit or rollback, by every process on the database.
const lockQuery = `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`

var readOnly = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}

func (d *db) Write(ctx context.Context, lock string, fn func(q sqlstore.Querier) error) error {
	return d.run(ctx, pgx.TxOptions{}, lock, fn)
}

func (d *db) Read(ctx context.Context, fn func(q sqlstore.Querier) error) error {
	return d.run(ctx, readOnly, "", fn)
}

// run runs fn in a transaction and commits it when fn returns nil and ctx is
// not done. A transaction that does not commit (fn's error, a cancelled
// context, a panic of fn) is rolled back. BEGIN and the lock go to the
// server together, in one round trip.
func (d *db) run(ctx context.Context, opts pgx.TxOptions, lock string, fn func(q sqlstore.Querier) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b := &pgx.Batch{}
	b.BeginTx(opts)
	if lock != "" {
		b.Queue(lockQuery, lock)
	}
	br := d.pool.SendBatch(ctx, b)
	tx := br.Tx()
	defer tx.Rollback(context.WithoutCancel(ctx)) // after Commit: does nothing; gives the connection back
	if _, err := results(br, b.Len()); err != nil {
		return fmt.Errorf("postgres: begin: %w", sqlstore.Unavailable(ctx, err))
	}
	if err := fn(querier{tx: tx}); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err // the caller gave up: keep nothing
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", sqlstore.Unavailable(ctx, err))
	}
	return nil
}

// results reads the results of the n statements of a batch and closes it;
// it returns the index of the first that failed, with its error.
func results(br pgx.BatchResults, n int) (int, error) {
	for i := range n {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return i, err
		}
	}
	return n, br.Close()
}

func (d *db) Close() error {
	d.closeOnce.Do(d.pool.Close)
	return nil
}

// querier runs the statements of one transaction. pgx prepares each
// statement once per connection and keeps it (its statement cache).
type querier struct{ tx pgx.Tx }

func (q querier) Exec(ctx context.Context, query string, args ...any) error {
	_, err := q.tx.Exec(ctx, query, args...)
	return sqlstore.Unavailable(ctx, err)
}

func (q querier) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rs, err := q.tx.Query(ctx, query, args...)
	if err != nil {
		return nil, sqlstore.Unavailable(ctx, err)
	}
	return rows{ctx: ctx, Rows: rs}, nil
}

func (q querier) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return row{ctx: ctx, r: q.tx.QueryRow(ctx, query, args...)}
}

// ExecAll implements sqlstore.Batcher: the statements go to the server in
// one pipeline.
func (q querier) ExecAll(ctx context.Context, stmts []sqlstore.Statement) (int, error) {
	b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(stmts))}
	for _, s := range stmts {
		b.Queue(s.Query, s.Args...)
	}
	br := q.tx.SendBatch(ctx, b)
	i, err := results(br, len(stmts))
	return i, sqlstore.Unavailable(ctx, err)
}

type rows struct {
	ctx context.Context
	pgx.Rows
}

func (r rows) Err() error { return sqlstore.Unavailable(r.ctx, r.Rows.Err()) }

type row struct {
	ctx context.Context
	r   pgx.Row
}

func (r row) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return sqlstore.ErrNoRows
	}
	return sqlstore.Unavailable(r.ctx, err)
}
