package contract_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/algoreg-kit/algoreg-kit/contract"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// A mutant is a deliberately broken variant of the mock: a wrapper around its
// handler. The suite must fail against it, and catcher must be among the
// failed checks.
type mutant struct {
	name    string
	catcher string
	wrap    func(next http.Handler) http.Handler
}

// mutants lists the broken variants. The first twelve are the issue's.
func mutants() []mutant {
	return []mutant{
		{"drops an added entry", "behaviour/create-lists-added", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			if n := len(resp.Added); n > 0 {
				resp.Added = resp.Added[:n-1]
			}
		})},
		{"persists in verify mode", "behaviour/verify-input-persists-nothing", persistsInVerifyMode},
		{"answers a wrong status", "behaviour/mixed-batch-partial", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			if resp.Status == openapi.StatusPartial {
				resp.Status = openapi.StatusOK
			}
		})},
		{"loses warnings", "negative/code/phone_not_e164", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			kept := resp.Detail[:0]
			for _, d := range resp.Detail {
				d.Warnings = nil
				if len(d.Errors) > 0 {
					kept = append(kept, d)
				}
			}
			resp.Detail = kept
		})},
		{"turns a bad date into a 500", "negative/code/date_of_birth_invalid", fails500(badDate)},
		{"breaks the response schema", "schema/save-response-valid", rawSave(func(body []byte) []byte {
			return bytes.Replace(body, []byte(`{"added":`), []byte(`{"saved":true,"added":`), 1)
		})},
		{"shares state across tokens", "behaviour/tenant-isolation", sharesState},
		{"re-adds updated customers", "behaviour/resave-not-added", reAddsUpdated()},
		{"blames the wrong external_id in detail", "behaviour/mixed-batch-partial", onSave(nil, func(req []byte, resp *openapi.SaveCustomersResponse) {
			ids := requestIDs(req)
			for i := range resp.Detail {
				for _, id := range ids {
					if id != resp.Detail[i].ExternalID {
						resp.Detail[i].ExternalID = id
						break
					}
				}
			}
		})},
		{"accepts unknown country codes", "negative/code/country_code_unknown", onSave(acceptUnknownCountries, nil)},
		{"ignores delta semantics", "behaviour/delta-update-keeps-fields", ignoresDelta()},
		{"answers without auth", "negative/auth/no-credentials-401", answersWithoutAuth},
		// More, cheap ones.
		{"answers malformed JSON with a 500", "transport/malformed-json-400", fails500(malformed)},
		{"ignores the content type", "transport/wrong-content-type-415", func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.Header.Set("Content-Type", "application/json")
				next.ServeHTTP(w, r)
			})
		}},
		{"accepts relations to unknown customers", "behaviour/relation-unknown-customer-rejected", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			for i := range resp.Detail {
				resp.Detail[i].Errors = slices.DeleteFunc(resp.Detail[i].Errors, func(m openapi.Message) bool { return m.Code == rules.RelationCustomerUnknown })
			}
		})},
		{"gives two customers one customer_id", "behaviour/create-lists-added", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			for i := range resp.Added {
				resp.Added[i].CustomerID = resp.Added[0].CustomerID
			}
		})},
		{"does not echo verify_input", "behaviour/verify-input-echoed", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			resp.VerifyInput = false
		})},
		{"lists no violations in a 422", "transport/schema-invalid-422", rawAny(func(status int, body []byte) []byte {
			if status != http.StatusUnprocessableEntity {
				return body
			}
			var p openapi.Problem
			_ = json.Unmarshal(body, &p)
			p.Violations = nil
			out, _ := json.Marshal(p)
			return out
		})},
		{"sorts detail by id instead of request order", "behaviour/detail-in-request-order", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			slices.SortStableFunc(resp.Detail, func(a, b openapi.RecordDetail) int { return strings.Compare(a.ExternalID, b.ExternalID) })
		})},
		{"ignores updates of stored relations", "behaviour/relation-upsert", insertOnlyRelations()},
		{"does not split string lists", "behaviour/string-list-split", onSave(func(_ *http.Request, body []byte) []byte {
			m := decodeGeneric(body)
			cs, _ := m["customers"].([]any)
			for _, c := range cs {
				cm, _ := c.(map[string]any)
				for _, k := range []string{"review_groups", "contacts"} {
					if str, ok := cm[k].(string); ok {
						cm[k] = []any{str}
					}
				}
			}
			out, _ := json.Marshal(m)
			return out
		}, nil)},
		{"ignores variation removal", "behaviour/variations-add-remove", onSave(func(_ *http.Request, body []byte) []byte {
			m := decodeGeneric(body)
			cs, _ := m["customers"].([]any)
			for _, c := range cs {
				cm, _ := c.(map[string]any)
				vs, _ := cm["variations"].([]any)
				cm["variations"] = slices.DeleteFunc(vs, func(v any) bool {
					vm, _ := v.(map[string]any)
					return vm["_op"] == "remove"
				})
			}
			out, _ := json.Marshal(m)
			return out
		}, nil)},
		{"creates a customer twice under concurrency", "behaviour/concurrent-create-once", racyCreate()},
	}
}

