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
	d, err := openDB(ctx, abs, path, opts)
	if err != nil {
		return nil, err
	}
	err = sqlstore.Migrate(ctx, d, sqlstore.SQLite, "state file "+path, sqlstore.Migrations())
	if errors.Is(err, sqlstore.ErrNewerSchema) {
		d.Close()
		return nil, err
	}
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	s := &Store{Store: sqlstore.New(d, sqlstore.SQLite)}
	if err := d.prepare(ctx, s.Statements()); err != nil {
		d.Close()
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	return s, nil
}

// openDB opens the file at the absolute path abs (path as the caller named
// it, for errors): the write connection, in WAL mode, and the readers.
func openDB(ctx context.Context, abs, path string, opts Options) (*db, error) {
	w, mode, err := openConn(fileURI(abs), int(busyTimeout(opts).Milliseconds()), []string{
		"PRAGMA foreign_keys = 1",
		"PRAGMA synchronous = " + synchronous(opts),
		"PRAGMA journal_mode = WAL",
	})
	if err != nil {
		return nil, fmt.Errorf("open state file %s: %w", path, sqlstore.Unavailable(ctx, err))
	}
	d := &db{write: make(chan struct{}, 1), w: w}
	if mode != "wal" {
		d.Close()
		return nil, fmt.Errorf("open state file %s: journal mode is %q, not WAL (is it on a network file system?): %w",
			path, mode, sqlstore.Unavailable(ctx, errors.New("no WAL")))
	}
	if d.reader, err = sql.Open("sqlite", dsn(abs, opts)); err != nil {
		d.Close()
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	d.reader.SetMaxOpenConns(orDefault(opts.Readers, 4))
	d.reader.SetMaxIdleConns(orDefault(opts.Readers, 4))
	return d, nil
}

// orDefault returns v, or def when v is 0 or less.
func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// busyTimeout is how long a statement waits for another process's lock.
func busyTimeout(opts Options) time.Duration {
	if opts.BusyTimeout <= 0 {
		return 5 * time.Second
	}
	return opts.BusyTimeout
}

// synchronous is the value of PRAGMA synchronous.
func synchronous(opts Options) string {
	if opts.Sync == SyncFull {
		return "FULL"
	}
	return "NORMAL"
}

// fileURI is the file: URI of the absolute path abs (so that any path works).
func fileURI(abs string) string {
	return "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath()
}

// dsn is modernc.org/sqlite's name for the readers of the file at the
// absolute path abs: its URI with the pragmas of every connection.
func dsn(abs string, opts Options) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout(opts).Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+synchronous(opts)+")")
	q.Add("_pragma", "query_only(1)")
	return fileURI(abs) + "?" + q.Encode()
}

// db is the sqlstore.DB of a file: one write connection (a conn) and a few
// readers (database/sql), the store's statements prepared on both.
type db struct {
	// write is held by the Write that uses w: SQLite has one writer at a
	// time, and a conn is not safe for concurrent use.
	write chan struct{}
	w     *conn // nil once closed
	// The readers, and their prepared statements, by query, made once by
	// prepare before the store is used and only read afterwards.
	reader *sql.DB
	rstmts map[string]*sql.Stmt

	closeOnce sync.Once
	closeErr  error
}

// errClosed is the error of a Write after Close.
var errClosed = errors.New("sqlite: the state file is closed")

func (d *db) prepare(ctx context.Context, queries []string) error {
	d.rstmts = map[string]*sql.Stmt{}
	for _, q := range queries {
		if _, err := d.w.prepare(q); err != nil {
			return fmt.Errorf("prepare %s: %w", strings.Fields(q)[0], sqlstore.Unavailable(ctx, err))
		}
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

// Write runs fn in a BEGIN IMMEDIATE transaction of the write connection.
// It waits for the connection until ctx ends, and commits only while ctx
// has not: a save whose client gave up keeps nothing, as with database/sql.
func (d *db) Write(ctx context.Context, _ string, fn func(q sqlstore.Querier) error) error {
	select {
	case d.write <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-d.write }()
	c := d.w
	if c == nil {
		return sqlstore.Unavailable(ctx, errClosed)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.exec("BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlite: begin: %w", sqlstore.Unavailable(ctx, err))
	}
	defer c.rollbackOpen() // when fn or the commit failed, or fn panicked
	if err := fn(connQuerier{c}); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.exec("COMMIT"); err != nil {
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
		d.write <- struct{}{} // after the Write in progress
		var err error
		if d.w != nil {
			err = d.w.close()
			d.w = nil
		}
		<-d.write
		if d.reader != nil {
			err = errors.Join(d.reader.Close(), err)
		}
		d.closeErr = err
	})
	return d.closeErr
}

// querier runs the statements of one read transaction, through the prepared
// ones when it can.
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

// Exec runs a statement (a read transaction is query_only: never a write).
func (q *querier) Exec(ctx context.Context, query string, args ...any) error {
	var err error
	if s := q.stmt(ctx, query); s != nil {
		_, err = s.ExecContext(ctx, args...)
	} else {
		_, err = q.tx.ExecContext(ctx, query, args...)
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
