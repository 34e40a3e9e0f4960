package contract_test

import (
	"bytes"
	"encoding/base64"
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
	"time"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// A mutant is a deliberately broken variant of the mock: a wrapper around its
// handler. The behaviour matrix (matrix_test.go) names, for each row, the
// mutant that breaks that behaviour and the checks that must fail against it.
type mutant struct {
	name string
	wrap func(next http.Handler) http.Handler
}

// openModeMutants wrap a mock in open mode (no users file), not one with
// the two users of startMock.
var openModeMutants = map[string]bool{"serves every user of open mode as one business": true}

// mutants lists the broken variants: the first twelve are issue 13's, then
// one per row of the behaviour matrix that none of those breaks.
func mutants() []mutant {
	return append([]mutant{
		{"drops an added entry", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			if n := len(resp.Added); n > 0 {
				resp.Added = resp.Added[:n-1]
			}
		})},
		{"persists in verify mode", persistsInVerifyMode},
		{"answers a wrong status", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			if resp.Status == openapi.StatusPartial {
				resp.Status = openapi.StatusOK
			}
		})},
		{"loses warnings", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			kept := resp.Detail[:0]
			for _, d := range resp.Detail {
				d.Warnings = nil
				if len(d.Errors) > 0 {
					kept = append(kept, d)
				}
			}
			resp.Detail = kept
		})},
		{"turns a bad date into a 500", fails500(badDate)},
		{"breaks the response schema", rawSave(func(body []byte) []byte {
			return bytes.Replace(body, []byte(`{"added":`), []byte(`{"saved":true,"added":`), 1)
		})},
		{"shares state across tokens", sharesState},
		{"re-adds updated customers", reAddsUpdated()},
		{"blames the wrong external_id in detail", onSave(nil, func(req []byte, resp *openapi.SaveCustomersResponse) {
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
		{"accepts unknown country codes", onSave(acceptUnknownCountries, nil)},
		{"ignores delta semantics", ignoresDelta()},
		{"answers without auth", answersWithoutAuth},
		// More, cheap ones.
		{"answers malformed JSON with a 500", fails500(malformed)},
		{"answers a wrong method with 404", wrongMethod(func(w http.ResponseWriter, _ *httptest.ResponseRecorder) {
			problemTo(w, http.StatusNotFound)
		})},
		{"answers a 405 without Allow", wrongMethod(func(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
			rec.Header().Del("Allow")
			reply(w, rec, rec.Body.Bytes())
		})},
		{"accepts any Content-Encoding", func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Content-Encoding") == "br" {
					r.Header.Del("Content-Encoding")
				}
				next.ServeHTTP(w, r)
			})
		}},
		{"answers an unread encoding without Accept-Encoding", func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rec := httptest.NewRecorder()
				next.ServeHTTP(rec, r)
				if rec.Code == http.StatusUnsupportedMediaType {
					rec.Header().Del("Accept-Encoding")
				}
				reply(w, rec, rec.Body.Bytes())
			})
		}},
		{"ignores the content type", func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.Header.Set("Content-Type", "application/json")
				next.ServeHTTP(w, r)
			})
		}},
		{"accepts relations to unknown customers", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			for i := range resp.Detail {
				resp.Detail[i].Errors = slices.DeleteFunc(resp.Detail[i].Errors, func(m openapi.Message) bool { return m.Code == rules.RelationCustomerUnknown })
			}
		})},
		{"gives two customers one customer_id", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			for i := range resp.Added {
				resp.Added[i].CustomerID = resp.Added[0].CustomerID
			}
		})},
		{"does not echo verify_input", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			resp.VerifyInput = false
		})},
		{"lists no violations in a 422", rawAny(func(status int, body []byte) []byte {
			if status != http.StatusUnprocessableEntity {
				return body
			}
			var p openapi.Problem
			_ = json.Unmarshal(body, &p)
			p.Violations = nil
			out, _ := json.Marshal(p)
			return out
		})},
		{"sorts detail by id instead of request order", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			slices.SortStableFunc(resp.Detail, func(a, b openapi.RecordDetail) int { return strings.Compare(a.ExternalID, b.ExternalID) })
		})},
		{"ignores updates of stored relations", insertOnlyRelations()},
		{"does not split string lists", onSave(func(_ *http.Request, body []byte) []byte {
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
		{"ignores variation removal", onSave(func(_ *http.Request, body []byte) []byte {
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
		{"creates a customer twice under concurrency", racyCreate()},
	}, moreMutants()...)
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

// requestIDs are the external_ids of a save body's customers.
func requestIDs(body []byte) []string { return bodyIDs(body, "customers", "external_id") }

// relationIDs are the relation_external_ids of a save body.
func relationIDs(body []byte) []string { return bodyIDs(body, "relations", "relation_external_id") }

// bodyIDs are the string values of key in the objects of a save body's list.
func bodyIDs(body []byte, list, key string) []string {
	var ids []string
	xs, _ := decodeGeneric(body)[list].([]any)
	for _, x := range xs {
		if m, ok := x.(map[string]any); ok {
			if id, ok := m[key].(string); ok {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// persistsInVerifyMode saves for real what it is asked to verify, and answers
// as if it had not.
func persistsInVerifyMode(next http.Handler) http.Handler {
	return onSave(saveVerifyForReal, func(req []byte, resp *openapi.SaveCustomersResponse) {
		// The forwarded body no longer says verify: answer as a dry run would.
		if bytes.Contains(req, []byte(`"verify_input":false`)) && len(resp.Added) > 0 {
			resp.Added, resp.VerifyInput = nil, true
		}
	})(next)
}

// saveVerifyForReal turns a verify_input: true save into a real one.
func saveVerifyForReal(_ *http.Request, body []byte) []byte {
	m := decodeGeneric(body)
	if m == nil || m["verify_input"] != true {
		return body
	}
	m["verify_input"] = false
	out, _ := json.Marshal(m)
	return out
}

// fails500 answers a save with a 500 problem when broken says so of its
// body, as a server that crashes on it would; other saves reach next.
func fails500(broken func(body []byte) bool) func(http.Handler) http.Handler {
	return saveOnly(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			if broken(body) {
				problemTo(w, http.StatusInternalServerError)
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

// wrongMethod answers a request of another method than POST to the save or
// token path with answer, given the mock's own answer; other requests go
// to the mock untouched.
func wrongMethod(answer func(w http.ResponseWriter, mock *httptest.ResponseRecorder)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost || (r.URL.Path != savePath && r.URL.Path != tokenPath) {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			answer(w, rec)
		})
	}
}

// problemTo writes a mutant's problem answer to w.
func problemTo(w http.ResponseWriter, status int) {
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
	keep := map[string]bool{"customer_id": true, "external_id": true, "account_type": true, "risk_scan_disabled": true,
		"created_at": true, "updated_at": true, "variations": true, "relations": true}
	return storedAnswer(func(saved, stored map[string]any) {
		for k := range stored {
			if _, given := saved[k]; !keep[k] && !given {
				delete(stored, k)
			}
		}
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

// codeMutated is the set of codes that a mutant above breaks; every other
// code of the catalogue gets a mutant that drops it (moreMutants).
var codeMutated = map[string]string{
	rules.PhoneNotE164:            "loses warnings",
	rules.DateOfBirthInvalid:      "turns a bad date into a 500",
	rules.CountryCodeUnknown:      "accepts unknown country codes",
	rules.RelationCustomerUnknown: "accepts relations to unknown customers",
}

// codeMutant names the mutant that breaks code.
func codeMutant(code string) string {
	if m, ok := codeMutated[code]; ok {
		return m
	}
	return "drops the code " + code
}

// moreMutants are the mutants of the behaviour matrix's rows that the
// first 23 do not break.
func moreMutants() []mutant {
	var ms []mutant
	for _, c := range rules.Catalogue {
		if _, ok := codeMutated[c.Code]; !ok {
			ms = append(ms, mutant{codeMutant(c.Code), dropCode(c.Code)})
		}
	}
	return append(ms, []mutant{
		// status
		{"answers partial for an all-valid batch", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			if resp.Status == openapi.StatusOK && len(resp.Detail) == 0 && len(resp.Added) > 0 {
				resp.Status = openapi.StatusPartial
			}
		})},
		{"answers partial when there are only warnings", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			if resp.Status == openapi.StatusOK && len(resp.Detail) > 0 {
				resp.Status = openapi.StatusPartial
			}
		})},
		{"answers partial for an all-invalid batch", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			if resp.Status == openapi.StatusFailed {
				resp.Status = openapi.StatusPartial
			}
		})},
		// added
		{"lists added in reverse order", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			slices.Reverse(resp.Added)
		})},
		{"lists rejected customers in added", onSave(nil, func(req []byte, resp *openapi.SaveCustomersResponse) {
			if resp.VerifyInput {
				return
			}
			for _, id := range rejectedCustomers(req, resp) {
				resp.Added = append(resp.Added, openapi.AddedCustomer{CustomerID: "00000000-0000-4000-8000-000000000001", ExternalID: id})
			}
		})},
		{"answers a customer_id that is not a uuid", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			for i := range resp.Added {
				resp.Added[i].CustomerID = fmt.Sprintf("cust-%d", i)
			}
		})},
		{"lists added in verify mode", onSave(nil, func(req []byte, resp *openapi.SaveCustomersResponse) {
			if !resp.VerifyInput {
				return
			}
			rejected := rejectedCustomers(req, resp)
			for _, id := range requestIDs(req) {
				if !slices.Contains(rejected, id) {
					resp.Added = append(resp.Added, openapi.AddedCustomer{CustomerID: "00000000-0000-4000-8000-000000000002", ExternalID: id})
				}
			}
		})},
		// detail
		{"lists clean records in detail", onSave(nil, func(req []byte, resp *openapi.SaveCustomersResponse) {
			for _, id := range requestIDs(req) {
				if !slices.ContainsFunc(resp.Detail, func(d openapi.RecordDetail) bool { return d.ExternalID == id }) {
					resp.Detail = append(resp.Detail, openapi.RecordDetail{ExternalID: id})
				}
			}
		})},
		{"lists relations before customers in detail", onSave(nil, func(req []byte, resp *openapi.SaveCustomersResponse) {
			rels := relationIDs(req)
			slices.SortStableFunc(resp.Detail, func(a, b openapi.RecordDetail) int {
				ra, rb := slices.Contains(rels, a.ExternalID), slices.Contains(rels, b.ExternalID)
				switch {
				case ra && !rb:
					return -1
				case rb && !ra:
					return 1
				}
				return 0
			})
		})},
		{"reports warnings as errors", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			for i := range resp.Detail {
				resp.Detail[i].Errors = append(resp.Detail[i].Errors, resp.Detail[i].Warnings...)
				resp.Detail[i].Warnings = nil
			}
		})},
		{"reports errors as warnings", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			for i := range resp.Detail {
				resp.Detail[i].Warnings = append(resp.Detail[i].Warnings, resp.Detail[i].Errors...)
				resp.Detail[i].Errors = nil
			}
		})},
		{"sends messages without a sentence", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			for i := range resp.Detail {
				for j := range resp.Detail[i].Errors {
					resp.Detail[i].Errors[j].Detail = " "
				}
				for j := range resp.Detail[i].Warnings {
					resp.Detail[i].Warnings[j].Detail = " "
				}
			}
		})},
		// merged records, relations, verify_input
		{"stores null as an empty value", onSave(func(_ *http.Request, body []byte) []byte {
			m := decodeGeneric(body)
			cs, _ := m["customers"].([]any)
			changed := false
			for _, c := range cs {
				cm, _ := c.(map[string]any)
				for k, v := range cm {
					if v == nil {
						cm[k], changed = "", true
					}
				}
			}
			if !changed {
				return body
			}
			out, _ := json.Marshal(m)
			return out
		}, nil)},
		{"treats every save as a create", onSave(nil, func(req []byte, resp *openapi.SaveCustomersResponse) {
			cs, _ := decodeGeneric(req)["customers"].([]any)
			for _, c := range cs {
				cm, _ := c.(map[string]any)
				id, _ := cm["external_id"].(string)
				if _, ok := cm["account_type"]; ok || id == "" || slices.ContainsFunc(resp.Detail, func(d openapi.RecordDetail) bool { return d.ExternalID == id }) {
					continue
				}
				resp.Detail = append(resp.Detail, openapi.RecordDetail{ExternalID: id, Errors: []openapi.Message{{Code: rules.AccountTypeMissing, Detail: "account_type is required."}}})
				resp.Status = openapi.StatusPartial
			}
		})},
		{"refuses relations to customers of the same request", onSave(nil, func(req []byte, resp *openapi.SaveCustomersResponse) {
			m := decodeGeneric(req)
			ids := requestIDs(req)
			rs, _ := m["relations"].([]any)
			for _, r := range rs {
				rm, _ := r.(map[string]any)
				id, _ := rm["relation_external_id"].(string)
				p, _ := rm["parent_customer_external_id"].(string)
				c, _ := rm["child_customer_external_id"].(string)
				if id == "" || !(slices.Contains(ids, p) || slices.Contains(ids, c)) || slices.ContainsFunc(resp.Detail, func(d openapi.RecordDetail) bool { return d.ExternalID == id }) {
					continue
				}
				resp.Detail = append(resp.Detail, openapi.RecordDetail{ExternalID: id, Errors: []openapi.Message{{Code: rules.RelationCustomerUnknown, Detail: "The customer is not stored."}}})
				resp.Status = openapi.StatusPartial
			}
		})},
		{"stores no relation", onSave(func(_ *http.Request, body []byte) []byte { return withoutKey(body, "relations") }, nil)},
		{"drops warnings in verify mode", onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
			if !resp.VerifyInput {
				return
			}
			for i := range resp.Detail {
				resp.Detail[i].Warnings = nil
			}
		})},
		{"persists verify_input saves and says so", onSave(saveVerifyForReal, nil)},
		{"stores lower-case country codes as given", storedAnswer(func(_, stored map[string]any) {
			if cs, ok := stored["domicile_codes"].([]any); ok {
				for i := range cs {
					cs[i] = strings.ToLower(fmt.Sprint(cs[i]))
				}
			}
		})},
		{"normalises phones that are not E.164", storedAnswer(func(_, stored map[string]any) {
			if p, ok := stored["phone"].(string); ok && !strings.HasPrefix(p, "+") {
				stored["phone"] = "+33" + strings.ReplaceAll(strings.TrimPrefix(p, "0"), " ", "")
			}
		})},
		{"stores unknown custom fields", storedAnswer(func(saved, stored map[string]any) {
			fs, _ := stored["fields"].(map[string]any)
			if sent, ok := saved["fields"].(map[string]any); ok && fs != nil {
				for k, v := range sent {
					fs[k] = v
				}
			}
		})},
		{"stores unknown keys", storedAnswer(func(saved, stored map[string]any) {
			for k, v := range saved {
				if strings.Contains(k, "unknown") {
					stored[k] = v
				}
			}
		})},
		{"reports risk_scan_disabled false", onAnswer(func(r *http.Request, rec *httptest.ResponseRecorder) {
			if strings.HasPrefix(r.URL.Path, "/__admin/customers/") && rec.Code == http.StatusOK {
				out := bytes.Replace(rec.Body.Bytes(), []byte(`"risk_scan_disabled":true`), []byte(`"risk_scan_disabled":false`), 1)
				rec.Body = bytes.NewBuffer(out)
			}
		})},
		{"answers a rejected batch with a 422", onAnswer(func(r *http.Request, rec *httptest.ResponseRecorder) {
			var resp openapi.SaveCustomersResponse
			if r.URL.Path == savePath && rec.Code == http.StatusOK && json.Unmarshal(rec.Body.Bytes(), &resp) == nil && resp.Status == openapi.StatusFailed {
				rec.Body.Reset()
				problemTo(rec, http.StatusUnprocessableEntity)
			}
		})},
		// token endpoint
		{"answers a token without Cache-Control", onAnswer(func(r *http.Request, rec *httptest.ResponseRecorder) {
			if r.URL.Path == tokenPath {
				rec.Header().Del("Cache-Control")
			}
		})},
		{"answers invalid_grant with a 401", onAnswer(func(r *http.Request, rec *httptest.ResponseRecorder) {
			if r.URL.Path == tokenPath && oauthError(rec) == "invalid_grant" {
				rec.Code = http.StatusUnauthorized
			}
		})},
		{"gives a token for any user and password", anyPasswordToken},
		{"answers unsupported grants with invalid_request", renameOAuthError("unsupported_grant_type", "invalid_request")},
		{"answers a missing parameter with invalid_grant", renameOAuthError("invalid_request", "invalid_grant")},
		{"answers a malformed token request with a 500", func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				r.Body = io.NopCloser(bytes.NewReader(body))
				if r.URL.Path == tokenPath && strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") && !json.Valid(body) {
					problemTo(w, http.StatusInternalServerError)
					return
				}
				next.ServeHTTP(w, r)
			})
		}},
		{"takes form-encoded token requests", func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == tokenPath && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
					body, _ := io.ReadAll(r.Body)
					q, _ := url.ParseQuery(string(body))
					m := map[string]string{}
					for k := range q {
						m[k] = q.Get(k)
					}
					js, _ := json.Marshal(m)
					r.Body = io.NopCloser(bytes.NewReader(js))
					r.ContentLength = int64(len(js))
					r.Header.Set("Content-Type", "application/json")
				}
				next.ServeHTTP(w, r)
			})
		}},
		// auth on the API
		{"answers a 401 without WWW-Authenticate", onAnswer(func(_ *http.Request, rec *httptest.ResponseRecorder) {
			if rec.Code == http.StatusUnauthorized {
				rec.Header().Del("WWW-Authenticate")
			}
		})},
		{"answers a 401 in text/plain", onAnswer(func(_ *http.Request, rec *httptest.ResponseRecorder) {
			if rec.Code == http.StatusUnauthorized {
				rec.Header().Set("Content-Type", "text/plain; charset=utf-8")
				rec.Body.Reset()
				rec.Body.WriteString("unauthorized\n")
			}
		})},
		{"accepts any bearer token", retryAsA(func(r *http.Request) bool {
			return strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ")
		})},
		{"accepts any Basic password", retryAsA(func(r *http.Request) bool {
			_, _, ok := r.BasicAuth()
			return ok
		})},
		{"refuses HTTP Basic", func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if _, _, ok := r.BasicAuth(); ok && r.URL.Path == savePath {
					r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("nobody:nothing")))
				}
				next.ServeHTTP(w, r)
			})
		}},
		{"never locks an account", func(next http.Handler) http.Handler {
			// A wrong password of the lockout user goes to an unknown user,
			// whose failures never lock (and whose answer is the same).
			return rewriteToken(next, func(f map[string]string) {
				if f["username"] == userLock && f["password"] != passLock {
					f["username"] = "nobody@contract.invalid"
				}
			})
		}},
		{"tells an unknown user apart", func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == tokenPath {
					body, _ := io.ReadAll(r.Body)
					var f map[string]string
					if json.Unmarshal(body, &f) == nil && strings.HasSuffix(f["username"], "@contract.invalid") {
						w.Header().Set("Content-Type", "application/json")
						w.WriteHeader(http.StatusBadRequest)
						io.WriteString(w, `{"error":"invalid_grant","error_description":"There is no such user."}`)
						return
					}
					r.Body = io.NopCloser(bytes.NewReader(body))
				}
				next.ServeHTTP(w, r)
			})
		}},
		{"serves Basic users as the first business", func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if isBasic(r, userB, passB) {
					r.SetBasicAuth(userA, passA)
				}
				next.ServeHTTP(w, r)
			})
		}},
		{"serves every user of open mode as one business", func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == tokenPath {
					js, _ := json.Marshal(map[string]string{"grant_type": "password", "username": userA, "password": passA})
					r.Body = io.NopCloser(bytes.NewReader(js))
					r.ContentLength = int64(len(js))
				} else if _, _, ok := r.BasicAuth(); ok {
					r.SetBasicAuth(userA, passA)
				}
				next.ServeHTTP(w, r)
			})
		}},
		// HTTP semantics
		{"answers a problem without its type", rawAny(func(status int, body []byte) []byte {
			if status < 400 {
				return body
			}
			return withoutKey(body, "type")
		})},
		{"answers a problem as application/json", onAnswer(func(_ *http.Request, rec *httptest.ResponseRecorder) {
			if rec.Code == http.StatusUnsupportedMediaType {
				rec.Header().Set("Content-Type", "application/json")
			}
		})},
		{"gives no offset for malformed JSON", rawAny(func(status int, body []byte) []byte {
			if status != http.StatusBadRequest {
				return body
			}
			return withoutKey(body, "offset")
		})},
		{"answers a schema violation with a 400", onAnswer(func(_ *http.Request, rec *httptest.ResponseRecorder) {
			if rec.Code == http.StatusUnprocessableEntity {
				rec.Code = http.StatusBadRequest
			}
		})},
		{"answers an oversized body with a 400", onAnswer(func(_ *http.Request, rec *httptest.ResponseRecorder) {
			if rec.Code == http.StatusRequestEntityTooLarge && decodeGeneric(rec.Body.Bytes())["flag"] == "--max-body" {
				rec.Code = http.StatusBadRequest
			}
		})},
		{"answers an oversized batch with a 422", onAnswer(func(_ *http.Request, rec *httptest.ResponseRecorder) {
			if rec.Code == http.StatusRequestEntityTooLarge && decodeGeneric(rec.Body.Bytes())["flag"] == "--max-batch" {
				rec.Code = http.StatusUnprocessableEntity
			}
		})},
		{"refuses strings longer than 255 characters", refusesLongStrings},
		{"refuses relation types above 5", onSave(nil, func(req []byte, resp *openapi.SaveCustomersResponse) {
			rs, _ := decodeGeneric(req)["relations"].([]any)
			for _, r := range rs {
				rm, _ := r.(map[string]any)
				id, _ := rm["relation_external_id"].(string)
				if typ, ok := rm["relation_type"].(float64); ok && typ > 5 && id != "" {
					resp.Detail = append(resp.Detail, openapi.RecordDetail{ExternalID: id, Errors: []openapi.Message{{Code: rules.RelationTypeInvalid, Detail: "The relation type is not in the table."}}})
					resp.Status = openapi.StatusPartial
				}
			}
		})},
		{"answers too many relations with a 422", onAnswer(func(_ *http.Request, rec *httptest.ResponseRecorder) {
			if rec.Code == http.StatusRequestEntityTooLarge && decodeGeneric(rec.Body.Bytes())["flag"] == "--max-relations" {
				rec.Code = http.StatusUnprocessableEntity
			}
		})},
		{"answers a made-up token with a 502", onAnswer(func(r *http.Request, rec *httptest.ResponseRecorder) {
			if rec.Code == http.StatusUnauthorized && strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
				rec.Code = http.StatusBadGateway
			}
		})},
		{"answers a status outside the enum", rawSave(func(body []byte) []byte {
			return bytes.Replace(body, []byte(`"status":"`), []byte(`"status":"x`), 1)
		})},
	}...)
}

