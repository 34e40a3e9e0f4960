package algoreg_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/algoreg"
	"github.com/algoreg-kit/algoreg-kit/internal/fakeapi"
	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// waits records the waits a client reports through WithOnRetry.
type waits struct {
	mu   sync.Mutex
	list []time.Duration
}

func (w *waits) record(_ error, d time.Duration) {
	w.mu.Lock()
	w.list = append(w.list, d)
	w.mu.Unlock()
}

func (w *waits) get() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.list...)
}

// mustNew is algoreg.New that fails the test.
func mustNew(tb testing.TB, base string, opts ...algoreg.Option) *algoreg.Client {
	tb.Helper()
	c, err := algoreg.New(base, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// opts are the options of a test client: more, after retry settings that
// keep tests quick.
func opts(more ...algoreg.Option) []algoreg.Option {
	return append([]algoreg.Option{algoreg.WithBackoff(time.Millisecond, 4*time.Millisecond), algoreg.WithRetries(4, 10*time.Second)}, more...)
}

var empty = &openapi.SaveCustomersRequest{}

// TestAuth makes two saves, moving the fake clock and scripting 401s before
// the second, and counts what reached the server.
func TestAuth(t *testing.T) {
	tests := []struct {
		name       string
		auth       algoreg.Option
		expiresIn  int
		advance    time.Duration // between the saves
		reject     int           // 401s answered first to the second save
		wantErr    string        // of the second save; "" for none
		wantTokens int
		wantSaves  int
		wantAuth   string // the last Authorization sent
	}{
		{"token got once and reused", algoreg.WithPasswordGrant("u", "p"), 0, 58 * time.Minute, 0, "", 1, 2, "Bearer tok-1"},
		{"token renewed a minute before it expires", algoreg.WithPasswordGrant("u", "p"), 0, 59*time.Minute + time.Second, 0, "", 2, 2, "Bearer tok-2"},
		{"short token renewed at half its life", algoreg.WithPasswordGrant("u", "p"), 60, 31 * time.Second, 0, "", 2, 2, "Bearer tok-2"},
		{"short token kept before half its life", algoreg.WithPasswordGrant("u", "p"), 60, 29 * time.Second, 0, "", 1, 2, "Bearer tok-1"},
		{"token renewed once on a 401", algoreg.WithPasswordGrant("u", "p"), 0, 0, 1, "", 2, 3, "Bearer tok-2"},
		{"a second 401 is answered, not renewed in a loop", algoreg.WithPasswordGrant("u", "p"), 0, 0, 2, "answered 401 Unauthorized: The access token is unknown or expired.; the server refused a token it had just issued", 2, 3, "Bearer tok-2"},
		{"Basic sends the user and password", algoreg.WithBasicAuth("u", "p"), 0, 0, 0, "", 0, 2, "Basic dTpw"},
		{"Basic refused says what to check", algoreg.WithBasicAuth("u", "p"), 0, 0, 1, "401 Unauthorized: The access token is unknown or expired.; check the user and password", 0, 2, "Basic dTpw"},
		{"a given token is sent as is", algoreg.WithBearerToken("tok-given"), 0, 0, 0, "answered 401", 0, 2, "Bearer tok-given"},
		{"a given token is never renewed", algoreg.WithBearerToken("tok-given"), 0, 0, 1, "the token was refused (expired or revoked)", 0, 2, "Bearer tok-given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := fakeapi.New(t)
			f.ExpiresIn = tt.expiresIn
			clk := fakeapi.NewClock()
			c := mustNew(t, srv.URL, opts(tt.auth, algoreg.WithClock(clk.Now))...)
			_, err := c.Save(context.Background(), empty)
			if tt.auth != nil && !strings.HasPrefix(tt.name, "a given token") && err != nil {
				t.Fatalf("first save: %v", err)
			}
			clk.Add(tt.advance)
			for range tt.reject {
				f.ScriptSave(fakeapi.Problem(http.StatusUnauthorized, "The access token is unknown or expired."))
			}
			_, err = c.Save(context.Background(), empty)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("second save: got %v, want no error", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("second save: got %v, want an error containing %q", err, tt.wantErr)
			}
			tokens, saves := f.Counts()
			if tokens != tt.wantTokens || saves != tt.wantSaves {
				t.Errorf("got %d token and %d save requests, want %d and %d", tokens, saves, tt.wantTokens, tt.wantSaves)
			}
			if auths := f.Auths(); auths[len(auths)-1] != tt.wantAuth {
				got := auths[len(auths)-1]
				t.Errorf("last Authorization: got %q, want %q", got, tt.wantAuth)
			}
		})
	}
}

// Concurrent saves wait for one token request.
func TestConcurrentSavesShareOneToken(t *testing.T) {
	f, srv := fakeapi.New(t)
	c := mustNew(t, srv.URL, opts(algoreg.WithPasswordGrant("u", "p"))...)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := c.Save(context.Background(), empty)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if tokens, saves := f.Counts(); tokens != 1 || saves != 8 {
		t.Errorf("got %d token and %d save requests, want 1 and 8", tokens, saves)
	}
}

func TestTokenErrors(t *testing.T) {
	tests := []struct {
		name       string
		path       string // of the base URL
		password   string
		reply      *fakeapi.Reply // answered to every token request
		wantErr    []string
		wantTokens int // over two saves
	}{
		{"wrong password: check the user and password, and never again", "", "wrong", nil,
			[]string{"get a token: POST ", "/api/v1/token answered 400 Bad Request: invalid_grant (The username or password is wrong.); check the user and password"}, 1},
		{"401: check the user and password", "", "p", &fakeapi.Reply{Status: http.StatusUnauthorized},
			[]string{"answered 401 Unauthorized; check the user and password"}, 1},
		{"404 without a path: try Basic", "", "p", &fakeapi.Reply{Status: http.StatusNotFound},
			[]string{"answered 404 Not Found; the target has no token endpoint; try Basic auth"}, 1},
		{"404 with /api/v1: drop it", "/api/v1", "p", &fakeapi.Reply{Status: http.StatusNotFound},
			[]string{"/api/v1/api/v1/token answered 404", "the base URL must not include /api/v1 (the client adds /api/v1/customers/save itself): try http://"}, 1},
		{"401 with /api/v1: drop it", "/api/v1/", "p", &fakeapi.Reply{Status: http.StatusUnauthorized},
			[]string{"the base URL must not include /api/v1"}, 1},
		{"404 with another path: drop it", "/algoreg", "p", &fakeapi.Reply{Status: http.StatusNotFound},
			[]string{"/algoreg/api/v1/token answered 404", "the base URL must not include /api/v1, nor a path where the API is not mounted: try http://127.0.0.1:"}, 1},
		{"200 without a token", "", "p", &fakeapi.Reply{Status: http.StatusOK, Body: `{"token_type":"Bearer"}`},
			[]string{"answered 200 without an access_token"}, 2},
		{"503 every time: gave up, tried again on the next save", "", "p", &fakeapi.Reply{Status: http.StatusServiceUnavailable},
			[]string{"get a token: gave up after 4 attempts: POST", "answered 503 Service Unavailable"}, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := fakeapi.New(t)
			if tt.reply != nil {
				for range 10 {
					f.ScriptToken(*tt.reply)
				}
			}
			c := mustNew(t, srv.URL+tt.path, opts(algoreg.WithPasswordGrant("u", tt.password))...)
			for i := range 2 {
				_, err := c.Save(context.Background(), empty)
				if err == nil {
					t.Fatalf("save %d: got no error", i+1)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("save %d: got %q, want it to contain %q", i+1, err, want)
					}
				}
				if strings.Contains(err.Error(), `"p"`) || strings.Contains(err.Error(), "wrong\"") {
					t.Errorf("the error shows the password: %v", err)
				}
			}
			if tokens, saves := f.Counts(); tokens != tt.wantTokens || saves != 0 {
				t.Errorf("got %d token and %d save requests, want %d and 0", tokens, saves, tt.wantTokens)
			}
		})
	}
}

