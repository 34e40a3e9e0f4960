package sqlstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one numbered step of the schema.
type Migration struct {
	Version int
	Name    string // the file's name, for errors
	SQL     string // statements ended by ";" at the end of a line, with {{type}} placeholders
}

// Migrations returns the schema's migrations, migrations/NNNN_name.sql, in order.
func Migrations() []Migration {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		panic(err) // a constant, valid pattern
	}
	var ms []Migration
	for i, name := range names {
		b, err := migrationFiles.ReadFile(name)
		if err != nil {
			panic(err) // embedded
		}
		base := strings.TrimPrefix(name, "migrations/")
		n, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil || n != i+1 {
			panic("sqlstore: migration " + base + " is not numbered " + strconv.Itoa(i+1))
		}
		ms = append(ms, Migration{Version: n, Name: base, SQL: string(b)})
	}
	return ms
}

// ErrNewerSchema is wrapped by the error of Migrate for a database that a
// newer algoreg-kit made.
var ErrNewerSchema = errors.New("the schema is newer than this algoreg-kit")

// newerSchemaError is the refusal of a database a newer algoreg-kit made.
type newerSchemaError struct {
	what           string
	version, known int
}

func (e *newerSchemaError) Error() string {
	return fmt.Sprintf("%s has schema version %d; this algoreg-kit knows up to %d: upgrade algoreg-kit", e.what, e.version, e.known)
}

func (e *newerSchemaError) Is(target error) bool { return target == ErrNewerSchema }

// migrationLock serialises the processes that migrate one database at once.
const migrationLock = "algoreg-kit: schema migration"

// Migrate brings the database to the last version of ms in one transaction,
// recording each version applied in schema_version. A database whose version
// is newer than ms knows is refused with an error that names it as what
// ("state file state.db") and wraps ErrNewerSchema.
func Migrate(ctx context.Context, db DB, d *Dialect, what string, ms []Migration) error {
	return db.Write(ctx, migrationLock, func(q Querier) error {
		err := q.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
    version    BIGINT PRIMARY KEY,
    applied_at BIGINT NOT NULL -- Unix nanoseconds
)`)
		if err != nil {
			return fmt.Errorf("%s: create schema_version: %w", what, err)
		}
		var version int
		if err := q.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&version); err != nil {
			return fmt.Errorf("%s: read the schema version: %w", what, err)
		}
		if version > len(ms) {
			return &newerSchemaError{what: what, version: version, known: len(ms)}
		}
		for _, m := range ms[version:] {
			for _, stmt := range statements(d.types.Replace(m.SQL)) {
				if err := q.Exec(ctx, stmt); err != nil {
					return fmt.Errorf("%s: migration %s: %w", what, m.Name, err)
				}
			}
			err := q.Exec(ctx, d.Rebind(`INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)`),
				m.Version, time.Now().UnixNano())
			if err != nil {
				return fmt.Errorf("%s: record schema version %d: %w", what, m.Version, err)
			}
		}
		return nil
	})
}

// statements splits a migration into its statements, dropping those that
// are only comments.
func statements(sql string) []string {
	var out []string
	for _, stmt := range strings.Split(sql, ";\n") {
		code := false
		for _, line := range strings.Split(stmt, "\n") {
			if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "--") {
				code = true
			}
		}
		if code {
			out = append(out, strings.TrimSpace(stmt))
		}
	}
	return out
}
