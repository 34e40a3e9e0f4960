package contract_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/algoreg-kit/algoreg-kit/contract"
	"github.com/algoreg-kit/algoreg-kit/internal/golden"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// sampleReport is a fixed report with one check of each status.
func sampleReport() contract.Report {
	return contract.Report{
		Target: "https://api.example.test", Seed: 42, Cases: 100, RunPrefix: "ct0badc0de-",
		Started: time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC), Duration: 1234 * time.Millisecond,
		Requests: 300, Created: 120, Disabled: 120,
		Checks: []contract.Result{
			{ID: "behaviour/create-lists-added", Category: contract.Behaviour, Description: "new customers are listed in added", Status: contract.Pass, Duration: 3 * time.Millisecond, Requests: 1},
			{ID: "negative/code/date_of_birth_invalid", Category: contract.Negative, Description: "bad date", Status: contract.Fail, Duration: 2 * time.Millisecond, Requests: 1,
				Reason: "a detail entry under customer id \"ct0badc0de-g1-cust-00000000\" with the error date_of_birth_invalid",
				Failures: []contract.Failure{{
					Expected: "a detail entry under customer id \"ct0badc0de-g1-cust-00000000\" with the error date_of_birth_invalid",
					Request:  "POST /api/v1/customers/save\nAuthorization: Bearer <redacted>\n\n{\"customers\":[{\"external_id\":\"ct0badc0de-g1-cust-00000000\",\"date_of_birth\":\"1984-02-30\"}]}",
					Response: "500 Internal Server Error\nContent-Type: application/problem+json\n\n{\"type\":\"urn:x\",\"title\":\"oops <&>\",\"status\":500,\"detail\":\"x\"}",
				}},
				Exchanges: []contract.Exchange{{
					Method: "POST", URL: "https://api.example.test/api/v1/customers/save", Auth: "primary",
					RequestHeaders:   http.Header{"Authorization": {"Bearer <redacted>"}, "Content-Type": {"application/json"}},
					RequestBody:      `{"customers":[{"external_id":"ct0badc0de-g1-cust-00000000","date_of_birth":"1984-02-30"}]}`,
					RequestBodyBytes: 87, Status: 500, ResponseHeaders: http.Header{"Content-Type": {"application/problem+json"}},
					ResponseBody: `{"type":"urn:x","title":"oops <&>","status":500,"detail":"x"}`, ResponseBodyBytes: 62, Failed: true,
					Curl: `curl -sS -i -X POST 'https://api.example.test/api/v1/customers/save' -H 'Content-Type: application/json' -H 'Authorization: Bearer '"${ALGOREG_TOKEN}" --data-binary '{"customers":[{"external_id":"ct0badc0de-g1-cust-00000000","date_of_birth":"1984-02-30"}]}'`,
				}},
			},
			{ID: "behaviour/delta-update-keeps-fields", Category: contract.Behaviour, Description: "delta", Status: contract.Skip, Reason: "needs the mock's inspection API (/__admin); the target is not the algoreg-kit mock"},
		},
	}
}

func TestReportText(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, sampleReport().WriteText(&b))
	golden.Check(t, "report.golden.txt", b.Bytes())
}

// TestReportTextSingular: one of a thing is said in the singular, and a check
// under a millisecond does not take "0s".
func TestReportTextSingular(t *testing.T) {
	rep := contract.Report{
		Target: "http://127.0.0.1:1", Mock: true, Seed: 1, Cases: 1, RunPrefix: "ct1-", Duration: 300 * time.Microsecond,
		Requests: 1, Created: 1, Disabled: 1,
		Checks: []contract.Result{{ID: "behaviour/create-lists-added", Status: contract.Pass, Duration: 40 * time.Microsecond}},
	}
	var b bytes.Buffer
	require.NoError(t, rep.WriteText(&b))
	for _, want := range []string{
		"PASS  behaviour/create-lists-added (0.04 ms)\n",
		"\n1 check: 1 passed, 0 failed, 0 skipped in 0.30 ms against",
		", 1 case, run prefix ct1-: 1 request, 1 customer created, 1 disabled at the end\n",
	} {
		assert.Contains(t, b.String(), want)
	}
}

func TestReportJUnitGolden(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, sampleReport().WriteJUnit(&b))
	golden.Check(t, "report.golden.xml", b.Bytes())
}

func TestReportJSONRoundTrip(t *testing.T) {
	var b bytes.Buffer
	rep := sampleReport()
	require.NoError(t, rep.WriteJSON(&b))
	var got contract.Report
	require.NoError(t, json.Unmarshal(b.Bytes(), &got))
	assert.Equal(t, rep, got)
}

