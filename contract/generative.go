package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

func generativeChecks() []Check {
	return []Check{
		{ID: "generative/valid-batches", Description: "seeded random batches of valid customers and relations are accepted whole", run: checkValidBatches},
		{ID: "generative/single-field-mutations", Description: "a valid record with one field set to a random value is answered 422 when the body breaks the schema, else 200 with the code the document gives the value and a consistent detail, added and status; never a 5xx", run: checkMutations},
	}
}

// eachCase runs f for the run's cases and stops at the first case that
// fails, naming it so that it replays.
func (t *checkT) eachCase(f func(k int, r *rand.Rand)) {
	for k := 0; k < t.r.cfg.Cases; k++ {
		before := len(t.fails)
		f(k, rand.New(rand.NewSource(seedFor(t.seed, fmt.Sprintf("case-%d", k)))))
		if len(t.fails) > before {
			replay := fmt.Sprintf("case %d failed; replay with --seed %d --cases %d --run '^%s$'", k, t.r.seed, k+1, t.id)
			for i := before; i < len(t.fails); i++ {
				t.fails[i].Expected = fmt.Sprintf("case %d: %s", k, t.fails[i].Expected)
			}
			t.Fatalf(nil, "%s", replay)
		}
	}
}

func checkValidBatches(t *checkT) {
	t.eachCase(func(k int, r *rand.Rand) {
		req := batch(t.gen(int64(k)), 1+r.Intn(12))
		req.DisableRiskScan = ptr(r.Intn(2) == 0)
		resp, x := t.Save(req)
		t.expectAllSaved(req, resp, x, false)
	})
}

// mutationValues are the wrong values a mutation draws from: wrong JSON
// types, edge-case strings and numbers.
var mutationValues = []any{
	nil, true, false, 0, -1, 99, 1.5, -7.25, 1e20, json.Number("9223372036854775808"), json.Number("-9223372036854775809"),
	"", " ", "x", "ZZ", "zzz", "fr", "N;F", "1984-02-30", "0000-00-00", "9999-12-31", "31/12/1980", "+0",
	"+33 6 12 34 56 78", "<script>alert(1)</script>", "\u0000", "é" + strings.Repeat("ü", 300), "😀", "NaN",
	map[string]any{}, map[string]any{"a": 1}, []any{}, []any{"x", 2}, []any{nil}, []any{"FR", "XX"},
}

// customerKeys are the keys of a customer a mutation may set.
var customerKeys = []string{
	"account_type", "alias_ids", "comment", "company_name", "contacts", "date_of_birth", "disabled",
	"domicile_code", "domicile_codes", "fields", "first_name", "kyc_level", "kyc_level_requested",
	"last_name", "middle_name", "nationality_code", "nationality_codes", "phone", "registration_number",
	"review_groups", "trading_name", "variations", "variations/0/_op", "variations/0/first_name",
	"variations/0/company_name", "external_id", "fist_name",
}

var relationKeys = []string{
	"relation_type", "parent_customer_external_id", "child_customer_external_id", "disabled", "fields", "relation_external_id",
}

func checkMutations(t *checkT) {
	t.eachCase(func(k int, r *rand.Rand) {
		firm, person, rel := t.pairWithRelation(int64(k))
		body := map[string]any{}
		custs := []any{toMap(t, firm), toMap(t, person)}
		rels := []any{toMap(t, rel)}
		body["customers"], body["relations"] = custs, rels
		if t.VerifyOnly() {
			body["verify_input"] = true
		}
		value := mutationValues[r.Intn(len(mutationValues))]
		var what string
		var target map[string]any // the mutated record
		var key string
		isPerson := false
		if r.Intn(4) == 0 {
			key = relationKeys[r.Intn(len(relationKeys))]
			value = t.safeID(key, value)
			target = rels[0].(map[string]any)
			setPath(target, key, value)
			what = fmt.Sprintf("relations[0].%s = %s", key, show(value))
		} else {
			i := r.Intn(2)
			key = customerKeys[r.Intn(len(customerKeys))]
			value = t.safeID(key, value)
			target, isPerson = custs[i].(map[string]any), i == 1
			setPath(target, key, value)
			what = fmt.Sprintf("customers[%d].%s = %s", i, key, show(value))
		}
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatalf(nil, "the suite could not encode its mutation %s: %v", what, err)
		}
		// The document decides between 200 and 422: kin-openapi validates
		// the body against the request schema.
		schemaValid := t.schemaValid(raw)
		x := t.Do(request{method: http.MethodPost, path: savePath, body: raw})
		switch {
		case x.Status == http.StatusOK && schemaValid:
			var resp openapi.SaveCustomersResponse
			if json.Unmarshal(x.Body, &resp) != nil {
				return // reported as off-document
			}
			t.expectConsistent(body, &resp, x, what)
			if code := t.expectedCode(key, value, isPerson); code != "" {
				t.expectCodeFor(target, key, code, &resp, x, what)
			}
		case x.Status == http.StatusUnprocessableEntity && !schemaValid:
			var p openapi.Problem
			if json.Unmarshal(x.Body, &p) == nil && len(p.Violations) == 0 {
				t.Errorf(x, "a 422 to list the violation of %s", what)
			}
		case schemaValid:
			t.Errorf(x, "200 for %s: the body matches the request schema, so the value is reported record by record in detail", what)
		default:
			t.Errorf(x, "422 for %s: the body does not match the request schema", what)
		}
	})
}