func TestSaveErrors(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		reply     fakeapi.Reply
		wantCode  int
		wantErr   []string
		wantSaves int
	}{
		{"400: the problem, not retried", "", fakeapi.Problem(http.StatusBadRequest, "The body is not valid JSON."), 400,
			[]string{"POST http://127.0.0.1:", "/api/v1/customers/save answered 400 Bad Request: The body is not valid JSON."}, 1},
		{"413: send fewer", "", fakeapi.Problem(http.StatusRequestEntityTooLarge, "10001 customers; the limit is 10000."), 413,
			[]string{"10001 customers; the limit is 10000.; send fewer customers per request"}, 1},
		{"404 without a path: check the base URL", "", fakeapi.Reply{Status: http.StatusNotFound}, 404,
			[]string{"the target has no Save customers endpoint at /api/v1/customers/save; check the base URL"}, 1},
		{"404 with /api/v1: drop it", "/api/v1", fakeapi.Reply{Status: http.StatusNotFound}, 404,
			[]string{"/api/v1/api/v1/customers/save answered 404 Not Found; the base URL must not include /api/v1"}, 1},
		{"a body that is no problem is shown", "", fakeapi.Reply{Status: http.StatusForbidden, Body: "  forbidden by policy\n"}, 403,
			[]string{"answered 403 Forbidden: forbidden by policy"}, 1},
		{"500: retried, then gave up", "", fakeapi.Reply{Status: http.StatusInternalServerError, Body: "oops"}, 500,
			[]string{"gave up after 4 attempts: POST", "answered 500 Internal Server Error: oops"}, 4},
		{"200 that is not a Save customers response", "", fakeapi.Reply{Status: http.StatusOK, Body: `{"ok":true}`}, 0,
			[]string{"/api/v1/customers/save: the answer is not a Save customers response: added, detail or status is missing"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := fakeapi.New(t)
			for range 10 {
				f.ScriptSave(tt.reply)
			}
			c := mustNew(t, srv.URL+tt.path, opts(algoreg.WithBasicAuth("u", "p"))...)
			_, err := c.Save(context.Background(), empty)
			if err == nil {
				t.Fatal("got no error")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("got %q, want it to contain %q", err, want)
				}
			}
			var e *algoreg.Error
			switch {
			case tt.wantCode == 0 && errors.As(err, &e):
				t.Errorf("got an *Error %v, want another error", e)
			case tt.wantCode != 0 && !errors.As(err, &e):
				t.Errorf("got %T, want an *algoreg.Error", err)
			case tt.wantCode != 0 && (e.StatusCode != tt.wantCode || e.Method != http.MethodPost || e.URL != srv.URL+tt.path+algoreg.SavePath):
				t.Errorf("got %s %s %d, want POST %s %d", e.Method, e.URL, e.StatusCode, srv.URL+tt.path+algoreg.SavePath, tt.wantCode)
			}
			if _, saves := f.Counts(); saves != tt.wantSaves {
				t.Errorf("got %d save requests, want %d", saves, tt.wantSaves)
			}
		})
	}
}

