package contract_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/algoreg-kit/algoreg-kit/contract"
	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// TestVerdictsDoNotDependOnOrder runs the suite three times against one mock
// (and against two stateful mutants): one check at a time in the default
// order, then 8 at a time in two shuffled orders. Every check has its own
// ids and data, so each check's status and reason (run prefix and uuids
// aside) are the same in the three runs.
func TestVerdictsDoNotDependOnOrder(t *testing.T) {
	wraps := map[string]func(http.Handler) http.Handler{"the mock": nil}
	for _, m := range mutants() {
		if m.name == "re-adds updated customers" || m.name == "shares state across tokens" {
			wraps[m.name] = m.wrap
		}
	}
	require.Len(t, wraps, 3)
	runs := []struct {
		parallel int
		shuffle  int64
	}{{1, 0}, {8, 1}, {8, 2}}
	uuid := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	for name, wrap := range wraps {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := startMock(t, wrap)
			cfg.Cases = 5
			// The lockout check leaves its account locked: a second run
			// against the same mock is refused its right password.
			cfg.Skip = regexp.MustCompile(`^(transport/oversized-|behaviour/risk-scan-forced$|negative/auth/lockout$)`)
			var first map[string]string
			for i, run := range runs {
				cfg.Parallel, cfg.Shuffle = run.parallel, run.shuffle
				rep, err := contract.Run(context.Background(), cfg)
				require.NoError(t, err)
				verdicts := map[string]string{}
				for _, c := range rep.Checks {
					reason := strings.ReplaceAll(c.Reason, rep.RunPrefix, "<prefix>")
					if racesWithin[c.ID] {
						reason = "" // its own saves race one another: see racesWithin
					}
					verdicts[c.ID] = fmt.Sprintf("%s: %s", c.Status, uuid.ReplaceAllString(reason, "<uuid>"))
				}
				if wrap != nil && rep.OK() {
					t.Fatalf("run %d passed against a mutant", i)
				}
				if i == 0 {
					first = verdicts
					continue
				}
				for id, v := range first {
					if verdicts[id] != v {
						t.Errorf("%s: parallel %d, shuffle %d: got %q; one at a time in the default order: %q", id, run.parallel, run.shuffle, verdicts[id], v)
					}
				}
			}
		})
	}
}

// racesWithin lists the checks that send concurrent requests of their own:
// against a mutant, how many of them lose the race (the count in the
// reason) depends on scheduling, not on the order of the checks, so only
// their status is compared.
var racesWithin = map[string]bool{"behaviour/concurrent-create-once": true}

// BenchmarkSuiteSlowTarget runs the full default suite (every check, 100
// generative cases) against the mock behind a delay: every request is
// answered d later, as a distant sandbox would, at 4 checks at once (the
// default against a non-loopback host) and 8 (against loopback). The
// figures are in README.md ("Speed"); one run each is enough:
//
//	go test -run '^$' -bench BenchmarkSuiteSlowTarget -benchtime 1x -timeout 30m ./contract
func BenchmarkSuiteSlowTarget(b *testing.B) {
	for _, d := range []time.Duration{300 * time.Millisecond, 2 * time.Second} {
		for _, parallel := range []int{contract.DefaultRemoteParallel, contract.DefaultParallel} {
			b.Run(fmt.Sprintf("delay=%s/parallel=%d", d, parallel), func(b *testing.B) { benchSuite(b, delay(d), parallel) })
		}
	}
}

// delay answers every request d later (or when the client gives up).
func delay(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// TestGenerativeFirstFailingCase: the cases of a generative check run at
// once when slots are idle, and the check reports the first failing case,
// with the line that replays it and that case's exchanges only, whatever
// the parallelism: a mock that answers cases 3 and 5 wrongly fails case 3.
func TestGenerativeFirstFailingCase(t *testing.T) {
	wrong := onSave(nil, func(req []byte, resp *openapi.SaveCustomersResponse) {
		if bytes.Contains(req, []byte("-k3-")) || bytes.Contains(req, []byte("-k5-")) {
			resp.Status = openapi.StatusFailed
		}
	})
	for _, parallel := range []int{1, 8} {
		t.Run(fmt.Sprintf("parallel=%d", parallel), func(t *testing.T) {
			cfg := startMock(t, wrong)
			cfg.Cases, cfg.Parallel = 8, parallel
			cfg.Run = regexp.MustCompile(`^generative/valid-batches$`)
			rep, err := contract.Run(context.Background(), cfg)
			require.NoError(t, err)
			c := rep.Checks[0]
			require.Equal(t, contract.Fail, c.Status)
			require.True(t, strings.HasPrefix(c.Reason, `case 3: status ok for a batch of valid records, got "failed"`), c.Reason)
			last := c.Failures[len(c.Failures)-1].Expected
			require.Equal(t, fmt.Sprintf("case 3 failed; replay with --seed %d --cases 4 --run '^generative/valid-batches$'", rep.Seed), last)
			require.Len(t, c.Exchanges, 1)
			require.Contains(t, c.Exchanges[0].RequestBody, "-k3-")
			require.True(t, c.Exchanges[0].Failed)
		})
	}
}
