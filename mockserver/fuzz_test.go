package mockserver_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// FuzzSaveHandler sends arbitrary bodies (and content types) to the save
// endpoint through the whole handler, on each in-process engine of
// testStores (PostgreSQL is left out: a fuzz target cannot skip one store when
// there is no server, and a server round trip per input slows fuzzing): the mock must
// never answer 5xx, never panic, always answer a JSON body, and always match
// the OpenAPI document. The seed corpus is in testdata/fuzz/FuzzSaveHandler.
func FuzzSaveHandler(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"customers":[{"external_id":"a","account_type":"N","last_name":"D"}]}`,
		`{"customers":[{"external_id":"a","kyc_level":"x"}]}`,
		`{"customers":[`,
		`{"relations":[{"relation_external_id":"r","parent_customer_external_id":"a","child_customer_external_id":"a","relation_type":1}]}`,
		`{"customers":[{"external_id":"a","variations":[{"_op":"remove"}],"fields":{"x":null},"review_groups":";,"}],"verify_input":true}`,
	} {
		f.Add(byte(0), []byte(s))
	}
	cfg := rules.DefaultConfig()
	cfg.MaxBatch = 50
	cfg.ReviewGroups = []string{"retail"}
	cfg.CustomFields = []string{"segment"}
	cfg.MaxBody = 1 << 20
	var failure string
	check := mocktest.Validator(f).ResponseChecker(func(r *http.Request, err error) { failure = err.Error() })
	var (
		handlers []http.Handler
		names    []string
	)
	for _, st := range testStores {
		if !st.server {
			mock := mocktest.NewMock(f, mockserver.Config{Rules: &cfg, Validator: mocktest.Validator(f), Store: st.open(f)})
			handlers, names = append(handlers, check(mock)), append(names, st.name)
		}
	}
	// probe is one more mock, without the response checker (kin-openapi's
	// validation allocates far more than the mock), whose allocations per
	// input are measured.
	probe := mocktest.NewMock(f, mockserver.Config{Rules: &cfg, Validator: mocktest.Validator(f)})
	contentTypes := []string{"application/json", "application/json; charset=utf-8", "text/plain", "", "application/problem+json"}
	f.Fuzz(func(t *testing.T, ct byte, body []byte) {
		if alloc := allocatedBy(probe, contentTypes[int(ct)%len(contentTypes)], body); alloc > maxAlloc(len(body)) {
			t.Fatalf("allocated %d bytes for a body of %d, want at most %d (1 MiB + 256 per byte)", alloc, len(body), maxAlloc(len(body)))
		}
		for i, h := range handlers {
			failure = ""
			req := httptest.NewRequest(http.MethodPost, "/api/v1/customers/save", strings.NewReader(string(body)))
			req.SetBasicAuth("fuzz", "x")
			if c := contentTypes[int(ct)%len(contentTypes)]; c != "" {
				req.Header.Set("Content-Type", c)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			store := names[i]
			if rec.Code >= 500 {
				t.Fatalf("%s store: status %d for %q: %s", store, rec.Code, body, rec.Body.Bytes())
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s store: status %d: body is not JSON: %q", store, rec.Code, rec.Body.Bytes())
			}
			if ctype := rec.Header().Get("Content-Type"); ctype != "application/json" && ctype != "application/problem+json" {
				t.Fatalf("%s store: Content-Type %q", store, ctype)
			}
			if failure != "" {
				t.Fatalf("%s store: status %d off the document: %s\nbody %q\nresponse %s", store, rec.Code, failure, body, rec.Body.Bytes())
			}
		}
	})
}

// FuzzTokenHandler sends arbitrary bodies to the token endpoint: never a 5xx
// or a 422, always JSON, and every 400 an OAuth2 error.
func FuzzTokenHandler(f *testing.F) {
	for _, s := range []string{
		`{"grant_type":"password","username":"alice","password":"s3cret"}`,
		`grant_type=password&username=alice&password=s3cret`,
		`{"grant_type":"client_credentials"}`,
		`grant_type=password&username=%zz`,
		`{"grant_type":`,
		`{"grant_type":["password"],"username":1}`,
	} {
		f.Add(byte(0), []byte(s))
		f.Add(byte(1), []byte(s))
	}
	users := []mockserver.User{{Username: "alice", Password: "s3cret", Business: "acme"}}
	mock := mocktest.NewMock(f, mockserver.Config{Users: users, Validator: mocktest.Validator(f)})
	var failure string
	h := mocktest.Validator(f).ResponseChecker(func(r *http.Request, err error) { failure = err.Error() })(mock)
	contentTypes := []string{"application/json", "application/x-www-form-urlencoded", "text/plain", ""}
	f.Fuzz(func(t *testing.T, ct byte, body []byte) {
		failure = ""
		req := httptest.NewRequest(http.MethodPost, "/api/v1/token", strings.NewReader(string(body)))
		if c := contentTypes[int(ct)%len(contentTypes)]; c != "" {
			req.Header.Set("Content-Type", c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 || rec.Code == 422 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.Bytes())
		}
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("status %d: body is not a JSON object: %q", rec.Code, rec.Body.Bytes())
		}
		if rec.Code == 400 {
			switch m["error"] {
			case "invalid_request", "invalid_grant", "unsupported_grant_type":
			default:
				t.Fatalf("400 without an OAuth2 error: %s", rec.Body.Bytes())
			}
		}
		if failure != "" {
			t.Fatalf("status %d off the document: %s\nbody %q", rec.Code, failure, body)
		}
	})
}

// FuzzParseUsers reads arbitrary users files: an error or accounts with a
// username, a password and a business, never a panic.
func FuzzParseUsers(f *testing.F) {
	for _, s := range []string{
		"username,password,business\nalice,s3cret,acme\n",
		"username,password,business\n# comment\n\nbob,pw,\n",
		"username,password,business\nalice,a,x\nalice,b,y\n",
		"user,pass\nx,y\n",
		"username,password,business\n\"quoted,name\",\"p\"\"w\",acme\n",
		"username,password,business\nalice,pw," + strings.Repeat("b", mockserver.MaxBusinessBytes+1) + "\n",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		users, err := mockserver.ParseUsers(strings.NewReader(s))
		if err != nil {
			if users != nil || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q with users %v", err, users)
			}
			return
		}
		seen := map[string]bool{}
		for _, u := range users {
			if u.Username == "" || u.Password == "" || u.Business == "" || len(u.Business) > mockserver.MaxBusinessBytes || seen[u.Username] {
				t.Fatalf("bad account %+v in %q", u, s)
			}
			seen[u.Username] = true
		}
	})
}

// maxAlloc is the most a save of a body of n bytes may allocate in the fuzz
// target: 1 MiB + 256 bytes per body byte. Generous: the model's records cost
// far more than their shortest JSON (an empty relation, 3 bytes, decodes to 56
// bytes and is judged with about 400 more), which the count limits bound
// (TestMemoryProportionalToBody holds whole bodies to 4 bytes per byte + 64
// MiB). What it catches is an answer or a decoding that grows without bound
// per byte: 1 MiB of empty relations once allocated over a gigabyte.
func maxAlloc(n int) uint64 { return 1<<20 + 256*uint64(n) }

// allocatedBy returns the bytes allocated while h answers a save of body
// (runtime.MemStats.TotalAlloc: every byte allocated, garbage included,
// whatever the collector does meanwhile).
func allocatedBy(h http.Handler, contentType string, body []byte) uint64 {
	req := httptest.NewRequest(http.MethodPost, "/api/v1/customers/save", bytes.NewReader(body))
	req.SetBasicAuth("fuzz", "x")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	h.ServeHTTP(rec, req)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
