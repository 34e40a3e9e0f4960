package mockserver_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"net/http"
	"strings"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// TestEveryLimitIs413: a request beyond any limit of rules.Config is a 413
// problem that names the limit, its value, the first value beyond it and the
// flag that changes it (issue 12, row 1).
func TestEveryLimitIs413(t *testing.T) {
	cfg := rulesWith(func(c *rules.Config) {
		c.MaxBatch, c.MaxRelations, c.MaxVariations, c.MaxItems, c.MaxKeys = 2, 2, 2, 2, 2
		c.MaxIDLength, c.MaxStringLength = 8, 16
	})
	ts := newServer(t, mockserver.Config{Rules: cfg})
	tests := []struct {
		name, body, limit, pointer, flag string
		value                            int64
	}{
		{"customers", `{"customers":[{},{},{}]}`, "customers", "/customers/2", "--max-batch", 2},
		{"relations", `{"relations":[{},{},{}]}`, "relations", "/relations/2", "--max-relations", 2},
		{"relations of a dry run", `{"verify_input":true,"relations":[{},{},{}]}`, "relations", "/relations/2", "--max-relations", 2},
		{"variations", `{"customers":[{"variations":[{},{},{}]}]}`, "variations", "/customers/0/variations/2", "--max-variations", 2},
		{"list items", `{"customers":[{"contacts":["a","b","c"]}]}`, "items", "/customers/0/contacts/2", "--max-items", 2},
		{"keys of fields", `{"customers":[{"fields":{"a":1,"b":2,"c":3}}]}`, "keys", "/customers/0/fields", "--max-keys", 2},
		{"unknown keys", `{"customers":[{"x":1,"y":2,"z":3}]}`, "keys", "/customers/0", "--max-keys", 2},
		{"external_id", `{"customers":[{"external_id":"123456789"}]}`, "id-length", "/customers/0/external_id", "--max-id-length", 8},
		{"comment", `{"customers":[{"comment":"` + strings.Repeat("x", 17) + `"}]}`, "string-length", "/customers/0/comment", "--max-string-length", 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, ts.Client, http.MethodPost, ts.URL+"/api/v1/customers/save", "application/json", tt.body)
			p := problemWith(t, r, http.StatusRequestEntityTooLarge)
			if p.Limit != tt.limit || p.Pointer != tt.pointer || p.Flag != tt.flag || p.LimitValue == nil || *p.LimitValue != tt.value {
				t.Errorf("got limit %q, pointer %q, flag %q, value %v; want %q, %q, %q, %d", p.Limit, p.Pointer, p.Flag, p.LimitValue, tt.limit, tt.pointer, tt.flag, tt.value)
			}
			if !strings.Contains(p.Detail, tt.flag) || !strings.Contains(p.Detail, tt.pointer) {
				t.Errorf("detail %q does not name the flag and the pointer", p.Detail)
			}
		})
	}
}

// problemWith checks that r has status and is a problem, and decodes it.
func problemWith(tb testing.TB, r response, status int) openapi.Problem {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("got %d: %s; want %d", r.status, r.body, status)
	}
	return problemOf(tb, r)
}

func gzipped(tb testing.TB, b []byte) string {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.String()
}

func deflated(tb testing.TB, b []byte) string {
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.String()
}