// refusesLongStrings answers a save that holds a string of 256 characters or
// more with a 422, as a server whose schema has a maxLength of 255 would.
func refusesLongStrings(next http.Handler) http.Handler {
	long := regexp.MustCompile(`"[^"\\]{256,}"`)
	return saveOnly(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			if len(body) < 1<<20 && long.Match(body) {
				problemTo(w, http.StatusUnprocessableEntity)
				return
			}
			next.ServeHTTP(w, r)
		})
	})(next)
}

// storedAnswer rewrites the mock's answers to GET /__admin/customers/{id}
// with fn, which gets the customer as the last save sent it and as the mock
// answers it: a server that stores what the mock does not.
func storedAnswer(fn func(saved, stored map[string]any)) func(http.Handler) http.Handler {
	var mu sync.Mutex
	last := map[string]map[string]any{}
	return rewrite(nil, func(r *http.Request, body []byte, status int, out []byte) []byte {
		switch {
		case r.URL.Path == savePath && status == http.StatusOK:
			cs, _ := decodeGeneric(body)["customers"].([]any)
			mu.Lock()
			for _, c := range cs {
				if cm, ok := c.(map[string]any); ok {
					if id, ok := cm["external_id"].(string); ok {
						last[id] = cm
					}
				}
			}
			mu.Unlock()
		case strings.HasPrefix(r.URL.Path, "/__admin/customers/") && status == http.StatusOK:
			sc := decodeGeneric(out)
			mu.Lock()
			saved := last[fmt.Sprint(sc["external_id"])]
			mu.Unlock()
			if saved != nil {
				fn(saved, sc)
				out, _ = json.Marshal(sc)
			}
		}
		return out
	})
}

