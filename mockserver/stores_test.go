package mockserver_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/internal/pgtest"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/memstore"
	"github.com/algoreg-kit/algoreg-kit/store/postgres"
	"github.com/algoreg-kit/algoreg-kit/store/sqlite"
)

// testStore is one engine the mock's tests run against.
type testStore struct {
	name string
	// durable: the state outlives every handle being closed, as it must
	// across a restart.
	durable bool
	// server: the engine needs a database server (ALGOREG_TEST_POSTGRES);
	// the fuzz target, which cannot skip one store, leaves it out.
	server bool
	// state makes a fresh, empty state for tb and returns open, which gives
	// a new handle onto it (a new process; for memory, the same store),
	// closed by tb's Cleanup.
	state func(tb testing.TB) (open func() store.Store)
}

// testStores are the engines: the behaviour table, the HTTP tests, the
// shared-state tests and the fuzz target all take them from here, so that an
// engine is one line.
var testStores = []testStore{
	{name: "memory", state: func(tb testing.TB) func() store.Store {
		s := memstore.New()
		tb.Cleanup(func() { s.Close() })
		return func() store.Store { return s }
	}},
	{name: "sqlite", durable: true, state: func(tb testing.TB) func() store.Store {
		path := filepath.Join(tb.TempDir(), "state.db")
		return func() store.Store {
			s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
			return mustStore(tb, s, err)
		}
	}},
	{name: "postgres", durable: true, server: true, state: func(tb testing.TB) func() store.Store {
		url := pgtest.NewDatabase(tb)
		return func() store.Store {
			s, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 8})
			return mustStore(tb, s, err)
		}
	}},
}

// mustStore fails tb on err, else closes s in tb's Cleanup.
func mustStore(tb testing.TB, s store.Store, err error) store.Store {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// open returns one handle onto a fresh, empty state.
func (st testStore) open(tb testing.TB) store.Store { return st.state(tb)() }

// forEachStore runs test once per engine, as a subtest named after it. The
// PostgreSQL subtest skips with one line when ALGOREG_TEST_POSTGRES is unset
// (and fails under CI=true), before test runs.
func forEachStore(t *testing.T, test func(t *testing.T, st testStore)) {
	for _, st := range testStores {
		t.Run(st.name, func(t *testing.T) {
			if st.server {
				pgtest.URL(t)
			}
			test(t, st)
		})
	}
}
