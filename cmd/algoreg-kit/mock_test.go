package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/rules"
)

// mockBuffer is a bytes.Buffer safe for the mock's goroutine and the test.
type mockBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (m *mockBuffer) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.b.Write(p)
}

func (m *mockBuffer) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.b.String()
}

// startMock runs "algoreg-kit mock" with args and env until the test ends, and
// returns its base URL once /healthz answers.
func startMock(tb testing.TB, env map[string]string, args ...string) (url string, stdout, stderr *mockBuffer) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr = &mockBuffer{}, &mockBuffer{}
	done := make(chan error, 1)
	getenv := func(k string) string { return env[k] }
	go func() {
		done <- run(ctx, append([]string{"algoreg-kit", "mock", "--addr", "127.0.0.1:0"}, args...), getenv, strings.NewReader(""), stdout, stderr)
	}()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("mock stopped with %v; stderr:\n%s", err, stderr.String())
			}
		case <-time.After(10 * time.Second):
			tb.Errorf("mock did not stop within 10 s of the context's end")
		}
	})
	urlRE := regexp.MustCompile(`serving on (http://127\.0\.0\.1:\d+)`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			done <- err
			tb.Fatalf("mock exited early: %v\nstderr:\n%s", err, stderr.String())
		default:
		}
		if m := urlRE.FindStringSubmatch(stdout.String()); m != nil {
			resp, err := http.Get(m[1] + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return m[1], stdout, stderr
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("mock did not become healthy; stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	return "", nil, nil
}

func mockPost(tb testing.TB, url, user, pass, body string) (int, map[string]any) {
	tb.Helper()
	status, b := mockDo(tb, http.MethodPost, url, user, pass, body)
	var m map[string]any
	json.Unmarshal(b, &m)
	return status, m
}

// mockGet returns the body of a GET of url with Basic credentials.
func mockGet(tb testing.TB, url, user, pass string) []byte {
	tb.Helper()
	_, b := mockDo(tb, http.MethodGet, url, user, pass, "")
	return b
}

// mockDo sends a request with Basic credentials (and a JSON body, if any)
// and returns the status and the body of the answer.
func mockDo(tb testing.TB, method, url, user, pass, body string) (int, []byte) {
	tb.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestMockBannerTeachesTheVendorsToken runs the banner's token request as
// it is written: the JSON body the vendor documents, which the mock takes by
// default. A --lenient mock says so.
func TestMockBannerTeachesTheVendorsToken(t *testing.T) {
	url, stdout, _ := startMock(t, nil)
	m := regexp.MustCompile(`curl -s -H '(Content-Type: [^']+)' -d '([^']+)' (\S+)/api/v1/token`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("banner lacks a JSON token request:\n%s", stdout.String())
	}
	if m[1] != "Content-Type: application/json" || m[3] != url || strings.Contains(stdout.String(), "lenient") {
		t.Errorf("banner: %q", m)
	}
	resp, err := http.Post(url+"/api/v1/token", "application/json", strings.NewReader(m[2]))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("the banner's token request %s: %d", m[2], resp.StatusCode)
	}
	_, stdout, _ = startMock(t, nil, "--lenient")
	if !strings.Contains(stdout.String(), "lenient: form-encoded token requests") {
		t.Errorf("--lenient banner does not say so:\n%s", stdout.String())
	}
}

func TestMockServesAndStops(t *testing.T) {
	url, stdout, stderr := startMock(t, nil)
	if !strings.Contains(stdout.String(), "try: TOKEN=$(curl") || !strings.Contains(stdout.String(), url+"/api/v1/customers/save") {
		t.Errorf("start banner lacks the curl example:\n%s", stdout.String())
	}
	status, m := mockPost(t, url+"/api/v1/customers/save", "demo", "demo", `{"customers":[{"external_id":"c1","account_type":"N","last_name":"Doe"}]}`)
	if status != 200 || m["status"] != "ok" {
		t.Fatalf("save: %d %v", status, m)
	}
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(stderr.String(), "business=demo") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if log := stderr.String(); !strings.Contains(log, "path=/api/v1/customers/save") || !strings.Contains(log, "added=1") {
		t.Errorf("request log line missing:\n%s", log)
	}
}

func TestMockFlagsEnvUsersPreload(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users.csv")
	os.WriteFile(users, []byte("username,password,business\napi@acme.example,s3cret,acme\n"), 0o600)
	batches := filepath.Join(dir, "batches")
	os.Mkdir(batches, 0o700)
	os.WriteFile(filepath.Join(batches, "batch-0001.json"), []byte(`{"customers":[{"external_id":"p1","account_type":"N","last_name":"A"}]}`), 0o600)
	os.WriteFile(filepath.Join(batches, "batch-0002.json"), []byte(`{"customers":[{"external_id":"p1","phone":"+33612345678"},{"external_id":"bad"}]}`), 0o600)
	env := map[string]string{
		"ALGOREG_MOCK_MAX_BATCH":        "2",
		"ALGOREG_MOCK_USERS":            users,
		"ALGOREG_MOCK_PRELOAD_BUSINESS": "acme",
		"ALGOREG_MOCK_KYC_MAX":          "1", // the flag below wins
	}
	url, stdout, _ := startMock(t, env, "--preload", batches, "--kyc-max", "5", "--review-groups", "retail", "--relation-types", "1=director,42=auditor")
	if !strings.Contains(stdout.String(), `preloaded 3 customers and 0 relations from 2 files into business "acme": 1 customer added, 1 record rejected`) {
		t.Errorf("preload banner:\n%s", stdout.String())
	}
	if !strings.Contains(stdout.String(), `"username":"api@acme.example","password":"<password>"`) {
		t.Errorf("the curl example should use the users file's first account:\n%s", stdout.String())
	}
	save := url + "/api/v1/customers/save"
	if status, _ := mockPost(t, save, "demo", "demo", `{}`); status != 401 {
		t.Errorf("unknown user with --users: got %d, want 401", status)
	}
	status, m := mockPost(t, save, "api@acme.example", "s3cret",
		`{"customers":[{"external_id":"c1","account_type":"N","last_name":"Doe","kyc_level":5,"review_groups":"vip"}],"relations":[{"relation_external_id":"r1","parent_customer_external_id":"p1","child_customer_external_id":"c1","relation_type":42}]}`)
	if status != 200 || m["status"] != "ok" {
		t.Fatalf("save: %d %v", status, m)
	}
	if d, _ := json.Marshal(m["detail"]); !strings.Contains(string(d), "review_group_unknown") {
		t.Errorf("--review-groups not applied: %s", d)
	}
	if status, _ := mockPost(t, save, "api@acme.example", "s3cret", `{"customers":[{"external_id":"a"},{"external_id":"b"},{"external_id":"c"}]}`); status != 413 {
		t.Errorf("ALGOREG_MOCK_MAX_BATCH=2 and 3 customers: got %d, want 413", status)
	}
	if b := mockGet(t, url+"/__admin/customers/p1", "api@acme.example", "s3cret"); !strings.Contains(string(b), `"phone":"+33612345678"`) {
		t.Errorf("preloaded p1 (both batches, in order): %s", b)
	}
}

func TestMockPreloadNDJSON(t *testing.T) {
	file := filepath.Join(t.TempDir(), "customers.ndjson")
	var b strings.Builder
	for i := 0; i < 1500; i++ {
		b.WriteString(`{"external_id":"n` + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + `","account_type":"F","company_name":"X"}` + "\n")
	}
	b.WriteString("\n")
	os.WriteFile(file, []byte(b.String()), 0o600)
	url, stdout, _ := startMock(t, nil, "--preload", file)
	if !strings.Contains(stdout.String(), `preloaded 1500 customers and 0 relations from 1 file into business "demo": 1500 customers added, 0 records rejected`) {
		t.Errorf("banner:\n%s", stdout.String())
	}
	_ = url
}

// A dataset written as NDJSON with its relations aside (fixtures
// --relations-out) loads into the mock with --preload customers,relations:
// every customer and every relation saved, none rejected. The same for CSV is
// not possible: the mock does not read CSV.
func TestFixturesRelationsAsidePreload(t *testing.T) {
	for _, format := range []string{"ndjson", "csv"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			customers, relations := filepath.Join(dir, "customers."+format), filepath.Join(dir, "relations."+format)
			_, stderr, err := runSubcommand(t, nil, "fixtures", "--count", "3000", "--seed", "7", "--format", format, "--out", customers, "--relations-out", relations)
			if err != nil {
				t.Fatal(err)
			}
			m := regexp.MustCompile(`(\d+) customers, (\d+) relations`).FindStringSubmatch(stderr)
			if m == nil || m[2] == "0" {
				t.Fatalf("fixtures summary %q: want relations", stderr)
			}
			lines, _ := os.ReadFile(relations)
			if n := strings.Count(string(lines), "\n") - btoi(format == "csv"); fmt.Sprint(n) != m[2] { // CSV: a header
				t.Errorf("%s has %d records, the summary says %s relations", relations, n, m[2])
			}
			// the relations first: the customers of every file are saved before any relation
			url, stdout, _ := startMock(t, nil, "--preload", relations+","+customers)
			want := fmt.Sprintf(`preloaded %s customers and %s relations from 2 files into business "demo": %s customers added, 0 records rejected`, m[1], m[2], m[1])
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("banner:\n%s\nwant %s", stdout.String(), want)
			}
			if b := mockGet(t, url+"/__admin/relations?limit=1", "demo", "demo"); !strings.Contains(string(b), `"total":`+m[2]) {
				t.Errorf("stored relations: %s, want total %s", b, m[2])
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestMockBadFlags(t *testing.T) {
	dir := t.TempDir()
	badUsers := filepath.Join(dir, "users.csv")
	os.WriteFile(badUsers, []byte("user,pass\nx,y\n"), 0o600)
	badNDJSON := filepath.Join(dir, "x.ndjson")
	os.WriteFile(badNDJSON, []byte("{\"external_id\":\"a\"}\n{oops}\n"), 0o600)
	fifo := filepath.Join(dir, "pipe.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	mixed := t.TempDir()
	os.WriteFile(filepath.Join(mixed, "batch-1.json"), []byte(`{"customers":[]}`), 0o600)
	os.WriteFile(filepath.Join(mixed, "notes.txt"), nil, 0o600)
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"unknown flag", []string{"--nope"}, nil, "mock: flag provided but not defined: -nope; run 'algoreg-kit mock --help'"},
		{"bad size", []string{"--max-body", "lots"}, nil, `invalid value "lots" for flag -max-body: "lots" is not a positive size`},
		{"bad kyc range", []string{"--kyc-min", "4"}, nil, "kyc range: minimum 4 is above maximum 3"},
		{"bad relation types", []string{"--relation-types", "x=director"}, nil, `"x" is not an integer relation type`},
		// mockserver.New's own sentences, as they are: the command has no copy.
		{"webhook not an http URL", []string{"--webhook", "ftp://example.org/hook"}, nil, `mock: mockserver: Config.WebhookURL "ftp://example.org/hook" is not an absolute http or https URL`},
		{"webhook secret too short", []string{"--webhook", "http://127.0.0.1:1/h", "--webhook-secret", "whsec_c2hvcnQ="}, nil, "mock: mockserver: Config.WebhookSecret: its key is 5 bytes; Standard Webhooks wants 24 to 64"},
		{"negative rate", []string{"--rate-limit", "-1"}, nil, "mock: mockserver: Config.RateLimit is -1; make it a positive number"},
		{"negative token ttl", []string{"--token-ttl", "-1m"}, nil, "mock: mockserver: Config.TokenTTL is -1m0s; make it positive"},
		{"negative lockout from the environment", nil, map[string]string{"ALGOREG_MOCK_LOCKOUT_DURATION": "-1s"}, "mock: mockserver: Config.LockoutDuration is -1s"},
		{"bad env", nil, map[string]string{"ALGOREG_MOCK_MAX_BATCH": "many"}, `ALGOREG_MOCK_MAX_BATCH="many"`},
		{"bad users file", []string{"--users", badUsers}, nil, "it must be the header username,password,business"},
		{"missing users file", []string{"--users", filepath.Join(dir, "none.csv")}, nil, "no such file"},
		{"bad log level", []string{"--log-level", "loud"}, nil, `invalid value "loud" for flag -log-level: use debug, info, warn or error`},
		{"bad preload line", []string{"--preload", badNDJSON}, nil, "line 2: malformed JSON"},
		{"empty preload folder", []string{"--preload", t.TempDir() + "/"}, nil, "the folder is empty"},
		{"preload of a FIFO", []string{"--preload", fifo}, nil, "mock: preload " + fifo + ": not a regular file but a named pipe (FIFO); give a file or a folder of files"},
		{"preload of a device", []string{"--preload", "/dev/zero"}, nil, "mock: preload /dev/zero: not a regular file but a character device"},
		{"preload folder with a stray file", []string{"--preload", mixed}, nil, "the folder holds 1 file it cannot load: notes.txt (not a .json, .ndjson, .jsonl or .csv file); move it out of the folder"},
		{"preload over its size limit", []string{"--preload", badNDJSON, "--preload-max-bytes", "10B"}, nil, "x.ndjson: the file is larger than the preload limit of 10 bytes; raise it with --preload-max-bytes"},
		{"bad preload size", []string{"--preload-max-bytes", "0"}, nil, `invalid value "0" for flag -preload-max-bytes`},
		{"address in use", []string{"--addr", "256.0.0.1:1"}, nil, "listen on 256.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			getenv := func(k string) string { return tt.env[k] }
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := run(ctx, append([]string{"algoreg-kit", "mock"}, tt.args...), getenv, strings.NewReader(""), &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error: got %v, want one containing %q", err, tt.wantErr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "mock: ") {
				t.Errorf("error %q does not start with \"mock: \"", err)
			}
			if stdout.Len() > 0 {
				t.Errorf("printed before the error:\n%s", stdout.String())
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
	var stdout bytes.Buffer
	err := run(context.Background(), []string{"algoreg-kit", "mock", "-h"}, func(string) string { return "" }, nil, &stdout, io.Discard)
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("-h: got %v, want nil", err)
	}
	if !strings.Contains(stdout.String(), "Examples:") || !strings.Contains(stdout.String(), "-relation-types") {
		t.Errorf("usage lacks examples or flags:\n%s", stdout.String())
	}
}

func TestMockParseHelpers(t *testing.T) {
	sizes := []struct {
		in   string
		want int64
	}{{"16MiB", 16 << 20}, {"1048576", 1 << 20}, {"10 KB", 10000}, {"2GiB", 2 << 30}, {"5B", 5}}
	for _, tt := range sizes {
		if got, err := parseSize(tt.in); err != nil || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "0", "-1MiB", "MiB", "1.5MiB", "99999999999GiB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q): want an error", bad)
		}
	}
	file := filepath.Join(t.TempDir(), "types.txt")
	os.WriteFile(file, []byte("# value,name\n1,director\n\n7 , trustee # comment\n"), 0o600)
	for _, tt := range []struct {
		in   string
		want string
	}{{"1,2,3", "[{1 } {2 } {3 }]"}, {"1=director, 42=auditor", "[{1 director} {42 auditor}]"}, {file, "[{1 director} {7 trustee}]"}} {
		got, err := relationTypesOf(tt.in)
		if err != nil || strings.TrimSpace(sprint(got)) != tt.want {
			t.Errorf("--relation-types %q = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func sprint(v any) string { return fmt.Sprint(v) }

// relationTypesOf reads s as --relation-types does.
func relationTypesOf(s string) ([]rules.RelationType, error) {
	r := &ruleFlags{Config: rules.DefaultConfig()}
	if err := (*relationTypesValue)(r).Set(s); err != nil {
		return nil, err
	}
	rc, err := r.resolve()
	return rc.RelationTypes, err
}

func TestMockPreloadDefaultsToFirstUsersBusiness(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users.csv")
	os.WriteFile(users, []byte("username,password,business\napi@globex.example,pw,globex\n"), 0o600)
	body := filepath.Join(dir, "body.json")
	os.WriteFile(body, []byte(`{"customers":[{"external_id":"g1","account_type":"F","company_name":"Globex"}]}`), 0o600)
	_, stdout, _ := startMock(t, nil, "--users", users, "--preload", body)
	if !strings.Contains(stdout.String(), `into business "globex": 1 customer added`) {
		t.Errorf("banner:\n%s", stdout.String())
	}
}

func TestMockPprof(t *testing.T) {
	_, stdout, _ := startMock(t, nil, "--pprof-addr", "127.0.0.1:0", "--log-level", "warn")
	m := regexp.MustCompile(`profiles on (http://127\.0\.0\.1:\d+/debug/pprof/)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no profiles line:\n%s", stdout.String())
	}
	resp, err := http.Get(m[1] + "goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "goroutine profile") {
		t.Errorf("pprof: %d %.200s", resp.StatusCode, b)
	}
	// The profiles' server has the mock's header limit (64 KiB, where
	// net/http's default is 1 MiB), and its timeouts.
	req, _ := http.NewRequest(http.MethodGet, m[1], nil)
	req.Header.Set("X-Big", strings.Repeat("a", 100<<10))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("pprof with 100 KiB of headers: %d, want 431", resp.StatusCode)
		}
	}
}

// A preload that rejects records says why on stdout: the errors by code,
// the first records with their file and line, and what a relation to an
// unknown customer means. Every file of a folder is loaded, whatever its
// format (batch-3.ndjson was once skipped without a word).
func TestMockPreloadExplainsRejections(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "batch-1.json"), []byte(`{"customers":[{"external_id":"c1","account_type":"N","last_name":"A"}]}`), 0o600)
	os.WriteFile(filepath.Join(dir, "batch-3.ndjson"), []byte(`{"external_id":"n1","account_type":"N"}`+"\n"+
		`{"relation_external_id":"r1","parent_customer_external_id":"c1","child_customer_external_id":"ghost","relation_type":1}`+"\n"), 0o600)
	_, stdout, _ := startMock(t, nil, "--preload", dir)
	out := stdout.String()
	for _, want := range []string{
		`preloaded 2 customers and 1 relation from 2 files into business "demo": 1 customer added, 2 records rejected`,
		"preload: errors by code: last_name_missing 1, relation_customer_unknown 1\n",
		"preload: rejected " + filepath.Join(dir, "batch-3.ndjson") + ` line 1 (customer "n1"): last_name_missing: `,
		"preload: rejected " + filepath.Join(dir, "batch-3.ndjson") + ` line 2 (relation "r1"): relation_customer_unknown: `,
		"preload: relation_customer_unknown: the relation names a customer that no preloaded file has",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

// The connection cap is lowered under the limit of open files, so that a
// flood meets the cap rather than "too many open files".
func TestFitConnsToFileLimit(t *testing.T) {
	limit, ok := fileLimit()
	if !ok || limit > 1<<30 {
		t.Skip("no file limit known on this platform")
	}
	cfg := mockConfig{}
	cfg.Server.MaxConns = int(limit)
	note := cfg.fitConnsToFileLimit()
	if cfg.Server.MaxConns != int(limit)-fileReserve || !strings.Contains(note, "lowered") {
		t.Errorf("MaxConns %d at a file limit of %d: %q", cfg.Server.MaxConns, limit, note)
	}
	cfg.Server.MaxConns = int(limit) / 4
	if note := cfg.fitConnsToFileLimit(); note != "" || cfg.Server.MaxConns != int(limit)/4 {
		t.Errorf("a cap under the limit was changed: %q", note)
	}
}
