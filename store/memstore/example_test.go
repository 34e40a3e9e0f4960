package memstore_test

import (
	"context"
	"fmt"

	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/memstore"
)

// One transaction writes, a failed one leaves nothing, a view reads.
func Example() {
	s := memstore.New()
	defer s.Close()
	ctx := context.Background()
	_ = s.Update(ctx, "acme", func(tx store.Tx) error {
		return tx.PutCustomer(&rules.Customer{ExternalID: "c1", AccountType: "N", LastName: "Doe"})
	})
	err := s.Update(ctx, "acme", func(tx store.Tx) error {
		if err := tx.PutCustomer(&rules.Customer{ExternalID: "c2", AccountType: "N", LastName: "Roe"}); err != nil {
			return err
		}
		return fmt.Errorf("the request failed later")
	})
	fmt.Println("second update:", err)
	_ = s.View(ctx, "acme", func(tx store.Tx) error {
		cs, total, err := tx.Customers(0, 10)
		for _, c := range cs {
			fmt.Println(c.ExternalID, c.LastName)
		}
		fmt.Println(total, "customer")
		return err
	})
	// Output:
	// second update: the request failed later
	// c1 Doe
	// 1 customer
}
