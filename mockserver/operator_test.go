package mockserver_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/openapi"
)

const adminToken = "operator-token-0123456789"

// operatorPaths are a request of each operator endpoint.
var operatorPaths = []struct{ method, path string }{
	{http.MethodGet, "/__admin/operator/businesses"},
	{http.MethodDelete, "/__admin/operator/businesses/acme/state"},
	{http.MethodGet, "/__admin/operator/businesses/acme/webhooks"},
	{http.MethodDelete, "/__admin/operator/state"},
	{http.MethodGet, "/__admin/operator/accounts"},
	{http.MethodDelete, "/__admin/operator/accounts/alice/lockout"},
}

// operator sends method path to ts with the operator token.
func operator(t *testing.T, ts *mocktest.Server, method, path string) response {
	t.Helper()
	return do(t, &http.Client{}, method, ts.URL+path, "", "", "Authorization", "Bearer "+adminToken)
}

// decodeAs decodes a 200 answer.
func decodeAs[T any](t *testing.T, r response) T {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	var v T
	require.NoError(t, json.Unmarshal(r.body, &v), "%s", r.body)
	return v
}

// Without --admin-token the operator endpoints do not exist: 404 problems,
// as for any unknown path, whatever the credentials.
func TestOperatorEndpointsAbsentWithoutToken(t *testing.T) {
	ts := newServer(t, mockserver.Config{Users: stateUsers})
	for _, p := range operatorPaths {
		for _, auth := range []string{"Bearer " + adminToken, basic("alice", "s3cret")} {
			r := do(t, &http.Client{}, p.method, ts.URL+p.path, "", "", "Authorization", auth)
			require.Equal(t, http.StatusNotFound, r.status, "%s %s: %s", p.method, p.path, r.body)
			assert.Equal(t, "urn:algoreg-kit:problem:not-found", problemOf(t, r).Type)
		}
	}
}

// With it, each endpoint answers only its bearer token: none, another
// token, a business's Basic or bearer credentials are a 401 problem with
// WWW-Authenticate, and change nothing.
func TestOperatorNeedsTheToken(t *testing.T) {
	ts := newServer(t, mockserver.Config{Users: stateUsers, AdminToken: adminToken})
	save(t, withClient(ts, "alice", "s3cret"), `{"customers":[{"external_id":"c1",`+indiv+`}]}`)
	tenantToken := ts.Token(t, "alice", "s3cret")
	for _, p := range operatorPaths {
		for _, auth := range []string{"", "Bearer", "Bearer " + adminToken + "x", "Bearer " + adminToken[:len(adminToken)-1],
			"Basic " + adminToken, basic("alice", "s3cret"), "Bearer " + tenantToken} {
			r := do(t, &http.Client{}, p.method, ts.URL+p.path, "", "", "Authorization", auth)
			require.Equal(t, http.StatusUnauthorized, r.status, "%s %s with %q: %s", p.method, p.path, auth, r.body)
			assert.Equal(t, `Bearer realm="algoreg-kit-operator"`, r.header.Get("WWW-Authenticate"))
			assert.Contains(t, problemOf(t, r).Detail, "--admin-token")
		}
	}
	page := decodeAs[openapi.BusinessPage](t, operator(t, ts, http.MethodGet, "/__admin/operator/businesses"))
	assert.Equal(t, []openapi.BusinessCount{{Business: "acme", Customers: 1}}, page.Businesses, "nothing was reset")
	for _, tok := range []string{"short", "a token with spaces!", "caf\u00e9-caf\u00e9-caf\u00e9-caf\u00e9"} {
		_, err := mockserver.New(mockserver.Config{AdminToken: tok})
		assert.ErrorContains(t, err, "Config.AdminToken", tok)
	}
}

// withClient is ts with its Client sending user's Basic credentials.
func withClient(ts *mocktest.Server, user, password string) *mocktest.Server {
	c := *ts
	c.Client = ts.ClientFor(user, password)
	return &c
}

