package mocktest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// Server is the mock on an httptest.Server, for Go tests. The test's Cleanup
// closes both.
type Server struct {
	*httptest.Server
	// Mock is the handler, to reach its Store or call Save directly.
	Mock *mockserver.Server
	// Username and Password are the credentials Client sends (open mode:
	// Username is also the business).
	Username, Password string
	// Client is a client for the server that sends Basic credentials of
	// Username and Password on every request without an Authorization header.
	Client *http.Client
}

// Option changes how New builds the mock.
type Option func(*options)

type options struct {
	cfg           mockserver.Config
	checkResponse bool
	user, pass    string
}

// WithConfig builds the mock from cfg (the default is the zero Config: every
// documented default, open mode).
func WithConfig(cfg mockserver.Config) Option { return func(o *options) { o.cfg = cfg } }

// WithCredentials sets the credentials of Server.Client (default
// "test"/"test", so the business "test" in open mode).
func WithCredentials(username, password string) Option {
	return func(o *options) { o.user, o.pass = username, password }
}

// WithoutResponseCheck turns off the check of every response against the
// OpenAPI document (on by default: an off-spec response fails the test).
func WithoutResponseCheck() Option { return func(o *options) { o.checkResponse = false } }

var (
	validatorOnce sync.Once
	validator     *openapi.Validator
	validatorErr  error
)

// Validator returns the embedded document's validator, loaded once for the
// whole test binary. New gives it to every mock whose Config has none.
func Validator(tb testing.TB) *openapi.Validator {
	tb.Helper()
	validatorOnce.Do(func() {
		doc, err := openapi.Load(context.Background())
		if err != nil {
			validatorErr = err
			return
		}
		validator, validatorErr = openapi.NewValidator(doc)
	})
	if validatorErr != nil {
		tb.Fatalf("mocktest: %v", validatorErr)
	}
	return validator
}

// New starts the mock on a loopback httptest.Server; the test's Cleanup
// closes the server, then the mock. Every response is checked against the
// OpenAPI document and a mismatch fails tb (see WithoutResponseCheck). An
// invalid configuration fails tb at once.
//
//	ts := mocktest.New(t)
//	resp, err := ts.Client.Post(ts.URL+"/api/v1/customers/save", "application/json", body)
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	o := options{checkResponse: true, user: "test", pass: "test"}
	for _, opt := range opts {
		opt(&o)
	}
	if o.cfg.Validator == nil {
		o.cfg.Validator = Validator(tb)
	}
	mock := NewMock(tb, o.cfg)
	var h http.Handler = mock
	if o.checkResponse {
		h = o.cfg.Validator.ResponseChecker(func(r *http.Request, err error) {
			tb.Errorf("mock answered %s %s off the OpenAPI document: %v", r.Method, r.URL.Path, err)
		})(h)
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close) // before the mock's: Cleanup runs last in, first out
	ts := &Server{Server: srv, Mock: mock, Username: o.user, Password: o.pass}
	ts.Client = ts.ClientFor(o.user, o.pass)
	return ts
}

// ClientFor returns a client that sends Basic credentials of username and
// password (in open mode, the business username) on every request without an
// Authorization header.
func (ts *Server) ClientFor(username, password string) *http.Client {
	return &http.Client{Transport: basicTransport{base: ts.Server.Client().Transport, user: username, pass: password}}
}

type basicTransport struct {
	base       http.RoundTripper
	user, pass string
}

func (t basicTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") == "" {
		r = r.Clone(r.Context())
		r.SetBasicAuth(t.user, t.pass)
	}
	return t.base.RoundTrip(r)
}

// Token gets an access token for username and password from POST
// /api/v1/token, failing tb when the server refuses.
func (ts *Server) Token(tb testing.TB, username, password string) string {
	tb.Helper()
	body, _ := json.Marshal(openapi.TokenRequest{GrantType: "password", Username: username, Password: password})
	resp, err := ts.Server.Client().Post(ts.URL+"/api/v1/token", "application/json", bytes.NewReader(body))
	if err != nil {
		tb.Fatalf("token: %v", err)
	}
	defer resp.Body.Close()
	var tr openapi.TokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("token: status %d, decode error %v", resp.StatusCode, err)
	}
	return tr.AccessToken
}

// Save posts req to /api/v1/customers/save with ts.Client and returns the 200
// response, failing tb on any other status.
func (ts *Server) Save(tb testing.TB, req *openapi.SaveCustomersRequest) *openapi.SaveCustomersResponse {
	tb.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		tb.Fatalf("encode request: %v", err)
	}
	var out openapi.SaveCustomersResponse
	if err := json.Unmarshal(ts.SaveBody(tb, body), &out); err != nil {
		tb.Fatalf("save: decode response: %v", err)
	}
	return &out
}

// SaveBody posts body, a Save customers request as JSON, to
// /api/v1/customers/save with ts.Client and returns the body of the 200
// answer, failing tb on any other status.
func (ts *Server) SaveBody(tb testing.TB, body []byte) []byte {
	tb.Helper()
	resp, err := ts.Client.Post(ts.URL+"/api/v1/customers/save", "application/json", bytes.NewReader(body))
	if err != nil {
		tb.Fatalf("save: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("save: read response: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("save: status %d: %s", resp.StatusCode, b)
	}
	return b
}

// NewMock returns the bare mock for cfg, an http.Handler for a test that
// serves it its own way, failing tb when cfg is invalid; the test's Cleanup
// closes it.
func NewMock(tb testing.TB, cfg mockserver.Config) *mockserver.Server {
	tb.Helper()
	mock, err := mockserver.New(cfg)
	if err != nil {
		tb.Fatalf("mocktest: %v", err)
	}
	tb.Cleanup(func() { mock.Close() })
	return mock
}