// The JUnit XML as CI systems read it.
type junitSuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// TestJUnitOneTestcasePerCheck runs the whole suite against a mock that
// fails some checks, writes JUnit, parses it back and finds one testcase per
// check with the check's status, and consistent counts.
func TestJUnitOneTestcasePerCheck(t *testing.T) {
	cfg := startMock(t, func(next http.Handler) http.Handler {
		return answersWithoutAuth(next)
	})
	cfg.Cases = 5
	cfg.SecondUser, cfg.SecondPassword = "", "" // the tenant check is skipped
	cfg.Skip = regexp.MustCompile(`^transport/oversized-`)
	rep, err := contract.Run(context.Background(), cfg)
	require.NoError(t, err)
	require.NotZero(t, rep.Count(contract.Fail))
	require.NotZero(t, rep.Count(contract.Skip))

	var b bytes.Buffer
	require.NoError(t, rep.WriteJUnit(&b))
	require.True(t, strings.HasPrefix(b.String(), xml.Header))
	var got junitSuites
	require.NoError(t, xml.Unmarshal(b.Bytes(), &got), "JUnit output parses as XML")
	assert.Equal(t, len(rep.Checks), got.Tests)
	assert.Equal(t, rep.Count(contract.Fail), got.Failures)
	assert.Equal(t, rep.Count(contract.Skip), got.Skipped)

	status := map[string]contract.Status{}
	for _, c := range rep.Checks {
		status[c.ID] = c.Status
	}
	seen := map[string]bool{}
	for _, s := range got.Suites {
		tests, failures, skipped := 0, 0, 0
		for _, tc := range s.Cases {
			tests++
			assert.False(t, seen[tc.Name], "testcase %s listed once", tc.Name)
			seen[tc.Name] = true
			assert.Equal(t, "contract/"+strings.Split(tc.Name, "/")[0], s.Name, "testcase %s in its category's suite", tc.Name)
			assert.Regexp(t, `^\d+\.\d{3}$`, tc.Time)
			switch status[tc.Name] {
			case contract.Fail:
				failures++
				if assert.NotNil(t, tc.Failure, tc.Name) {
					assert.NotEmpty(t, tc.Failure.Message)
					assert.Contains(t, tc.Failure.Text, "expected:")
				}
			case contract.Skip:
				skipped++
				assert.NotNil(t, tc.Skipped, tc.Name)
			default:
				assert.Nil(t, tc.Failure, tc.Name)
				assert.Nil(t, tc.Skipped, tc.Name)
			}
		}
		assert.Equal(t, tests, s.Tests, s.Name)
		assert.Equal(t, failures, s.Failures, s.Name)
		assert.Equal(t, skipped, s.Skipped, s.Name)
	}
	assert.Len(t, seen, len(rep.Checks), "one testcase per check")
}

func TestCatalogue(t *testing.T) {
	checks := contract.Checks()
	ids := map[string]bool{}
	idRe := regexp.MustCompile(`^(schema|behaviour|negative|generative|transport|safety)/[a-z0-9_/-]+$`)
	for _, c := range checks {
		assert.False(t, ids[c.ID], "check %s listed once", c.ID)
		ids[c.ID] = true
		assert.Regexp(t, idRe, c.ID)
		assert.Equal(t, string(c.Category), strings.Split(c.ID, "/")[0], c.ID)
		assert.NotEmpty(t, c.Description, c.ID)
	}
	// A code added to the catalogue without a check would fail here; the
	// checks are generated from rules.Catalogue, so it gets one.
	for _, code := range rules.Catalogue {
		assert.True(t, ids["negative/code/"+code.Code], "code %s has the check negative/code/%s", code.Code, code.Code)
	}
	for _, want := range []string{
		"schema/every-response-valid", "behaviour/create-lists-added", "behaviour/verify-input-persists-nothing",
		"behaviour/tenant-isolation", "behaviour/concurrent-create-once", "negative/never-5xx",
		"transport/malformed-json-400", "transport/oversized-body-413", "generative/valid-batches",
		"generative/single-field-mutations", "safety/cleanup-disables-created",
	} {
		assert.True(t, ids[want], "the issue's check %s exists", want)
	}
}

// TestSelect: --run and --skip pick checks by ID; a pattern that matches no
// check, or a pair that leaves none, is a ConfigError naming the closest IDs.
func TestSelect(t *testing.T) {
	all := len(contract.Checks())
	tests := []struct {
		name      string
		run, skip string
		wantN     int    // checks picked, when no error
		wantErr   string // substring of the error
	}{
		{"no filter", "", "", all, ""},
		{"one check", "^behaviour/all-valid-ok$", "", 1, ""},
		{"run and skip", "^negative/auth/", "token", 4, ""},
		{"run matches nothing", "nomatch", "", 0, `the run pattern "nomatch" matches no check; the closest are `},
		{"a misspelt category", "^behavior/", "", 0, `the run pattern "^behavior/" matches no check; the closest are behaviour/`},
		{"a misspelt code", "negative/code/phone_not_e165", "", 0, "the closest are negative/code/phone_not_e164, "},
		{"skip matches nothing", "", "^transport/oversized-bdy", 0, `the skip pattern "^transport/oversized-bdy" matches no check; the closest are transport/oversized-body-413`},
		{"skip leaves nothing", "^schema/", "^schema/", 0, "no check would run"},
	}
	re := func(s string) *regexp.Regexp {
		if s == "" {
			return nil
		}
		return regexp.MustCompile(s)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := contract.Select(re(tt.run), re(tt.skip))
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Len(t, got, tt.wantN)
				return
			}
			var ce *contract.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}