// withoutKey is the JSON object body without its member key (body itself
// when it has none).
func withoutKey(body []byte, key string) []byte {
	m := decodeGeneric(body)
	if _, ok := m[key]; !ok {
		return body
	}
	delete(m, key)
	out, _ := json.Marshal(m)
	return out
}

// dropCode removes the code from every detail entry of the save answers.
func dropCode(code string) func(http.Handler) http.Handler {
	return onSave(nil, func(_ []byte, resp *openapi.SaveCustomersResponse) {
		for i := range resp.Detail {
			del := func(m openapi.Message) bool { return m.Code == code }
			resp.Detail[i].Errors = slices.DeleteFunc(resp.Detail[i].Errors, del)
			resp.Detail[i].Warnings = slices.DeleteFunc(resp.Detail[i].Warnings, del)
		}
	})
}

// onAnswer lets fn change every answer of next (status, headers, body)
// before it is sent.
func onAnswer(fn func(r *http.Request, rec *httptest.ResponseRecorder)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			fn(r, rec)
			reply(w, rec, rec.Body.Bytes())
		})
	}
}

// oauthError is the OAuth2 error code of a token answer, if any.
func oauthError(rec *httptest.ResponseRecorder) string {
	var oe openapi.OAuthError
	_ = json.Unmarshal(rec.Body.Bytes(), &oe)
	return oe.Error
}

