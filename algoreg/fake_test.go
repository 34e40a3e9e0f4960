package algoreg_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/algoreg"
	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// reply is a scripted answer; cut closes the connection instead.
type reply struct {
	status int
	header map[string]string
	body   string
	cut    bool
}

// fake is a token endpoint and a save endpoint: tokens "tok-N" for the user
// u with the password p, saves answered 200 to a token it issued (or Basic
// u:p) and 401 otherwise. A test scripts answers that come first.
type fake struct {
	mu        sync.Mutex // guards everything below
	expiresIn int        // of the tokens issued (3600 when 0)
	issued    int
	valid     map[string]bool
	tokens    []reply // answered to the next token requests, before the normal answer
	saves     []reply // answered to the next save requests
	nTokens   int
	nSaves    int
	auths     []string // the Authorization of every save
	bodies    [][]byte // the body of every save
	block     chan struct{}
}

func newFake(tb testing.TB) (*fake, *httptest.Server) {
	tb.Helper()
	f := &fake{valid: map[string]bool{}}
	srv := httptest.NewServer(f)
	tb.Cleanup(srv.Close)
	return f, srv
}

func (f *fake) counts() (tokens, saves int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.nTokens, f.nSaves
}

func (f *fake) script(list *[]reply, rs ...reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*list = append(*list, rs...)
}

// next pops a scripted answer of list.
func next(list *[]reply) (reply, bool) {
	if len(*list) == 0 {
		return reply{}, false
	}
	r := (*list)[0]
	*list = (*list)[1:]
	return r, true
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	var scripted reply
	var ok bool
	// By suffix, so that a test of a base URL with a path scripts what such
	// a server answers.
	switch {
	case strings.HasSuffix(r.URL.Path, algoreg.TokenPath):
		f.nTokens++
		scripted, ok = next(&f.tokens)
	case strings.HasSuffix(r.URL.Path, algoreg.SavePath):
		f.nSaves++
		f.auths = append(f.auths, r.Header.Get("Authorization"))
		f.bodies = append(f.bodies, body)
		scripted, ok = next(&f.saves)
	default:
		f.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	block := f.block
	f.mu.Unlock()
	if block != nil && strings.HasSuffix(r.URL.Path, algoreg.TokenPath) {
		<-block
	}
	if ok {
		scripted.write(w)
		return
	}
	if strings.HasSuffix(r.URL.Path, algoreg.TokenPath) {
		f.token(w, body)
		return
	}
	f.save(w, r.Header.Get("Authorization"))
}

func (rp reply) write(w http.ResponseWriter) {
	if rp.cut {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	for k, v := range rp.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rp.status)
	io.WriteString(w, rp.body)
}

func (f *fake) token(w http.ResponseWriter, body []byte) {
	var tr openapi.TokenRequest
	w.Header().Set("Content-Type", "application/json")
	if json.Unmarshal(body, &tr) != nil || tr.GrantType != "password" || tr.Username != "u" || tr.Password != "p" {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_grant","error_description":"The username or password is wrong."}`)
		return
	}
	f.mu.Lock()
	f.issued++
	tok := fmt.Sprintf("tok-%d", f.issued)
	f.valid[tok] = true
	life := f.expiresIn
	f.mu.Unlock()
	if life == 0 {
		life = 3600
	}
	fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":%d}`, tok, life)
}

func (f *fake) save(w http.ResponseWriter, auth string) {
	f.mu.Lock()
	ok := f.valid[strings.TrimPrefix(auth, "Bearer ")] || auth == "Basic "+base64.StdEncoding.EncodeToString([]byte("u:p"))
	f.mu.Unlock()
	if !ok {
		problem(http.StatusUnauthorized, "The access token is unknown or expired.").write(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"added":[{"customer_id":"3f1c9e2a-7b4d-4e0f-9a61-2d8c5b7e4f10","external_id":"c-1"}],"detail":[],"status":"ok","verify_input":false}`)
}

// problem is a problem-details answer.
func problem(status int, detail string) reply {
	return reply{status: status, header: map[string]string{"Content-Type": openapi.ProblemContentType},
		body: fmt.Sprintf(`{"type":"urn:x","title":%q,"status":%d,"detail":%q}`, http.StatusText(status), status, detail)}
}

// clock is a fake clock that a test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

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

// fast are retry settings that keep tests quick.
var fast = []algoreg.Option{algoreg.WithBackoff(time.Millisecond, 4*time.Millisecond), algoreg.WithRetries(4, 10*time.Second)}

func opts(more ...algoreg.Option) []algoreg.Option {
	return append(append([]algoreg.Option(nil), fast...), more...)
}

var empty = &openapi.SaveCustomersRequest{}
