package mockserver_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/store"
)

// Many businesses (issue 11): 150,000 businesses save one customer each
// through Server.Save, every other one is reset through DELETE
// /__admin/state: no 5xx, and the others keep their customer. The mmap'd
// store this replaced ran out of kernel mappings at this scale.
func TestManyBusinesses(t *testing.T) {
	const businesses = 150_000
	mock := mocktest.NewMock(t, mockserver.Config{})
	ctx := context.Background()
	name := func(i int) string { return fmt.Sprint("biz-", i) }
	id, kind, last := "c", "N", "Doe"
	req := &openapi.SaveCustomersRequest{Customers: []openapi.Customer{{ExternalID: &id, AccountType: &kind, LastName: &last}}}
	for i := range businesses {
		resp, _, err := mock.Save(ctx, name(i), req)
		if err != nil || len(resp.Added) != 1 {
			t.Fatalf("save %s: %v %+v", name(i), err, resp)
		}
	}
	for i := 0; i < businesses; i += 2 {
		r := httptest.NewRequest(http.MethodDelete, "/__admin/state", nil)
		r.SetBasicAuth(name(i), "x")
		rec := httptest.NewRecorder()
		mock.ServeHTTP(rec, r)
		if rec.Code != http.StatusNoContent {
			t.Fatalf("reset %s: status %d: %s", name(i), rec.Code, rec.Body.Bytes())
		}
	}
	for i := range businesses {
		err := mock.Store().View(ctx, name(i), func(tx store.Tx) error {
			_, ok, err := tx.Customer(id)
			if err == nil && ok != (i%2 == 1) {
				t.Fatalf("%s: customer stored %v, want %v", name(i), ok, i%2 == 1)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
