// Package fakeapi is a small, scripted stand-in for the Algoreg API's token
// and save endpoints, for the tests of the toolkit's clients (package
// algoreg and the contract suite's client). Only tests import it.
package fakeapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// The credentials the Server accepts.
const (
	User     = "u"
	Password = "p"
)

// The paths the Server answers (by suffix, so that a base URL with a path
// reaches them too, and a test scripts what such a server answers).
const (
	tokenPath = "/api/v1/token"
	savePath  = "/api/v1/customers/save"
)

// Reply is a scripted answer; Cut closes the connection instead.
type Reply struct {
	Status int
	Header map[string]string
	Body   string
	Cut    bool
}

// Problem is a problem-details answer.
func Problem(status int, detail string) Reply {
	return Reply{Status: status, Header: map[string]string{"Content-Type": openapi.ProblemContentType},
		Body: fmt.Sprintf(`{"type":"urn:x","title":%q,"status":%d,"detail":%q}`, http.StatusText(status), status, detail)}
}

// Server issues tokens "tok-N" to User with Password and answers a save 200
// to a token it issued (or Basic User:Password) and 401 otherwise. Scripted
// replies come first. It is safe for concurrent use.
type Server struct {
	// ExpiresIn is the life of the tokens in seconds (3600 when 0). Set it
	// before the first request.
	ExpiresIn int
	// Block, when not nil, holds every token request until it is closed. Set
	// it before the first request.
	Block chan struct{}

	mu     sync.Mutex // guards the fields below
	issued int
	valid  map[string]bool
	tokens []Reply // answered to the next token requests
	saves  []Reply // answered to the next save requests
	nToken int
	auths  []string // the Authorization of every save
	bodies [][]byte // the body of every save
}

// New starts a Server, closed when the test ends.
func New(tb testing.TB) (*Server, *httptest.Server) {
	tb.Helper()
	f := &Server{valid: map[string]bool{}}
	srv := httptest.NewServer(f)
	tb.Cleanup(srv.Close)
	return f, srv
}

// ScriptToken queues answers to the next token requests.
func (f *Server) ScriptToken(rs ...Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = append(f.tokens, rs...)
}

// ScriptSave queues answers to the next save requests.
func (f *Server) ScriptSave(rs ...Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.saves = append(f.saves, rs...)
}

// Counts returns the number of token and save requests so far.
func (f *Server) Counts() (tokens, saves int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.nToken, len(f.auths)
}

// Auths returns the Authorization of every save so far.
func (f *Server) Auths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.auths...)
}

// Bodies returns the body of every save so far.
func (f *Server) Bodies() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.bodies...)
}

func pop(list *[]Reply) (Reply, bool) {
	if len(*list) == 0 {
		return Reply{}, false
	}
	r := (*list)[0]
	*list = (*list)[1:]
	return r, true
}

func (f *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	token := strings.HasSuffix(r.URL.Path, tokenPath)
	f.mu.Lock()
	var scripted Reply
	var ok bool
	switch {
	case token:
		f.nToken++
		scripted, ok = pop(&f.tokens)
	case strings.HasSuffix(r.URL.Path, savePath):
		f.auths = append(f.auths, r.Header.Get("Authorization"))
		f.bodies = append(f.bodies, body)
		scripted, ok = pop(&f.saves)
	default:
		f.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	f.mu.Unlock()
	if token && f.Block != nil {
		<-f.Block
	}
	switch {
	case ok:
		scripted.write(w)
	case token:
		f.token(w, body)
	default:
		f.save(w, r.Header.Get("Authorization"))
	}
}

func (rp Reply) write(w http.ResponseWriter) {
	if rp.Cut {
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	for k, v := range rp.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rp.Status)
	io.WriteString(w, rp.Body)
}

func (f *Server) token(w http.ResponseWriter, body []byte) {
	var tr openapi.TokenRequest
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if json.Unmarshal(body, &tr) != nil || tr.GrantType != "password" || tr.Username != User || tr.Password != Password {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_grant","error_description":"The username or password is wrong."}`)
		return
	}
	f.mu.Lock()
	f.issued++
	tok := fmt.Sprintf("tok-%d", f.issued)
	f.valid[tok] = true
	f.mu.Unlock()
	life := f.ExpiresIn
	if life == 0 {
		life = 3600
	}
	fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":%d}`, tok, life)
}

func (f *Server) save(w http.ResponseWriter, auth string) {
	f.mu.Lock()
	ok := f.valid[strings.TrimPrefix(auth, "Bearer ")] || auth == "Basic "+base64.StdEncoding.EncodeToString([]byte(User+":"+Password))
	f.mu.Unlock()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="algoreg"`)
		Problem(http.StatusUnauthorized, "The access token is unknown or expired.").write(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"added":[{"customer_id":"3f1c9e2a-7b4d-4e0f-9a61-2d8c5b7e4f10","external_id":"c-1"}],"detail":[],"status":"ok","verify_input":false}`)
}

// Clock is a fake clock that a test moves; it is safe for concurrent use.
type Clock struct{ ns atomic.Int64 }

// NewClock returns a Clock at 2026-01-01 12:00:00 UTC.
func NewClock() *Clock {
	c := &Clock{}
	c.ns.Store(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

// Now is the Clock's time.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

// Add moves the Clock by d.
func (c *Clock) Add(d time.Duration) { c.ns.Add(int64(d)) }
