package sqlite_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/sqlite"
	"github.com/google/uuid"
)

// benchCustomer is a customer of the fixtures' usual shape: an individual
// with contacts, review groups, custom fields and two name variations.
func benchCustomer(id string, i int) *rules.Customer {
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

// BenchmarkUpdate measures the store's part of a save of n customers: one
// Update that reads every customer (as rules.Evaluate does) and writes it
// (as the mock's save does). "new" creates n customers each time into a
// growing file; "replay" rewrites the same n. The file is in a temporary
// folder, with the default sync (NORMAL).
//
//	go test -run '^$' -bench . -benchtime 2s ./store/sqlite
//
// noRead set (NOREAD=1) leaves the reads out, to see what they cost.
var noRead = os.Getenv("NOREAD")

func BenchmarkUpdate(b *testing.B) {
	for _, bc := range []struct {
		name   string
		n      int
		replay bool
	}{
		{"new-1", 1, false}, {"new-100", 100, false}, {"replay-100", 100, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "state.db"), sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			save := func(round int) {
				err := s.Update(b.Context(), "bench", func(tx store.Tx) error {
					if noRead == "" {
						ids := make([]string, bc.n)
						for i := range ids {
							ids[i] = "c-" + strconv.Itoa(round*bc.n+i)
						}
						if err := tx.(store.Preloader).Preload(ids, nil); err != nil {
							return err
						}
					}
					for i := range bc.n / 2 { // a relation for every other customer, as in the fixtures
						a, b := round*bc.n+2*i, round*bc.n+2*i+1
						err := tx.PutRelation(rules.Relation{RelationExternalID: "r-" + strconv.Itoa(a), ParentExternalID: "c-" + strconv.Itoa(a),
							ChildExternalID: "c-" + strconv.Itoa(b), RelationType: 1, CreatedAt: 1, UpdatedAt: 2})
						if err != nil {
							return err
						}
					}
					for i := range bc.n {
						id := "c-" + strconv.Itoa(round*bc.n+i)
						if noRead == "" {
							if _, _, err := tx.Customer(id); err != nil {
								return err
							}
						}
						if err := tx.PutCustomer(benchCustomer(id, i)); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			save(0)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				round := i + 1
				if bc.replay {
					round = 0
				}
				save(round)
			}
			b.ReportMetric(float64(bc.n*b.N)/b.Elapsed().Seconds(), "customers/s")
		})
	}
}