// safeID keeps an id mutation within the run prefix: a string id is
// replaced by a prefixed id with the drawn string appended.
func (t *checkT) safeID(key string, v any) any {
	switch key {
	case "external_id", "relation_external_id", "parent_customer_external_id", "child_customer_external_id":
		if s, ok := v.(string); ok && s != "" {
			return t.NewID("mut") + s
		}
	}
	return v
}

// expectConsistent checks a 200 answer to a mutated body: detail names only
// records that were sent, a customer with an error is not added, a customer
// without one is (unless verifying), and the status follows.
func (t *checkT) expectConsistent(body map[string]any, resp *openapi.SaveCustomersResponse, x *exchange, what string) {
	sent := map[string]bool{"": true}
	var customerIDs []string
	for _, c := range body["customers"].([]any) {
		if id, ok := c.(map[string]any)["external_id"].(string); ok {
			sent[id] = true
			customerIDs = append(customerIDs, id)
		}
	}
	for _, r := range body["relations"].([]any) {
		if id, ok := r.(map[string]any)["relation_external_id"].(string); ok {
			sent[id] = true
		}
	}
	det := details(resp)
	errors := 0
	for _, d := range resp.Detail {
		errors += len(d.Errors)
		if !sent[d.ExternalID] {
			t.Errorf(x, "detail entries only for records that were sent, got %q after %s", d.ExternalID, what)
		}
	}
	added := addedIDs(resp)
	saved := 0
	for _, id := range customerIDs {
		_, in := added[id]
		rejected := len(det[id].Errors) > 0
		if rejected && in {
			t.Errorf(x, "%q, rejected with %v, not in added (after %s)", id, codes(det[id].Errors), what)
		}
		if !rejected {
			saved++
			if !in && !t.VerifyOnly() {
				t.Errorf(x, "%q, a new customer without errors, in added (after %s)", id, what)
			}
		}
	}
	want := openapi.StatusOK
	if errors > 0 {
		want = openapi.StatusPartial
		if saved == 0 {
			want = openapi.StatusFailed
		}
	}
	if resp.Status != want {
		t.Errorf(x, "status %q (%d errors, %d of %d customers saved) after %s, got %q", want, errors, saved, len(customerIDs), what, resp.Status)
	}
}

