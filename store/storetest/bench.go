package storetest

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/internal/cpuclock"
	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/google/uuid"
)

// BenchCustomer is a customer of the fixtures' usual shape: an individual
// with contacts, review groups, custom fields and two name variations.
func BenchCustomer(id string, i int) *rules.Customer {
	return &rules.Customer{
		CustomerID: uuid.New(), ExternalID: id, AccountType: "N", FirstName: "Vena", LastName: "Hammes",
		DateOfBirth: "1985-03-13", Phone: "+3162809" + strconv.Itoa(1000+i%9000),
		NationalityCodes: []string{"NL"}, DomicileCodes: []string{"NL"}, ReviewGroups: []string{"retail", "eu"},
		Contacts:   []string{"vena.hammes" + strconv.Itoa(i) + "@example.org"},
		Fields:     []rules.Field{{Key: "score", Value: float64(i % 100)}, {Key: "segment", Value: "premium"}},
		Variations: []rules.Variation{{FirstName: "Vena", LastName: "Mayer"}, {FirstName: "Вена", LastName: "Хаммес"}},
		KYCLevel:   1, HasKYCLevel: true, KYCLevelRequested: 2, HasKYCRequested: true,
		CreatedAt: 1_700_000_000_000_000_000 + int64(i), UpdatedAt: 1_700_000_000_000_000_000 + int64(i),
	}
}

// BenchmarkUpdate measures an engine's part of a save of n customers and
// n/2 relations: one Update that preloads and reads every customer (as the
// mock's save and rules.Evaluate do) and writes them (as the save does). "new-N" creates N
// customers each time into a growing state; "replay-N" rewrites the same N
// (an update of stored customers). open returns a fresh store, closed in
// b's Cleanup. It reports customers/s and customers/cpu-s: per second of
// CPU time of this process and, when serverCPU is not nil, of the database
// server's processes that serve the store (serverCPU(s) returns the CPU
// time they have used so far). On a machine that is busy with other work,
// the CPU figure is the steadier one.
//
// NOREAD=1 in the environment leaves the reads out, to see what they cost.
func BenchmarkUpdate(b *testing.B, open func(tb testing.TB) store.Store, serverCPU func(tb testing.TB, s store.Store) time.Duration) {
	noRead := os.Getenv("NOREAD") != ""
	for _, bc := range []struct {
		name   string
		n      int
		replay bool
	}{
		{"new-1", 1, false}, {"new-100", 100, false}, {"replay-1", 1, true}, {"replay-100", 100, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := open(b)
			save := func(round int) {
				err := s.Update(b.Context(), "bench", func(tx store.Tx) error {
					return benchSave(tx, round, bc.n, noRead)
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			save(0)
			cpu := func() time.Duration {
				if serverCPU == nil {
					return cpuclock.Process()
				}
				return cpuclock.Process() + serverCPU(b, s)
			}
			b.ReportAllocs()
			startCPU := cpu()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				round := i + 1
				if bc.replay {
					round = 0
				}
				save(round)
			}
			b.StopTimer()
			b.ReportMetric(float64(bc.n*b.N)/b.Elapsed().Seconds(), "customers/s")
			if used := cpu() - startCPU; used > 0 {
				b.ReportMetric(float64(bc.n*b.N)/used.Seconds(), "customers/cpu-s")
			}
		})
	}
}

// benchSave reads and writes the n customers of round in tx, and a relation
// for every other customer (as the fixtures' bodies have), as the mock's
// save does: Preload, every read, then the writes, through store.BatchWriter
// when the Tx has it.
func benchSave(tx store.Tx, round, n int, noRead bool) error {
	ids := make([]string, n)
	cs := make([]*rules.Customer, n)
	for i := range ids {
		ids[i] = "c-" + strconv.Itoa(round*n+i)
		cs[i] = BenchCustomer(ids[i], i)
	}
	rs := make([]rules.Relation, n/2)
	for i := range rs {
		a, b := round*n+2*i, round*n+2*i+1
		rs[i] = rules.Relation{RelationExternalID: "r-" + strconv.Itoa(a), ParentExternalID: "c-" + strconv.Itoa(a),
			ChildExternalID: "c-" + strconv.Itoa(b), RelationType: 1, CreatedAt: 1, UpdatedAt: 2}
	}
	if !noRead {
		if p, ok := tx.(store.Preloader); ok {
			if err := p.Preload(ids, nil); err != nil {
				return err
			}
		}
		for _, id := range ids {
			if _, _, err := tx.Customer(id); err != nil {
				return err
			}
		}
	}
	return store.PutAll(tx, cs, rs)
}