// TestMutants runs the suite against every mutant and prints the mutation
// score (caught / built). Generative checks run 3 cases, and the two
// oversized-body checks and the 101-customer risk-scan check are left out:
// no mutant is caught by them alone, and they cost the most under -race.
func TestMutants(t *testing.T) {
	ms := mutants()
	require.GreaterOrEqual(t, len(ms), 12)
	var caught atomic.Int32
	t.Cleanup(func() {
		t.Logf("mutation score: %d/%d mutants caught by their named check", caught.Load(), len(ms))
		fmt.Printf("mutation score: %d/%d\n", caught.Load(), len(ms))
	})
	// The catchers exist, so a renamed check cannot make a mutant "uncatchable".
	ids := map[string]bool{}
	for _, c := range contract.Checks() {
		ids[c.ID] = true
	}
	for _, m := range ms {
		require.True(t, ids[m.catcher], "mutant %q names the unknown check %q", m.name, m.catcher)
	}
	skip := regexp.MustCompile(`^(transport/oversized-|behaviour/risk-scan-forced$)`)
	for _, m := range ms {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			cfg := startMock(t, m.wrap)
			cfg.Cases = 3
			cfg.Skip = skip
			rep, err := contract.Run(context.Background(), cfg)
			require.NoError(t, err)
			failed := rep.Failed()
			if rep.OK() {
				t.Fatalf("the suite passed against the mutant %q; %s should have failed", m.name, m.catcher)
			}
			if !slices.Contains(failed, m.catcher) {
				t.Fatalf("the suite failed against %q, but not in %s; failed: %v", m.name, m.catcher, failed)
			}
			caught.Add(1)
			t.Logf("caught by %s (failed: %s)", m.catcher, strings.Join(failed, ", "))
		})
	}
}

// The mock's paths the mutants look at.
const (
	savePath  = "/api/v1/customers/save"
	tokenPath = "/api/v1/token"
)

// saveOnly applies wrap to the save requests; every other request reaches
// next unchanged.
func saveOnly(wrap func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		saves := wrap(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != savePath {
				next.ServeHTTP(w, r)
				return
			}
			saves.ServeHTTP(w, r)
		})
	}
}

// rewrite serves each request through next with its body rewritten by reqFn
// (may be nil), and answers with next's answer, its body rewritten by respFn
// (may be nil), which also gets the request and the body next was given.
func rewrite(reqFn func(r *http.Request, body []byte) []byte, respFn func(r *http.Request, req []byte, status int, resp []byte) []byte) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if reqFn != nil {
				body = reqFn(r, body)
			}
			rec := forward(next, r, body)
			out := rec.Body.Bytes()
			if respFn != nil {
				out = respFn(r, body, rec.Code, out)
			}
			reply(w, rec, out)
		})
	}
}

// onSave rewrites the save requests (reqFn, may be nil) and the decoded
// bodies of their 200 answers (respFn, may be nil).
func onSave(reqFn func(r *http.Request, body []byte) []byte, respFn func(req []byte, resp *openapi.SaveCustomersResponse)) func(http.Handler) http.Handler {
	if respFn == nil {
		return saveOnly(rewrite(reqFn, nil))
	}
	return saveOnly(rewrite(reqFn, func(_ *http.Request, req []byte, status int, out []byte) []byte {
		var resp openapi.SaveCustomersResponse
		if status != http.StatusOK || json.Unmarshal(out, &resp) != nil {
			return out
		}
		respFn(req, &resp)
		return encodeSave(&resp)
	}))
}

// forward serves r with body through next and records the answer.
func forward(next http.Handler, r *http.Request, body []byte) *httptest.ResponseRecorder {
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r2)
	return rec
}

func reply(w http.ResponseWriter, rec *httptest.ResponseRecorder, body []byte) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	w.Write(body)
}

// encodeSave encodes a response with its lists as arrays, never null.
func encodeSave(resp *openapi.SaveCustomersResponse) []byte {
	if resp.Added == nil {
		resp.Added = []openapi.AddedCustomer{}
	}
	if resp.Detail == nil {
		resp.Detail = []openapi.RecordDetail{}
	}
	for i := range resp.Detail {
		if resp.Detail[i].Errors == nil {
			resp.Detail[i].Errors = []openapi.Message{}
		}
		if resp.Detail[i].Warnings == nil {
			resp.Detail[i].Warnings = []openapi.Message{}
		}
	}
	out, _ := json.Marshal(resp)
	return out
}

