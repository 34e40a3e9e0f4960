package mocktest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/memstore"
)

// In a test function (the example has no t of its own, so it is compiled but
// not run; TestClients runs Save).
func Example() {
	var t *testing.T // func TestSave(t *testing.T) {
	ts := mocktest.New(t)
	str := func(s string) *string { return &s }
	resp := ts.Save(t, &openapi.SaveCustomersRequest{Customers: []openapi.Customer{
		{ExternalID: str("c1"), AccountType: str("N"), LastName: str("Dupont")},
	}})
	fmt.Println(resp.Status, len(resp.Added), resp.Added[0].ExternalID)
}

// recordTB collects Errorf calls instead of failing the test.
type recordTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// badStore stores customers with an account type the document does not allow.
type badStore struct{ *memstore.Store }

func (s badStore) View(ctx context.Context, business string, fn func(store.Tx) error) error {
	return s.Store.View(ctx, business, func(tx store.Tx) error { return fn(badTx{tx}) })
}

type badTx struct{ store.Tx }

func (tx badTx) Customer(id string) (rules.Customer, bool, error) {
	c, ok, err := tx.Tx.Customer(id)
	c.AccountType = "X"
	return c, ok, err
}

// New's response check catches an answer off the document.
func TestNewCatchesOffSpecAnswers(t *testing.T) {
	rec := &recordTB{TB: t}
	ts := mocktest.New(rec, mocktest.WithConfig(mockserver.Config{Store: badStore{memstore.New()}}))
	ts.SaveBody(t, []byte(`{"customers":[{"external_id":"a","account_type":"N","last_name":"D"}]}`))
	if len(rec.errs) != 0 {
		t.Fatalf("a good answer was reported: %v", rec.errs)
	}
	resp, err := ts.Client.Get(ts.URL + "/__admin/customers/a")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "/__admin/customers/a off the OpenAPI document") {
		t.Errorf("off-spec answer: got reports %q, want one", rec.errs)
	}
}

// Client sends the credentials of WithCredentials, ClientFor others, and
// Token gets a bearer token.
func TestClients(t *testing.T) {
	ts := mocktest.New(t, mocktest.WithCredentials("acme", "pw"))
	id, typ, name := "a", "N", "D"
	resp := ts.Save(t, &openapi.SaveCustomersRequest{Customers: []openapi.Customer{{ExternalID: &id, AccountType: &typ, LastName: &name}}})
	if resp.Status != openapi.StatusOK || len(resp.Added) != 1 {
		t.Fatalf("save: got %s, added %v", resp.Status, resp.Added)
	}
	get := func(c *http.Client, header ...string) int {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/__admin/customers/a", nil)
		if len(header) == 2 {
			req.Header.Set(header[0], header[1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get(ts.Client); got != http.StatusOK {
		t.Errorf("acme's client: got %d, want 200", got)
	}
	if got := get(ts.ClientFor("globex", "x")); got != http.StatusNotFound {
		t.Errorf("another business: got %d, want 404", got)
	}
	if got := get(&http.Client{}, "Authorization", "Bearer "+ts.Token(t, "acme", "any")); got != http.StatusOK {
		t.Errorf("acme's token: got %d, want 200", got)
	}
}
