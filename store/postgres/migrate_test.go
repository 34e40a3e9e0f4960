package postgres

import (
	"context"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/internal/pgtest"
	"github.com/algoreg-kit/algoreg-kit/store/internal/sqlstore"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawDB connects to a fresh database as the engine does, without migrating it.
func rawDB(t *testing.T) *db {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.NewDatabase(t))
	require.NoError(t, err)
	d := &db{pool: pool}
	t.Cleanup(func() { d.Close() })
	return d
}

func (d *db) count(t *testing.T, query string) int {
	t.Helper()
	var n int
	require.NoError(t, d.pool.QueryRow(context.Background(), query).Scan(&n))
	return n
}

// The migration mechanism on PostgreSQL with a second, made-up migration:
// an older database is brought up to date, a failing migration leaves the
// database as it was (PostgreSQL's DDL is transactional), and a binary that
// knows fewer versions refuses the database.
func TestMigrate(t *testing.T) {
	ctx := context.Background()
	d := rawDB(t)
	const version = `SELECT COALESCE(MAX(version), 0) FROM schema_version`
	v1 := sqlstore.Migrations()[:1] // the mechanism, with the first migration and made-up ones
	require.NoError(t, sqlstore.Migrate(ctx, d, sqlstore.Postgres, "database x", v1))
	assert.Equal(t, 0, d.count(t, `SELECT count(*) FROM customers`))
	assert.Equal(t, 1, d.count(t, version))
	require.NoError(t, sqlstore.Migrate(ctx, d, sqlstore.Postgres, "database x", v1), "migrating twice")

	broken := append(v1[:1:1], sqlstore.Migration{Version: 2, Name: "0002_broken.sql",
		SQL: "CREATE TABLE half (x {{text}});\nCREATE TABLE half (x {{text}});\n"})
	err := sqlstore.Migrate(ctx, d, sqlstore.Postgres, "database x", broken)
	require.ErrorContains(t, err, "0002_broken.sql")
	assert.Equal(t, 1, d.count(t, version), "the version after a failed migration")
	assert.Equal(t, 0, d.count(t, `SELECT count(*) FROM pg_tables WHERE tablename = 'half'`),
		"a failed migration leaves none of its statements")

	v2 := append(v1[:1:1], sqlstore.Migration{Version: 2, Name: "0002_nickname.sql",
		SQL: "-- a nickname\nALTER TABLE customers ADD COLUMN nickname {{text}};\n"})
	require.NoError(t, sqlstore.Migrate(ctx, d, sqlstore.Postgres, "database x", v2))
	assert.Equal(t, 2, d.count(t, version))
	assert.Equal(t, 0, d.count(t, `SELECT count(nickname) FROM customers`))

	err = sqlstore.Migrate(ctx, d, sqlstore.Postgres, "database x", v1)
	require.ErrorIs(t, err, sqlstore.ErrNewerSchema)
	assert.EqualError(t, err, "database x has schema version 2; this algoreg-kit knows up to 1: upgrade algoreg-kit")
}