// renameOAuthError answers the OAuth2 error from with to instead.
func renameOAuthError(from, to string) func(http.Handler) http.Handler {
	return onAnswer(func(r *http.Request, rec *httptest.ResponseRecorder) {
		if r.URL.Path != tokenPath || oauthError(rec) != from {
			return
		}
		m := decodeGeneric(rec.Body.Bytes())
		m["error"] = to
		out, _ := json.Marshal(m)
		rec.Body.Reset()
		rec.Body.Write(out)
	})
}

// anyPasswordToken answers a token request refused invalid_grant with a
// token of user A, as a server that checks no password would.
func anyPasswordToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := forward(next, r, body)
		if r.URL.Path == tokenPath && oauthError(rec) == "invalid_grant" {
			js, _ := json.Marshal(map[string]string{"grant_type": "password", "username": userA, "password": passA})
			rec = forward(next, r, js)
		}
		reply(w, rec, rec.Body.Bytes())
	})
}

// retryAsA serves a request that matches and was answered 401 again as user
// A: a server that lets such credentials through.
func retryAsA(match func(*http.Request) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			rec := forward(next, r, body)
			if rec.Code == http.StatusUnauthorized && r.URL.Path != tokenPath && match(r) {
				r2 := r.Clone(r.Context())
				r2.SetBasicAuth(userA, passA)
				rec = forward(next, r2, body)
			}
			reply(w, rec, rec.Body.Bytes())
		})
	}
}

// rejectedCustomers are the ids of the request's customers that the answer
// rejects.
func rejectedCustomers(req []byte, resp *openapi.SaveCustomersResponse) []string {
	var out []string
	ids := requestIDs(req)
	for _, d := range resp.Detail {
		if len(d.Errors) > 0 && slices.Contains(ids, d.ExternalID) && !slices.Contains(out, d.ExternalID) {
			out = append(out, d.ExternalID)
		}
	}
	return out
}

// rewriteToken lets edit change the fields of every JSON token request.
func rewriteToken(next http.Handler, edit func(map[string]string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == tokenPath {
			body, _ := io.ReadAll(r.Body)
			var f map[string]string
			if json.Unmarshal(body, &f) == nil {
				edit(f)
				body, _ = json.Marshal(f)
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		}
		next.ServeHTTP(w, r)
	})
}
