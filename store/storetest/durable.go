package storetest

import (
	"sync"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/stretchr/testify/require"
)

// RunDurable is Run for an engine whose state lives at a location (a file
// path, a database URL): newLocation returns a fresh, empty one, and open
// opens a store on a location and closes it in tb.Cleanup. Run's reopen
// checks then close a store and open its location again (see WithReopen).
func RunDurable(t *testing.T, newLocation func(tb testing.TB) string, open func(tb testing.TB, location string) store.Store) {
	var mu sync.Mutex
	locations := map[store.Store]string{}
	fresh := func(tb testing.TB) store.Store {
		loc := newLocation(tb)
		s := open(tb, loc)
		mu.Lock()
		defer mu.Unlock()
		locations[s] = loc
		return s
	}
	reopen := func(tb testing.TB, old store.Store) store.Store {
		require.NoError(tb, old.Close())
		mu.Lock()
		loc := locations[old]
		mu.Unlock()
		s := open(tb, loc)
		mu.Lock()
		defer mu.Unlock()
		locations[s] = loc
		return s
	}
	Run(t, fresh, WithReopen(reopen))
}