// The problem-details body is decoded whole into the Error.
func TestErrorHasTheProblem(t *testing.T) {
	f, srv := fakeapi.New(t)
	f.ScriptSave(fakeapi.Reply{Status: http.StatusUnprocessableEntity, Header: map[string]string{"Content-Type": openapi.ProblemContentType},
		Body: `{"type":"urn:algoreg-kit:problem:schema","title":"Invalid body","status":422,"detail":"2 violations","violations":[{"pointer":"/customers/0/kyc_level","message":"not an integer"},{"pointer":"/customers/1/fields","message":"not an object"}]}`})
	c := mustNew(t, srv.URL, opts(algoreg.WithBasicAuth("u", "p"))...)
	_, err := c.Save(context.Background(), empty)
	var e *algoreg.Error
	if !errors.As(err, &e) || e.Problem == nil {
		t.Fatalf("got %v, want an *Error with a Problem", err)
	}
	if e.Problem.Type != "urn:algoreg-kit:problem:schema" || e.Problem.Status != 422 || len(e.Problem.Violations) != 2 || e.Problem.Violations[1].Pointer != "/customers/1/fields" {
		t.Errorf("got problem %+v", e.Problem)
	}
}

// TestRetries: what is retried, after how long, and when the client gives
// up. The waits are the ones the client reports; those of Retry-After are
// real seconds, so those cases run in parallel.
func TestRetries(t *testing.T) {
	clk := fakeapi.NewClock() // never moved: Retry-After dates are read against it
	date := func(d time.Duration) string { return clk.Now().Add(d).Format(http.TimeFormat) }
	tests := []struct {
		name      string
		replies   []fakeapi.Reply
		retries   algoreg.Option
		wantWaits []time.Duration // exact waits; nil: checked against the backoff bound
		wantErr   string
		wantSaves int
	}{
		{"503 with Retry-After in seconds", []fakeapi.Reply{{Status: 503, Header: map[string]string{"Retry-After": "1"}}}, nil,
			[]time.Duration{time.Second}, "", 2},
		{"429 with Retry-After as an HTTP date", []fakeapi.Reply{{Status: 429, Header: map[string]string{"Retry-After": date(time.Second)}}}, nil,
			[]time.Duration{time.Second}, "", 2},
		{"429 with a past date: at once", []fakeapi.Reply{{Status: 429, Header: map[string]string{"Retry-After": date(-time.Hour)}}}, nil,
			[]time.Duration{0}, "", 2},
		{"503 with Retry-After: 0", []fakeapi.Reply{{Status: 503, Header: map[string]string{"Retry-After": "0"}}}, nil,
			[]time.Duration{0}, "", 2},
		{"503 with a Retry-After that cannot be read: backoff", []fakeapi.Reply{{Status: 503, Header: map[string]string{"Retry-After": "soon"}}}, nil,
			nil, "", 2},
		{"502, 504 and a cut connection: backoff", []fakeapi.Reply{{Status: 502}, {Status: 504}, {Cut: true}}, nil,
			nil, "", 4},
		{"attempts bounded", []fakeapi.Reply{{Status: 503}, {Status: 503}, {Status: 503}}, algoreg.WithRetries(3, 0),
			nil, "gave up after 3 attempts: POST", 3},
		{"a Retry-After past the time bound is not waited for", []fakeapi.Reply{{Status: 429, Header: map[string]string{"Retry-After": "3600"}}}, nil,
			[]time.Duration{}, "gave up after 1 attempt (the next one would be in 1h0m0s, past the bound of 10s): POST", 1},
		{"a 409 is not retried", []fakeapi.Reply{fakeapi.Problem(409, "conflict")}, nil,
			[]time.Duration{}, "answered 409 Conflict: conflict", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, srv := fakeapi.New(t)
			f.ScriptSave(tt.replies...)
			var w waits
			o := opts(algoreg.WithBasicAuth("u", "p"), algoreg.WithClock(clk.Now), algoreg.WithOnRetry(w.record))
			if tt.retries != nil {
				o = append(o, tt.retries)
			}
			c := mustNew(t, srv.URL, o...)
			start := time.Now()
			resp, err := c.Save(context.Background(), empty)
			switch {
			case tt.wantErr == "" && (err != nil || resp.Status != openapi.StatusOK):
				t.Fatalf("got %v, want a saved batch", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
			got := w.get()
			if tt.wantWaits != nil {
				if len(got) != len(tt.wantWaits) {
					t.Fatalf("got waits %v, want %v", got, tt.wantWaits)
				}
				for i := range got {
					if got[i] != tt.wantWaits[i] {
						t.Errorf("got waits %v, want %v", got, tt.wantWaits)
					}
				}
				var sum time.Duration
				for _, d := range got {
					sum += d
				}
				if el := time.Since(start); el < sum || el > sum+2*time.Second {
					t.Errorf("took %s for waits adding up to %s", el, sum)
				}
			}
			for _, d := range got {
				if tt.wantWaits == nil && d > 4*time.Millisecond {
					t.Errorf("got wait %s, want at most the backoff's 4ms", d)
				}
			}
			if _, saves := f.Counts(); saves != tt.wantSaves {
				t.Errorf("got %d save requests, want %d", saves, tt.wantSaves)
			}
		})
	}
}

// The backoff doubles from its first value to its cap, with jitter: each
// wait is between half and all of the backoff, never above the cap.
func TestBackoffCapped(t *testing.T) {
	f, srv := fakeapi.New(t)
	for range 20 {
		f.ScriptSave(fakeapi.Reply{Status: http.StatusServiceUnavailable})
	}
	var w waits
	c := mustNew(t, srv.URL, algoreg.WithBasicAuth("u", "p"), algoreg.WithBackoff(time.Millisecond, 6*time.Millisecond),
		algoreg.WithRetries(10, 0), algoreg.WithOnRetry(w.record))
	_, err := c.Save(context.Background(), empty)
	if err == nil || !strings.Contains(err.Error(), "gave up after 10 attempts") {
		t.Fatalf("got %v, want gave up after 10 attempts", err)
	}
	got := w.get()
	if len(got) != 9 {
		t.Fatalf("got %d waits, want 9", len(got))
	}
	for i, d := range got {
		backoff := min(time.Millisecond<<i, 6*time.Millisecond)
		if d < backoff/2 || d > backoff {
			t.Errorf("wait %d: got %s, want between %s and %s", i+1, d, backoff/2, backoff)
		}
	}
}

// A cancelled context ends every wait: a Retry-After, the rate limit, and
// another request's token fetch.
func TestContextEndsTheWaits(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fakeapi.Server) []algoreg.Option
	}{
		{"during a Retry-After", func(f *fakeapi.Server) []algoreg.Option {
			f.ScriptSave(fakeapi.Reply{Status: 503, Header: map[string]string{"Retry-After": "60"}})
			return []algoreg.Option{algoreg.WithBasicAuth("u", "p"), algoreg.WithRetries(5, 0)}
		}},
		{"during the backoff", func(f *fakeapi.Server) []algoreg.Option {
			f.ScriptSave(fakeapi.Reply{Status: 503})
			return []algoreg.Option{algoreg.WithBasicAuth("u", "p"), algoreg.WithBackoff(time.Minute, time.Minute), algoreg.WithRetries(5, 0)}
		}},
		{"while another save fetches the token", func(f *fakeapi.Server) []algoreg.Option {
			f.Block = make(chan struct{})
			return []algoreg.Option{algoreg.WithPasswordGrant("u", "p")}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := fakeapi.New(t)
			c := mustNew(t, srv.URL, tt.setup(f)...)
			if f.Block != nil {
				done := make(chan struct{})
				go func() { defer close(done); c.Save(context.Background(), empty) }()
				for tokens, _ := f.Counts(); tokens == 0; tokens, _ = f.Counts() {
					time.Sleep(time.Millisecond)
				}
				defer func() { close(f.Block); <-done }()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := c.Save(ctx, empty)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("got %v, want context.DeadlineExceeded", err)
			}
			if el := time.Since(start); el > 2*time.Second {
				t.Errorf("took %s after the context ended", el)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	_, srv := fakeapi.New(t)
	const perSecond, n = 50, 11
	c := mustNew(t, srv.URL, algoreg.WithBasicAuth("u", "p"), algoreg.WithRateLimit(perSecond, 1))
	start := time.Now()
	for range n {
		if _, err := c.Save(context.Background(), empty); err != nil {
			t.Fatal(err)
		}
	}
	// A lower bound only: the limiter guarantees it whatever the load.
	if el, want := time.Since(start), time.Duration(n-1)*time.Second/perSecond; el < want*9/10 {
		t.Errorf("%d saves took %s, want at least %s", n, el, want)
	}
	// A request whose turn comes after its deadline ends at once.
	slow := mustNew(t, srv.URL, algoreg.WithBasicAuth("u", "p"), algoreg.WithRateLimit(0.1, 1))
	if _, err := slow.Save(context.Background(), empty); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := slow.Save(ctx, empty); err == nil || !strings.Contains(err.Error(), "rate limit") {
		t.Errorf("got %v, want a rate-limit error", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("took %s", el)
	}
}

// Save sends the typed model as encoding/json writes it, and decodes the
// answer.
func TestSaveSendsTheModel(t *testing.T) {
	f, srv := fakeapi.New(t)
	c := mustNew(t, srv.URL+"/", algoreg.WithBasicAuth("u", "p"))
	id, typ, kyc, verify := "c-1", "N", int64(2), true
	req := &openapi.SaveCustomersRequest{VerifyInput: &verify, Customers: []openapi.Customer{{
		ExternalID: &id, AccountType: &typ, KYCLevel: &kyc, Extra: map[string]any{"fist_name": "typo"},
	}}}
	resp, err := c.Save(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(req)
	if got := string(f.Bodies()[0]); got != string(want) {
		t.Errorf("sent %s, want %s", got, want)
	}
	if len(resp.Added) != 1 || resp.Added[0].ExternalID != "c-1" || resp.Status != openapi.StatusOK {
		t.Errorf("got %+v", resp)
	}
	body := []byte(`{"customers":[{"external_id":"raw"}]}`)
	if _, err := c.SaveJSON(context.Background(), body); err != nil || string(f.Bodies()[1]) != string(body) {
		t.Errorf("SaveJSON: got %v and body %s, want %s", err, f.Bodies()[1], body)
	}
}

func TestNewRefuses(t *testing.T) {
	basic := algoreg.WithBasicAuth("u", "p")
	tests := []struct {
		name    string
		base    string
		opts    []algoreg.Option
		wantErr string
	}{
		{"an empty base URL", "", []algoreg.Option{basic}, `base URL "": give an http:// or https:// address`},
		{"no scheme", "api.algoreg.com", []algoreg.Option{basic}, "give an http:// or https:// address"},
		{"another scheme", "ftp://api.algoreg.com", []algoreg.Option{basic}, "give an http:// or https:// address"},
		{"no host", "https:///api", []algoreg.Option{basic}, "give an http:// or https:// address"},
		{"a query", "https://api.algoreg.com/?tenant=a", []algoreg.Option{basic}, "drop the query and fragment"},
		{"a fragment", "https://api.algoreg.com/#x", []algoreg.Option{basic}, "drop the query and fragment"},
		{"credentials in the URL", "https://u:secret@api.algoreg.com", []algoreg.Option{basic}, "drop the user and password from the URL; give them to WithPasswordGrant or WithBasicAuth"},
		{"no credentials", "https://api.algoreg.com", nil, "no credentials: give WithPasswordGrant, WithBasicAuth or WithBearerToken"},
		{"two kinds of credentials", "https://api.algoreg.com", []algoreg.Option{basic, algoreg.WithBearerToken("t")}, "WithBasicAuth and WithBearerToken give credentials twice; keep one"},
		{"a user without a password", "https://api.algoreg.com", []algoreg.Option{algoreg.WithPasswordGrant("u", "")}, "WithPasswordGrant needs a user and a password"},
		{"an empty token", "https://api.algoreg.com", []algoreg.Option{algoreg.WithBearerToken("")}, "WithBearerToken needs a token"},
		{"no attempt", "https://api.algoreg.com", []algoreg.Option{basic, algoreg.WithRetries(0, 0)}, "give at least 1 attempt"},
		{"a backoff cap below its start", "https://api.algoreg.com", []algoreg.Option{basic, algoreg.WithBackoff(time.Second, time.Millisecond)}, "give 0 <= initial <= max"},
		{"a rate of 0", "https://api.algoreg.com", []algoreg.Option{basic, algoreg.WithRateLimit(0, 1)}, "give a rate above 0"},
		{"a nil HTTP client", "https://api.algoreg.com", []algoreg.Option{basic, algoreg.WithHTTPClient(nil)}, "WithHTTPClient needs a client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := algoreg.New(tt.base, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, %v; want an error containing %q", c, err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
	if _, err := algoreg.New("https://api.algoreg.com"); !errors.Is(err, algoreg.ErrNoCredentials) {
		t.Errorf("got %v, want ErrNoCredentials", err)
	}
	if _, err := algoreg.New("http://127.0.0.1:8080/", basic, algoreg.WithHTTPClient(http.DefaultClient)); err != nil {
		t.Errorf("a plain base URL: got %v", err)
	}
}

// ContextWithOnRetry reports the retries of the one request made with its
// context, besides WithOnRetry's count of every retry.
func TestContextWithOnRetry(t *testing.T) {
	f, srv := fakeapi.New(t)
	f.ScriptSave(fakeapi.Reply{Status: 502}, fakeapi.Reply{Cut: true})
	var all, mine waits
	c := mustNew(t, srv.URL, opts(algoreg.WithBasicAuth("u", "p"), algoreg.WithOnRetry(all.record))...)
	if _, err := c.Save(algoreg.ContextWithOnRetry(context.Background(), mine.record), empty); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Save(context.Background(), empty); err != nil {
		t.Fatal(err)
	}
	if got, want := len(mine.get()), 2; got != want {
		t.Errorf("the request's callback: got %d retries, want %d", got, want)
	}
	if got, want := len(all.get()), 2; got != want {
		t.Errorf("the client's callback: got %d retries, want %d", got, want)
	}
}
