package mockserver_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/internal/cpuclock"
	"github.com/algoreg-kit/algoreg-kit/internal/gcheadroom"
	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/memstore"
)

var (
	benchFirst  = []string{"Marie", "Jean", "Sofia", "Liam", "Amara", "Kenji", "Olga", "Mateo", "Fatima", "Noah"}
	benchLast   = []string{"Dupont", "Martin", "Garcia", "Müller", "Rossi", "Nakamura", "Kowalski", "Silva", "Haddad", "Smith"}
	benchCountr = []string{"FR", "DE", "ES", "IT", "GB", "US", "PL", "PT", "JP", "NL"}
	benchGroups = []string{"retail", "eu", "private-banking", "sme", "high-risk"}
)

// benchCustomerJSON writes one realistic customer: an individual (4 in 5) or
// a firm, with the fields integrators usually send.
func benchCustomerJSON(b *bytes.Buffer, prefix string, i int) {
	id := prefix + strconv.Itoa(i)
	c := benchCountr[i%len(benchCountr)]
	if i%5 == 4 {
		fmt.Fprintf(b, `{"external_id":%q,"account_type":"F","company_name":"%s Holding %d SAS","trading_name":"%s %d","registration_number":"%09d","domicile_code":%q,"phone":"+3314%07d","kyc_level":2,"kyc_level_requested":2,"review_groups":"sme;eu","contacts":["ops%d@example.com"],"fields":{"segment":"corporate"},"comment":"imported"}`,
			id, benchLast[i%10], i, benchLast[i%10], i, i, c, i%10000000, i)
		return
	}
	fmt.Fprintf(b, `{"external_id":%q,"account_type":"N","first_name":%q,"middle_name":"A","last_name":%q,"date_of_birth":"19%02d-%02d-%02d","nationality_code":%q,"domicile_code":%q,"phone":"+336%08d","kyc_level":1,"kyc_level_requested":2,"review_groups":[%q,%q],"contacts":["user%d@example.com"],"alias_ids":["crm-%d"],"fields":{"segment":"premium","score":%d},"variations":[{"_op":"add","first_name":%q,"last_name":"%s-%d"}]}`,
		id, benchFirst[i%10], benchLast[(i/10)%10], 40+i%60, 1+i%12, 1+i%28, c, benchCountr[(i+3)%10], i%100000000,
		benchGroups[i%5], benchGroups[(i+1)%5], i, i, i%100, benchFirst[i%10], benchLast[(i/10)%10], i%7)
}

func benchBody(n int, prefix string) []byte { return benchRequest(prefix, 0, n, benchCustomerJSON) }

func benchUpdateBody(n int, prefix string) []byte {
	return benchRequest(prefix, 0, n, func(b *bytes.Buffer, prefix string, i int) {
		fmt.Fprintf(b, `{"external_id":"%s%d","phone":"+336%08d","kyc_level_requested":3,"comment":"updated"}`, prefix, i, (i*7)%100000000)
	})
}

