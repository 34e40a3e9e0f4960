package contract

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/algoreg-kit/algoreg-kit/fixtures"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// serverRules is what the suite knows of the server's rule settings.
func (r *runner) serverRules() rules.Config {
	if r.cfg.Rules != nil {
		return *r.cfg.Rules
	}
	return rules.DefaultConfig()
}

// gen returns a fixtures generator seeded for this check (and sub-seed k),
// whose ids carry the check's prefix and a sub-prefix no other generator of
// the check uses.
func (t *checkT) gen(k int64) *fixtures.Generator {
	opts := fixtures.Options{
		Prefix: fmt.Sprintf("%sg%d-", t.prefix, t.gens.Add(1)),
		Server: t.r.serverRules(),
	}
	seed := seedFor(t.seed, fmt.Sprint(k))
	g, err := fixtures.New(seed, opts)
	if err != nil {
		t.Fatalf(nil, "the suite could not build its data (a bug of the suite): %v", err)
	}
	return g
}

// batch returns the valid customers of slots 0..n-1 of g and their relations:
// a self-contained request in which every relation names customers of the
// same request. It holds at most the server's batch limit of customers and
// its relation limit of relations (see fit).
func (t *checkT) batch(g *fixtures.Generator, n int) *openapi.SaveCustomersRequest {
	req := &openapi.SaveCustomersRequest{}
	for i := 0; i < t.fit(n); i++ {
		req.Customers = append(req.Customers, g.Customer(i))
		req.Relations = append(req.Relations, g.Relations(i)...)
	}
	if max := t.r.serverRules().MaxRelations; len(req.Relations) > max {
		req.Relations = req.Relations[:max]
	}
	return req
}

// fit returns n, or the server's batch limit when that is lower: the checks
// size their requests to the target's limits (--max-batch), so that a
// server with a small limit is checked, not refused.
func (t *checkT) fit(n int) int { return min(n, t.r.serverRules().MaxBatch) }

// needBatch skips the check when the server's batch limit is below the n
// customers per request that the check cannot do without.
func (t *checkT) needBatch(n int) {
	if max := t.r.serverRules().MaxBatch; max < n {
		t.Skipf("needs %d customers in one request; the server's batch limit is %d", n, max)
	}
}

// unitRequest turns a fixtures unit into a request.
func unitRequest(u fixtures.Unit) *openapi.SaveCustomersRequest {
	return &openapi.SaveCustomersRequest{Customers: u.Customers, Relations: u.Relations}
}

// invalid returns the labelled invalid unit of code at slot i.
func (t *checkT) invalid(g *fixtures.Generator, code string, i int) fixtures.Unit {
	u, err := g.Invalid(code, i)
	if err != nil {
		t.Fatalf(nil, "the suite could not build an invalid record for %s: %v", code, err)
	}
	return u
}

// idOf returns a customer's external_id ("" when absent).
func idOf(c openapi.Customer) string {
	if c.ExternalID == nil {
		return ""
	}
	return *c.ExternalID
}

// stored reads a customer through the mock's inspection API; it returns nil
// when the business has no such customer.
func (t *checkT) stored(id string, creds *credentials) (*openapi.StoredCustomer, *exchange) {
	x := t.Do(request{method: http.MethodGet, path: adminCustomer + "/" + url.PathEscape(id), creds: creds})
	switch x.Status {
	case http.StatusNotFound:
		return nil, x
	case http.StatusOK:
		var sc openapi.StoredCustomer
		if err := jsonUnmarshal(x.Body, &sc); err != nil {
			t.Fatalf(x, "a StoredCustomer body: %v", err)
		}
		return &sc, x
	}
	t.Fatalf(x, "200 with the stored customer, or 404")
	return nil, x
}
