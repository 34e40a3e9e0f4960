package algoreg_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/algoreg-kit/algoreg-kit/algoreg"
	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/openapi"
)

func ptr[T any](v T) *T { return &v }

// A client of the in-process mock saves two customers, one of which breaks a
// rule: that one is in the answer's detail, not an error.
func Example() {
	mock, err := mockserver.New(mockserver.Config{})
	if err != nil {
		panic(err)
	}
	defer mock.Close()
	srv := httptest.NewServer(mock)
	defer srv.Close()

	c, err := algoreg.New(srv.URL, algoreg.WithPasswordGrant("api-user@acme.example", "secret"))
	if err != nil {
		panic(err)
	}
	resp, err := c.Save(context.Background(), &openapi.SaveCustomersRequest{Customers: []openapi.Customer{
		{ExternalID: ptr("cust-1"), AccountType: ptr("N"), FirstName: ptr("Ada"), LastName: ptr("Lovelace")},
		{ExternalID: ptr("cust-2"), AccountType: ptr("X"), LastName: ptr("Babbage")},
	}})
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.Status, len(resp.Added), "added")
	for _, d := range resp.Detail {
		for _, m := range d.Errors {
			fmt.Println(d.ExternalID, m.Code)
		}
	}
	// Output:
	// partial 1 added
	// cust-2 account_type_invalid
}

// A base URL that already ends in /api/v1 gets a 404, and the error says
// what to fix.
func Example_baseURLWithAPIPath() {
	srv, stop := startMock()
	defer stop()

	c, err := algoreg.New(srv.URL+"/api/v1", algoreg.WithPasswordGrant("api-user@acme.example", "secret"))
	if err != nil {
		panic(err)
	}
	_, err = c.Save(context.Background(), &openapi.SaveCustomersRequest{})
	var e *algoreg.Error
	if errors.As(err, &e) {
		fmt.Println(e.StatusCode, e.Hint == "the base URL must not include /api/v1 (the client adds /api/v1/customers/save itself): try "+srv.URL)
	}
	// Output:
	// 404 true
}

// New refuses what it cannot use, with what to set.
func ExampleNew() {
	_, err := algoreg.New("https://api.algoreg.com")
	fmt.Println(err)
	_, err = algoreg.New("https://api.algoreg.com?tenant=acme", algoreg.WithBearerToken("t"))
	fmt.Println(err)
	// Output:
	// algoreg: no credentials: give WithPasswordGrant, WithBasicAuth or WithBearerToken
	// algoreg: base URL "https://api.algoreg.com?tenant=acme": drop the query and fragment; give the server's address only, e.g. https://api.algoreg.com or http://127.0.0.1:8080
}

// startMock starts the in-process mock, as Example does step by step.
func startMock() (*httptest.Server, func()) {
	mock, err := mockserver.New(mockserver.Config{})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(mock)
	return srv, func() { srv.Close(); mock.Close() }
}
