package contract_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/algoreg-kit/algoreg-kit/contract"
	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
)

// hideInspection makes the mock look like the vendor: no /healthz, no
// /__admin.
func hideInspection(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || strings.HasPrefix(r.URL.Path, "/__admin") {
			http.NotFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

type storedPage struct {
	Customers []struct {
		ExternalID string `json:"external_id"`
		Disabled   bool   `json:"disabled"`
	} `json:"customers"`
	Relations []struct {
		RelationExternalID string `json:"relation_external_id"`
		Disabled           bool   `json:"disabled"`
	} `json:"relations"`
	Total int `json:"total"`
}

// storedState reads every customer and relation of a business straight from
// the mock's handler.
func storedState(tb testing.TB, mock http.Handler, user, pass string) (customers, relations storedPage) {
	tb.Helper()
	read := func(path string, into *storedPage) {
		for offset := 0; ; offset += 1000 {
			req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("%s?offset=%d&limit=1000", path, offset), nil)
			req.SetBasicAuth(user, pass)
			rec := httptest.NewRecorder()
			mock.ServeHTTP(rec, req)
			require.Equal(tb, http.StatusOK, rec.Code, rec.Body.String())
			var page storedPage
			require.NoError(tb, json.Unmarshal(rec.Body.Bytes(), &page))
			into.Customers = append(into.Customers, page.Customers...)
			into.Relations = append(into.Relations, page.Relations...)
			into.Total = page.Total
			if len(page.Customers)+len(page.Relations) < 1000 {
				return
			}
		}
	}
	read("/__admin/customers", &customers)
	read("/__admin/relations", &relations)
	return customers, relations
}

// liveLikeMock starts the mock behind hideInspection, so the suite runs as
// against a live tenant, and returns the unwrapped mock to look inside.
func liveLikeMock(tb testing.TB) (contract.Config, http.Handler) {
	tb.Helper()
	var mock http.Handler
	cfg := startMock(tb, func(next http.Handler) http.Handler {
		mock = next
		return hideInspection(next)
	})
	cfg.Cases = 20
	cfg.Skip = regexp.MustCompile(`^transport/oversized-`) // TestMock runs them
	if *cases != 0 {
		cfg.Cases = *cases
	}
	return cfg, mock
}

// TestLiveRunWrites checks what contract/README.md says a live run writes:
// only records whose ids carry the run prefix, all disabled at the end, and
// nothing that needs the inspection API or holds it to what only the mock
// documents is run.
func TestLiveRunWrites(t *testing.T) {
	cfg, mock := liveLikeMock(t)
	rep, err := contract.Run(context.Background(), cfg)
	require.NoError(t, err)
	assert.False(t, rep.Mock, "a target whose GET /__admin/config answers 404 is not the mock")
	for _, c := range rep.Checks {
		assert.NotEqual(t, contract.Fail, c.Status, "%s: %s", c.ID, c.Reason)
		if c.Status == contract.Skip {
			assert.Contains(t, c.Reason, "the target is not the algoreg-kit mock", c.ID)
		}
	}
	total := 0
	for _, acct := range [][2]string{{userA, passA}, {userB, passB}} {
		cs, rs := storedState(t, mock, acct[0], acct[1])
		total += len(cs.Customers)
		for _, c := range cs.Customers {
			assert.True(t, strings.HasPrefix(c.ExternalID, rep.RunPrefix), "stored %q carries the run prefix %s", c.ExternalID, rep.RunPrefix)
			assert.True(t, c.Disabled, "stored %q is disabled after the run", c.ExternalID)
		}
		for _, r := range rs.Relations {
			assert.True(t, strings.HasPrefix(r.RelationExternalID, rep.RunPrefix), "stored relation %q carries the run prefix", r.RelationExternalID)
			assert.True(t, r.Disabled, "stored relation %q is disabled after the run", r.RelationExternalID)
		}
	}
	assert.NotZero(t, total)
	assert.Equal(t, total, rep.Created, "the report counts every customer the run created")
	assert.Equal(t, total, rep.Disabled, "the report counts every customer the clean-up disabled")
	t.Logf("a live-like run created and disabled %d customers in %d requests", total, rep.Requests)
}

// TestVerifyOnlyWritesNothing: with VerifyOnly nothing at all is stored, and
// only the checks that need real saves are skipped.
func TestVerifyOnlyWritesNothing(t *testing.T) {
	var mock http.Handler
	cfg := startMock(t, func(next http.Handler) http.Handler { mock = next; return next })
	cfg.VerifyOnly, cfg.Cases = true, 20
	cfg.Skip = regexp.MustCompile(`^transport/oversized-`)
	rep, err := contract.Run(context.Background(), cfg)
	require.NoError(t, err)
	persist := map[string]bool{}
	for _, c := range contract.Checks() {
		persist[c.ID] = c.NeedsPersistence
	}
	for _, c := range rep.Checks {
		assert.NotEqual(t, contract.Fail, c.Status, "%s: %s", c.ID, c.Reason)
		assert.Equal(t, persist[c.ID], c.Status == contract.Skip, "%s is skipped exactly when it needs real saves (%s)", c.ID, c.Reason)
	}
	for _, acct := range [][2]string{{userA, passA}, {userB, passB}} {
		cs, rs := storedState(t, mock, acct[0], acct[1])
		assert.Empty(t, cs.Customers, "verify-only stores no customer")
		assert.Empty(t, rs.Relations, "verify-only stores no relation")
	}
	assert.Zero(t, rep.Created)
}

// TestRunErrors: a run that cannot start says what to fix, in one line.
func TestRunErrors(t *testing.T) {
	srv := httptest.NewServer(mocktest.NewMock(t, mockserver.Config{Users: []mockserver.User{{Username: "u", Password: "right", Business: "b"}}}))
	defer srv.Close()
	tests := []struct {
		name string
		cfg  contract.Config
		want string
	}{
		{"no target", contract.Config{User: "u", Password: "p"}, "no target"},
		{"relative target", contract.Config{Target: "example.com", User: "u", Password: "p"}, "absolute http"},
		{"target with the API's path", contract.Config{Target: "https://api.example.com/api/v1/", User: "u", Password: "p"},
			`target "https://api.example.com/api/v1/": its path "/api/v1/" already holds the API's /api/v1, which the suite adds to every path itself (it would call https://api.example.com/api/v1/api/v1/token); give the base URL, https://api.example.com`},
		{"target with the save path", contract.Config{Target: "https://gw.example.com/algoreg/api/v1/customers/save", User: "u", Password: "p"}, "give the base URL, https://gw.example.com/algoreg"},
		{"run matches nothing", contract.Config{Target: srv.URL, User: "u", Password: "p", Run: regexp.MustCompile("behavior/")}, `the run pattern "behavior/" matches no check; the closest are behaviour/`},
		{"no credentials", contract.Config{Target: srv.URL}, "credentials"},
		{"token and user", contract.Config{Target: srv.URL, Token: "t", User: "u"}, "not both"},
		{"half a second business", contract.Config{Target: srv.URL, User: "u", Password: "p", SecondUser: "v"}, "second"},
		{"half a lockout account", contract.Config{Target: srv.URL, User: "u", Password: "p", LockoutUser: "l"}, "lockout credentials: give both"},
		{"the run's user as the lockout account", contract.Config{Target: srv.URL, User: "u", Password: "p", LockoutUser: "u", LockoutPassword: "p"}, "also the run's user"},
		{"wrong password", contract.Config{Target: srv.URL, User: "u", Password: "xyzzy-secret"}, "invalid_grant"},
		{"wrong Basic password", contract.Config{Target: srv.URL, User: "u", Password: "xyzzy-secret", Basic: true},
			`the target refused the given credentials: an empty dry-run save was answered 401 Unauthorized ("The username or password is wrong."); check the user and password, or the token`},
		{"unknown token", contract.Config{Target: srv.URL, Token: "xyzzy-secret"}, "401 Unauthorized"},
		{"nothing listening", contract.Config{Target: "http://127.0.0.1:1", User: "u", Password: "p", Basic: true}, "reach http://127.0.0.1:1"},
		{"negative cases", contract.Config{Target: srv.URL, User: "u", Password: "p", Cases: -1}, "cases"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := contract.Run(context.Background(), tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "xyzzy-secret", "the password is never printed")
			assert.NotRegexp(t, `\. [a-z]`, err.Error(), "sentences are not run together")
		})
	}
}

