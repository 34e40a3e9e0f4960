package mockserver_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/stretchr/testify/require"
)

func problemOf(tb testing.TB, r response) openapi.Problem {
	tb.Helper()
	if ct := r.header.Get("Content-Type"); ct != openapi.ProblemContentType {
		tb.Errorf("Content-Type: got %q, want %q", ct, openapi.ProblemContentType)
	}
	var p openapi.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		tb.Fatalf("problem body: %v: %s", err, r.body)
	}
	if p.Status != r.status || p.Detail == "" || !strings.HasPrefix(p.Type, "urn:algoreg-kit:problem:") {
		tb.Errorf("problem: got %+v for status %d", p, r.status)
	}
	return p
}

// TestStrictContentTypes: by default the save and token endpoints take
// only the JSON the vendor documents; Config.Lenient (--lenient) takes form
// token requests and application/*+json too.
func TestStrictContentTypes(t *testing.T) {
	const tokenBody = `{"grant_type":"password","username":"bob","password":"pw"}`
	const formBody = `grant_type=password&username=bob&password=pw`
	tests := []struct {
		name, path, contentType, body string
		strict, lenient               int
	}{
		{"save json", "/api/v1/customers/save", "application/json", `{}`, 200, 200},
		{"save json utf-8", "/api/v1/customers/save", "application/json; charset=UTF-8", `{}`, 200, 200},
		{"save json latin1", "/api/v1/customers/save", "application/json; charset=iso-8859-1", `{}`, 415, 200},
		{"save json other parameter", "/api/v1/customers/save", "application/json; profile=x", `{}`, 415, 200},
		{"save +json", "/api/v1/customers/save", "application/vnd.algoreg+json", `{}`, 415, 200},
		{"save problem+json", "/api/v1/customers/save", "application/problem+json", `{}`, 415, 200},
		{"save form", "/api/v1/customers/save", "application/x-www-form-urlencoded", `a=b`, 415, 415},
		{"token json", "/api/v1/token", "application/json", tokenBody, 200, 200},
		{"token json utf-8", "/api/v1/token", "application/json;charset=utf-8", tokenBody, 200, 200},
		{"token form", "/api/v1/token", "application/x-www-form-urlencoded", formBody, 415, 200},
		{"token +json", "/api/v1/token", "application/vnd.x+json", tokenBody, 415, 200},
		{"token no type", "/api/v1/token", "", tokenBody, 415, 415},
	}
	for _, lenient := range []bool{false, true} {
		ts := newServer(t, mockserver.Config{Lenient: lenient})
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/lenient=%v", tt.name, lenient), func(t *testing.T) {
				want := tt.strict
				if lenient {
					want = tt.lenient
				}
				r := do(t, ts.Client, http.MethodPost, ts.URL+tt.path, tt.contentType, tt.body)
				require.Equal(t, want, r.status, "%s", r.body)
				if want == 415 {
					p := problemOf(t, r)
					require.Equal(t, "urn:algoreg-kit:problem:unsupported-media-type", p.Type)
					require.Contains(t, p.Detail, "application/json")
				}
			})
		}
	}
}