// The operator lists every business with its counts, page by page, resets
// one (the others untouched) or all, and reads any business's webhook
// events, on every store.
func TestOperatorBusinesses(t *testing.T) {
	forEachStore(t, func(t *testing.T, st testStore) {
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}))
		defer hook.Close()
		ts := newServer(t, mockserver.Config{Store: st.open(t), AdminToken: adminToken, WebhookURL: hook.URL})
		two := `{"customers":[{"external_id":"a1",` + indiv + `},{"external_id":"a2",` + indiv + `}],` +
			`"relations":[{"relation_external_id":"r1","parent_customer_external_id":"a1","child_customer_external_id":"a2","relation_type":1}]}`
		save(t, withClient(ts, "acme", "x"), two)
		save(t, withClient(ts, "globex", "x"), `{"customers":[{"external_id":"g1",`+indiv+`}]}`)
		save(t, withClient(ts, "a/b", "x"), `{"customers":[{"external_id":"s1",`+indiv+`}]}`)

		page := decodeAs[openapi.BusinessPage](t, operator(t, ts, http.MethodGet, "/__admin/operator/businesses"))
		assert.Equal(t, []openapi.BusinessCount{bc("a/b", 1, 0), bc("acme", 2, 1), bc("globex", 1, 0)}, page.Businesses)
		assert.Equal(t, int64(3), page.Total)
		page = decodeAs[openapi.BusinessPage](t, operator(t, ts, http.MethodGet, "/__admin/operator/businesses?offset=1&limit=1"))
		assert.Equal(t, openapi.BusinessPage{Businesses: []openapi.BusinessCount{bc("acme", 2, 1)}, Total: 3, Offset: 1, Limit: 1}, page)
		r := operator(t, ts, http.MethodGet, "/__admin/operator/businesses?limit=0")
		assert.Equal(t, http.StatusBadRequest, r.status)

		// Any business's webhook events, as the business itself sees them.
		for _, b := range []string{"acme", "a/b"} {
			path := "/__admin/operator/businesses/" + url.PathEscape(b) + "/webhooks?status=pending"
			waitFor(t, b+"'s event pending", func() bool {
				return decodeAs[openapi.WebhookEventPage](t, operator(t, ts, http.MethodGet, path)).Total == 1
			})
			own := do(t, ts.ClientFor(b, "x"), http.MethodGet, ts.URL+"/__admin/webhooks?status=pending", "", "")
			opr := operator(t, ts, http.MethodGet, path)
			assert.Equal(t, decodeAs[openapi.WebhookEventPage](t, own).Total, decodeAs[openapi.WebhookEventPage](t, opr).Total, b)
		}
		assert.Zero(t, decodeAs[openapi.WebhookEventPage](t, operator(t, ts, http.MethodGet, "/__admin/operator/businesses/nobody/webhooks")).Total)
		r = operator(t, ts, http.MethodGet, "/__admin/operator/businesses/acme/webhooks?status=lost")
		assert.Equal(t, http.StatusBadRequest, r.status)

		r = operator(t, ts, http.MethodDelete, "/__admin/operator/businesses/acme/state")
		require.Equal(t, http.StatusNoContent, r.status, "%s", r.body)
		page = decodeAs[openapi.BusinessPage](t, operator(t, ts, http.MethodGet, "/__admin/operator/businesses"))
		assert.Equal(t, []openapi.BusinessCount{bc("a/b", 1, 0), bc("globex", 1, 0)}, page.Businesses)
		assert.Zero(t, customerTotal(t, ts, "acme"))
		assert.Equal(t, http.StatusNoContent, operator(t, ts, http.MethodDelete, "/__admin/operator/businesses/nobody/state").status)

		reset := decodeAs[openapi.ResetAll](t, operator(t, ts, http.MethodDelete, "/__admin/operator/state"))
		assert.Equal(t, int64(2), reset.BusinessesReset)
		page = decodeAs[openapi.BusinessPage](t, operator(t, ts, http.MethodGet, "/__admin/operator/businesses"))
		assert.Empty(t, page.Businesses)
		assert.Zero(t, customerTotal(t, ts, "globex"))
		assert.Zero(t, customerTotal(t, ts, "a/b"))
	})
}

// bc is a BusinessCount.
func bc(business string, customers, relations int64) openapi.BusinessCount {
	return openapi.BusinessCount{Business: business, Customers: customers, Relations: relations}
}

