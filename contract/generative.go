package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

func generativeChecks() []Check {
	return []Check{
		{ID: "generative/valid-batches", Description: "seeded random batches of valid customers and relations are accepted whole", run: checkValidBatches},
		{ID: "generative/single-field-mutations", Description: "a valid record with one field set to a random value is answered 422 when the body breaks the schema, else 200 with the detail, status and added that the rules predict for the body, consistent with each other; never a 5xx", run: checkMutations},
	}
}

// eachCase runs f for the run's cases and stops at the first case that
// fails, naming it so that it replays. Each case gets a checkT of its own
// (its ids under the check's prefix and "k<case>-", its failures, its
// exchanges), so cases can run at once: a case runs alone on the check's
// slot, and beside it as many more as there are idle slots of --parallel
// (runner.slots) — against a slow target the generative checks are the
// run's longest path. The cases run in windows; the first failing case of a
// window is the first failing case overall, as if they ran one by one, and
// its failures and exchanges become the check's.
func (t *checkT) eachCase(f func(t *checkT, k int, r *rand.Rand)) {
	for lo := 0; lo < t.r.cfg.Cases; {
		n := 1
		for lo+n < t.r.cfg.Cases && t.r.slots != nil && t.r.slots.TryAcquire(1) {
			n++
		}
		cases := make([]*checkT, n)
		var wg sync.WaitGroup
		for j := range cases {
			k := lo + j
			c := &checkT{ctx: t.ctx, r: t.r, id: t.id, prefix: fmt.Sprintf("%sk%d-", t.prefix, k), seed: t.seed}
			cases[j] = c
			wg.Go(func() {
				defer func() {
					if p := recover(); p != nil {
						if _, ok := p.(stop); !ok {
							c.Errorf(nil, "the case to finish; it panicked (a bug of the suite): %v\n%s", p, debug.Stack())
						}
					}
				}()
				f(c, k, rand.New(rand.NewSource(seedFor(t.seed, fmt.Sprintf("case-%d", k)))))
			})
		}
		wg.Wait()
		if t.r.slots != nil && n > 1 {
			t.r.slots.Release(int64(n - 1))
		}
		for j, c := range cases {
			t.nsent.Add(c.nsent.Load())
			if c.skip != "" {
				t.Skipf("%s", c.skip)
			}
			if len(c.fails) == 0 {
				continue
			}
			k := lo + j
			for _, fl := range c.fails {
				fl.Expected = fmt.Sprintf("case %d: %s", k, fl.Expected)
				t.fails = append(t.fails, fl)
			}
			t.xs, t.failedX = c.xs, c.failedX
			t.Fatalf(nil, "case %d failed; replay with --seed %d --cases %d --run '^%s$'", k, t.r.seed, k+1, t.id)
		}
		lo += n
	}
}

