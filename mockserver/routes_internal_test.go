package mockserver

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/store"
)

// requestFor returns a request that the route's pattern matches, with a body
// that saves a customer.
func requestFor(rt route, auth string) *http.Request {
	method, path, _ := strings.Cut(rt.pattern, " ")
	path = strings.ReplaceAll(path, "{external_id}", "x")
	r := httptest.NewRequest(method, path, strings.NewReader(`{"customers":[{"external_id":"x","account_type":"N","last_name":"D"}]}`))
	r.Header.Set("Content-Type", "application/json")
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	return r
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// Every route but the token endpoint, /healthz and /openapi.yaml is behind
// requireAuth: through the router, without credentials or with credentials
// that name no business, each answers 401, and with good ones it is served.
func TestEveryPrivateRouteNeedsCredentials(t *testing.T) {
	for _, mode := range []struct {
		name      string
		cfg       Config
		good, bad string
	}{
		{"open mode", Config{RateLimit: 100}, basic("acme", "any"), "Digest x"},
		{"fixed accounts", Config{Users: []User{{Username: "u", Password: "p", Business: "acme"}}}, basic("u", "p"), basic("u", "wrong")},
	} {
		s, err := New(mode.cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var public []string
		for _, rt := range s.routeTable() {
			if rt.public {
				public = append(public, rt.pattern)
				continue
			}
			for _, auth := range []string{"", basic("", ""), basic("", "p"), "Bearer ", "Bearer x", mode.bad} {
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, requestFor(rt, auth))
				if rec.Code != http.StatusUnauthorized {
					t.Errorf("%s: %s with %q: got %d, want 401", mode.name, rt.pattern, auth, rec.Code)
				}
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, requestFor(rt, mode.good))
			if rec.Code == http.StatusUnauthorized || rec.Code >= 500 {
				t.Errorf("%s: %s with good credentials: got %d: %s", mode.name, rt.pattern, rec.Code, rec.Body.Bytes())
			}
		}
		if want := []string{"POST /api/v1/token", "GET /healthz", "GET /openapi.yaml", "GET /metrics"}; !slices.Equal(public, want) {
			t.Errorf("public routes: got %v, want %v", public, want)
		}
		if n := customersOf(t, s, ""); n != 0 {
			t.Errorf("%s: business \"\" has %d customers, want none", mode.name, n)
		}
	}
}

// A handler that needs a business, reached without requireAuth (a route
// registered without it), answers 500 and logs the bug; it never acts for
// business "".
func TestHandlerWithoutBusinessIs500(t *testing.T) {
	var logs bytes.Buffer
	s, err := New(Config{RateLimit: 100, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	handlers := map[string]http.Handler{"rate limit": s.rateLimit(handleHealth())}
	for _, rt := range s.routeTable() {
		if !rt.public {
			handlers[rt.pattern] = rt.handler
		}
	}
	for name, h := range handlers {
		logs.Reset()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, requestFor(route{pattern: "POST /x"}, basic("acme", "any")))
		var p openapi.Problem
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Code != 500 || p.Type != "urn:algoreg-kit:problem:internal" {
			t.Errorf("%s: got %d %s, want a 500 problem", name, rec.Code, rec.Body.Bytes())
		}
		if !strings.Contains(logs.String(), "without an authenticated business") {
			t.Errorf("%s: log %q, want the bug logged", name, logs.String())
		}
	}
	if n := customersOf(t, s, ""); n != 0 {
		t.Errorf("business \"\" has %d customers, want none", n)
	}
}

// customersOf counts the customers stored for business.
func customersOf(tb testing.TB, s *Server, business string) int {
	tb.Helper()
	var total int
	if err := s.store.View(tb.Context(), business, func(tx store.Tx) error {
		var err error
		_, total, err = tx.Customers(0, 1)
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	return total
}
