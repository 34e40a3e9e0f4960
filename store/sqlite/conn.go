package sqlite

import (
	"context"
	"errors"
	"fmt"
	"unsafe"

	"github.com/algoreg-kit/algoreg-kit/store/internal/sqlstore"
	"modernc.org/libc"
	"modernc.org/libc/sys/types"
	sqlite3 "modernc.org/sqlite/lib"
)

// conn is the write connection: SQLite called directly through
// modernc.org/sqlite/lib, not through database/sql and the driver. A save of
// 100 customers binds ~1,600 values and reads ~1,500 columns, and each of
// those went through database/sql's locks and conversions and the driver's
// per-value C allocation and, the connection being opened
// SQLITE_OPEN_FULLMUTEX, two acquisitions of the connection's mutex: together
// about half of the CPU of the one writer. conn is opened
// SQLITE_OPEN_NOMUTEX (SQLite's global mutexes still guard what connections
// share), keeps every statement prepared, copies the text of a statement's
// arguments into one buffer of C memory of that statement, and is used by one
// goroutine at a time: db.Write holds db.write while it runs.
type conn struct {
	tls     *libc.TLS
	db      uintptr          // sqlite3*
	scratch uintptr          // C memory for the out-parameters of open and prepare
	stmts   map[string]*stmt // prepared, by query
}

// stmt is a prepared statement of a conn.
type stmt struct {
	p     uintptr // sqlite3_stmt*
	cols  int
	buf   uintptr // C memory that the text and blob arguments are copied into
	size  int     // of buf
	inUse bool    // its rows are open: a query of the same text meanwhile prepares its own
	rest  string  // the statements of the query after this one (a migration's), run by exec
}

// openConn opens the file of uri (a file: URI) for reading and writing and
// runs pragmas, statements that may return rows. It returns the first
// column of the last row of the last pragma, as text.
func openConn(uri string, busyTimeoutMS int, pragmas []string) (_ *conn, last string, err error) {
	c := &conn{tls: libc.NewTLS(), stmts: map[string]*stmt{}}
	if c.scratch = libc.Xmalloc(c.tls, 2*8); c.scratch == 0 {
		c.tls.Close()
		return nil, "", errors.New("sqlite: out of memory")
	}
	name, err := libc.CString(uri)
	if err != nil {
		c.close()
		return nil, "", err
	}
	defer libc.Xfree(c.tls, name)
	rc := sqlite3.Xsqlite3_open_v2(c.tls, name, c.scratch,
		sqlite3.SQLITE_OPEN_READWRITE|sqlite3.SQLITE_OPEN_CREATE|sqlite3.SQLITE_OPEN_URI|sqlite3.SQLITE_OPEN_NOMUTEX, 0)
	c.db = *(*uintptr)(unsafe.Add(nil, c.scratch))
	if rc != sqlite3.SQLITE_OK {
		err := c.error(rc)
		c.close()
		return nil, "", err
	}
	sqlite3.Xsqlite3_extended_result_codes(c.tls, c.db, 1)
	sqlite3.Xsqlite3_busy_timeout(c.tls, c.db, int32(busyTimeoutMS))
	for _, p := range pragmas {
		rows, err := c.query(p)
		if err == nil {
			for rows.Next() {
				err = rows.Scan(&last)
			}
			err = errors.Join(err, rows.err)
			rows.Close()
		}
		if err != nil {
			c.close()
			return nil, "", fmt.Errorf("%s: %w", p, err)
		}
	}
	return c, last, nil
}

// close finalizes the statements and closes the connection.
func (c *conn) close() error {
	for _, s := range c.stmts {
		s.finalize(c)
	}
	c.stmts = nil
	var err error
	if c.db != 0 {
		if rc := sqlite3.Xsqlite3_close_v2(c.tls, c.db); rc != sqlite3.SQLITE_OK {
			err = c.error(rc)
		}
		c.db = 0
	}
	libc.Xfree(c.tls, c.scratch)
	c.tls.Close()
	return err
}

// error is the error of a result code of the connection, with SQLite's
// message.
func (c *conn) error(rc int32) error {
	msg := libc.GoString(sqlite3.Xsqlite3_errstr(c.tls, rc))
	if c.db != 0 {
		if m := libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db)); m != msg {
			msg += ": " + m
		}
	}
	return fmt.Errorf("sqlite: %s (%d)", msg, rc)
}

