package mockserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// TestServer is the mock on an httptest.Server, for Go tests. It is closed
// by the test's Cleanup.
type TestServer struct {
	*httptest.Server
	// Mock is the handler, to reach its Store or call Save directly.
	Mock *Server
	// Username and Password are the credentials Client sends (open mode:
	// Username is also the business).
	Username, Password string
	// Client is a client for the server that sends Basic credentials of
	// Username and Password on every request without an Authorization header.
	Client *http.Client
}

// TestOption changes how NewTestServer builds the mock.
type TestOption func(*testOptions)

type testOptions struct {
	cfg           Config
	checkResponse bool
	user, pass    string
}

// WithConfig builds the mock from cfg (the default is the zero Config: every
// documented default, open mode).
func WithConfig(cfg Config) TestOption { return func(o *testOptions) { o.cfg = cfg } }

// WithCredentials sets the credentials of TestServer.Client (default
// "test"/"test", so the business "test" in open mode).
func WithCredentials(username, password string) TestOption {
	return func(o *testOptions) { o.user, o.pass = username, password }
}

// WithoutResponseCheck turns off the check of every response against the
// OpenAPI document (on by default: an off-spec response fails the test).
func WithoutResponseCheck() TestOption { return func(o *testOptions) { o.checkResponse = false } }

// NewTestServer starts the mock on a loopback httptest.Server, closed when
// the test ends. Every response is checked against the OpenAPI document and a
// mismatch fails tb (see WithoutResponseCheck).
//
//	ts := mockserver.NewTestServer(t)
//	resp, err := ts.Client.Post(ts.URL+"/api/v1/customers/save", "application/json", body)
func NewTestServer(tb testing.TB, opts ...TestOption) *TestServer {
	tb.Helper()
	o := testOptions{checkResponse: true, user: "test", pass: "test"}
	for _, opt := range opts {
		opt(&o)
	}
	mock := New(o.cfg)
	var h http.Handler = mock
	if o.checkResponse {
		h = mock.openapiValidator().ResponseChecker(func(r *http.Request, err error) {
			tb.Errorf("mock answered %s %s off the OpenAPI document: %v", r.Method, r.URL.Path, err)
		})(h)
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	ts := &TestServer{Server: srv, Mock: mock, Username: o.user, Password: o.pass}
	ts.Client = ts.ClientFor(o.user, o.pass)
	return ts
}

// ClientFor returns a client that sends Basic credentials of username and
// password (in open mode, the business username) on every request without an
// Authorization header.
func (ts *TestServer) ClientFor(username, password string) *http.Client {
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
func (ts *TestServer) Token(tb testing.TB, username, password string) string {
	tb.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}}
	resp, err := ts.Server.Client().Post(ts.URL+"/api/v1/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
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
func (ts *TestServer) Save(tb testing.TB, req *openapi.SaveCustomersRequest) *openapi.SaveCustomersResponse {
	tb.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		tb.Fatalf("encode request: %v", err)
	}
	resp, err := ts.Client.Post(ts.URL+"/api/v1/customers/save", "application/json", bytes.NewReader(body))
	if err != nil {
		tb.Fatalf("save: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("save: status %d: %s", resp.StatusCode, b)
	}
	var out openapi.SaveCustomersResponse
	if err := json.Unmarshal(b, &out); err != nil {
		tb.Fatalf("save: decode response: %v", err)
	}
	return &out
}