// customerTotal is how many customers business holds, by its own listing.
func customerTotal(t *testing.T, ts *mocktest.Server, business string) int64 {
	t.Helper()
	return decodeAs[openapi.CustomerPage](t, do(t, ts.ClientFor(business, "x"), http.MethodGet, ts.URL+"/__admin/customers", "", "")).Total
}

// The lockout of issue 13: an account locked by wrong passwords cannot log
// in, nor reset its business; the operator sees it locked, unlocks it, and
// it logs in at once; its token from before the lock works again. On every
// store, and on a second server of the same store.
func TestOperatorUnlocksALockedAccount(t *testing.T) {
	forEachStore(t, func(t *testing.T, st testStore) {
		clock := &fakeClock{now: testNow}
		open := st.state(t)
		cfg := mockserver.Config{Users: stateUsers, LockoutThreshold: 3, LockoutDuration: 15 * time.Minute, Now: clock.Now, AdminToken: adminToken}
		cfg.Store = open()
		a := newServer(t, cfg)
		cfg.Store = open()
		b := newServer(t, cfg)
		before := a.Token(t, "alice", "s3cret")
		wrongPasswords(t, a, "alice", 3)
		assertLocked(t, a, "alice", "s3cret", "after 3 wrong passwords")
		r := do(t, &http.Client{}, http.MethodDelete, a.URL+"/__admin/state", "", "", "Authorization", basic("alice", "s3cret"))
		assert.Equal(t, http.StatusUnauthorized, r.status, "a locked account cannot reset its business")

		accounts := decodeAs[openapi.AccountPage](t, operator(t, a, http.MethodGet, "/__admin/operator/accounts"))
		assert.Equal(t, []openapi.Account{
			{Username: "alice", Business: "acme", Failures: 0, Locked: true, LockedUntil: "2026-11-23T12:15:00Z"},
			{Username: "bob", Business: "acme"},
		}, accounts.Accounts)
		assert.Equal(t, int64(2), accounts.Total)
		one := decodeAs[openapi.AccountPage](t, operator(t, a, http.MethodGet, "/__admin/operator/accounts?offset=1&limit=5"))
		assert.Equal(t, []openapi.Account{{Username: "bob", Business: "acme"}}, one.Accounts)

		r = operator(t, b, http.MethodDelete, "/__admin/operator/accounts/alice/lockout")
		require.Equal(t, http.StatusNoContent, r.status, "%s", r.body)
		for _, ts := range []*mocktest.Server{a, b} {
			status, m := tokenFor(t, ts, "alice", "s3cret")
			assert.Equal(t, http.StatusOK, status, "alice logs in after the unlock: %v", m)
		}
		assert.Equal(t, http.StatusOK, bearerSave(t, b, before, "c1").status, "her token from before the lock, on the server that unlocked")
		waitFor(t, "the other server to accept her old token", func() bool { return bearerSave(t, a, before, "c2").status == http.StatusOK })
		accounts = decodeAs[openapi.AccountPage](t, operator(t, a, http.MethodGet, "/__admin/operator/accounts"))
		assert.Equal(t, openapi.Account{Username: "alice", Business: "acme"}, accounts.Accounts[0])

		r = operator(t, a, http.MethodDelete, "/__admin/operator/accounts/mallory/lockout")
		assert.Equal(t, http.StatusNotFound, r.status)
		assert.Contains(t, problemOf(t, r).Detail, `"mallory"`)
	})
}

// In open mode there are no accounts: the listing is empty and an unlock is
// a 404 that says why.
func TestOperatorAccountsInOpenMode(t *testing.T) {
	ts := newServer(t, mockserver.Config{AdminToken: adminToken})
	accounts := decodeAs[openapi.AccountPage](t, operator(t, ts, http.MethodGet, "/__admin/operator/accounts"))
	assert.Empty(t, accounts.Accounts)
	r := operator(t, ts, http.MethodDelete, "/__admin/operator/accounts/demo/lockout")
	require.Equal(t, http.StatusNotFound, r.status)
	assert.True(t, strings.Contains(problemOf(t, r).Detail, "open mode"), "%s", r.body)
}