// prepare returns the statement of query, prepared on first use.
func (c *conn) prepare(query string) (*stmt, error) {
	if s := c.stmts[query]; s != nil && !s.inUse {
		return s, nil
	}
	s, err := c.prepareNew(query)
	if err != nil {
		return nil, err
	}
	if c.stmts[query] == nil {
		c.stmts[query] = s
	}
	return s, nil
}

// prepareNew prepares query, which must be one statement.
func (c *conn) prepareNew(query string) (*stmt, error) {
	z, err := libc.CString(query)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, z)
	pp, tail := c.scratch, c.scratch+8
	if rc := sqlite3.Xsqlite3_prepare_v3(c.tls, c.db, z, int32(len(query)), sqlite3.SQLITE_PREPARE_PERSISTENT, pp, tail); rc != sqlite3.SQLITE_OK {
		return nil, c.error(rc)
	}
	s := &stmt{p: *(*uintptr)(unsafe.Add(nil, pp))}
	rest := *(*uintptr)(unsafe.Add(nil, tail))
	if s.p == 0 {
		return nil, fmt.Errorf("sqlite: no statement: %.40s", query)
	}
	if off := int(rest - z); off < len(query) { // another statement, or comments
		rc := sqlite3.Xsqlite3_prepare_v2(c.tls, c.db, rest, -1, pp, tail)
		next := *(*uintptr)(unsafe.Add(nil, pp))
		sqlite3.Xsqlite3_finalize(c.tls, next)
		if rc != sqlite3.SQLITE_OK {
			err := c.error(rc)
			s.finalize(c)
			return nil, err
		}
		if next != 0 {
			s.rest = query[off:]
		}
	}
	s.cols = int(sqlite3.Xsqlite3_column_count(c.tls, s.p))
	return s, nil
}

func (s *stmt) finalize(c *conn) {
	sqlite3.Xsqlite3_finalize(c.tls, s.p)
	libc.Xfree(c.tls, s.buf)
	s.p, s.buf, s.size = 0, 0, 0
}

// bind binds args to the statement's parameters ?1, ?2, …: nil is NULL, a
// pointer what it points to, strings and byte slices are copied into s.buf,
// which stays valid until the next bind.
func (s *stmt) bind(c *conn, args []any) error {
	if n := int(sqlite3.Xsqlite3_bind_parameter_count(c.tls, s.p)); n != len(args) {
		return fmt.Errorf("sqlite: %d arguments for %d parameters", len(args), n)
	}
	if size := 1 + copiedBytes(args); size > s.size { // never 0: a text of length 0 needs a pointer that is not NULL
		libc.Xfree(c.tls, s.buf)
		s.size = max(size, 2*s.size, 256)
		if s.buf = libc.Xmalloc(c.tls, types.Size_t(s.size)); s.buf == 0 {
			s.size = 0
			return errors.New("sqlite: out of memory")
		}
	}
	mem := unsafe.Slice((*byte)(unsafe.Add(nil, s.buf)), s.size)
	off := 0
	for i, a := range args {
		idx := int32(i + 1)
		text := func(v string) int32 {
			copy(mem[off:], v)
			off += len(v)
			return sqlite3.Xsqlite3_bind_text(c.tls, s.p, idx, s.buf+uintptr(off-len(v)), int32(len(v)), sqlite3.SQLITE_STATIC)
		}
		var rc int32
		switch a := a.(type) {
		case nil:
			rc = sqlite3.Xsqlite3_bind_null(c.tls, s.p, idx)
		case string:
			rc = text(a)
		case *string:
			if a == nil {
				rc = sqlite3.Xsqlite3_bind_null(c.tls, s.p, idx)
			} else {
				rc = text(*a)
			}
		case *int64:
			if a == nil {
				rc = sqlite3.Xsqlite3_bind_null(c.tls, s.p, idx)
			} else {
				rc = sqlite3.Xsqlite3_bind_int64(c.tls, s.p, idx, *a)
			}
		case *bool:
			if a == nil {
				rc = sqlite3.Xsqlite3_bind_null(c.tls, s.p, idx)
			} else {
				rc = sqlite3.Xsqlite3_bind_int64(c.tls, s.p, idx, boolInt(*a))
			}
		case []byte:
			if a == nil {
				rc = sqlite3.Xsqlite3_bind_null(c.tls, s.p, idx)
				break
			}
			copy(mem[off:], a)
			rc = sqlite3.Xsqlite3_bind_blob(c.tls, s.p, idx, s.buf+uintptr(off), int32(len(a)), sqlite3.SQLITE_STATIC)
			off += len(a)
		case int64:
			rc = sqlite3.Xsqlite3_bind_int64(c.tls, s.p, idx, a)
		case int:
			rc = sqlite3.Xsqlite3_bind_int64(c.tls, s.p, idx, int64(a))
		case bool:
			rc = sqlite3.Xsqlite3_bind_int64(c.tls, s.p, idx, boolInt(a))
		case float64:
			rc = sqlite3.Xsqlite3_bind_double(c.tls, s.p, idx, a)
		default:
			return fmt.Errorf("sqlite: argument %d: unsupported type %T", idx, a)
		}
		if rc != sqlite3.SQLITE_OK {
			return c.error(rc)
		}
	}
	return nil
}