// rawSave rewrites the raw body of 200 save answers.
func rawSave(fn func([]byte) []byte) func(http.Handler) http.Handler {
	return saveOnly(rewrite(nil, func(_ *http.Request, _ []byte, status int, out []byte) []byte {
		if status != http.StatusOK {
			return out
		}
		return fn(out)
	}))
}

// rawAny rewrites the raw body of every answer.
func rawAny(fn func(status int, body []byte) []byte) func(http.Handler) http.Handler {
	return rewrite(nil, func(_ *http.Request, _ []byte, status int, out []byte) []byte {
		return fn(status, out)
	})
}

func decodeGeneric(body []byte) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	return m
}

func requestIDs(body []byte) []string {
	var ids []string
	cs, _ := decodeGeneric(body)["customers"].([]any)
	for _, c := range cs {
		if m, ok := c.(map[string]any); ok {
			if id, ok := m["external_id"].(string); ok {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// persistsInVerifyMode saves for real what it is asked to verify, and answers
// as if it had not.
func persistsInVerifyMode(next http.Handler) http.Handler {
	return onSave(func(_ *http.Request, body []byte) []byte {
		m := decodeGeneric(body)
		if m == nil || m["verify_input"] != true {
			return body
		}
		m["verify_input"] = false
		out, _ := json.Marshal(m)
		return out
	}, func(req []byte, resp *openapi.SaveCustomersResponse) {
		// The forwarded body no longer says verify: answer as a dry run would.
		if bytes.Contains(req, []byte(`"verify_input":false`)) && len(resp.Added) > 0 {
			resp.Added, resp.VerifyInput = nil, true
		}
	})(next)
}

// fails500 answers a save with a 500 problem when broken says so of its
// body, as a server that crashes on it would; other saves reach next.
func fails500(broken func(body []byte) bool) func(http.Handler) http.Handler {
	return saveOnly(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			if broken(body) {
				problem(w, http.StatusInternalServerError)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
}

// badDate crashes on an invalid date_of_birth.
func badDate(body []byte) bool {
	cs, _ := decodeGeneric(body)["customers"].([]any)
	for _, c := range cs {
		m, _ := c.(map[string]any)
		if d, ok := m["date_of_birth"].(string); ok {
			if _, valid := rules.ParseDate(d); !valid {
				return true
			}
		}
	}
	return false
}

// malformed crashes on a body that is not JSON (and not oversized).
func malformed(body []byte) bool {
	return !json.Valid(body) && len(body) < 1<<20
}

func problem(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", openapi.ProblemContentType)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(openapi.Problem{Type: "urn:x", Title: "broken", Status: status, Detail: "a mutant"})
}

// sharesState serves the second business as the first: tokens and Basic
// credentials of user B become A's.
func sharesState(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == tokenPath:
			body, _ := io.ReadAll(r.Body)
			body = bytes.ReplaceAll(body, []byte(userB), []byte(userA))
			body = bytes.ReplaceAll(body, []byte(url.QueryEscape(userB)), []byte(url.QueryEscape(userA)))
			body = bytes.ReplaceAll(body, []byte(passB), []byte(passA))
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		case isBasic(r, userB, passB):
			r.SetBasicAuth(userA, passA)
		}
		next.ServeHTTP(w, r)
	})
}

// isBasic says whether r carries the Basic credentials user and password.
func isBasic(r *http.Request, user, password string) bool {
	u, p, ok := r.BasicAuth()
	return ok && u == user && p == password
}

// reAddsUpdated lists in added every customer of a save it has seen before.
func reAddsUpdated() func(http.Handler) http.Handler {
	var mu sync.Mutex
	seen := map[string]string{}
	return onSave(nil, func(req []byte, resp *openapi.SaveCustomersResponse) {
		mu.Lock()
		defer mu.Unlock()
		for _, a := range resp.Added {
			seen[a.ExternalID] = a.CustomerID
		}
		rejected := map[string]bool{}
		for _, d := range resp.Detail {
			if len(d.Errors) > 0 {
				rejected[d.ExternalID] = true
			}
		}
		in := map[string]bool{}
		for _, a := range resp.Added {
			in[a.ExternalID] = true
		}
		for _, id := range requestIDs(req) {
			if cid, ok := seen[id]; ok && !in[id] && !rejected[id] && !resp.VerifyInput {
				resp.Added = append(resp.Added, openapi.AddedCustomer{CustomerID: cid, ExternalID: id})
			}
		}
	})
}

func acceptUnknownCountries(_ *http.Request, body []byte) []byte {
	m := decodeGeneric(body)
	cs, _ := m["customers"].([]any)
	changed := false
	fix := func(v any) any {
		if s, ok := v.(string); ok {
			if _, res := rules.NormalizeCountryCode(s); res == rules.CountryUnknown {
				changed = true
				return "FR"
			}
		}
		return v
	}
	for _, c := range cs {
		cm, _ := c.(map[string]any)
		for _, k := range []string{"domicile_code", "nationality_code"} {
			if v, ok := cm[k]; ok {
				cm[k] = fix(v)
			}
		}
		for _, k := range []string{"domicile_codes", "nationality_codes"} {
			if a, ok := cm[k].([]any); ok {
				for i := range a {
					a[i] = fix(a[i])
				}
			}
		}
	}
	if !changed {
		return body
	}
	out, _ := json.Marshal(m)
	return out
}

// ignoresDelta answers the inspection API as a server that replaces a stored
// customer with each save would store it: the fields the last save did not
// give are gone.
func ignoresDelta() func(http.Handler) http.Handler {
	var mu sync.Mutex
	lastKeys := map[string]map[string]bool{}
	keep := map[string]bool{"customer_id": true, "external_id": true, "account_type": true, "risk_scan_disabled": true,
		"created_at": true, "updated_at": true, "variations": true, "relations": true}
	return rewrite(nil, func(r *http.Request, body []byte, status int, out []byte) []byte {
		switch {
		case r.URL.Path == savePath && status == http.StatusOK:
			cs, _ := decodeGeneric(body)["customers"].([]any)
			mu.Lock()
			for _, c := range cs {
				cm, _ := c.(map[string]any)
				if id, ok := cm["external_id"].(string); ok {
					keys := map[string]bool{}
					for k := range cm {
						keys[k] = true
					}
					lastKeys[id] = keys
				}
			}
			mu.Unlock()
		case strings.HasPrefix(r.URL.Path, "/__admin/customers/") && status == http.StatusOK:
			sc := decodeGeneric(out)
			mu.Lock()
			keys := lastKeys[fmt.Sprint(sc["external_id"])]
			mu.Unlock()
			if keys != nil {
				for k := range sc {
					if !keep[k] && !keys[k] {
						delete(sc, k)
					}
				}
				out, _ = json.Marshal(sc)
			}
		}
		return out
	})
}

// answersWithoutAuth serves requests without valid credentials as user A.
func answersWithoutAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != tokenPath && r.Header.Get("Authorization") == "" {
			r.SetBasicAuth(userA, passA)
		}
		next.ServeHTTP(w, r)
	})
}

