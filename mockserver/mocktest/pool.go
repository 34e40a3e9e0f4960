package mocktest

import (
	"bufio"
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
)

// PoolEnv is the environment variable that names the pool the pool
// benchmarks read: a pool-100.txt of a bench/run.sh work folder.
const PoolEnv = "ALGOREG_BENCH_POOL"

// Pool is the bodies of a bench/run.sh pool: save requests of fixtures'
// customers and the relations between them, one a line, with the marker
// @ID@ before every id (bench/bodies), so that each request can be given
// ids of its own.
type Pool struct {
	pieces [][][]byte // each body split at its markers
}

// BenchPool reads the pool that PoolEnv names, skipping tb when it is unset
// and failing it when the file cannot be read or holds no body.
func BenchPool(tb testing.TB) *Pool {
	tb.Helper()
	path := os.Getenv(PoolEnv)
	if path == "" {
		tb.Skip(PoolEnv + " is not set (bench/run.sh writes pool-100.txt in its work folder)")
	}
	f, err := os.Open(path)
	if err != nil {
		tb.Fatalf("mocktest: read the pool: %v", err)
	}
	defer f.Close()
	p := &Pool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		p.pieces = append(p.pieces, bytes.Split(bytes.Clone(sc.Bytes()), []byte("@ID@")))
	}
	if err := sc.Err(); err != nil || len(p.pieces) == 0 {
		tb.Fatalf("mocktest: read the pool %s: %v (%d bodies)", path, err, len(p.pieces))
	}
	return p
}

// Len is the number of bodies.
func (p *Pool) Len() int { return len(p.pieces) }

// Body returns body i (modulo Len) with prefix in place of every marker.
func (p *Pool) Body(i int, prefix string) []byte {
	return bytes.Join(p.pieces[i%len(p.pieces)], []byte(prefix))
}

// PostSave posts a save of body to h with Basic credentials of business
// (in open mode, the business saved into) and returns the answer. It is
// safe for concurrent use, as h is; MustSave is PostSave for one goroutine.
func PostSave(h http.Handler, business string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/api/v1/customers/save", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(business, "x")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// MustSave is PostSave, failing tb unless the answer is 200 (so it must be
// called from the test's goroutine).
func MustSave(tb testing.TB, h http.Handler, business string, body []byte) *httptest.ResponseRecorder {
	tb.Helper()
	rec := PostSave(h, business, body)
	if rec.Code != http.StatusOK {
		tb.Fatalf("save: status %d: %.300s", rec.Code, rec.Body.Bytes())
	}
	return rec
}

// SaveParallel runs b's timed loop: b.N saves of body(i), for i from 1 up,
// posted to h for business from 16 goroutines per CPU (with -cpu 2, the 32
// connections of bench/run.sh), failing b on an answer other than 200. It
// resets b's timer first and stops it at the end; the caller reports its
// own metrics (b.Elapsed, or the CPU time it read before calling).
func SaveParallel(b *testing.B, h http.Handler, business string, body func(i int64) []byte) {
	var counter atomic.Int64
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			// Not MustSave: b.Fatal must not be called from these goroutines.
			if rec := PostSave(h, business, body(counter.Add(1))); rec.Code != http.StatusOK {
				b.Errorf("save: status %d: %.300s", rec.Code, rec.Body.Bytes())
				return
			}
		}
	})
	b.StopTimer()
}