// benchRequest is a request body with the customers from to to (excluded),
// each written by customer.
func benchRequest(prefix string, from, to int, customer func(b *bytes.Buffer, prefix string, i int)) []byte {
	var b bytes.Buffer
	b.WriteString(`{"customers":[`)
	for i := from; i < to; i++ {
		if i > from {
			b.WriteByte(',')
		}
		customer(&b, prefix, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// BenchmarkSave measures a save through the whole handler: auth, body read,
// decoding and validation, per-record rules, store, response encoding, on
// each store of testStores (memory, SQLite in a temporary file with the
// default sync, PostgreSQL when ALGOREG_TEST_POSTGRES is set). The "new" cases create every customer they send (fresh
// external_ids each iteration, into one business whose state is reset every
// 100,000 stored customers, outside the timer); "update" sends deltas of 100
// stored ones; "replay" sends the same 100 full customers again, which is
// what the "updates" cells of bench/run.sh do.
func BenchmarkSave(b *testing.B) {
	for _, st := range testStores {
		for _, bc := range []struct {
			name           string
			n              int
			update, replay bool
			kin            bool
		}{
			{name: "new-1", n: 1},
			{name: "new-100", n: 100},
			{name: "new-1000", n: 1000},
			{name: "update-100", n: 100, update: true},
			{name: "replay-100", n: 100, update: true, replay: true},
			{name: "new-1000-kin-validation", n: 1000, kin: true},
		} {
			if bc.kin && st.name != "memory" {
				continue // the validator's cost does not depend on the store
			}
			b.Run(st.name+"/"+bc.name, func(b *testing.B) {
				benchSave(b, mockserver.Config{KinValidation: bc.kin, Validator: mocktest.Validator(b), Store: st.open(b)}, bc.n, bc.update, bc.replay)
			})
		}
	}
}

// BenchmarkObserve is the cost of the request journal and the metrics
// (issue 13: at most 10 %): BenchmarkSave's new-1 and new-100 on the memory
// store, with both on (the defaults) and both off.
func BenchmarkObserve(b *testing.B) {
	for _, n := range []int{1, 100} {
		for _, mode := range []struct {
			name string
			cfg  mockserver.Config
		}{{"on", mockserver.Config{}}, {"off", mockserver.Config{JournalSize: -1, NoMetrics: true}}} {
			b.Run(fmt.Sprintf("new-%d/%s", n, mode.name), func(b *testing.B) {
				cfg := mode.cfg
				cfg.Store = memstore.New()
				benchSave(b, cfg, n, false, false)
			})
		}
	}
}

func benchSave(b *testing.B, cfg mockserver.Config, n int, update, replay bool) {
	st := cfg.Store
	mock := mocktest.NewMock(b, cfg)
	body := benchBody(n, "c")
	if update {
		mocktest.MustSave(b, mock, "bench", body)
		if !replay {
			body = benchUpdateBody(n, "c")
		}
	}
	// A sanity check that the body saves without errors or warnings.
	if rec := mocktest.MustSave(b, mock, "bench", body); !bytes.Contains(rec.Body.Bytes(), []byte(`"detail":[]`)) {
		b.Fatalf("bench body has errors or warnings: %.500s", rec.Body.Bytes())
	}
	// New customers every iteration: a pool of bodies with distinct
	// external_ids, all saved into one business, whose state is reset
	// (outside the timer) each time the pool has been used up.
	var bodies [][]byte
	if !update {
		bodies = make([][]byte, min(10_000, 100_000/n))
		for k := range bodies {
			bodies[k] = benchBody(n, "k"+strconv.Itoa(k)+"-")
		}
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	cpu0 := cpuclock.Process()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !update {
			k := i % len(bodies)
			if k == 0 {
				b.StopTimer()
				if err := st.Reset(b.Context(), "bench"); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			body = bodies[k]
		}
		mocktest.MustSave(b, mock, "bench", body)
	}
	b.StopTimer()
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "customers/s")
	// On a shared machine wall time includes waiting for a CPU; the
	// process's CPU time does not (with -cpu 1 it is one core's work).
	b.ReportMetric(float64(n*b.N)/(cpuclock.Process()-cpu0).Seconds(), "customers/cpu-s")
}

// BenchmarkSaveParallel is BenchmarkSave's new-100 and replay-100 with 16
// concurrent saves per CPU into one business, as bench/run.sh's 32 wrk
// connections send them (run it with -cpu 2 for the same 32): concurrent
// saves of one business are where the store's locking shows. "new-100"
// creates 100 customers a request (fresh ids each time, the business reset
// every 1,000 requests, under the timer); "replay-100" sends the 64 bodies
// of a pool of 6,400 stored customers in turn, so that, as in bench/run.sh,
// concurrent requests sometimes carry the same customers.
//
//	go test -run '^$' -bench SaveParallel -cpu 2 -benchtime 2s ./mockserver
func BenchmarkSaveParallel(b *testing.B) {
	for _, st := range testStores {
		for _, replay := range []bool{false, true} {
			name := "new-100"
			if replay {
				name = "replay-100"
			}
			b.Run(st.name+"/"+name, func(b *testing.B) { benchSaveParallel(b, st.open(b), 100, replay) })
		}
	}
}

func benchSaveParallel(b *testing.B, st store.Store, n int, replay bool) {
	mock := mocktest.NewMock(b, mockserver.Config{Validator: mocktest.Validator(b), Store: st})
	var next func(i int64) []byte
	if replay {
		pool := make([][]byte, 64)
		for k := range pool {
			pool[k] = benchBody(n, "u"+strconv.Itoa(k)+"-")
			mocktest.MustSave(b, mock, "bench", pool[k])
		}
		next = func(i int64) []byte { return pool[i%int64(len(pool))] }
	} else {
		pieces := bytes.Split(benchBody(n, "@ID@"), []byte("@ID@"))
		next = func(i int64) []byte {
			if i%1000 == 999 {
				if err := st.Reset(b.Context(), "bench"); err != nil {
					b.Error(err)
				}
			}
			return bytes.Join(pieces, []byte("p"+strconv.FormatInt(i, 36)+"-"))
		}
	}
	cpu0 := cpuclock.Process()
	mocktest.SaveParallel(b, mock, "bench", next)
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "customers/s")
	b.ReportMetric(float64(n*b.N)/(cpuclock.Process()-cpu0).Seconds(), "customers/cpu-s")
}

// BenchmarkStoredCustomers1M loads 1,000,000 realistic customers into one
// business (through Server.Save, in batches of 1,000) and reports the memory
// they take: the Go heap in use afterwards (which holds the store's records,
// reported apart too). Run it with -benchtime 1x:
//
//	go test -run '^$' -bench StoredCustomers1M -benchtime 1x ./mockserver
func BenchmarkStoredCustomers1M(b *testing.B) {
	const total, batch = 1_000_000, 1000
	for i := 0; i < b.N; i++ {
		store := memstore.New()
		mock := mocktest.NewMock(b, mockserver.Config{Store: store})
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		ctx := context.Background()
		for start := 0; start < total; start += batch {
			req, err := openapi.DecodeSaveCustomers(benchRequest("c", start, start+batch, benchCustomerJSON))
			if err != nil {
				b.Fatal(err)
			}
			resp, _, err := mock.Save(ctx, "big", req)
			if err != nil || resp.Status != openapi.StatusOK {
				b.Fatalf("batch at %d: %v %v", start, err, resp.Detail)
			}
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		heap := float64(after.HeapAlloc - before.HeapAlloc)
		st := store.Stats()
		if st.Customers != total {
			b.Fatalf("%d customers stored, want %d", st.Customers, total)
		}
		b.ReportMetric(heap/(1<<20), "MiB-heap")
		b.ReportMetric(float64(st.RecordBytes)/(1<<20), "MiB-records-in-heap")
		b.ReportMetric(heap/total, "B/customer")
		runtime.KeepAlive(mock)
	}
}

// BenchmarkSaveLargeBusiness is the in-memory mock creating the customers
// of a bench/run.sh pool (mocktest.BenchPool: realistic customers and
// relations, 100 a body) in a business that already holds
// ALGOREG_BENCH_STORED customers (2,000,000 when unset), 16 concurrent
// saves: bench/run.sh's "ours" cell, in process, after it has run for a
// while. It reports requests per CPU-second, which, unlike requests per
// second, does not change with what else the machine runs; it is skipped
// unless ALGOREG_BENCH_POOL names the pool. Filling the business takes
// about 20 s for 2M; use -cpu 1 and a fixed -benchtime:
//
//	ALGOREG_BENCH_POOL=/tmp/WORK/pool-100.txt go test -run '^$' -bench SaveLargeBusiness -cpu 1 -benchtime 5000x ./mockserver
func BenchmarkSaveLargeBusiness(b *testing.B) {
	pool := mocktest.BenchPool(b)
	stored := 2_000_000
	if s := os.Getenv("ALGOREG_BENCH_STORED"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			b.Fatalf("ALGOREG_BENCH_STORED=%q: want a count of customers", s)
		}
		stored = n
	}
	stop := gcheadroom.Start(gcheadroom.Default) // as the binary runs
	defer stop()
	mock := mocktest.NewMock(b, mockserver.Config{Validator: mocktest.Validator(b), Store: memstore.New()})
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 4 {
		wg.Go(func() {
			for i := int(next.Add(1)); i*100 <= stored; i = int(next.Add(1)) {
				if rec := mocktest.PostSave(mock, "bench", pool.Body(i, "p"+strconv.Itoa(i)+"-")); rec.Code != http.StatusOK {
					b.Errorf("fill: status %d: %.300s", rec.Code, rec.Body.Bytes())
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	cpu0 := cpuclock.Process()
	mocktest.SaveParallel(b, mock, "bench", func(i int64) []byte {
		return pool.Body(int(i), "m"+strconv.FormatInt(i, 10)+"-")
	})
	b.ReportMetric(float64(b.N)/(cpuclock.Process()-cpu0).Seconds(), "req/cpu-s")
}
