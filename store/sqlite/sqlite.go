package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/algoreg-kit/algoreg-kit/store/internal/sqlstore"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Sync says when a commit is on disk.
type Sync int

const (
	// SyncNormal (synchronous=NORMAL): a commit survives a crash of the
	// process; the last commits may be lost on a power loss or a crash of the
	// operating system, never half of one.
	SyncNormal Sync = iota
	// SyncFull (synchronous=FULL): a commit survives a power loss too; every
	// commit waits for an fsync.
	SyncFull
)

// Options are the settings of Open. The zero value is the default.
type Options struct {
	Sync Sync
	// BusyTimeout is how long a statement waits for a lock another process
	// holds before the store answers ErrUnavailable; 0 means 5 s.
	BusyTimeout time.Duration
	// Readers is the number of read connections; 0 means 4.
	Readers int
}

// Store is the state in one SQLite file. It is safe for concurrent use. The
// caller should call Close when finished.
type Store struct {
	*sqlstore.Store
}

// Open opens the state file at path, creating it when it does not exist,
// and migrates its schema. A file whose schema is newer than this
// algoreg-kit is refused. When the file cannot be opened (a missing
// directory, no permission, not a database) the error wraps
// store.ErrUnavailable.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: open state file: no path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	d := &db{}
	if d.writer, err = sql.Open("sqlite", dsn(abs, opts, true)); err != nil {
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	d.writer.SetMaxOpenConns(1) // SQLite has one writer at a time
	d.writer.SetConnMaxIdleTime(0)
	if d.reader, err = sql.Open("sqlite", dsn(abs, opts, false)); err != nil {
		d.writer.Close()
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	d.reader.SetMaxOpenConns(orDefault(opts.Readers, 4))
	d.reader.SetMaxIdleConns(orDefault(opts.Readers, 4))
	s, err := open(ctx, d, path)
	if err != nil {
		d.Close()
		return nil, err
	}
	return s, nil
}

// open checks WAL mode, migrates and prepares the store's statements.
func open(ctx context.Context, d *db, path string) (*Store, error) {
	var mode string
	if err := d.writer.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return nil, fmt.Errorf("open state file %s: %w", path, sqlstore.Unavailable(ctx, err))
	}
	if mode != "wal" {
		return nil, fmt.Errorf("open state file %s: journal mode is %q, not WAL (is it on a network file system?): %w",
			path, mode, sqlstore.Unavailable(ctx, errors.New("no WAL")))
	}
	err := sqlstore.Migrate(ctx, d, sqlstore.SQLite, "state file "+path, sqlstore.Migrations())
	if errors.Is(err, sqlstore.ErrNewerSchema) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	s := &Store{Store: sqlstore.New(d, sqlstore.SQLite)}
	if err := d.prepare(ctx, s.Statements()); err != nil {
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	return s, nil
}

// orDefault returns v, or def when v is 0 or less.
func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// dsn is modernc.org/sqlite's name for the file at the absolute path abs: a
// file: URI (so that any path works), with the pragmas of every connection.
func dsn(abs string, opts Options, writer bool) string {
	timeout := opts.BusyTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	synchronous := "NORMAL"
	if opts.Sync == SyncFull {
		synchronous = "FULL"
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", timeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+synchronous+")")
	if writer {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate") // take the write lock at BEGIN, not at the first write
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() + "?" + q.Encode()
}

// db is the sqlstore.DB of a file: one write connection, a few readers, and
// the store's statements prepared on both.
type db struct {
	writer, reader *sql.DB
	// prepared statements, by query, made once by prepare before the
	// store is used and only read afterwards.
	wstmts, rstmts map[string]*sql.Stmt

	closeOnce sync.Once
	closeErr  error
}

func (d *db) prepare(ctx context.Context, queries []string) error {
	d.wstmts, d.rstmts = map[string]*sql.Stmt{}, map[string]*sql.Stmt{}
	for _, q := range queries {
		w, err := d.writer.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %s: %w", strings.Fields(q)[0], sqlstore.Unavailable(ctx, err))
		}
		d.wstmts[q] = w
		if strings.HasPrefix(q, "SELECT") {
			r, err := d.reader.PrepareContext(ctx, q)
			if err != nil {
				return fmt.Errorf("prepare %s: %w", strings.Fields(q)[0], sqlstore.Unavailable(ctx, err))
			}
			d.rstmts[q] = r
		}
	}
	return nil
}

func (d *db) Write(ctx context.Context, _ string, fn func(q sqlstore.Querier) error) error {
	tx, err := d.writer.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", sqlstore.Unavailable(ctx, err))
	}
	if err := fn(&querier{tx: tx, stmts: d.wstmts}); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", sqlstore.Unavailable(ctx, err))
	}
	return nil
}

func (d *db) Read(ctx context.Context, fn func(q sqlstore.Querier) error) error {
	tx, err := d.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}) // BEGIN DEFERRED: one snapshot
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", sqlstore.Unavailable(ctx, err))
	}
	defer tx.Rollback()
	return fn(&querier{tx: tx, stmts: d.rstmts})
}

func (d *db) Close() error {
	d.closeOnce.Do(func() {
		d.closeErr = errors.Join(d.reader.Close(), d.writer.Close())
	})
	return d.closeErr
}

// querier runs the statements of one transaction, through the prepared ones
// when it can.
type querier struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
	inTx  map[string]*sql.Stmt // stmts bound to tx
}

func (q *querier) stmt(ctx context.Context, query string) *sql.Stmt {
	if s, ok := q.inTx[query]; ok {
		return s
	}
	prepared, ok := q.stmts[query]
	if !ok {
		return nil
	}
	if q.inTx == nil {
		q.inTx = map[string]*sql.Stmt{}
	}
	s := q.tx.StmtContext(ctx, prepared) // reuses the statement prepared on the connection
	q.inTx[query] = s
	return s
}

// Exec checks ctx before the statement instead of watching it during the
// statement: modernc.org/sqlite watches a context that can end with a
// goroutine per statement, and a save runs one statement per record. The
// transaction, begun with ctx, is rolled back by database/sql once ctx is
// done, so a cancelled save still keeps nothing.
func (q *querier) Exec(ctx context.Context, query string, args ...any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	run := context.WithoutCancel(ctx)
	var err error
	if s := q.stmt(run, query); s != nil {
		_, err = s.ExecContext(run, args...)
	} else {
		_, err = q.tx.ExecContext(run, query, args...)
	}
	return sqlstore.Unavailable(ctx, err)
}

func (q *querier) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	var (
		rs  *sql.Rows
		err error
	)
	if s := q.stmt(ctx, query); s != nil {
		rs, err = s.QueryContext(ctx, args...)
	} else {
		rs, err = q.tx.QueryContext(ctx, query, args...)
	}
	if err != nil {
		return nil, sqlstore.Unavailable(ctx, err)
	}
	return rows{ctx: ctx, Rows: rs}, nil
}

func (q *querier) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	var r *sql.Row
	if s := q.stmt(ctx, query); s != nil {
		r = s.QueryRowContext(ctx, args...)
	} else {
		r = q.tx.QueryRowContext(ctx, query, args...)
	}
	return row{ctx: ctx, r: r}
}

type rows struct {
	ctx context.Context
	*sql.Rows
}

func (r rows) Err() error { return sqlstore.Unavailable(r.ctx, r.Rows.Err()) }
func (r rows) Close()     { r.Rows.Close() }

type row struct {
	ctx context.Context
	r   *sql.Row
}

func (r row) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return sqlstore.ErrNoRows
	}
	return sqlstore.Unavailable(r.ctx, err)
}
