package memstore_test

import (
	"testing"

	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/memstore"
	"github.com/algoreg-kit/algoreg-kit/store/storetest"
)

// The behaviour table every engine passes. The in-memory store keeps nothing
// after Close, so the durability cases are skipped.
func TestStore(t *testing.T) {
	storetest.Run(t, func(tb testing.TB) store.Store {
		s := memstore.New()
		tb.Cleanup(func() { s.Close() })
		return s
	})
}