// racyCreate is a server without a lock per business: saves of one new
// external_id that overlap each see it as new and each list it in added. The
// first save of an id waits a moment for a second one (so that they overlap,
// as in the concurrency check); every later save of a single customer whose
// answer adds nothing is answered as if it had created it, which keeps the
// mutant's verdict independent of timing.
func racyCreate() func(http.Handler) http.Handler {
	var mu sync.Mutex
	arrived := map[string]chan struct{}{} // closed when a second save of the id arrives
	return saveOnly(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			ids := requestIDs(body)
			racing := false
			if len(ids) == 1 {
				mu.Lock()
				ch, seen := arrived[ids[0]]
				if !seen {
					ch = make(chan struct{})
					arrived[ids[0]] = ch
				} else {
					select {
					case <-ch:
					default:
						close(ch)
					}
					racing = true
				}
				mu.Unlock()
				if !seen {
					select {
					case <-ch:
					case <-time.After(20 * time.Millisecond):
					}
				}
			}
			rec := forward(next, r, body)
			out := rec.Body.Bytes()
			var resp openapi.SaveCustomersResponse
			if racing && rec.Code == http.StatusOK && json.Unmarshal(out, &resp) == nil &&
				!resp.VerifyInput && resp.Status == openapi.StatusOK && len(resp.Added) == 0 {
				resp.Added = []openapi.AddedCustomer{{CustomerID: "00000000-0000-4000-8000-000000000000", ExternalID: ids[0]}}
				out = encodeSave(&resp)
			}
			reply(w, rec, out)
		})
	})
}

// insertOnlyRelations drops from each save the relations whose id it has
// seen before, as a server that only inserts relations would.
func insertOnlyRelations() func(http.Handler) http.Handler {
	var mu sync.Mutex
	seen := map[string]bool{}
	return onSave(func(_ *http.Request, body []byte) []byte {
		m := decodeGeneric(body)
		rs, _ := m["relations"].([]any)
		if len(rs) == 0 {
			return body
		}
		mu.Lock()
		defer mu.Unlock()
		kept := rs[:0]
		for _, r := range rs {
			rm, _ := r.(map[string]any)
			id, _ := rm["relation_external_id"].(string)
			if id != "" && seen[id] {
				continue
			}
			seen[id] = true
			kept = append(kept, r)
		}
		m["relations"] = kept
		out, _ := json.Marshal(m)
		return out
	}, nil)
}
