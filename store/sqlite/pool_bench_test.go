package sqlite_test

import (
	"net/http"
	"path/filepath"
	"strconv"
	"sync/atomic"
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
			s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "state.db"), sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			mock := mocktest.NewMock(b, mockserver.Config{Validator: mocktest.Validator(b), Store: s})
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
		s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "state.db"), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		mock := mocktest.NewMock(b, mockserver.Config{Validator: mocktest.Validator(b), Store: s})
		var counter atomic.Int64
		b.SetParallelism(16)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(counter.Add(1))
				if rec := mocktest.PostSave(mock, "bench", pool.Body(i, "c"+strconv.Itoa(i)+"-")); rec.Code != http.StatusOK {
					b.Errorf("status %d: %.300s", rec.Code, rec.Body.Bytes())
					return
				}
			}
		})
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	})
}
