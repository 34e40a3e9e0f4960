package contract_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"regexp"

	"github.com/algoreg-kit/algoreg-kit/contract"
	"github.com/algoreg-kit/algoreg-kit/mockserver"
)

// Run two checks against the mock in open mode (any user is accepted).
func ExampleRun() {
	mock, err := mockserver.New(mockserver.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer mock.Close()
	srv := httptest.NewServer(mock)
	defer srv.Close()
	rep, err := contract.Run(context.Background(), contract.Config{
		Target: srv.URL, User: "demo", Password: "demo",
		Run: regexp.MustCompile(`^behaviour/(create-lists-added|resave-not-added)$`),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range rep.Checks {
		fmt.Println(c.Status, c.ID)
	}
	fmt.Println("ok:", rep.OK(), "mock:", rep.Mock, "disabled at the end:", rep.Disabled)
	// Output:
	// pass behaviour/create-lists-added
	// pass behaviour/resave-not-added
	// ok: true mock: true disabled at the end: 10
}