// copiedBytes is how many bytes of args bind copies into a statement's
// buffer: those of its strings and byte slices.
func copiedBytes(args []any) int {
	n := 0
	for _, a := range args {
		switch a := a.(type) {
		case string:
			n += len(a)
		case *string:
			if a != nil {
				n += len(*a)
			}
		case []byte:
			n += len(a)
		}
	}
	return n
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// exec runs the statements of query to their end; args are the first's.
func (c *conn) exec(query string, args ...any) error {
	for query != "" {
		rows, err := c.query(query, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
		}
		query, args = rows.s.rest, nil
		rows.Close()
		if rows.err != nil {
			return rows.err
		}
	}
	return nil
}

// rollbackOpen rolls back the transaction in progress, if there is one.
func (c *conn) rollbackOpen() {
	if sqlite3.Xsqlite3_get_autocommit(c.tls, c.db) == 0 {
		c.exec("ROLLBACK") // its error leaves nothing to do: the next BEGIN fails, and says why
	}
}

// query runs the first statement of query and returns its rows, which the
// caller must close.
func (c *conn) query(query string, args ...any) (*connRows, error) {
	s, err := c.prepare(query)
	if err != nil {
		return nil, err
	}
	if err := s.bind(c, args); err != nil {
		sqlite3.Xsqlite3_clear_bindings(c.tls, s.p)
		if c.stmts[query] != s {
			s.finalize(c)
		}
		return nil, err
	}
	s.inUse = true
	return &connRows{c: c, s: s, owned: c.stmts[query] != s}, nil
}

// connRows are the rows of a statement of a conn: sqlstore.Rows.
type connRows struct {
	c     *conn
	s     *stmt
	owned bool // s is not the cached statement: finalize it on Close
	err   error
	done  bool
}

func (r *connRows) Next() bool {
	if r.done {
		return false
	}
	switch rc := sqlite3.Xsqlite3_step(r.c.tls, r.s.p); rc {
	case sqlite3.SQLITE_ROW:
		return true
	case sqlite3.SQLITE_DONE:
	default:
		r.err = r.c.error(rc)
	}
	r.done = true
	return false
}

func (r *connRows) Err() error { return r.err }

func (r *connRows) Close() {
	if r.s == nil {
		return
	}
	r.done = true
	sqlite3.Xsqlite3_reset(r.c.tls, r.s.p) // its error is the one step returned
	sqlite3.Xsqlite3_clear_bindings(r.c.tls, r.s.p)
	r.s.inUse = false
	if r.owned {
		r.s.finalize(r.c)
	}
	r.s = nil
}

// Scan reads the current row into dest: *string, *[]byte (nil for NULL),
// *int64, *int, *bool and **int64, **bool (nil for NULL), as database/sql
// would.
func (r *connRows) Scan(dest ...any) error {
	if len(dest) != r.s.cols {
		return fmt.Errorf("sqlite: %d destinations for %d columns", len(dest), r.s.cols)
	}
	tls, p := r.c.tls, r.s.p
	// The text of the *string columns is copied into one allocation for the
	// row, of which they are substrings.
	var views [32][]byte
	total := 0
	for i, d := range dest[:min(len(dest), len(views))] {
		if _, ok := d.(*string); ok {
			typ := sqlite3.Xsqlite3_column_type(tls, p, int32(i))
			if typ == sqlite3.SQLITE_NULL {
				return fmt.Errorf("sqlite: column %d is NULL, which %T cannot hold", i, d)
			}
			views[i] = r.bytes(int32(i), typ)
			total += len(views[i])
		}
	}
	text := make([]byte, 0, total)
	for i, d := range dest {
		col := int32(i)
		if s, ok := d.(*string); ok && i < len(views) {
			start := len(text)
			if text = append(text, views[i]...); len(text) > start {
				*s = unsafe.String(&text[start], len(text)-start)
			} else {
				*s = ""
			}
			continue
		}
		typ := sqlite3.Xsqlite3_column_type(tls, p, col)
		if typ == sqlite3.SQLITE_NULL {
			switch d := d.(type) {
			case *[]byte:
				*d = nil
			case **int64:
				*d = nil
			case **bool:
				*d = nil
			default:
				return fmt.Errorf("sqlite: column %d is NULL, which %T cannot hold", i, d)
			}
			continue
		}
		switch d := d.(type) {
		case *string:
			*d = string(r.bytes(col, typ))
		case *[]byte:
			if b := r.bytes(col, typ); len(b) > 0 || typ == sqlite3.SQLITE_TEXT {
				*d = append([]byte{}, b...)
			} else {
				*d = nil // an empty blob, as the driver reads it
			}
		case *int64:
			*d = sqlite3.Xsqlite3_column_int64(tls, p, col)
		case *int:
			*d = int(sqlite3.Xsqlite3_column_int64(tls, p, col))
		case *bool:
			*d = sqlite3.Xsqlite3_column_int64(tls, p, col) != 0
		case **int64:
			v := sqlite3.Xsqlite3_column_int64(tls, p, col)
			*d = &v
		case **bool:
			v := sqlite3.Xsqlite3_column_int64(tls, p, col) != 0
			*d = &v
		default:
			return fmt.Errorf("sqlite: column %d: unsupported destination %T", i, d)
		}
	}
	return nil
}

// bytes returns the text or blob of column col, in SQLite's memory: valid
// until the next step.
func (r *connRows) bytes(col, typ int32) []byte {
	var p uintptr
	if typ == sqlite3.SQLITE_BLOB {
		p = sqlite3.Xsqlite3_column_blob(r.c.tls, r.s.p, col)
	} else {
		p = sqlite3.Xsqlite3_column_text(r.c.tls, r.s.p, col)
	}
	n := int(sqlite3.Xsqlite3_column_bytes(r.c.tls, r.s.p, col))
	if p == 0 || n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Add(nil, p)), n)
}

