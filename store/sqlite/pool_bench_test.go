package sqlite_test

import (
	"bufio"
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/store/sqlite"
)

// BenchmarkSavePool is the mock on a state file saving the bodies of a
// bench/run.sh pool (pool-100.txt in its work folder: fixtures' customers
// and the relations between them, the @ID@ marker before every id), one
// request at a time, as bench/run.sh's ours-sqlite cells send them: "create"
// gives every request its own id prefix (new customers), "replay" the same
// prefix (after one pass over the pool, every request updates stored
// customers with the same content). It is skipped unless ALGOREG_BENCH_POOL
// names the pool:
//
//	ALGOREG_BENCH_POOL=/tmp/WORK/pool-100.txt go test -run '^$' -bench SavePool ./store/sqlite
func BenchmarkSavePool(b *testing.B) {
	path := os.Getenv("ALGOREG_BENCH_POOL")
	if path == "" {
		b.Skip("ALGOREG_BENCH_POOL is not set")
	}
	pool := readPool(b, path)
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
				return bytes.ReplaceAll(pool[i%len(pool)], []byte("@ID@"), []byte(prefix))
			}
			if replay {
				for i := range pool {
					postPool(b, mock, body(i))
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				postPool(b, mock, body(i))
			}
		})
	}
}

// readPool reads the bodies of a pool, one a line.
func readPool(tb testing.TB, path string) [][]byte {
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var pool [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		pool = append(pool, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil || len(pool) == 0 {
		tb.Fatalf("read the pool %s: %v (%d bodies)", path, err, len(pool))
	}
	return pool
}

// postPool posts one body and fails unless it is answered 200.
func postPool(tb testing.TB, h http.Handler, body []byte) {
	req := httptest.NewRequest(http.MethodPost, "/api/v1/customers/save", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("bench@example.com", "bench")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		tb.Fatalf("status %d: %.300s", rec.Code, rec.Body.Bytes())
	}
}
