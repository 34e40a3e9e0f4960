package contract_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/algoreg-kit/algoreg-kit/contract"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// synthetic builds a report of n failed checks, the i-th with the
// exchanges ex(i) and the first failure's expectation expected(i).
func synthetic(n int, ex func(i int) []contract.Exchange, expected func(i int) string) contract.Report {
	var rep contract.Report
	for i := range n {
		c := contract.Result{ID: fmt.Sprintf("behaviour/c%d", i), Status: contract.Fail, Exchanges: ex(i)}
		if expected != nil {
			c.Failures = []contract.Failure{{Expected: expected(i)}}
		}
		rep.Checks = append(rep.Checks, c)
	}
	rep.Checks = append(rep.Checks, contract.Result{ID: "behaviour/passed", Status: contract.Pass})
	return rep
}

const base = "http://stub.test"

func save(auth, req string, status int, resp string) contract.Exchange {
	return contract.Exchange{Method: "POST", URL: base + "/api/v1/customers/save", Auth: auth, RequestBody: req, Status: status, ResponseBody: resp}
}

// added answers customerBody(i) as the mock does.
func added(i int) string {
	return fmt.Sprintf(`{"added":[{"customer_id":"0b6d2f9e-8c1a-4d3b-b5e7-1f2a3c4d5e6f","external_id":"ct1-c%d-a"}],"detail":[],"status":"ok","verify_input":false}`, i)
}

func customerBody(i int) string {
	return fmt.Sprintf(`{"customers":[{"external_id":"ct1-c%d-a","account_type":"N","last_name":"Doe","kyc_level":%d}]}`, i, i%2+2)
}

// TestDiagnose holds each diagnoser to its cause on recorded results, and
// to no cause when the evidence is one check's or mixed.
func TestDiagnose(t *testing.T) {
	ok := `{"added":[],"detail":[],"status":"ok","verify_input":false}`
	refusedKYC := func(i int) string {
		return fmt.Sprintf(`{"added":[],"detail":[{"external_id":"ct1-c%d-a","errors":[{"error":"kyc_level_out_of_range","detail":"d"}],"warnings":[]}],"status":"failed","verify_input":false}`, i)
	}
	tests := []struct {
		name string
		rep  contract.Report
		mock bool
		want []string // substrings of the causes, in order; none for no cause
	}{
		{"no token endpoint", synthetic(3, func(int) []contract.Exchange {
			return []contract.Exchange{{Method: "POST", URL: base + "/api/v1/token", Auth: "none", Status: 404}}
		}, nil), false, []string{"the target has no token endpoint: POST /api/v1/token was answered 404 Not Found 3 times; the checks of the token endpoint fail for that alone"}},
		{"a token endpoint that answers once", synthetic(3, func(i int) []contract.Exchange {
			return []contract.Exchange{{Method: "POST", URL: base + "/api/v1/token", Auth: "none", Status: []int{404, 400, 404}[i]}}
		}, nil), false, nil},
		{"credentials refused everywhere", synthetic(6, func(i int) []contract.Exchange {
			return []contract.Exchange{save("primary", customerBody(i), 403, `{}`)}
		}, nil), false, []string{"the target refused the suite's own credentials in 6 of 6 requests"}},
		{"credentials refused in one check", synthetic(6, func(i int) []contract.Exchange {
			if i == 0 {
				return []contract.Exchange{save("primary", customerBody(i), 401, `{}`)}
			}
			return []contract.Exchange{save("primary", customerBody(i), 200, added(i))}
		}, nil), true, nil},
		{"made-up credentials refused are no cause", synthetic(6, func(i int) []contract.Exchange {
			return []contract.Exchange{save("made-up", customerBody(i), 401, `{}`)}
		}, nil), false, nil},
		{"one answer to every save", synthetic(6, func(i int) []contract.Exchange {
			return []contract.Exchange{save("primary", customerBody(i), 200, ok)}
		}, nil), false, []string{"the target answers every save the same way: it looks like a stateless stub, not a stateful server (6 saves of different bodies, one answer)"}},
		{"answers that never name the customers sent", synthetic(6, func(i int) []contract.Exchange {
			return []contract.Exchange{save("primary", customerBody(i), 200, fmt.Sprintf(`{"added":[{"customer_id":"0b6d2f9e-8c1a-4d3b-b5e7-1f2a3c4d5e6f","external_id":"made-up-%d"}],"detail":[],"status":"ok","verify_input":false}`, i))}
		}, nil), false, []string{"added and detail never name a customer that was sent"}},
		{"answers that follow the requests", synthetic(6, func(i int) []contract.Exchange {
			return []contract.Exchange{save("primary", customerBody(i), 200, added(i))}
		}, nil), false, nil},
		{"the same violation everywhere", synthetic(4, func(int) []contract.Exchange { return nil }, func(i int) string {
			return fmt.Sprintf(`a response that matches the OpenAPI document: response does not match the OpenAPI document: /status: value is not one of the allowed values ["ok","partial","failed"]; /added/%d/customer_id: x`, i)
		}), false, []string{`the target's answers break the document the same way: /status: value is not one of the allowed values`}},
		{"kyc levels refused, on the mock", synthetic(3, func(i int) []contract.Exchange {
			return []contract.Exchange{save("primary", customerBody(i), 200, refusedKYC(i))}
		}, nil), true, []string{"the target's rules differ from the suite's: kyc_level 2 or 3 were refused (kyc_level_out_of_range; use --kyc-min or --kyc-max or let the suite read /__admin/config"}},
		{"kyc levels refused, elsewhere", synthetic(2, func(i int) []contract.Exchange {
			return []contract.Exchange{save("primary", customerBody(0), 200, refusedKYC(0))}
		}, nil), false, []string{"kyc_level 2 was refused (kyc_level_out_of_range; give the target's settings with --kyc-min or --kyc-max)"}},
		{"a kyc level the suite expects refused", synthetic(3, func(i int) []contract.Exchange {
			body := fmt.Sprintf(`{"customers":[{"external_id":"ct1-c%d-a","account_type":"N","last_name":"Doe","kyc_level":9}]}`, i)
			return []contract.Exchange{save("primary", body, 200, refusedKYC(i))}
		}, nil), false, nil},
		{"one check's failure", synthetic(1, func(i int) []contract.Exchange {
			return []contract.Exchange{save("primary", customerBody(i), 200, refusedKYC(i))}
		}, nil), false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.rep.Mock = tt.mock
			got := contract.Diagnose(tt.rep, rules.DefaultConfig())
			if tt.want == nil {
				assert.Empty(t, got)
				return
			}
			var lines []string
			for _, c := range got {
				lines = append(lines, c.Cause)
				assert.GreaterOrEqual(t, len(c.Checks), 2, "a cause names the checks it explains")
			}
			all := strings.Join(lines, "\n")
			for _, w := range tt.want {
				assert.Contains(t, all, w)
			}
		})
	}
}
