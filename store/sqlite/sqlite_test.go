package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/internal/sqlstore"
	"github.com/algoreg-kit/algoreg-kit/store/sqlite"
	"github.com/algoreg-kit/algoreg-kit/store/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mustOpen opens the state file at path and closes it when the test ends.
func mustOpen(tb testing.TB, path string, opts sqlite.Options) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), path, opts)
	require.NoError(tb, err)
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts sqlite.Options
	}{
		{"normal", sqlite.Options{}},
		{"full", sqlite.Options{Sync: sqlite.SyncFull, Readers: 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			storetest.RunDurable(t,
				func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "state.db") },
				func(tb testing.TB, path string) store.Store { return mustOpen(tb, path, tt.opts) })
		})
	}
}

// Two stores on one file are two processes: their updates of one business
// are serialised by the file's write lock.
func TestTwoStoresOnOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	a, b := mustOpen(t, path, sqlite.Options{}), mustOpen(t, path, sqlite.Options{})
	ctx := context.Background()
	require.NoError(t, a.Update(ctx, "acme", func(tx store.Tx) error {
		return tx.PutCustomer(&rules.Customer{ExternalID: "counter", HasKYCLevel: true})
	}))
	var wg sync.WaitGroup
	for _, s := range []*sqlite.Store{a, b, a, b} {
		wg.Go(func() {
			for range 25 {
				err := s.Update(ctx, "acme", func(tx store.Tx) error {
					c, _, err := tx.Customer("counter")
					if err != nil {
						return err
					}
					c.KYCLevel++
					return tx.PutCustomer(&c)
				})
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	require.NoError(t, b.View(ctx, "acme", func(tx store.Tx) error {
		c, _, err := tx.Customer("counter")
		assert.Equal(t, int64(100), c.KYCLevel)
		return err
	}))
	sa, err := a.Secret(ctx)
	require.NoError(t, err)
	sb, err := b.Secret(ctx)
	require.NoError(t, err)
	assert.Equal(t, sa, sb, "one secret per file")
}

func TestOpenFails(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "not-a-database")
	require.NoError(t, os.WriteFile(notDB, []byte("this is not an SQLite file, it is text that goes on and on"), 0o600))
	for name, path := range map[string]string{
		"missing directory": filepath.Join(dir, "removed", "state.db"),
		"a directory":       dir,
		"not a database":    notDB,
	} {
		t.Run(name, func(t *testing.T) {
			s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			assert.ErrorIs(t, err, store.ErrUnavailable)
			assert.Contains(t, err.Error(), "state file "+path)
		})
	}
	_, err := sqlite.Open(context.Background(), "", sqlite.Options{})
	assert.Error(t, err, "an empty path")
}

func TestClosed(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "state.db"), sqlite.Options{})
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "a second Close")
	storetest.CheckUnavailable(t, s)
}

func TestOpenKeepsAnEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	require.NoError(t, os.WriteFile(path, nil, 0o600)) // an empty file is a database of version 0
	s := mustOpen(t, path, sqlite.Options{})
	require.NoError(t, s.Update(context.Background(), "acme", func(tx store.Tx) error {
		return tx.PutCustomer(&rules.Customer{ExternalID: "a"})
	}))
	require.NoError(t, s.Close())
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	var version int
	require.NoError(t, db.QueryRow(`SELECT max(version) FROM schema_version`).Scan(&version))
	assert.Equal(t, len(sqlstore.Migrations()), version)
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := mustOpen(t, path, sqlite.Options{})
	require.NoError(t, s.Close())
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO schema_version (version, applied_at) VALUES (98, 0), (99, 0)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	_, err = sqlite.Open(context.Background(), path, sqlite.Options{})
	require.Error(t, err)
	assert.Equal(t, "state file "+path+" has schema version 99; this algoreg-kit knows up to "+strconv.Itoa(len(sqlstore.Migrations()))+": upgrade algoreg-kit", err.Error())
	assert.NotErrorIs(t, err, store.ErrUnavailable, "a newer file is no outage: retrying will not help")
}

// A save that panics (the mock recovers its handlers' panics) keeps nothing
// and leaves the write connection usable.
func TestUpdateAfterAPanic(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "state.db"), sqlite.Options{})
	ctx := context.Background()
	func() {
		defer func() { assert.Equal(t, "boom", recover()) }()
		_ = s.Update(ctx, "acme", func(tx store.Tx) error {
			require.NoError(t, tx.PutCustomer(&rules.Customer{ExternalID: "half"}))
			panic("boom")
		})
	}()
	require.NoError(t, s.Update(ctx, "acme", func(tx store.Tx) error {
		return tx.PutCustomer(&rules.Customer{ExternalID: "whole"})
	}))
	require.NoError(t, s.View(ctx, "acme", func(tx store.Tx) error {
		_, half, err := tx.Customer("half")
		assert.False(t, half, "the write of the save that panicked")
		_, whole, _ := tx.Customer("whole")
		assert.True(t, whole, "the write of the next save")
		return err
	}))
}

// The checkpointer (checkpoint.go) copies the commits into the file soon
// after them, without waiting for the WAL to reach 1,000 pages, and under
// writes without a pause the WAL still restarts from its beginning, staying
// near 1,000 pages.
func TestCheckpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := mustOpen(t, path, sqlite.Options{})
	save := func(from, n int) {
		t.Helper()
		require.NoError(t, s.Update(context.Background(), "acme", func(tx store.Tx) error {
			for i := from; i < from+n; i++ {
				c := &rules.Customer{ExternalID: strconv.Itoa(i), AccountType: "N", Comment: strings.Repeat("x", 2000)}
				if err := tx.PutCustomer(c); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	fileSize := func() int64 {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		return fi.Size()
	}
	save(0, 50) // ~30 pages: far from the writer's own checkpoint
	assert.Eventually(t, func() bool { return fileSize() > 50*2000 }, 5*time.Second, 5*time.Millisecond,
		"the commit did not reach the file")

	for i := range 1000 { // 20 MB
		save(50+i*10, 10)
	}
	wal, err := os.Stat(path + "-wal")
	require.NoError(t, err)
	assert.Less(t, wal.Size(), int64(3000*4096), "the WAL grew past 3,000 pages")
	assert.Greater(t, fileSize(), int64(10_000*2000/2), "the file holds less than half of what was written")
}
