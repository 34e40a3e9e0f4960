package sqlite_test

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/store/sqlite"
)

// BenchmarkSavePool is the mock on a state file saving the bodies of a
// bench/run.sh pool (mocktest.BenchPool), one request at a time, as
// bench/run.sh's ours-sqlite cells send them: "create" gives every request
// its own id prefix (new customers), "replay" the same prefix (after one
// pass over the pool, every request updates stored customers with the same
// content); "create-parallel" is "create" from 16 goroutines per CPU (with
// -cpu 2, the 32 connections of bench/run.sh), where the one writer's
// hand-over between transactions shows. It is skipped unless
// ALGOREG_BENCH_POOL names the pool:
//
//	ALGOREG_BENCH_POOL=/tmp/WORK/pool-100.txt go test -run '^$' -bench SavePool -cpu 2 ./store/sqlite
func BenchmarkSavePool(b *testing.B) {
	pool := mocktest.BenchPool(b)
	for _, replay := range []bool{false, true} {
		name := "create"
		if replay {
			name = "replay"
		}
		b.Run(name, func(b *testing.B) {
			mock := newPoolMock(b)
			body := func(i int) []byte {
				prefix := "c" + strconv.Itoa(i) + "-"
				if replay {
					prefix = "u-"
				}
				return pool.Body(i, prefix)
			}
			if replay {
				for i := range pool.Len() {
					mocktest.MustSave(b, mock, "bench", body(i))
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				mocktest.MustSave(b, mock, "bench", body(i))
			}
		})
	}
	b.Run("create-parallel", func(b *testing.B) {
		mock := newPoolMock(b)
		mocktest.SaveParallel(b, mock, "bench", func(i int64) []byte {
			return pool.Body(int(i), "c"+strconv.FormatInt(i, 10)+"-")
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	})
}

// newPoolMock is the mock, validating, on a fresh state file.
func newPoolMock(b *testing.B) *mockserver.Server {
	s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "state.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return mocktest.NewMock(b, mockserver.Config{Validator: mocktest.Validator(b), Store: s})
}