// connQuerier is the sqlstore.Querier of a write transaction on a conn. Each
// statement checks the context before it runs, rather than watching it while
// it runs: a statement is short, and a transaction whose context ended is
// rolled back by db.Write.
type connQuerier struct{ c *conn }

func (q connQuerier) Exec(ctx context.Context, query string, args ...any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return sqlstore.Unavailable(ctx, q.c.exec(query, args...))
}

func (q connQuerier) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := q.c.query(query, args...)
	if err != nil {
		return nil, sqlstore.Unavailable(ctx, err)
	}
	return unavailableRows{ctx: ctx, connRows: rows}, nil
}

func (q connQuerier) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return connRow{ctx: ctx, q: q, query: query, args: args}
}

// unavailableRows wraps the error of connRows as sqlstore.Unavailable does.
type unavailableRows struct {
	ctx context.Context
	*connRows
}

func (r unavailableRows) Err() error { return sqlstore.Unavailable(r.ctx, r.connRows.Err()) }

// connRow is the one row of a query, run by Scan.
type connRow struct {
	ctx   context.Context
	q     connQuerier
	query string
	args  []any
}

func (r connRow) Scan(dest ...any) error {
	rows, err := r.q.Query(r.ctx, r.query, r.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sqlstore.ErrNoRows
	}
	return sqlstore.Unavailable(r.ctx, rows.Scan(dest...))
}
