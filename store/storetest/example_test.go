package storetest_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/sqlite"
	"github.com/algoreg-kit/algoreg-kit/store/storetest"
)

// An engine's test opens a fresh store per case and closes it when the case
// ends. (Compiled only: the engines' own tests run the table.)
func ExampleRun() {
	_ = func(t *testing.T) {
		storetest.Run(t, func(tb testing.TB) store.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "state.db"), sqlite.Options{})
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { s.Close() })
			return s
		})
	}
}
