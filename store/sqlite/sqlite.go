package sqlite

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/algoreg-kit/algoreg-kit/store/internal/sqlstore"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, for whoever reads the file with database/sql (tests do)
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
		"PRAGMA cache_size = -16384", // 16 MiB (SQLite's default: 2): a replay of 6,400 customers read half the pages again (README)
		"PRAGMA journal_mode = WAL",
		"PRAGMA temp_store = MEMORY", // statement journals in memory: a multi-row upsert's spilled to a temporary file (README)
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
	d.readers = make(chan *conn, orDefault(opts.Readers, 4))
	for range cap(d.readers) {
		r, _, err := openConn(fileURI(abs), int(busyTimeout(opts).Milliseconds()), []string{
			"PRAGMA foreign_keys = 1",
			"PRAGMA query_only = 1",
		})
		if err != nil {
			for len(d.readers) < cap(d.readers) {
				d.readers <- nil // for Close, which takes them all
			}
			d.Close()
			return nil, fmt.Errorf("open state file %s: %w", path, sqlstore.Unavailable(ctx, err))
		}
		d.readers <- r
	}
	c, _, err := openConn(fileURI(abs), int(busyTimeout(opts).Milliseconds()), []string{
		"PRAGMA synchronous = " + synchronous(opts), // the writer's: a checkpoint syncs as it says
	})
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("open state file %s: %w", path, sqlstore.Unavailable(ctx, err))
	}
	d.ckpt = newCheckpointer(c)
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

// db is the sqlstore.DB of a file: one write connection and a few readers
// (conns), the store's statements prepared on each.
type db struct {
	// write is held by the Write that uses w: SQLite has one writer at a
	// time, and a conn is not safe for concurrent use.
	write chan struct{}
	w     *conn // nil once closed
	// readers holds the read connections not in use (nil ones once closed).
	readers chan *conn
	// ckpt copies the WAL into the file after the commits (checkpoint.go;
	// nil until openDB has opened every connection).
	ckpt *checkpointer

	closeOnce sync.Once
	closeErr  error
}

// errClosed is the error of a Write or Read after Close.
var errClosed = errors.New("sqlite: the state file is closed")

// prepare prepares the store's statements on every connection (the SELECTs
// only on the readers), so that a statement that does not compile fails
// Open.
func (d *db) prepare(ctx context.Context, queries []string) error {
	var readers []*conn
	defer func() {
		for _, r := range readers {
			d.readers <- r
		}
	}()
	for range cap(d.readers) {
		readers = append(readers, <-d.readers)
	}
	for _, q := range queries {
		conns := []*conn{d.w}
		if strings.HasPrefix(q, "SELECT") {
			conns = append(conns, readers...)
		}
		for _, c := range conns {
			if _, err := c.prepare(q); err != nil {
				return fmt.Errorf("prepare %s: %w", strings.Fields(q)[0], sqlstore.Unavailable(ctx, err))
			}
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
	defer d.release()
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
	if d.ckpt != nil {
		d.ckpt.committed()
	}
	return nil
}

// release gives the write connection to the next writer and yields the
// processor to it. Write's waiters queue on d.write; the one a release
// wakes is put to run next on this processor, but only once the goroutine
// that released it stops running, which would be after it has answered its
// request (~0.2 ms for 100 customers): the file's one writer, which bounds
// its rate, would stand idle that long between transactions (README).
func (d *db) release() {
	<-d.write
	runtime.Gosched()
}

// Read runs fn in a read transaction of a reader: BEGIN DEFERRED, whose
// first statement takes the snapshot that the others see too.
func (d *db) Read(ctx context.Context, fn func(q sqlstore.Querier) error) error {
	var c *conn
	select {
	case c = <-d.readers:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { d.readers <- c }()
	if c == nil {
		return sqlstore.Unavailable(ctx, errClosed)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.exec("BEGIN"); err != nil {
		return fmt.Errorf("sqlite: begin: %w", sqlstore.Unavailable(ctx, err))
	}
	defer c.rollbackOpen()
	return fn(connQuerier{c})
}

func (d *db) Close() error {
	d.closeOnce.Do(func() {
		var errs []error
		if d.ckpt != nil {
			errs = append(errs, d.ckpt.close())
		}
		d.write <- struct{}{} // after the Write in progress
		if d.w != nil {
			errs = append(errs, d.w.close())
			d.w = nil
		}
		<-d.write
		if d.readers != nil {
			for range cap(d.readers) { // after the Reads in progress
				if r := <-d.readers; r != nil {
					errs = append(errs, r.close())
				}
			}
			for range cap(d.readers) {
				d.readers <- nil
			}
		}
		d.closeErr = errors.Join(errs...)
	})
	return d.closeErr
}