// TestContentEncoding: gzip and deflate bodies are decoded, with the body
// limit on the decoded size (a zip bomb is 413); any other encoding is 415
// (issue 12, row 7).
func TestContentEncoding(t *testing.T) {
	ts := newServer(t, mockserver.Config{Rules: rulesWith(func(c *rules.Config) { c.MaxBody = 64 << 10 })})
	one := []byte(`{"customers":[{"external_id":"z1","account_type":"N","last_name":"Zip"}]}`)
	bomb := append(append([]byte(`{"customers":[{"external_id":"z2","account_type":"N","last_name":"Zip","comment":"`), bytes.Repeat([]byte("x"), 1<<20)...), `"}]}`...)
	tests := []struct {
		name, encoding, body string
		status               int
		limit                string
	}{
		{"gzip", "gzip", gzipped(t, one), 200, ""},
		{"x-gzip", "x-gzip", gzipped(t, one), 200, ""},
		{"deflate", "deflate", deflated(t, one), 200, ""},
		{"identity", "identity", string(one), 200, ""},
		{"upper case", "GZIP", gzipped(t, one), 200, ""},
		{"a plain body said to be gzip", "gzip", string(one), 400, ""},
		{"a truncated gzip body", "gzip", gzipped(t, one)[:20], 400, ""},
		{"a gzip bomb", "gzip", gzipped(t, bomb), 413, "decoded-body"},
		{"a deflate bomb", "deflate", deflated(t, bomb), 413, "decoded-body"},
		{"brotli", "br", string(one), 415, ""},
		{"two codings", "gzip, gzip", gzipped(t, []byte(gzipped(t, one))), 415, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, ts.Client, http.MethodPost, ts.URL+"/api/v1/customers/save", "application/json", tt.body, "Content-Encoding", tt.encoding)
			if tt.status == 200 {
				if r.status != 200 {
					t.Fatalf("got %d: %s", r.status, r.body)
				}
				return
			}
			p := problemWith(t, r, tt.status)
			if p.Limit != tt.limit {
				t.Errorf("limit: got %q, want %q", p.Limit, tt.limit)
			}
			if tt.status == 415 && r.header.Get("Accept-Encoding") != "gzip, deflate" {
				t.Errorf("Accept-Encoding: got %q", r.header.Get("Accept-Encoding"))
			}
		})
	}
	if c, ok := getCustomer(t, ts, ts.Client, "z1"); !ok || c.LastName != "Zip" {
		t.Errorf("the gzip body was not saved: %+v", c)
	}
}

// TestExactBytes: invalid UTF-8 and lone surrogate escapes are a 400 in any
// string, never stored as U+FFFD (issue 12, row 5); an integer beyond int64
// is the same 422 whether written with digits or an exponent (row 11).
func TestExactBytes(t *testing.T) {
	ts := newServer(t, mockserver.Config{})
	saveURL := ts.URL + "/api/v1/customers/save"
	for _, id := range []string{"\xff", "\xfe", `\ud800`, `\udc00`, `\ud800\u0041`, "\xc3a"} {
		body := `{"customers":[{"external_id":"` + id + `","account_type":"N","last_name":"X"}]}`
		p := problemWith(t, do(t, ts.Client, http.MethodPost, saveURL, "application/json", body), http.StatusBadRequest)
		if p.Type != "urn:algoreg-kit:problem:malformed-json" || p.Offset == nil || *p.Offset != 31 {
			t.Errorf("%q: got %+v, want malformed-json at offset 31", id, p)
		}
	}
	for _, body := range []string{`{"other":"\xff"}`, `{"customers":[{"fields":{"k\ud800":1}}]}`} {
		problemWith(t, do(t, ts.Client, http.MethodPost, saveURL, "application/json", body), http.StatusBadRequest)
	}
	if n := total(t, ts, ts.Client, "customers"); n != 0 {
		t.Errorf("%d customers stored, want none", n)
	}
	// A surrogate pair is one character, stored as such.
	save(t, ts, `{"customers":[{"external_id":"\ud83d\ude00","account_type":"N","last_name":"X"}]}`)
	mustGetCustomer(t, ts, "😀")

	var want []openapi.Violation
	for _, n := range []string{"99999999999999999999999", "1e400", "-1e30", "1e23"} {
		body := `{"customers":[{"external_id":"k","account_type":"N","last_name":"X","kyc_level":` + n + `}]}`
		p := problemWith(t, do(t, ts.Client, http.MethodPost, saveURL, "application/json", body), http.StatusUnprocessableEntity)
		if want == nil {
			want = p.Violations
		}
		if len(p.Violations) != 1 || p.Violations[0] != want[0] || p.Violations[0].Pointer != "/customers/0/kyc_level" {
			t.Errorf("kyc_level %s: got %+v, want %+v", n, p.Violations, want)
		}
	}
}