// TestOpenModeMockGetsASecondBusiness: against the mock in open mode, the
// tenant-isolation check makes up its second business.
func TestOpenModeMockGetsASecondBusiness(t *testing.T) {
	srv := httptest.NewServer(mocktest.NewMock(t, mockserver.Config{}))
	defer srv.Close()
	rep, err := contract.Run(context.Background(), contract.Config{
		Target: srv.URL, User: "demo", Password: "demo", Run: regexp.MustCompile(`^behaviour/tenant-isolation$`),
	})
	require.NoError(t, err)
	require.Len(t, rep.Checks, 1)
	assert.Equal(t, contract.Pass, rep.Checks[0].Status, rep.Checks[0].Reason)

	// A mock with a users file refuses made-up users: the check is skipped.
	srv2 := httptest.NewServer(mocktest.NewMock(t, mockserver.Config{Users: []mockserver.User{{Username: "u", Password: "p", Business: "b"}}}))
	defer srv2.Close()
	rep, err = contract.Run(context.Background(), contract.Config{
		Target: srv2.URL, User: "u", Password: "p", Run: regexp.MustCompile(`^behaviour/tenant-isolation$`),
	})
	require.NoError(t, err)
	assert.Equal(t, contract.Skip, rep.Checks[0].Status)
}