func TestTransport(t *testing.T) {
	ts := newServer(t, mockserver.Config{Rules: rulesWith(func(c *rules.Config) { c.MaxBatch, c.MaxBody = 3, 4096 })})
	save := ts.URL + "/api/v1/customers/save"
	admin := ts.URL + "/__admin/customers/"
	saveAs(t, ts, ts.Client, `{"customers":[{"external_id":"a/b c",`+indiv+`},{"external_id":"..",`+indiv+`},{"external_id":"a%b",`+indiv+`}]}`)
	big := `{"customers":[{"external_id":"` + strings.Repeat("x", 5000) + `"}]}`
	tests := []struct {
		name        string
		method, url string
		contentType string
		body        string
		wantStatus  int
		wantType    string
		check       func(t *testing.T, r response, p openapi.Problem)
	}{
		{"text/plain is 415", "POST", save, "text/plain", `{}`, 415, "unsupported-media-type", nil},
		{"no content type is 415", "POST", save, "", `{}`, 415, "unsupported-media-type", nil},
		{"form is 415", "POST", save, "application/x-www-form-urlencoded", `a=b`, 415, "unsupported-media-type", nil},
		{"json with charset is fine", "POST", save, "application/json; charset=utf-8", `{}`, 200, "", nil},
		{"a +json type is 415: the vendor documents application/json", "POST", save, "application/vnd.algoreg+json", `{}`, 415, "unsupported-media-type", detailHas("--lenient")},
		{"body over the limit is 413", "POST", save, "application/json", big, 413, "too-large", nil},
		{"malformed JSON is 400 with the offset", "POST", save, "application/json", `{"customers":[{"external_id":"a",}]}`, 400, "malformed-json",
			func(t *testing.T, r response, p openapi.Problem) {
				if p.Offset == nil || *p.Offset != 34 || !strings.Contains(p.Detail, "offset 34") {
					t.Errorf("offset: got %v in %q, want 34", p.Offset, p.Detail)
				}
			}},
		{"truncated JSON is 400", "POST", save, "application/json", `{"customers":[`, 400, "malformed-json", nil},
		{"empty body is 422", "POST", save, "application/json", ``, 422, "schema-violation", nil},
		{"type mismatches are 422 listing every violation", "POST", save, "application/json",
			`{"customers":[{"external_id":"a","kyc_level":"x"},{"external_id":"b","fields":[1]}],"verify_input":"yes"}`, 422, "schema-violation",
			func(t *testing.T, r response, p openapi.Problem) {
				var got []string
				for _, v := range p.Violations {
					got = append(got, v.Pointer)
				}
				want := []string{"/customers/0/kyc_level", "/customers/1/fields", "/verify_input"}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("violations: got %v, want %v", got, want)
				}
			}},
		{"more customers than max batch is 413", "POST", save, "application/json",
			`{"customers":[{"external_id":"a"},{"external_id":"b"},{"external_id":"c"},{"external_id":"d"}]}`, 413, "too-large",
			func(t *testing.T, r response, p openapi.Problem) {
				if !strings.Contains(p.Detail, "more than 3 customers") {
					t.Errorf("detail: got %q, want it to name the limit of 3", p.Detail)
				}
			}},
		{"empty objects past max batch stop decoding with 413", "POST", save, "application/json",
			`{"customers":[{},{},{},{},` + strings.Repeat(`{},`, 800) + `{}]}`, 413, "too-large", nil},
		{"violations past 1000 are cut, and the problem says so", "POST", save, "application/json",
			`{"relations":[` + strings.Repeat(`1,`, 1200) + `1]}`, 422, "schema-violation",
			func(t *testing.T, r response, p openapi.Problem) {
				if len(p.Violations) != 1000 || !strings.Contains(p.Detail, "more than 1000 violations") {
					t.Errorf("got %d violations and detail %q, want 1000 and a note that the list is cut", len(p.Violations), p.Detail)
				}
				if p.Violations[0].Pointer != "/relations/0" {
					t.Errorf("first pointer: got %q, want /relations/0", p.Violations[0].Pointer)
				}
			}},
		{"unknown path is 404", "GET", ts.URL + "/api/v1/nope", "", "", 404, "not-found", nil},
		{"wrong method is 405 with Allow", "GET", save, "", "", 405, "method-not-allowed", allowIs("POST")},
		{"405 on inspection lists GET and HEAD", "POST", ts.URL + "/__admin/customers", "application/json", "{}", 405, "method-not-allowed", allowIs("GET, HEAD")},
		{"bad page parameter is 400", "GET", ts.URL + "/__admin/customers?limit=0", "", "", 400, "bad-parameter", nil},
		{"page limit over 1000 is 400", "GET", ts.URL + "/__admin/relations?limit=1001", "", "", 400, "bad-parameter", nil},
		{"negative offset is 400", "GET", ts.URL + "/__admin/customers?offset=-1", "", "", 400, "bad-parameter", nil},
		{"unknown customer is 404", "GET", ts.URL + "/__admin/customers/nobody", "", "", 404, "not-found", nil},
		{"an escaped slash stays in the external_id", "GET", admin + "a%2Fb%20c", "", "", 200, "", storedAs("a/b c")},
		{"escapes are case-insensitive", "GET", admin + "a%2fb%20c", "", "", 200, "", storedAs("a/b c")},
		{"an escaped percent sign", "GET", admin + "a%25b", "", "", 200, "", storedAs("a%b")},
		{"an escaped dot segment is an external_id", "GET", admin + "%2E%2E", "", "", 200, "", storedAs("..")},
		{"escaped slashes do not climb", "GET", admin + "x%2F..%2F..", "", "", 404, "not-found", detailHas(`external_id "x/../.."`)},
		{"405 on a customer lists GET and HEAD", "POST", admin + "x", "application/json", "{}", 405, "method-not-allowed", allowIs("GET, HEAD")},
		{"405 on reset lists DELETE", "GET", ts.URL + "/__admin/state", "", "", 405, "method-not-allowed", allowIs("DELETE")},
		{"OPTIONS is 405", "OPTIONS", ts.URL + "/api/v1/token", "", "", 405, "method-not-allowed", allowIs("POST")},
		{"methods are case-sensitive", "get", ts.URL + "/healthz", "", "", 405, "method-not-allowed", allowIs("GET, HEAD")},
		{"HEAD is served by GET", "HEAD", admin + "..", "", "", 404, "", nil}, // no body to read a problem from
		{"HEAD of a stored customer", "HEAD", admin + "a%25b", "", "", 200, "", nil},
		{"an empty external_id is 404", "GET", admin, "", "", 404, "not-found", detailHas("No such path.")},
		{"two segments are 404", "GET", admin + "x/y", "", "", 404, "not-found", detailHas("No such path.")},
		{"a trailing slash is 404", "POST", save + "/", "application/json", "{}", 404, "not-found", detailHas("No such path.")},
		{"a dot-dot segment is 404, not a redirect", "GET", admin + "..", "", "", 404, "not-found", detailHas("does not redirect")},
		{"a dot segment is 404, not a redirect", "GET", ts.URL + "/./healthz", "", "", 404, "not-found", detailHas("does not redirect")},
		{"an empty segment is 404, not a redirect", "GET", ts.URL + "/__admin//customers", "", "", 404, "not-found", detailHas("does not redirect")},
		{"an empty segment in the save path is 404", "POST", ts.URL + "/api/v1/customers//save", "application/json", "{}", 404, "not-found", detailHas("does not redirect")},
		{"healthz", "GET", ts.URL + "/healthz", "", "", 200, "", func(t *testing.T, r response, _ openapi.Problem) {
			if string(r.body) != `{"status":"ok"}` {
				t.Errorf("body: got %s", r.body)
			}
		}},
		{"openapi.yaml", "GET", ts.URL + "/openapi.yaml", "", "", 200, "", func(t *testing.T, r response, _ openapi.Problem) {
			if !bytes.Equal(r.body, openapi.Document()) || r.header.Get("Content-Type") != "application/yaml" {
				t.Errorf("document not served as application/yaml")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, ts.Client, tt.method, tt.url, tt.contentType, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("status: got %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			var p openapi.Problem
			if tt.wantType != "" {
				p = problemOf(t, r)
				if want := "urn:algoreg-kit:problem:" + tt.wantType; p.Type != want {
					t.Errorf("type: got %q, want %q", p.Type, want)
				}
			}
			if tt.check != nil {
				tt.check(t, r, p)
			}
		})
	}
}

func storedAs(externalID string) func(*testing.T, response, openapi.Problem) {
	return func(t *testing.T, r response, _ openapi.Problem) {
		var c openapi.StoredCustomer
		if err := json.Unmarshal(r.body, &c); err != nil || c.ExternalID != externalID {
			t.Errorf("got external_id %q (%v), want %q", c.ExternalID, err, externalID)
		}
	}
}

func detailHas(want string) func(*testing.T, response, openapi.Problem) {
	return func(t *testing.T, r response, p openapi.Problem) {
		if !strings.Contains(p.Detail, want) || r.header.Get("Location") != "" {
			t.Errorf("detail: got %q and Location %q, want %q and no Location", p.Detail, r.header.Get("Location"), want)
		}
	}
}

func allowIs(want string) func(*testing.T, response, openapi.Problem) {
	return func(t *testing.T, r response, p openapi.Problem) {
		if got := r.header.Get("Allow"); got != want || !strings.HasSuffix(p.Detail, "; use "+strings.ReplaceAll(want, ", ", " or ")+".") {
			t.Errorf("got Allow %q and detail %q, want Allow %q", got, p.Detail, want)
		}
	}
}

// A body over the limit is refused without being read to the end.
func TestTooLargeIsNotRead(t *testing.T) {
	ts := newServer(t, mockserver.Config{Rules: rulesWith(func(c *rules.Config) { c.MaxBody = 1 << 10 })})
	var read countingReader
	read.r = io.LimitReader(neverEnding('x'), 64<<20)
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/v1/customers/save", &read)
	req.Header.Set("Content-Type", "application/json")
	resp, err := ts.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status: got %d, want 413", resp.StatusCode)
	}
	if n := read.n(); n > 8<<20 {
		t.Errorf("the client sent %d bytes; the server should have stopped reading near the 1 KiB limit", n)
	}
}

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

