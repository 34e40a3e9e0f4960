package postgres_test

import (
	"testing"

	"github.com/algoreg-kit/algoreg-kit/internal/pgtest"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/storetest"
)

// BenchmarkUpdate is storetest.BenchmarkUpdate on a fresh database of the
// server in ALGOREG_TEST_POSTGRES (README.md has the figures and the
// commands).
//
//	go test -run '^$' -bench . -benchtime 2s ./store/postgres
func BenchmarkUpdate(b *testing.B) {
	storetest.BenchmarkUpdate(b, func(tb testing.TB) store.Store { return mustOpen(tb, pgtest.NewDatabase(tb)) })
}
