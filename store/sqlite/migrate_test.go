package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/store/internal/sqlstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawDB opens the file at path as the engine does, without migrating it.
func rawDB(t *testing.T, path string) *db {
	t.Helper()
	d, err := openDB(context.Background(), path, path, Options{})
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	return d
}

// count returns the count(*) that query selects.
func count(t *testing.T, d *db, query string) int {
	t.Helper()
	var n int
	require.NoError(t, d.Write(context.Background(), "", func(q sqlstore.Querier) error {
		return q.QueryRow(context.Background(), query).Scan(&n)
	}))
	return n
}

func version(t *testing.T, d *db) int {
	t.Helper()
	return count(t, d, `SELECT COALESCE(MAX(version), 0) FROM schema_version`)
}

// The migration mechanism with a second, made-up migration: an older file is
// brought up to date, a failing migration leaves the file as it was, and a
// binary that knows fewer versions refuses the file.
func TestMigrate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	d := rawDB(t, path)
	v1 := sqlstore.Migrations()[:1] // the mechanism, with the first migration and made-up ones
	require.NoError(t, sqlstore.Migrate(ctx, d, sqlstore.SQLite, "state file x", v1))
	count(t, d, `SELECT count(*) FROM customers`)
	assert.Equal(t, 1, version(t, d))
	require.NoError(t, sqlstore.Migrate(ctx, d, sqlstore.SQLite, "state file x", v1), "migrating twice")

	broken := append(v1[:1:1], sqlstore.Migration{Version: 2, Name: "0002_broken.sql",
		SQL: "CREATE TABLE half (x {{text}});\nCREATE TABLE half (x {{text}});\n"})
	err := sqlstore.Migrate(ctx, d, sqlstore.SQLite, "state file x", broken)
	require.ErrorContains(t, err, "0002_broken.sql")
	assert.Equal(t, 1, version(t, d), "the version after a failed migration")
	assert.Equal(t, 0, count(t, d, `SELECT count(*) FROM sqlite_schema WHERE name = 'half'`), "a failed migration leaves none of its statements")

	v2 := append(v1[:1:1], sqlstore.Migration{Version: 2, Name: "0002_nickname.sql",
		SQL: "-- a nickname\nALTER TABLE customers ADD COLUMN nickname {{text}};\n"})
	require.NoError(t, sqlstore.Migrate(ctx, d, sqlstore.SQLite, "state file x", v2))
	assert.Equal(t, 2, version(t, d))
	count(t, d, `SELECT count(nickname) FROM customers`)

	err = sqlstore.Migrate(ctx, d, sqlstore.SQLite, "state file x", v1)
	require.ErrorIs(t, err, sqlstore.ErrNewerSchema)
	assert.EqualError(t, err, "state file x has schema version 2; this algoreg-kit knows up to 1: upgrade algoreg-kit")
}
