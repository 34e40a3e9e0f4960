package lint_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/algoreg-kit/algoreg-kit/fixtures"
	"github.com/algoreg-kit/algoreg-kit/internal/cpuclock"
	"github.com/algoreg-kit/algoreg-kit/lint"
	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

func TestBody(t *testing.T) {
	small := rules.DefaultConfig()
	small.MaxBatch = 1
	tiny := rules.DefaultConfig()
	tiny.MaxBody = 16
	tests := []struct {
		name  string
		body  string
		rules *rules.Config
		want  []string // the findings as Finding.String writes them, "body" as the file
	}{
		{"valid", `{"customers":[{"external_id":"a","account_type":"N","last_name":"Doe"}]}`, nil, nil},
		{"syntax", "{\"customers\":[\n  {\"external_id\":\"a\",}]}", nil, []string{`body:2:22: syntax: malformed JSON: invalid character '}' looking for beginning of object key string`}},
		{"schema, every violation at its value", "{\"customers\":[\n {\"external_id\":\"a\",\n  \"kyc_level\":\"high\", \"fields\":[1]}]}", nil, []string{
			"body:3:32: schema: /customers/0/fields: value must be an object",
			"body:3:15: schema: /customers/0/kyc_level: value must be an integer",
		}},
		{"limit", `{"customers":[{"external_id":"a"},{"external_id":"b"}]}`, &small, []string{`body:1:35: limit: the request has more than 1 customers (at "/customers/1"); split the batch`}},
		{"body limit", `{"customers":[{"external_id":"a"},{"external_id":"b"}]}`, &tiny, []string{`body:1:17: limit: the body is larger than the limit of 16 bytes (--max-body), so the mock answers 413 without reading it; split the batch`}},
		{"errors and warnings at their records", "{\"customers\":[\n {\"external_id\":\"a\",\"account_type\":\"N\",\"last_name\":\"Doe\",\"phone\":\"12\"},\n {\"external_id\":\"b\",\"account_type\":\"N\"}],\n \"relations\":[{\"relation_external_id\":\"r\",\"parent_customer_external_id\":\"a\",\"child_customer_external_id\":\"zz\",\"relation_type\":1}]}", nil, []string{
			`body:2:2: phone_not_e164: customers[0]: phone "12" is not a plausible E.164 number such as "+33612345678"; stored as given`,
			`body:3:2: last_name_missing: customers[1]: last_name is required for an individual (account_type "N")`,
			`body:4:15: relation_customer_unknown: relations[0]: child_customer_external_id "zz" is not a customer of your business; save the customer first or in the same request`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, err := lint.Body([]byte(tt.body), lint.Options{Rules: tt.rules})
			require.NoError(t, err)
			var got []string
			for _, f := range fs {
				got = append(got, f.String())
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestLinterKeepsState: a Linter judges a later body against what the
// earlier ones saved (a delta of a saved customer is an update), but not
// against a dry run's records.
func TestLinterKeepsState(t *testing.T) {
	l, err := lint.New(lint.Options{})
	require.NoError(t, err)
	assert.Empty(t, l.Body("1.json", []byte(`{"verify_input":true,"customers":[{"external_id":"a","account_type":"N","last_name":"Doe"}]}`)))
	assert.Len(t, l.Body("2.json", []byte(`{"customers":[{"external_id":"a","phone":"+33612345678"}]}`)), 1, "a delta of a dry run's customer is a create without account_type")
	assert.Empty(t, l.Body("3.json", []byte(`{"customers":[{"external_id":"b","account_type":"N","last_name":"Doe"}]}`)))
	fs := l.Body("4.json", []byte(`{"customers":[{"external_id":"b","phone":"+33612345678"}],"relations":[{"relation_external_id":"r","parent_customer_external_id":"b","child_customer_external_id":"b","relation_type":1}]}`))
	require.Len(t, fs, 1, "the delta of b is an update: no account_type_missing")
	assert.Equal(t, rules.RelationSelfReference, fs[0].Code)
}

// TestPath: a folder's files in name order, NDJSON lines with their own line
// numbers, relations after customers.
func TestPath(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644))
	}
	write("a-customers.ndjson", "{\"external_id\":\"p\",\"account_type\":\"F\",\"company_name\":\"P\"}\n\n{\"external_id\":\"c\",\"account_type\":\"N\",\"last_name\":\"C\",\"date_of_birth\":\"1990-13-01\"}\n{\"relation_external_id\":\"r\",\"parent_customer_external_id\":\"p\",\"child_customer_external_id\":\"c\",\"relation_type\":1}\n")
	write("b-batch.json", `{"customers":[{"external_id":"p","comment":"an update of p"}],"relations":[{"relation_external_id":"r2","parent_customer_external_id":"p","child_customer_external_id":"nobody","relation_type":1}]}`)
	write("notes.txt", "not linted")
	l, err := lint.New(lint.Options{})
	require.NoError(t, err)
	fs, err := l.Path(dir)
	require.NoError(t, err)
	var got []string
	for _, f := range fs {
		got = append(got, fmt.Sprintf("%s:%d:%d: %s %s", filepath.Base(f.File), f.Line, f.Column, f.Code, f.ExternalID))
	}
	assert.Equal(t, []string{
		"a-customers.ndjson:3:1: date_of_birth_invalid c",
		"a-customers.ndjson:4:1: relation_customer_unknown r", // c was rejected, by an earlier request
		"b-batch.json:1:76: relation_customer_unknown r2",
	}, got)
	b, _ := os.ReadFile(filepath.Join(dir, "a-customers.ndjson"))
	assert.Equal(t, byte('{'), b[fs[1].Offset], "the offset is the file's")
	assert.Equal(t, `{"relation_external_id"`, string(b[fs[1].Offset:fs[1].Offset+23]))
}

// verdict is what a save answer says of one record: its id and codes.
type verdict struct {
	ID               string
	Errors, Warnings []string
}

// TestSameVerdictsAsTheMock holds lint and the mock to the same verdicts on
// the fixtures' labelled invalid records of every code of the catalogue
// (three variants each): each unit is posted to the mock in a business of its
// own and linted with the mock's rules, and every record gets the same error
// and warning codes from both.
func TestSameVerdictsAsTheMock(t *testing.T) {
	rc := rules.DefaultConfig()
	rc.ReviewGroups, rc.CustomFields = fixtures.DefaultReviewGroups, fixtures.DefaultCustomFields
	ts := mocktest.New(t, mocktest.WithConfig(mockserver.Config{Rules: &rc}))
	g, err := fixtures.New(7, fixtures.Options{Server: rc})
	require.NoError(t, err)
	units := 0
	for _, code := range rules.Catalogue {
		for i := range 3 {
			u, err := g.Invalid(code.Code, 1000*units+i)
			require.NoError(t, err)
			units++
			body, err := json.Marshal(openapi.SaveCustomersRequest{Customers: u.Customers, Relations: u.Relations})
			require.NoError(t, err)

			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/v1/customers/save", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.SetBasicAuth(fmt.Sprintf("lint-%s-%d", code.Code, i), "x") // open mode: a business of its own
			resp, err := ts.Client.Do(req)
			require.NoError(t, err)
			var answer openapi.SaveCustomersResponse
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&answer))
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			want := map[string]*verdict{}
			for _, d := range answer.Detail {
				v := &verdict{ID: d.ExternalID}
				for _, m := range d.Errors {
					v.Errors = append(v.Errors, m.Code)
				}
				for _, m := range d.Warnings {
					v.Warnings = append(v.Warnings, m.Code)
				}
				want[d.ExternalID+fmt.Sprint(len(want))] = v
			}

			fs, err := lint.Body(body, lint.Options{Rules: &rc})
			require.NoError(t, err)
			got := map[string]*verdict{}
			var order []string
			for _, f := range fs {
				key := f.Pointer
				if got[key] == nil {
					got[key] = &verdict{ID: f.ExternalID}
					order = append(order, key)
				}
				if f.Severity == lint.Error {
					got[key].Errors = append(got[key].Errors, f.Code)
				} else {
					got[key].Warnings = append(got[key].Warnings, f.Code)
				}
			}
			var gotList, wantList []verdict
			for _, k := range order {
				gotList = append(gotList, *got[k])
			}
			for i := range answer.Detail {
				wantList = append(wantList, *want[answer.Detail[i].ExternalID+fmt.Sprint(i)])
			}
			assert.Equal(t, wantList, gotList, "%s, variant %d: %s", code.Code, i, body)
			found := slices.ContainsFunc(fs, func(f lint.Finding) bool { return f.Code == code.Code })
			assert.True(t, found, "%s, variant %d: lint finds the labelled code", code.Code, i)
		}
	}
	t.Logf("%d labelled units of %d codes: the same verdicts", units, len(rules.Catalogue))
}

// BenchmarkLint lints a body of 1,000 valid customers and their relations
// (fixtures, seed 42), and reports customers per second of wall time and
// per second of the process's CPU time (the figure that holds on a shared
// machine). On one core:
//
//	go test -run '^$' -bench BenchmarkLint -cpu 1 -benchtime 2s -count 3 ./lint
func BenchmarkLint(b *testing.B) {
	g, err := fixtures.New(42, fixtures.Options{})
	require.NoError(b, err)
	var req openapi.SaveCustomersRequest
	for i := range 1000 {
		req.Customers = append(req.Customers, g.Customer(i))
		req.Relations = append(req.Relations, g.Relations(i)...)
	}
	body, err := json.Marshal(&req)
	require.NoError(b, err)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuclock.Process()
	for b.Loop() {
		if fs, err := lint.Body(body, lint.Options{}); err != nil || len(fs) > 0 {
			b.Fatalf("error %v, findings %v", err, fs)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "customers/s")
	if used := cpuclock.Process() - cpu; cpu > 0 && used > 0 {
		b.ReportMetric(float64(b.N)*1000/used.Seconds(), "customers/cpu-s")
	}
}
