package postgres_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/internal/pgtest"
	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/internal/sqlstore"
	"github.com/algoreg-kit/algoreg-kit/store/postgres"
	"github.com/algoreg-kit/algoreg-kit/store/storetest"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mustOpen opens the database at url and closes the store when the test ends.
func mustOpen(tb testing.TB, url string) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(context.Background(), url, postgres.Options{})
	require.NoError(tb, err)
	tb.Cleanup(func() { s.Close() })
	return s
}

// exec runs statements on their own connection to the database at url.
func exec(tb testing.TB, url string, statements ...string) {
	tb.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	require.NoError(tb, err)
	defer conn.Close(context.Background())
	for _, s := range statements {
		_, err := conn.Exec(context.Background(), s)
		require.NoError(tb, err, s)
	}
}

func TestStore(t *testing.T) {
	storetest.RunDurable(t, pgtest.NewDatabase, func(tb testing.TB, url string) store.Store { return mustOpen(tb, url) })
}

// A database that cannot be reached is one line that says what to check,
// names the URL without its password and wraps ErrUnavailable. (No server
// needed: nothing listens on port 1.)
func TestOpenUnreachable(t *testing.T) {
	for _, url := range []string{
		"postgres://algoreg:s3cret@127.0.0.1:1/algoreg?sslmode=disable&connect_timeout=5",
		"host=127.0.0.1 port=1 user=algoreg password=s3cret dbname=algoreg sslmode=disable connect_timeout=5",
	} {
		_, err := postgres.Open(context.Background(), url, postgres.Options{})
		require.Error(t, err)
		msg := err.Error()
		assert.ErrorIs(t, err, store.ErrUnavailable)
		assert.NotContains(t, msg, "s3cret", "the password is not shown")
		assert.NotContains(t, msg, "\n")
		assert.Contains(t, msg, "cannot reach the state database")
		assert.Contains(t, msg, "127.0.0.1")
		assert.Contains(t, msg, "is PostgreSQL running there")
	}
}

func TestOpenBadURL(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://algoreg:s3cret@127.0.0.1:notaport/db", postgres.Options{})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret")
	assert.Contains(t, err.Error(), "is not a PostgreSQL URL")
	_, err = postgres.Open(context.Background(), "postgres://127.0.0.1/db", postgres.Options{MaxConns: -1})
	assert.ErrorContains(t, err, "MaxConns is -1")
}

func TestOpenMissingDatabase(t *testing.T) {
	url := pgtest.NewDatabase(t)
	missing := strings.Replace(url, "/t_", "/missing_t_", 1)
	_, err := postgres.Open(context.Background(), missing, postgres.Options{})
	require.Error(t, err)
	assert.ErrorIs(t, err, store.ErrUnavailable)
	assert.Contains(t, err.Error(), "missing_t_")
	assert.Contains(t, err.Error(), "does not exist")
}

func TestClosed(t *testing.T) {
	s := mustOpen(t, pgtest.NewDatabase(t))
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "a second Close")
	storetest.CheckUnavailable(t, s)
}

// A database that goes away while the store is open: its connections are
// ended and no new one is allowed. Every method answers an error that wraps
// ErrUnavailable, and none panics.
func TestDatabaseGone(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := mustOpen(t, url)
	ctx := context.Background()
	require.NoError(t, s.Update(ctx, "acme", func(tx store.Tx) error {
		return tx.PutCustomer(&rules.Customer{ExternalID: "a"})
	}), "the store works before")
	name := url[strings.LastIndex(url, "/")+1:]
	name = strings.SplitN(name, "?", 2)[0]
	admin := pgtest.URL(t)
	t.Cleanup(func() { exec(t, admin, `ALTER DATABASE "`+name+`" ALLOW_CONNECTIONS true`) })
	exec(t, admin, `ALTER DATABASE "`+name+`" ALLOW_CONNECTIONS false`,
		`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '`+name+`'`)
	storetest.CheckUnavailable(t, s)
}

func TestNewerSchemaRefused(t *testing.T) {
	url := pgtest.NewDatabase(t)
	require.NoError(t, mustOpen(t, url).Close())
	exec(t, url, `INSERT INTO schema_version (version, applied_at) VALUES (98, 0), (99, 0)`)
	_, err := postgres.Open(context.Background(), url, postgres.Options{})
	require.Error(t, err)
	shown := strings.Replace(url, "algoreg@", "algoreg@", 1)
	assert.Equal(t, "PostgreSQL database "+shown+" has schema version 99; this algoreg-kit knows up to "+strconv.Itoa(len(sqlstore.Migrations()))+": upgrade algoreg-kit", err.Error())
	assert.NotErrorIs(t, err, store.ErrUnavailable, "a newer schema is no outage: retrying will not help")
}

// Three replicas that start at once on an empty database: all open, and
// the schema is made once.
func TestConcurrentFirstStart(t *testing.T) {
	url := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			s, err := postgres.Open(context.Background(), url, postgres.Options{})
			if assert.NoError(t, err) {
				s.Close()
			}
		})
	}
	wg.Wait()
	conn, err := pgx.Connect(context.Background(), url)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `SELECT version, count(*) FROM schema_version GROUP BY version ORDER BY version`)
	require.NoError(t, err)
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Version, N int }])
	require.NoError(t, err)
	var want []struct{ Version, N int }
	for _, m := range sqlstore.Migrations() {
		want = append(want, struct{ Version, N int }{m.Version, 1})
	}
	assert.Equal(t, want, got, "each version applied once")
}
