package contract_test

import (
	"context"
	"encoding/json"
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
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// okExample is the document's "ok" example of a save answer: a valid body a
// stub answers to every save, as WireMock with one mapping does.
const okExample = `{"added":[{"customer_id":"0b6d2f9e-8c1a-4d3b-b5e7-1f2a3c4d5e6f","external_id":"cust-0003"}],"detail":[],"status":"ok","verify_input":false}`

// vendorPageExample is what a stub written from the vendor's page answers:
// "status": "OK" (not in the enum) and a customer_id that is no UUID.
const vendorPageExample = `{"added":[{"customer_id":"12345","external_id":"cust-0001"}],"detail":[],"status":"OK","verify_input":false}`

// fixedStub answers every save with save, and every token request with a
// token, or 404 when token is false; anything else 404. extra, when not
// nil, answers the other paths first (a stub of the mock-only paths).
func fixedStub(t *testing.T, save string, token bool, extra http.HandlerFunc) contract.Config {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/v1/customers/save":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(save))
		case r.URL.Path == "/api/v1/token" && token:
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			_, _ = w.Write([]byte(`{"access_token":"stub-token","token_type":"Bearer","expires_in":3600}`))
		case extra != nil:
			extra(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return contract.Config{
		Target: srv.URL, User: "u", Password: "p", HTTPClient: srv.Client(), Seed: 20260601, Cases: 5,
		Skip: regexp.MustCompile(`^transport/oversized-`),
	}
}

// prismLike serves the mock-only paths as a mock generated from the full
// document does: fixed examples, the version header included, but no
// nonce of the request repeated.
func prismLike(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/healthz":
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	case "/__admin/config":
		w.Header().Set("Algoreg-Kit-Version", "v0.0.0-example")
		_, _ = w.Write([]byte(`{"kit":{"name":"algoreg-kit","version":"v0.0.0-example","nonce":"5f3a9c1e","business":"b"},"rules":` + defaultRulesJSON + `}`))
	case "/__admin/customers":
		_, _ = w.Write([]byte(`{"customers":[],"relations":[],"total":0}`))
	default:
		http.NotFound(w, r)
	}
}

var defaultRulesJSON = func() string {
	b, _ := json.Marshal(rules.DefaultConfig())
	return string(b)
}()

// TestKnowsTheTarget: only the kit's GET /__admin/config, repeating the
// run's nonce, makes the target "the algoreg-kit mock"; a stub of the
// mock-only paths is not, and its run says so, with nothing about open mode
// or customers created.
func TestKnowsTheTarget(t *testing.T) {
	mock := startMock(t, nil)
	mock.Run = regexp.MustCompile(`^schema/save-response-valid$`)
	tests := []struct {
		name     string
		cfg      contract.Config
		wantMock bool
	}{
		{"the in-process mock", mock, true},
		{"a stub of the whole document", fixedStub(t, okExample, true, prismLike), false},
		{"a stub of the vendor paths", fixedStub(t, okExample, true, nil), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := contract.Run(context.Background(), tt.cfg)
			require.NoError(t, err)
			assert.Equal(t, tt.wantMock, rep.Mock)
			var b strings.Builder
			require.NoError(t, rep.WriteText(&b))
			text := b.String()
			if tt.wantMock {
				assert.NotEmpty(t, rep.KitVersion)
				assert.Contains(t, text, "(the algoreg-kit mock, version "+rep.KitVersion+")")
				assert.Regexp(t, `\d+ customers? created`, text)
				return
			}
			assert.Empty(t, rep.KitVersion)
			assert.Contains(t, text, "(not the algoreg-kit mock")
			assert.NotContains(t, text, "open mode")
			assert.NotContains(t, text, " created,")
			assert.Contains(t, text, "listed as added")
		})
	}
}

