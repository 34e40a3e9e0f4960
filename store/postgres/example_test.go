package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/internal/pgtest"
	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/postgres"
)

// Two replicas open one database; a customer one saves, the other reads.
// (Compiled only: it needs a server.)
func ExampleOpen() {
	_ = func(t *testing.T) {
		ctx := context.Background()
		url := pgtest.NewDatabase(t) // e.g. postgres://algoreg@127.0.0.1:5432/state
		a, err := postgres.Open(ctx, url, postgres.Options{})
		if err != nil {
			t.Fatal(err) // one line: the URL without its password, and what to check
		}
		defer a.Close()
		b, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		err = a.Update(ctx, "acme", func(tx store.Tx) error {
			return tx.PutCustomer(&rules.Customer{ExternalID: "c-1", LastName: "Doe", KYCLevel: 2, HasKYCLevel: true})
		})
		if err != nil {
			t.Fatal(err)
		}
		_ = b.View(ctx, "acme", func(tx store.Tx) error {
			c, ok, err := tx.Customer("c-1")
			fmt.Println(c.LastName, c.KYCLevel, ok, err) // Doe 2 true <nil>
			return err
		})
	}
}
