package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/sqlite"
	"github.com/algoreg-kit/algoreg-kit/store/storetest"
)

// BenchmarkUpdate is storetest.BenchmarkUpdate on a file in a temporary
// folder, with the default sync (NORMAL).
//
//	go test -run '^$' -bench . -benchtime 2s ./store/sqlite
func BenchmarkUpdate(b *testing.B) {
	storetest.BenchmarkUpdate(b, func(tb testing.TB) store.Store {
		s, err := sqlite.Open(tb.Context(), filepath.Join(tb.TempDir(), "state.db"), sqlite.Options{})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	}, nil)
}