func checkValidBatches(t *checkT) {
	t.eachCase(func(t *checkT, k int, r *rand.Rand) {
		req := t.batch(t.gen(int64(k)), 1+r.Intn(12)) // at most the server's batch limit
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

// customerKeys are the keys of a customer a mutation may set: the document's
// (external_id moved to the end), three keys of a variation and an unknown key.
var customerKeys = slices.Concat(
	slices.DeleteFunc(slices.Clone(openapi.CustomerKeys), func(k string) bool { return k == "external_id" }),
	[]string{"variations/0/_op", "variations/0/first_name", "variations/0/company_name", "external_id", "fist_name"},
)

var relationKeys = []string{
	"relation_type", "parent_customer_external_id", "child_customer_external_id", "disabled", "fields", "relation_external_id",
}

func checkMutations(t *checkT) {
	t.needBatch(2)
	cfg, err := t.r.serverRules().Compile()
	if err != nil {
		t.Fatalf(nil, "the server rules the suite was given: %v", err)
	}
	t.eachCase(func(t *checkT, k int, r *rand.Rand) {
		body, what := t.mutatedBody(int64(k), r)
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
			want, err := predict(cfg, raw)
			if err != nil {
				t.Fatalf(x, "the suite could not decode its own schema-valid body (%s): %v", what, err)
			}
			t.expectPrediction(&want, &resp, x, what)
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

// mutatedBody returns case k's body, a firm, an individual and a relation
// between them with one field set to a value drawn with r, and a phrase that
// names the mutation.
func (t *checkT) mutatedBody(k int64, r *rand.Rand) (body map[string]any, what string) {
	firm, person, rel := t.pairWithRelation(k)
	custs := []any{toMap(t, firm), toMap(t, person)}
	rels := []any{toMap(t, rel)}
	body = map[string]any{"customers": custs, "relations": rels}
	if t.VerifyOnly() {
		body["verify_input"] = true
	}
	value := mutationValues[r.Intn(len(mutationValues))]
	if r.Intn(4) == 0 {
		key := relationKeys[r.Intn(len(relationKeys))]
		value = t.safeID(key, value)
		setPath(rels[0].(map[string]any), key, value)
		return body, fmt.Sprintf("relations[0].%s = %s", key, show(value))
	}
	i := r.Intn(2)
	key := customerKeys[r.Intn(len(customerKeys))]
	value = t.safeID(key, value)
	setPath(custs[i].(map[string]any), key, value)
	return body, fmt.Sprintf("customers[%d].%s = %s", i, key, show(value))
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

// predict returns what the rules say a server must answer to a schema-valid
// save body: the body decoded as the server decodes it, evaluated with the
// server's rules against a business that holds none of its records (every id
// of a case is new) on today's date.
func predict(cfg *rules.Compiled, raw []byte) (rules.Outcome, error) {
	return predictOn(cfg, rules.EmptyState, raw)
}

// predictOn is predict on a business that holds state.
func predictOn(cfg *rules.Compiled, state rules.State, raw []byte) (rules.Outcome, error) {
	req, err := openapi.DecodeSaveCustomers(raw)
	if err != nil {
		return rules.Outcome{}, err
	}
	now := time.Now().UTC()
	y, m, d := now.Date()
	return rules.Evaluate(cfg, rules.Env{Today: rules.MakeDate(y, int(m), d), NowNanos: now.UnixNano()}, state, req)
}

// expectPrediction compares a 200 answer with the rules' prediction: the same
// detail entries in the same order, each with the same error and warning
// codes; the same status; the same customers added (none when verifying).
// Codes that need a server list the suite was not given are left out of the
// comparison: the suite cannot tell when the server emits them.
func (t *checkT) expectPrediction(want *rules.Outcome, resp *openapi.SaveCustomersResponse, x *exchange, what string) {
	got, wantDetail := t.detailCodes(resp.Detail), t.detailCodes(want.Detail)
	if !slices.Equal(got, wantDetail) {
		t.Errorf(x, "detail %s after %s (the rules' prediction), got %s", list(wantDetail), what, list(got))
	}
	if resp.Status != want.Status {
		t.Errorf(x, "status %q after %s (the rules' prediction), got %q", want.Status, what, resp.Status)
	}
	var wantAdded, gotAdded []string
	if !resp.VerifyInput {
		for _, c := range want.New {
			wantAdded = append(wantAdded, c.ExternalID)
		}
	}
	for _, a := range resp.Added {
		gotAdded = append(gotAdded, a.ExternalID)
	}
	if !slices.Equal(gotAdded, wantAdded) {
		t.Errorf(x, "added %s after %s (the rules' prediction), got %s", list(wantAdded), what, list(gotAdded))
	}
}

// detailCodes writes each entry of detail as `"id" errors [codes] warnings
// [codes]`, codes sorted, without the codes the suite cannot predict.
func (t *checkT) detailCodes(detail []openapi.RecordDetail) []string {
	var out []string
	for _, d := range detail {
		errs, warns := t.predictable(d.Errors), t.predictable(d.Warnings)
		if len(errs) > 0 || len(warns) > 0 {
			out = append(out, fmt.Sprintf("%q errors %v warnings %v", d.ExternalID, errs, warns))
		}
	}
	return out
}

func (t *checkT) predictable(ms []openapi.Message) []string {
	var out []string
	for _, c := range codes(ms) {
		if !t.unknowable(c) {
			out = append(out, c)
		}
	}
	return out
}

// unknowable reports whether code needs a server list (review groups, custom
// fields) that the suite was not given.
func (t *checkT) unknowable(code string) bool {
	rc := t.r.serverRules()
	return (code == rules.ReviewGroupUnknown && len(rc.ReviewGroups) == 0) || (code == rules.CustomFieldUnknown && len(rc.CustomFields) == 0)
}