func toMap(t *checkT, v any) map[string]any {
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatalf(nil, "the suite could not encode its data: %v", err)
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

// setPath sets key (a "/"-separated path of object keys and array indexes)
// in m, creating what is missing.
func setPath(m map[string]any, key string, v any) {
	parts := strings.Split(key, "/")
	if len(parts) == 1 {
		m[key] = v
		return
	}
	// variations/0/<field>
	vs, _ := m[parts[0]].([]any)
	if len(vs) == 0 {
		vs = []any{map[string]any{"first_name": "Alias"}}
		m[parts[0]] = vs
	}
	if vm, ok := vs[0].(map[string]any); ok {
		vm[parts[2]] = v
	}
}

func show(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 60 {
		return string(b[:60]) + "…"
	}
	return string(b)
}

// schemaValid reports whether a save body matches the document's request
// schema, as kin-openapi judges it.
func (t *checkT) schemaValid(body []byte) bool {
	req, err := http.NewRequest(http.MethodPost, savePath, bytes.NewReader(body))
	if err != nil {
		t.Fatalf(nil, "the suite could not build a request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	return t.r.client.v.ValidateRequest(req) == nil
}

// expectedCode returns the code the document says a schema-valid value of
// key must be answered with, or "" when the value is valid or the document
// leaves it open. person says whether the mutated customer is the
// individual (the other is the firm).
func (t *checkT) expectedCode(key string, v any, person bool) string {
	s, isString := v.(string)
	rc := t.r.serverRules()
	whole := func() (int64, bool) {
		var f float64
		switch n := v.(type) {
		case int:
			return int64(n), true
		case float64:
			f = n
		case json.Number:
			if i, err := n.Int64(); err == nil {
				return i, true
			}
			if strings.HasPrefix(string(n), "-") {
				return math.MinInt64, true
			}
			return math.MaxInt64, true
		default:
			return 0, false
		}
		if f != math.Trunc(f) {
			return 0, false
		}
		if f >= math.MaxInt64 {
			return math.MaxInt64, true
		}
		if f <= math.MinInt64 {
			return math.MinInt64, true
		}
		return int64(f), true
	}
	switch key {
	case "external_id":
		if v == nil || s == "" && isString {
			return rules.ExternalIDMissing
		}
	case "relation_external_id":
		if v == nil || s == "" && isString {
			return rules.RelationExternalIDMissing
		}
	case "account_type":
		if v == nil {
			return rules.AccountTypeMissing
		}
		if isString && s != "" && !rules.AccountTypeValid(s) {
			return rules.AccountTypeInvalid
		}
	case "last_name":
		if person && (v == nil || isString && s == "") {
			return rules.LastNameMissing
		}
	case "company_name":
		if !person && (v == nil || isString && s == "") {
			return rules.CompanyNameMissing
		}
	case "date_of_birth":
		if isString && s != "" {
			today := time.Now().UTC()
			switch rules.CheckDateOfBirth(s, rules.MakeDate(today.Year(), int(today.Month()), today.Day())) {
			case rules.DateInvalid:
				return rules.DateOfBirthInvalid
			case rules.DateInFuture:
				return rules.DateOfBirthInFuture
			}
		}
	case "domicile_code", "nationality_code":
		if isString {
			if _, res := rules.NormalizeCountryCode(s); res == rules.CountryUnknown {
				return rules.CountryCodeUnknown
			} else if res == rules.CountryLowercase {
				return rules.CountryCodeLowercase
			}
		}
	case "domicile_codes", "nationality_codes":
		if items, ok := v.([]any); ok {
			for _, item := range items {
				if c, ok := item.(string); ok {
					if _, res := rules.NormalizeCountryCode(c); res == rules.CountryUnknown {
						return rules.CountryCodeUnknown
					}
				}
			}
		}
	case "kyc_level", "kyc_level_requested":
		if n, ok := whole(); ok && (n < rc.KYCMin || n > rc.KYCMax) {
			return rules.KYCLevelOutOfRange
		}
	case "relation_type":
		if n, ok := whole(); ok && !slices.Contains(rc.RelationTypeValues(), n) {
			return rules.RelationTypeInvalid
		}
		if v == nil {
			return rules.RelationTypeInvalid
		}
	case "variations/0/_op":
		if isString && s != "" && s != "add" && s != "remove" {
			return rules.VariationOpInvalid
		}
	case "phone":
		if isString && s != "" && !rules.PhonePlausibleE164(s) {
			return rules.PhoneNotE164
		}
	}
	return ""
}

// expectCodeFor checks that the mutated record's detail lists code, as an
// error or a warning as the catalogue says.
func (t *checkT) expectCodeFor(rec map[string]any, key, code string, resp *openapi.SaveCustomersResponse, x *exchange, what string) {
	idKey := "external_id"
	if _, ok := rec["relation_external_id"]; ok || strings.HasPrefix(key, "relation_") || key == "parent_customer_external_id" || key == "child_customer_external_id" {
		idKey = "relation_external_id"
	}
	id, _ := rec[idKey].(string)
	d := details(resp)[id]
	msgs, where := d.Errors, "errors"
	if c, _ := rules.Lookup(code); c.Severity == rules.Warning {
		msgs, where = d.Warnings, "warnings"
	}
	if !hasCode(msgs, code) {
		t.Errorf(x, "%s among the %s of %q after %s (the document's rule), got errors %v, warnings %v", code, where, id, what, codes(d.Errors), codes(d.Warnings))
	}
}
