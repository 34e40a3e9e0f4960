package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/sqlite"
)

// A save commits in the file before Update returns; a store opened later on
// the same file sees it.
func ExampleOpen() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "state")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "state.db")

	s, err := sqlite.Open(ctx, path, sqlite.Options{Sync: sqlite.SyncFull})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = s.Update(ctx, "acme", func(tx store.Tx) error {
		return tx.PutCustomer(&rules.Customer{ExternalID: "c-1", LastName: "Doe", KYCLevel: 2, HasKYCLevel: true})
	})
	s.Close()
	if err != nil {
		fmt.Println(err)
		return
	}

	s, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	_ = s.View(ctx, "acme", func(tx store.Tx) error {
		c, ok, err := tx.Customer("c-1")
		fmt.Println(c.LastName, c.KYCLevel, ok, err)
		return err
	})
	// Output: Doe 2 true <nil>
}