// TestNoTokenEndpoint: a target that answers 404 to POST /api/v1/token
// stops the run with a message that says so and suggests --basic; with
// Basic the run goes on, and its summary gives the cause of the token
// checks' failures first.
func TestNoTokenEndpoint(t *testing.T) {
	cfg := fixedStub(t, okExample, false, nil)
	_, err := contract.Run(context.Background(), cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the target has no token endpoint (POST /api/v1/token answered 404 Not Found)")
	assert.Contains(t, err.Error(), "--basic")
	assert.NotContains(t, err.Error(), "check the user and password")

	cfg.Basic = true
	rep, err := contract.Run(context.Background(), cfg)
	require.NoError(t, err)
	require.NotEmpty(t, rep.Causes)
	assert.Contains(t, causes(rep), "the target has no token endpoint: POST /api/v1/token was answered 404 Not Found")
}

// TestFixedAnswerStub: a stub that answers the document's valid example to
// every save passes the schema category, and the summary's first line says
// that it is a stateless stub.
func TestFixedAnswerStub(t *testing.T) {
	rep, err := contract.Run(context.Background(), fixedStub(t, okExample, true, nil))
	require.NoError(t, err)
	for _, c := range rep.Checks {
		if c.Category == contract.Schema {
			assert.Equal(t, contract.Pass, c.Status, "%s: %s", c.ID, c.Reason)
		}
	}
	assert.Greater(t, rep.Count(contract.Fail), 10, "a stub fails the behaviour checks")
	require.NotEmpty(t, rep.Causes)
	assert.Contains(t, rep.Causes[0].Cause, "the target answers every save the same way: it looks like a stateless stub, not a stateful server")
	var b strings.Builder
	require.NoError(t, rep.WriteText(&b))
	first, _, _ := strings.Cut(b.String(), "\n")
	assert.Regexp(t, `^CAUSE of \d+ failed checks: the target answers every save the same way`, first)
}

// TestMostTellingViolationFirst: against a stub of the vendor's page, the
// schema failure names the status outside the enum before the customer_id
// that is no UUID.
func TestMostTellingViolationFirst(t *testing.T) {
	cfg := fixedStub(t, vendorPageExample, true, nil)
	cfg.Run = regexp.MustCompile(`^schema/save-response-valid$`)
	rep, err := contract.Run(context.Background(), cfg)
	require.NoError(t, err)
	require.Len(t, rep.Checks, 1)
	c := rep.Checks[0]
	require.Equal(t, contract.Fail, c.Status)
	status, uuid := strings.Index(c.Reason, "/status: value is not one of the allowed values"), strings.Index(c.Reason, "/added/0/customer_id")
	require.True(t, status >= 0 && uuid >= 0, c.Reason)
	assert.Less(t, status, uuid, "the enum violation comes first: %s", c.Reason)
}

// TestRulesDifferCause: a mock whose kyc range ends at 1, checked with
// the defaults' (0 to 3), fails many checks for that one reason, which
// the summary names first with the flag to give.
func TestRulesDifferCause(t *testing.T) {
	narrow := *mockRules()
	narrow.KYCMax = 1
	cfg := startMockRules(t, &narrow, nil)
	cfg.Rules = mockRules() // the suite's rules: kyc_level 0 to 3
	cfg.Cases = 10
	rep, err := contract.Run(context.Background(), cfg)
	require.NoError(t, err)
	require.True(t, rep.Mock)
	all := causes(rep)
	assert.Regexp(t, `the target's rules differ from the suite's: kyc_level [23]`, all)
	assert.Contains(t, all, "use --kyc-min or --kyc-max or let the suite read /__admin/config")
	assert.NotContains(t, all, "stateless stub")
}

// TestNoCauseAgainstTheMock: a run against the mock, and one with a single
// broken behaviour, name no cause.
func TestNoCauseAgainstTheMock(t *testing.T) {
	srv := httptest.NewServer(mocktest.NewMock(t, mockserver.Config{}))
	defer srv.Close()
	rep, err := contract.Run(context.Background(), contract.Config{
		Target: srv.URL, User: "demo", Password: "demo", Cases: 5, Skip: regexp.MustCompile(`^transport/oversized-`),
	})
	require.NoError(t, err)
	assert.Empty(t, rep.Causes)
}

func causes(rep contract.Report) string {
	var lines []string
	for _, c := range rep.Causes {
		lines = append(lines, c.Cause)
	}
	return strings.Join(lines, "\n")
}
