package mockserver_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// testNow is the fixed clock of the tests: dates after 2026-11-23 are in the future.
var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// newServer starts a mock with the fixed clock and every response checked
// against the document.
func newServer(tb testing.TB, cfg mockserver.Config, opts ...mocktest.Option) *mocktest.Server {
	tb.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testNow }
	}
	return mocktest.New(tb, append([]mocktest.Option{mocktest.WithConfig(cfg)}, opts...)...)
}

func rulesWith(modify func(*rules.Config)) *rules.Config {
	c := rules.DefaultConfig()
	modify(&c)
	return &c
}

// response is a raw HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func do(tb testing.TB, client *http.Client, method, url, contentType, body string, header ...string) response {
	tb.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// save posts body with ts.Client and decodes the 200 answer.
func save(tb testing.TB, ts *mocktest.Server, body string) *openapi.SaveCustomersResponse {
	tb.Helper()
	return saveAs(tb, ts, ts.Client, body)
}

func saveAs(tb testing.TB, ts *mocktest.Server, client *http.Client, body string) *openapi.SaveCustomersResponse {
	tb.Helper()
	r := do(tb, client, http.MethodPost, ts.URL+"/api/v1/customers/save", "application/json", body)
	if r.status != http.StatusOK {
		tb.Fatalf("save: got status %d, want 200: %s", r.status, r.body)
	}
	var out openapi.SaveCustomersResponse
	if err := json.Unmarshal(r.body, &out); err != nil {
		tb.Fatalf("save: decode: %v", err)
	}
	checkDetailTexts(tb, &out)
	return &out
}

var detailPrefix = regexp.MustCompile(`^(customers|relations)\[\d+\]: \S`)

// checkDetailTexts checks that every message names its record by index.
func checkDetailTexts(tb testing.TB, resp *openapi.SaveCustomersResponse) {
	tb.Helper()
	for _, d := range resp.Detail {
		for _, m := range append(append([]openapi.Message{}, d.Errors...), d.Warnings...) {
			if !detailPrefix.MatchString(m.Detail) {
				tb.Errorf("message %s of %q does not start with the record's index: %q", m.Code, d.ExternalID, m.Detail)
			}
			if _, ok := rules.Lookup(m.Code); !ok {
				tb.Errorf("message code %q is not in the catalogue", m.Code)
			}
			if !namesField(m) {
				tb.Errorf("message %s does not name its field: %q", m.Code, m.Detail)
			}
		}
	}
}

// summary renders detail as "id E[code code] W[code]" lines.
func summary(resp *openapi.SaveCustomersResponse) []string {
	out := []string{}
	for _, d := range resp.Detail {
		var e, w []string
		for _, m := range d.Errors {
			e = append(e, m.Code)
		}
		for _, m := range d.Warnings {
			w = append(w, m.Code)
		}
		out = append(out, fmt.Sprintf("%s E[%s] W[%s]", d.ExternalID, strings.Join(e, " "), strings.Join(w, " ")))
	}
	return out
}

func addedIDs(resp *openapi.SaveCustomersResponse) []string {
	out := []string{}
	for _, a := range resp.Added {
		out = append(out, a.ExternalID)
	}
	return out
}

// getCustomer reads one stored customer through the inspection API; ok is
// false on 404.
func getCustomer(tb testing.TB, ts *mocktest.Server, client *http.Client, externalID string) (openapi.StoredCustomer, bool) {
	tb.Helper()
	r := do(tb, client, http.MethodGet, ts.URL+"/__admin/customers/"+externalID, "", "")
	var c openapi.StoredCustomer
	switch r.status {
	case http.StatusOK:
		if err := json.Unmarshal(r.body, &c); err != nil {
			tb.Fatal(err)
		}
		return c, true
	case http.StatusNotFound:
		return c, false
	}
	tb.Fatalf("get customer %s: status %d: %s", externalID, r.status, r.body)
	return c, false
}

func mustGetCustomer(tb testing.TB, ts *mocktest.Server, externalID string) openapi.StoredCustomer {
	tb.Helper()
	c, ok := getCustomer(tb, ts, ts.Client, externalID)
	if !ok {
		tb.Fatalf("customer %s is not stored", externalID)
	}
	return c
}

// total returns how many customers (or relations) the client's business has.
func total(tb testing.TB, ts *mocktest.Server, client *http.Client, what string) int {
	tb.Helper()
	r := do(tb, client, http.MethodGet, ts.URL+"/__admin/"+what+"?limit=1", "", "")
	if r.status != http.StatusOK {
		tb.Fatalf("list %s: status %d: %s", what, r.status, r.body)
	}
	var page struct{ Total int }
	if err := json.Unmarshal(r.body, &page); err != nil {
		tb.Fatal(err)
	}
	return page.Total
}

// requestFields are the fields a message may name.
var requestFields = []string{
	"external_id", "account_type", "first_name", "middle_name", "last_name", "company_name", "trading_name",
	"date_of_birth", "nationality_code", "domicile_code", "phone", "kyc_level", "review_groups", "fields",
	"variations[", "relation_external_id", "parent_customer_external_id", "child_customer_external_id", "relation_type",
}

func namesField(m openapi.Message) bool {
	if m.Code == rules.UnknownKey {
		return strings.Contains(m.Detail, `key "`)
	}
	for _, f := range requestFields {
		if strings.Contains(m.Detail, f) {
			return true
		}
	}
	return false
}