type countingReader struct {
	mu    sync.Mutex
	r     io.Reader
	count int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.mu.Lock()
	c.count += int64(n)
	c.mu.Unlock()
	return n, err
}

func (c *countingReader) n() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count
}

func TestPanicBecomes500(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, nil))
	ts := newServer(t, mockserver.Config{Store: panicStore{}, Logger: logger})
	r := do(t, ts.Client, http.MethodPost, ts.URL+"/api/v1/customers/save", "application/json", `{"customers":[{"external_id":"a"}]}`)
	if r.status != http.StatusInternalServerError {
		t.Fatalf("status: got %d, want 500", r.status)
	}
	problemOf(t, r)
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "panic in handler") || !strings.Contains(logs.String(), "store exploded") {
		t.Errorf("log: %s", logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

type panicStore struct{ store.Store }

func (panicStore) Update(_ context.Context, _ string, _ func(store.Tx) error) error {
	panic("store exploded")
}

func TestRequestLog(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, nil))
	ts := newServer(t, mockserver.Config{Logger: logger})
	save(t, ts, `{"customers":[{"external_id":"a",`+indiv+`},{"external_id":"b"},{"external_id":"c",`+indiv+`,"phone":"1"}]}`)
	mu.Lock()
	defer mu.Unlock()
	var line map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(logs.Bytes()), &line); err != nil {
		t.Fatalf("want one JSON log line: %v: %s", err, logs.String())
	}
	want := map[string]any{"msg": "request", "business": "test", "status": float64(200), "customers": float64(3), "added": float64(2), "errors": float64(1), "warnings": float64(1), "path": "/api/v1/customers/save"}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("log %s: got %v, want %v", k, line[k], v)
		}
	}
	if _, ok := line["duration"]; !ok {
		t.Error("log has no duration")
	}
}

