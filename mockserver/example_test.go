package mockserver_test

import (
	"context"
	"fmt"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/openapi"
)

func ExampleServer_Save() {
	mock, err := mockserver.New(mockserver.Config{})
	if err != nil {
		panic(err)
	}
	defer mock.Close()
	str := func(s string) *string { return &s }
	req := &openapi.SaveCustomersRequest{Customers: []openapi.Customer{
		{ExternalID: str("cust-1"), AccountType: str("N"), LastName: str("Dupont"), NationalityCode: str("fr")},
		{ExternalID: str("cust-2"), AccountType: str("F")},
	}}
	resp, _, err := mock.Save(context.Background(), "acme", req)
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.Status, len(resp.Added), resp.Added[0].ExternalID)
	for _, d := range resp.Detail {
		for _, m := range d.Errors {
			fmt.Println("error", d.ExternalID, m.Code)
		}
		for _, m := range d.Warnings {
			fmt.Println("warning", d.ExternalID, m.Code)
		}
	}
	// Output:
	// partial 1 cust-1
	// warning cust-1 country_code_lowercase
	// error cust-2 company_name_missing
}
