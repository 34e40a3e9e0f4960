package contract_test

import (
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/algoreg-kit/algoreg-kit/contract"
	"github.com/algoreg-kit/algoreg-kit/fixtures"
	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// Flags of TestLive: go test ./contract -run TestLive -args -target URL -user U -password P
var (
	target         = flag.String("target", "", "base URL of a server to check (TestLive); empty skips it")
	user           = flag.String("user", "", "user of -target")
	password       = flag.String("password", "", "password of -target")
	token          = flag.String("token", "", "bearer token for -target instead of -user and -password")
	basic          = flag.Bool("basic", false, "send -user and -password as HTTP Basic")
	secondUser     = flag.String("second-user", "", "a second business's user, for tenant isolation")
	secondPassword = flag.String("second-password", "", "the second user's password")
	verifyOnly     = flag.Bool("verify-only", false, "send only verify_input: true saves")
	seed           = flag.Int64("seed", 0, "seed of the generated data (0: random, printed)")
	cases          = flag.Int("cases", 0, "generative cases per generative check (0: the default)")
)

// The in-process mock's accounts: two businesses, so that tenant isolation
// and wrong passwords are checked.
const (
	userA, passA = "contract-a@algoreg-kit.test", "pass-a"
	userB, passB = "contract-b@algoreg-kit.test", "pass-b"
	// userLock is the sacrificial account the lockout check may lock.
	userLock, passLock = "contract-lock@algoreg-kit.test", "pass-lock"
)

// mockRules is the in-process mock's rule configuration: the defaults with
// lists of review groups and custom fields, so that the two codes that need
// them are checked too.
func mockRules() *rules.Config {
	rc := rules.DefaultConfig()
	rc.ReviewGroups = fixtures.DefaultReviewGroups
	rc.CustomFields = fixtures.DefaultCustomFields
	return &rc
}

// startMock starts the mock on a loopback httptest.Server, its handler
// wrapped by wrap when not nil, and returns a Config that checks it. The
// server is closed when the test ends.
func startMock(tb testing.TB, wrap func(http.Handler) http.Handler) contract.Config {
	tb.Helper()
	return startMockRules(tb, mockRules(), wrap)
}

// startMockRules is startMock with the mock's (and the suite's) rules rc.
func startMockRules(tb testing.TB, rc *rules.Config, wrap func(http.Handler) http.Handler) contract.Config {
	tb.Helper()
	return startMockUsers(tb, rc, []mockserver.User{
		{Username: userA, Password: passA, Business: "contract-a"},
		{Username: userB, Password: passB, Business: "contract-b"},
		{Username: userLock, Password: passLock, Business: "contract-a"},
	}, wrap)
}

// startOpenMock is startMock in open mode (no users file): the suite makes
// up the second business's user.
func startOpenMock(tb testing.TB, wrap func(http.Handler) http.Handler) contract.Config {
	tb.Helper()
	cfg := startMockUsers(tb, mockRules(), nil, wrap)
	cfg.SecondUser, cfg.SecondPassword = "", ""
	return cfg
}

// startMockUsers is startMockRules with the mock's users (nil: open mode).
func startMockUsers(tb testing.TB, rc *rules.Config, users []mockserver.User, wrap func(http.Handler) http.Handler) contract.Config {
	tb.Helper()
	var h http.Handler = mocktest.NewMock(tb, mockserver.Config{Rules: rc, Users: users})
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	cfg := contract.Config{
		Target: srv.URL, User: userA, Password: passA, SecondUser: userB, SecondPassword: passB,
		Rules: rc, HTTPClient: srv.Client(), Seed: 20260601,
	}
	if users != nil {
		cfg.LockoutUser, cfg.LockoutPassword = userLock, passLock
	}
	return cfg
}

// report runs the suite and reports every check as a subtest.
func report(t *testing.T, cfg contract.Config) contract.Report {
	t.Helper()
	rep, err := contract.Run(context.Background(), cfg)
	require.NoError(t, err)
	for _, c := range rep.Checks {
		t.Run(c.ID, func(t *testing.T) {
			switch c.Status {
			case contract.Skip:
				t.Skip(c.Reason)
			case contract.Fail:
				t.Errorf("seed %d: %s", rep.Seed, c.Reason)
				for _, f := range c.Failures {
					t.Logf("expected: %s\nrequest:\n%s\nresponse:\n%s", f.Expected, f.Request, f.Response)
				}
			}
		})
	}
	return rep
}

func TestMock(t *testing.T) {
	cfg := startMock(t, nil)
	if *seed != 0 {
		cfg.Seed = *seed
	}
	cfg.Cases = *cases
	rep := report(t, cfg)
	assert.Equal(t, len(contract.Checks()), len(rep.Checks), "every check of the catalogue runs")
	assert.Zero(t, rep.Count(contract.Skip), "against the mock with two users and rule lists, no check is skipped")
	t.Logf("%d checks, %d requests in %s (seed %d)", len(rep.Checks), rep.Requests, rep.Duration, rep.Seed)
}

// TestMockSmallLimits: the checks size their requests to the target's
// limits, so a mock with a batch limit of 5 customers and 2 relations passes
// every check but the one that needs more customers than the risk-scan
// limit in one request, which says so.
func TestMockSmallLimits(t *testing.T) {
	rc := mockRules()
	rc.MaxBatch, rc.MaxRelations = 5, 2
	cfg := startMockRules(t, rc, nil)
	cfg.Cases = 20
	rep := report(t, cfg)
	for _, c := range rep.Checks {
		if c.Status == contract.Skip && c.ID != "behaviour/risk-scan-forced" {
			t.Errorf("%s skipped: %s", c.ID, c.Reason)
		}
	}
}

func TestLive(t *testing.T) {
	if *target == "" {
		t.Skip("no -target: go test ./contract -run TestLive -args -target URL -user U -password P")
	}
	report(t, contract.Config{
		Target: *target, User: *user, Password: *password, Token: *token, Basic: *basic,
		SecondUser: *secondUser, SecondPassword: *secondPassword, VerifyOnly: *verifyOnly,
		Seed: *seed, Cases: *cases,
	})
}

// BenchmarkSuite runs the full default suite (every check, 100 generative
// cases) against the in-process mock: the target is under 10 s per
// run on a 2-core machine.
//
//	go test -run '^$' -bench BenchmarkSuite -benchtime 5x ./contract
func BenchmarkSuite(b *testing.B) {
	b.ReportAllocs()
	benchSuite(b, nil, 0)
}

// benchSuite runs the full default suite b.N times against a new mock (its
// handler wrapped by wrap when not nil) at parallel checks at once (0: the
// default), and reports the seconds and requests per suite.
func benchSuite(b *testing.B, wrap func(http.Handler) http.Handler, parallel int) {
	requests := 0
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		cfg := startMock(b, wrap)
		cfg.Parallel = parallel
		b.StartTimer()
		rep, err := contract.Run(context.Background(), cfg)
		if err != nil || !rep.OK() {
			b.Fatalf("error %v, failed checks %v", err, rep.Failed())
		}
		requests += rep.Requests
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/suite")
	b.ReportMetric(float64(requests)/float64(b.N), "requests/suite")
}