func TestRateLimit(t *testing.T) {
	ts := newServer(t, mockserver.Config{RateLimit: 0.001, RateBurst: 2})
	for i := 0; i < 2; i++ {
		save(t, ts, `{}`)
	}
	r := do(t, ts.Client, http.MethodPost, ts.URL+"/api/v1/customers/save", "application/json", `{}`)
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("status: got %d, want 429", r.status)
	}
	problemOf(t, r)
	if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After: got %q", ra)
	}
	// another business has its own bucket
	other := ts.ClientFor("other", "x")
	saveAs(t, ts, other, `{}`)
}

func TestAuth(t *testing.T) { forEachStore(t, testAuth) }

func testAuth(t *testing.T, st testStore) {
	clock := &fakeClock{now: testNow}
	users := []mockserver.User{{Username: "alice@acme.example", Password: "s3cret", Business: "acme"}, {Username: "bob", Password: "pw", Business: "acme"}}
	ts := newServer(t, mockserver.Config{Store: st.open(t), Users: users, TokenTTL: time.Minute, LockoutThreshold: 3, LockoutDuration: time.Minute, Now: clock.Now})
	tokenURL := ts.URL + "/api/v1/token"
	saveURL := ts.URL + "/api/v1/customers/save"
	plain := &http.Client{}
	basic := func(u, p string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)) }

	token := func(t *testing.T, ct, body string) (int, map[string]any, http.Header) {
		t.Helper()
		r := do(t, plain, http.MethodPost, tokenURL, ct, body)
		var m map[string]any
		json.Unmarshal(r.body, &m)
		return r.status, m, r.header
	}

	t.Run("token errors the OAuth2 way", func(t *testing.T) {
		tests := []struct {
			name, ct, body string
			wantStatus     int
			wantError      string
		}{
			{"json", "application/json", `{"grant_type":"password","username":"alice@acme.example","password":"s3cret"}`, 200, ""},
			{"form is 415: the vendor documents a JSON body", "application/x-www-form-urlencoded", `grant_type=password&username=bob&password=pw`, 415, ""},
			{"wrong grant", "application/json", `{"grant_type":"client_credentials","username":"bob","password":"pw"}`, 400, "unsupported_grant_type"},
			{"no grant", "application/json", `{"username":"bob","password":"pw"}`, 400, "invalid_request"},
			{"no password", "application/json", `{"grant_type":"password","username":"bob"}`, 400, "invalid_request"},
			{"malformed json", "application/json", `{"grant_type":`, 400, "invalid_request"},
			{"wrong types", "application/json", `{"grant_type":"password","username":1,"password":2}`, 400, "invalid_request"},
			{"unknown user", "application/json", `{"grant_type":"password","username":"eve","password":"pw"}`, 400, "invalid_grant"},
			{"wrong password", "application/json", `{"grant_type":"password","username":"bob","password":"nope"}`, 400, "invalid_grant"},
			{"xml", "application/xml", `<x/>`, 415, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				status, m, h := token(t, tt.ct, tt.body)
				if status != tt.wantStatus {
					t.Fatalf("status: got %d, want %d (%v)", status, tt.wantStatus, m)
				}
				switch {
				case status == 200:
					if m["token_type"] != "Bearer" || m["expires_in"] != float64(60) || m["access_token"] == "" || h.Get("Cache-Control") != "no-store" {
						t.Errorf("token response: %v %v", m, h)
					}
				case tt.wantError != "":
					if m["error"] != tt.wantError || m["error_description"] == "" {
						t.Errorf("error: got %v, want %s", m, tt.wantError)
					}
				}
			})
		}
	})

	t.Run("bearer, basic, 401 with WWW-Authenticate", func(t *testing.T) {
		_, m, _ := token(t, "application/json", `{"grant_type":"password","username":"alice@acme.example","password":"s3cret"}`)
		tok := m["access_token"].(string)
		tests := []struct {
			name, auth string
			want       int
		}{
			{"bearer", "Bearer " + tok, 200},
			{"basic", basic("bob", "pw"), 200},
			{"none", "", 401},
			{"unknown token", "Bearer nope", 401},
			{"wrong password", basic("bob", "bad"), 401},
			{"unknown user", basic("eve", "pw"), 401},
			{"other scheme", "Digest x", 401},
			{"garbled basic", "Basic !!!", 401},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := do(t, plain, http.MethodPost, saveURL, "application/json", `{}`, "Authorization", tt.auth)
				if r.status != tt.want {
					t.Fatalf("status: got %d, want %d: %s", r.status, tt.want, r.body)
				}
				if tt.want == 401 {
					problemOf(t, r)
					if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="algoreg", Basic realm="algoreg"` {
						t.Errorf("WWW-Authenticate: got %q", got)
					}
				}
			})
		}
		clock.advance(61 * time.Second)
		if r := do(t, plain, http.MethodPost, saveURL, "application/json", `{}`, "Authorization", "Bearer "+tok); r.status != 401 {
			t.Errorf("expired token: got %d, want 401", r.status)
		}
	})

	t.Run("repeated wrong passwords lock the account for a while", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			do(t, plain, http.MethodPost, saveURL, "application/json", `{}`, "Authorization", basic("alice@acme.example", "bad"))
		}
		status, m, _ := token(t, "application/json", `{"grant_type":"password","username":"alice@acme.example","password":"s3cret"}`)
		if status != 400 || m["error"] != "invalid_grant" || !strings.Contains(fmt.Sprint(m["error_description"]), "locked") {
			t.Fatalf("locked account: got %d %v", status, m)
		}
		if r := do(t, plain, http.MethodPost, saveURL, "application/json", `{}`, "Authorization", basic("alice@acme.example", "s3cret")); r.status != 401 {
			t.Errorf("basic on a locked account: got %d, want 401", r.status)
		}
		if status, _, _ := token(t, "application/json", `{"grant_type":"password","username":"bob","password":"pw"}`); status != 200 {
			t.Errorf("another account of the business was locked too: %d", status)
		}
		clock.advance(61 * time.Second)
		if status, m, _ := token(t, "application/json", `{"grant_type":"password","username":"alice@acme.example","password":"s3cret"}`); status != 200 {
			t.Errorf("after the lockout: got %d %v", status, m)
		}
	})

	t.Run("users of one business share its state", func(t *testing.T) {
		saveAs(t, ts, ts.ClientFor("alice@acme.example", "s3cret"), `{"customers":[{"external_id":"shared",`+indiv+`}]}`)
		if _, ok := getCustomer(t, ts, ts.ClientFor("bob", "pw"), "shared"); !ok {
			t.Error("bob does not see alice's customer of the same business")
		}
	})
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestOpenModeAcceptsAnyone(t *testing.T) { forEachStore(t, testOpenModeAcceptsAnyone) }

func testOpenModeAcceptsAnyone(t *testing.T, st testStore) {
	ts := newServer(t, mockserver.Config{Store: st.open(t)})
	tok := ts.Token(t, "newcomer", "whatever")
	r := do(t, &http.Client{}, http.MethodPost, ts.URL+"/api/v1/customers/save", "application/json", `{"customers":[{"external_id":"a",`+indiv+`}]}`, "Authorization", "Bearer "+tok)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if _, ok := getCustomer(t, ts, ts.ClientFor("newcomer", "other password"), "a"); !ok {
		t.Error("the username does not name the business")
	}
	if r := do(t, &http.Client{}, http.MethodPost, ts.URL+"/api/v1/token", "application/json", `{"grant_type":"password","username":"","password":"x"}`); r.status != 400 {
		t.Errorf("empty username: got %d, want 400", r.status)
	}
}

func TestTenantIsolation(t *testing.T) { forEachStore(t, testTenantIsolation) }

func testTenantIsolation(t *testing.T, st testStore) {
	ts := newServer(t, mockserver.Config{Store: st.open(t)})
	a, b := ts.ClientFor("tenant-a", "x"), ts.ClientFor("tenant-b", "y")
	ra := saveAs(t, ts, a, `{"customers":[{"external_id":"same",`+indiv+`,"phone":"+33612345678"},{"external_id":"only-a",`+indiv+`}]}`)
	if _, ok := getCustomer(t, ts, b, "only-a"); ok {
		t.Error("tenant B sees tenant A's customer")
	}
	if n := total(t, ts, b, "customers"); n != 0 {
		t.Errorf("tenant B lists %d customers, want 0", n)
	}
	// B's save of the same external_id creates B's own customer and leaves A's alone.
	rb := saveAs(t, ts, b, `{"customers":[{"external_id":"same",`+indiv+`,"phone":"+14155550123"}]}`)
	if len(rb.Added) != 1 || rb.Added[0].CustomerID == ra.Added[0].CustomerID {
		t.Fatalf("tenant B's save: got added %v, want a new customer_id", rb.Added)
	}
	ca, _ := getCustomer(t, ts, a, "same")
	cb, _ := getCustomer(t, ts, b, "same")
	if ca.Phone != "+33612345678" || cb.Phone != "+14155550123" || ca.CustomerID == cb.CustomerID {
		t.Errorf("A %+v / B %+v", ca, cb)
	}
	// B cannot relate to A's customer.
	rr := saveAs(t, ts, b, `{"relations":[{"relation_external_id":"r","parent_customer_external_id":"same","child_customer_external_id":"only-a","relation_type":1}]}`)
	if got := summary(rr); len(got) != 1 || got[0] != "r E[relation_customer_unknown] W[]" {
		t.Errorf("relation across tenants: %v", got)
	}
	// Reset of B leaves A.
	if r := do(t, b, http.MethodDelete, ts.URL+"/__admin/state", "", ""); r.status != http.StatusNoContent {
		t.Fatalf("reset: status %d", r.status)
	}
	if total(t, ts, b, "customers") != 0 || total(t, ts, a, "customers") != 2 {
		t.Error("reset of B touched A or missed B")
	}
}

func TestInspectionPaging(t *testing.T) { forEachStore(t, testInspectionPaging) }

func testInspectionPaging(t *testing.T, st testStore) {
	ts := newServer(t, mockserver.Config{Store: st.open(t)})
	var b strings.Builder
	b.WriteString(`{"customers":[`)
	for i := 0; i < 25; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"external_id":"c%02d",%s}`, 24-i, indiv)
	}
	b.WriteString(`],"relations":[{"relation_external_id":"r2","parent_customer_external_id":"c00","child_customer_external_id":"c01","relation_type":1},{"relation_external_id":"r1","parent_customer_external_id":"c02","child_customer_external_id":"c01","relation_type":2}]}`)
	save(t, ts, b.String())
	r := do(t, ts.Client, http.MethodGet, ts.URL+"/__admin/customers?offset=10&limit=5", "", "")
	var page openapi.CustomerPage
	if err := json.Unmarshal(r.body, &page); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range page.Customers {
		got = append(got, c.ExternalID)
	}
	if fmt.Sprint(got) != "[c10 c11 c12 c13 c14]" || page.Total != 25 || page.Offset != 10 || page.Limit != 5 {
		t.Errorf("page: got %v total %d offset %d limit %d", got, page.Total, page.Offset, page.Limit)
	}
	r = do(t, ts.Client, http.MethodGet, ts.URL+"/__admin/customers?offset=100", "", "")
	if !strings.Contains(string(r.body), `"customers":[]`) {
		t.Errorf("past the end: %s", r.body)
	}
	c01 := mustGetCustomer(t, ts, "c01")
	if len(c01.Relations) != 2 || c01.Relations[0].RelationExternalID != "r1" {
		t.Errorf("relations of c01: %+v", c01.Relations)
	}
	r = do(t, ts.Client, http.MethodGet, ts.URL+"/__admin/relations?limit=1", "", "")
	if !strings.Contains(string(r.body), `"relation_external_id":"r1"`) || !strings.Contains(string(r.body), `"total":2`) {
		t.Errorf("relations page: %s", r.body)
	}
	// an external_id with a slash, escaped in the path
	save(t, ts, `{"customers":[{"external_id":"a/b c",`+indiv+`}]}`)
	if _, ok := getCustomer(t, ts, ts.Client, "a%2Fb%20c"); !ok {
		t.Error("customer a/b c not found by its escaped external_id")
	}
}

// 32 goroutines save overlapping batches of the same external_ids: each is
// created exactly once and keeps one customer_id.
func TestConcurrentOverlappingSaves(t *testing.T) { forEachStore(t, testConcurrentOverlappingSaves) }

func testConcurrentOverlappingSaves(t *testing.T, st testStore) {
	ts := newServer(t, mockserver.Config{Store: st.open(t)}, mocktest.WithoutResponseCheck())
	const workers, ids, batch = 32, 200, 50
	var mu sync.Mutex
	idsOf := map[string]map[string]bool{} // external_id → customer_ids seen in added
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for round := 0; round < 4; round++ {
				var b strings.Builder
				b.WriteString(`{"customers":[`)
				for i := 0; i < batch; i++ {
					if i > 0 {
						b.WriteByte(',')
					}
					fmt.Fprintf(&b, `{"external_id":"c%d",%s,"comment":"w%d"}`, (w*7+round*13+i)%ids, indiv, w)
				}
				b.WriteString(`]}`)
				resp := save(t, ts, b.String())
				if resp.Status != openapi.StatusOK {
					t.Errorf("status %s: %v", resp.Status, summary(resp))
				}
				mu.Lock()
				for _, a := range resp.Added {
					if idsOf[a.ExternalID] == nil {
						idsOf[a.ExternalID] = map[string]bool{}
					}
					idsOf[a.ExternalID][a.CustomerID] = true
				}
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	created := 0
	for eid, set := range idsOf {
		if len(set) != 1 {
			t.Errorf("%s was created %d times", eid, len(set))
		}
		created++
		for id := range set {
			if c := mustGetCustomer(t, ts, eid); c.CustomerID != id {
				t.Errorf("%s: stored customer_id %s, added said %s", eid, c.CustomerID, id)
			}
		}
	}
	if stored := total(t, ts, ts.Client, "customers"); stored != created {
		t.Errorf("stored %d customers, added listed %d", stored, created)
	}
	if created == 0 {
		t.Fatal("nothing was created")
	}
}

// The mock on a plain httptest server, as the contract suite wraps it.
func TestNewIsAHandler(t *testing.T) {
	var h http.Handler = mocktest.NewMock(t, mockserver.Config{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != 200 {
		t.Errorf("healthz: got %d", rec.Code)
	}
}

func TestHTTPServerTimeouts(t *testing.T) {
	srv := mocktest.NewMock(t, mockserver.Config{}).HTTPServer()
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout,
	} {
		if d <= 0 {
			t.Errorf("%s is not set", name)
		}
	}
	if srv.Handler == nil || srv.ConnState == nil || srv.ConnContext == nil {
		t.Error("no handler or connection hooks")
	}
	// The body limit (16 MiB) at the minimum rate (256 KiB/s) after the
	// header timeout; headers of at most 64 KiB.
	if srv.ReadTimeout != 74*time.Second || srv.MaxHeaderBytes != 64<<10 {
		t.Errorf("ReadTimeout %s, MaxHeaderBytes %d", srv.ReadTimeout, srv.MaxHeaderBytes)
	}
}

// The kin-openapi validation path (Config.KinValidation) answers the same
// statuses as the fast decoder.
func TestKinValidationPath(t *testing.T) {
	for _, kin := range []bool{false, true} {
		t.Run(fmt.Sprint("kin=", kin), func(t *testing.T) {
			ts := newServer(t, mockserver.Config{KinValidation: kin})
			tests := []struct {
				body string
				want int
			}{
				{`{"customers":[{"external_id":"a",` + indiv + `}]}`, 200},
				{`{"customers":[{"external_id":"a","kyc_level":"x"},{"external_id":"b","fields":[1]}]}`, 422},
				{`{"customers":[{"external_id":"a",}]}`, 400},
			}
			for _, tt := range tests {
				r := do(t, ts.Client, http.MethodPost, ts.URL+"/api/v1/customers/save", "application/json", tt.body)
				if r.status != tt.want {
					t.Errorf("%s: got %d, want %d: %s", tt.body, r.status, tt.want, r.body)
				}
				if tt.want == 422 {
					if p := problemOf(t, r); len(p.Violations) != 2 {
						t.Errorf("violations: got %v, want 2", p.Violations)
					}
				}
			}
		})
	}
}

// With ValidateResponses on, the mock's own answers produce no mismatch log.
func TestValidateResponsesLogsNothingForGoodAnswers(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelError}))
	ts := newServer(t, mockserver.Config{ValidateResponses: true, Logger: logger}, mocktest.WithoutResponseCheck())
	save(t, ts, `{"customers":[{"external_id":"a",`+indiv+`},{"external_id":"b"}]}`)
	do(t, ts.Client, http.MethodGet, ts.URL+"/__admin/customers/a", "", "")
	do(t, ts.Client, http.MethodGet, ts.URL+"/__admin/customers/zz", "", "")
	do(t, &http.Client{}, http.MethodPost, ts.URL+"/api/v1/customers/save", "application/json", `{}`)
	mu.Lock()
	defer mu.Unlock()
	if logs.Len() > 0 {
		t.Errorf("mismatches logged:\n%s", logs.String())
	}
}

func TestNewRefusesInvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  mockserver.Config
		want string // in the error
	}{
		{"rules that do not validate", mockserver.Config{Rules: rulesWith(func(c *rules.Config) { c.KYCMin, c.KYCMax = 5, 1 })}, "Config.Rules is invalid: kyc range: minimum 5 is above maximum 1; fix it"},
		{"negative token TTL", mockserver.Config{TokenTTL: -time.Second}, "Config.TokenTTL is -1s; make it positive"},
		{"negative lockout threshold", mockserver.Config{LockoutThreshold: -1}, "Config.LockoutThreshold is -1"},
		{"negative lockout duration", mockserver.Config{LockoutDuration: -time.Minute}, "Config.LockoutDuration is -1m0s"},
		{"negative rate limit", mockserver.Config{RateLimit: -1}, "Config.RateLimit is -1"},
		{"infinite rate limit", mockserver.Config{RateLimit: math.Inf(1)}, "Config.RateLimit is +Inf"},
		{"negative burst", mockserver.Config{RateLimit: 1, RateBurst: -2}, "Config.RateBurst is -2"},
		{"webhook URL without a scheme", mockserver.Config{WebhookURL: "127.0.0.1:9000/hook"}, "Config.WebhookURL \"127.0.0.1:9000/hook\" is not an absolute http or https URL"},
		{"webhook URL of another scheme", mockserver.Config{WebhookURL: "ftp://example.com/x"}, "is not an absolute http or https URL"},
		{"webhook secret not base64", mockserver.Config{WebhookURL: "http://h/x", WebhookSecret: "whsec_not base64"}, "Config.WebhookSecret: it is not whsec_ followed by standard base64"},
		{"negative webhook retry time", mockserver.Config{WebhookRetryFor: -time.Second}, "Config.WebhookRetryFor is -1s; make it positive"},
		{"empty users", mockserver.Config{Users: []mockserver.User{}}, "Config.Users is empty"},
		{"user without password", mockserver.Config{Users: []mockserver.User{{Username: "u", Business: "b"}}}, "Config.Users[0] has an empty username or password"},
		{"user without business", mockserver.Config{Users: []mockserver.User{{Username: "u", Password: "p"}}}, `Config.Users[0] ("u") has no business`},
		{"business too long", mockserver.Config{Users: []mockserver.User{{Username: "u", Password: "p", Business: strings.Repeat("b", mockserver.MaxBusinessBytes+1)}}}, `Config.Users[0] ("u") has a business longer than 256 bytes`},
		{"user listed twice", mockserver.Config{Users: []mockserver.User{{Username: "u", Password: "p", Business: "b"}, {Username: "u", Password: "q", Business: "c"}}}, `Config.Users[1]: username "u" is listed twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mock, err := mockserver.New(tt.cfg)
			if err == nil {
				mock.Close()
				t.Fatalf("got no error, want one with %q", tt.want)
			}
			if mock != nil || !strings.Contains(err.Error(), tt.want) || strings.Count(err.Error(), "\n") > 0 {
				t.Errorf("got %v and error %q, want no server and one line with %q", mock, err, tt.want)
			}
		})
	}
}

// With KinValidation or ValidateResponses and no Validator, New loads the
// document itself.
func TestValidationWithoutAValidator(t *testing.T) {
	for _, cfg := range []mockserver.Config{{KinValidation: true}, {ValidateResponses: true}} {
		mock := mocktest.NewMock(t, cfg)
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/api/v1/customers/save", strings.NewReader(`{"customers":[{"external_id":"a","kyc_level":"x"}]}`))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth("u", "p")
		mock.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%+v: got %d, want 422: %s", cfg, rec.Code, rec.Body.Bytes())
		}
	}
}
