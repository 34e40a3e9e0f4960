package algoreg

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/algoreg-kit/algoreg-kit/internal/retry"
	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// The API's paths, below the base URL.
const (
	SavePath  = "/api/v1/customers/save"
	TokenPath = "/api/v1/token"
)

// The defaults of a Client.
const (
	DefaultAttempts   = 5                      // attempts per request, the first included
	DefaultMaxElapsed = 2 * time.Minute        // from a request's first attempt to its last
	DefaultBackoff    = 200 * time.Millisecond // the first backoff, doubled after each attempt
	DefaultMaxBackoff = 10 * time.Second       // the longest backoff
	DefaultTimeout    = 60 * time.Second       // of one attempt, with the default HTTP client
)

// maxResponse bounds how much of an answer the client reads.
const maxResponse = 64 << 20

// Client sends Save customers requests to one server. It is safe for
// concurrent use, and holds nothing that needs closing (the HTTP client's
// idle connections are its owner's).
type Client struct {
	base    string // scheme://host[/path], without a trailing slash
	path    string // the base URL's path, "" when it has none
	hc      *http.Client
	auth    Authorizer
	policy  retry.Policy
	lim     *rate.Limiter // nil: no bound
	now     func() time.Time
	onRetry func(err error, wait time.Duration)
}

// An Option sets up a Client in New.
type Option func(*options)

type options struct {
	hc                   *http.Client
	auth                 Authorizer
	authBy               []string // the options that gave credentials
	grantUser, grantPass string
	policy               retry.Policy
	rate                 float64
	burst                int
	now                  func() time.Time
	onRetry              func(err error, wait time.Duration)
	err                  error // the first option that cannot be used
}

func (o *options) fail(format string, args ...any) {
	if o.err == nil {
		o.err = fmt.Errorf("algoreg: "+format, args...)
	}
}

func (o *options) credentials(by string, user, password string) {
	o.authBy = append(o.authBy, by)
	if user == "" || password == "" {
		o.fail("%s needs a user and a password; give both", by)
	}
}

// WithPasswordGrant authenticates with a token from the OAuth2 password
// grant (POST /api/v1/token with {"grant_type":"password","username",
// "password"}), kept until RenewBefore its expiry and renewed once when a
// save is answered 401.
func WithPasswordGrant(user, password string) Option {
	return func(o *options) {
		o.credentials("WithPasswordGrant", user, password)
		o.grantUser, o.grantPass = user, password
	}
}

// WithBasicAuth sends user and password as HTTP Basic on every request.
func WithBasicAuth(user, password string) Option {
	return func(o *options) {
		o.credentials("WithBasicAuth", user, password)
		o.auth = BasicAuth(user, password)
	}
}

// WithBearerToken sends token on every request; it is never renewed, so a
// 401 is an error.
func WithBearerToken(token string) Option {
	return func(o *options) {
		o.authBy = append(o.authBy, "WithBearerToken")
		if token == "" {
			o.fail("WithBearerToken needs a token; give one, or a user and password")
		}
		o.auth = BearerToken(token)
	}
}

// WithAuthorizer authenticates with an Authorizer of one's own.
func WithAuthorizer(a Authorizer) Option {
	return func(o *options) {
		o.authBy = append(o.authBy, "WithAuthorizer")
		if a == nil {
			o.fail("WithAuthorizer needs an Authorizer; give one, or leave the option out")
		}
		o.auth = a
	}
}

// WithHTTPClient sends the requests with hc (default: a client with a
// DefaultTimeout timeout). A request's context still bounds it.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) {
		if hc == nil {
			o.fail("WithHTTPClient needs a client; give one, or leave the option out")
		}
		o.hc = hc
	}
}

// WithRetries bounds the attempts of one request (the first included; 1: no
// retry) and the time from its first attempt to its last (0: no bound); a
// Retry-After that would end past that bound is not waited for. Defaults
// DefaultAttempts and DefaultMaxElapsed.
func WithRetries(attempts int, maxElapsed time.Duration) Option {
	return func(o *options) {
		if attempts < 1 || maxElapsed < 0 {
			o.fail("WithRetries(%d, %s): give at least 1 attempt and a bound of 0 or more", attempts, maxElapsed)
		}
		o.policy.Attempts, o.policy.MaxElapsed = attempts, maxElapsed
	}
}

// WithBackoff sets the wait after a failed attempt that has no Retry-After:
// initial after the first, doubled after each one up to max, of which a
// random half to all (jitter). Defaults DefaultBackoff and DefaultMaxBackoff.
func WithBackoff(initial, max time.Duration) Option {
	return func(o *options) {
		if initial < 0 || max < initial {
			o.fail("WithBackoff(%s, %s): give 0 <= initial <= max", initial, max)
		}
		o.policy.Initial, o.policy.Max = initial, max
	}
}

// WithRateLimit bounds the client to perSecond requests per second, in
// bursts of at most burst (at least 1). Every request counts: retries and
// token requests too. A request waits for its turn, or for its context.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(o *options) {
		if perSecond <= 0 {
			o.fail("WithRateLimit(%g, %d): give a rate above 0, or leave the option out", perSecond, burst)
		}
		o.rate, o.burst = perSecond, max(burst, 1)
	}
}

// WithOnRetry calls f before each wait for a retry, with the error of the
// attempt and the wait (to count or log retries). f may be called from
// several goroutines at once.
func WithOnRetry(f func(err error, wait time.Duration)) Option {
	return func(o *options) { o.onRetry = f }
}

// ContextWithOnRetry returns a copy of ctx with which Save and SaveJSON
// also call f before each wait for a retry of that one request, after the
// client's WithOnRetry function: a caller with several requests in flight
// learns which of them were retried (a request retried after a connection
// error or a 5xx may have been applied by an attempt whose answer was
// lost).
func ContextWithOnRetry(ctx context.Context, f func(err error, wait time.Duration)) context.Context {
	return context.WithValue(ctx, onRetryKey{}, f)
}

type onRetryKey struct{}

// onRetryFor returns the retry callbacks of a request made with ctx.
func (c *Client) onRetryFor(ctx context.Context) func(error, time.Duration) {
	f, ok := ctx.Value(onRetryKey{}).(func(error, time.Duration))
	switch {
	case !ok || f == nil:
		return c.onRetry
	case c.onRetry == nil:
		return f
	}
	return func(err error, wait time.Duration) { c.onRetry(err, wait); f(err, wait) }
}

// WithClock sets the clock that dates tokens' expiry and reads Retry-After
// dates (default time.Now); the waits themselves take real time.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now == nil {
			o.fail("WithClock needs a clock; give one, or leave the option out")
		}
		o.now = now
	}
}

// New returns a client of the server at baseURL, the address the API's paths
// follow (https://api.algoreg.com, or a mock's http://127.0.0.1:8080; not …
// /api/v1). One option must give the credentials: WithPasswordGrant,
// WithBasicAuth, WithBearerToken or WithAuthorizer. New sends nothing; it
// refuses a base URL it cannot use and options that contradict each other,
// with an error that says what to set (ErrNoCredentials without
// credentials).
func New(baseURL string, opts ...Option) (*Client, error) {
	base, path, err := parseBase(baseURL)
	if err != nil {
		return nil, err
	}
	o := options{
		hc:     &http.Client{Timeout: DefaultTimeout},
		policy: retry.Policy{Attempts: DefaultAttempts, MaxElapsed: DefaultMaxElapsed, Initial: DefaultBackoff, Max: DefaultMaxBackoff},
		now:    time.Now,
	}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case o.err != nil:
		return nil, o.err
	case len(o.authBy) == 0:
		return nil, ErrNoCredentials
	case len(o.authBy) > 1:
		return nil, fmt.Errorf("algoreg: %s give credentials twice; keep one", strings.Join(o.authBy, " and "))
	}
	c := &Client{base: base, path: path, hc: o.hc, auth: o.auth, policy: o.policy, now: o.now, onRetry: o.onRetry}
	if o.grantUser != "" {
		user, password := o.grantUser, o.grantPass
		c.auth = NewTokenSource(func(ctx context.Context) (*openapi.TokenResponse, error) {
			return c.fetchToken(ctx, user, password)
		}, o.now)
	}
	if o.rate > 0 {
		c.lim = rate.NewLimiter(rate.Limit(o.rate), o.burst)
	}
	return c, nil
}

// parseBase checks a base URL and returns it without its trailing slash,
// and its path.
func parseBase(baseURL string) (base, path string, err error) {
	const example = "e.g. https://api.algoreg.com or http://127.0.0.1:8080"
	u, err := url.Parse(strings.TrimSpace(baseURL))
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "":
		return "", "", fmt.Errorf("algoreg: base URL %q: give an http:// or https:// address, %s", baseURL, example)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", "", fmt.Errorf("algoreg: base URL %q: drop the query and fragment; give the server's address only, %s", baseURL, example)
	case u.User != nil:
		return "", "", fmt.Errorf("algoreg: base URL %q: drop the user and password from the URL; give them to WithPasswordGrant or WithBasicAuth", u.Redacted())
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), u.Path, nil
}

// Save sends req, encoded with encoding/json, and returns the server's
// answer: records that break a rule are in its Detail, not an error. The
// error is an *Error for an answer other than 200 (after the retries), the
// context's error when ctx ended first, or a transport error after the
// retries.
func (c *Client) Save(ctx context.Context, req *openapi.SaveCustomersRequest) (*openapi.SaveCustomersResponse, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("algoreg: encode the request: %w", err)
	}
	return c.SaveJSON(ctx, body)
}

// SaveJSON is Save for a body already encoded: a batch file, or the output
// of an encoder faster than encoding/json. body must be a Save customers
// request; it is sent as it is.
func (c *Client) SaveJSON(ctx context.Context, body []byte) (*openapi.SaveCustomersResponse, error) {
	var out *openapi.SaveCustomersResponse
	renewed := false
	err := c.policy.Do(ctx, func() error {
		b, err := c.post(ctx, SavePath, body, c.auth, &renewed)
		if err != nil {
			return err
		}
		if out, err = DecodeSaveResponse(b); err != nil {
			return fmt.Errorf("POST %s: %w", c.base+SavePath, err)
		}
		return nil
	}, c.onRetryFor(ctx))
	return out, err
}

// fetchToken asks the token endpoint for a token with the password grant,
// with the client's retries.
func (c *Client) fetchToken(ctx context.Context, user, password string) (*openapi.TokenResponse, error) {
	body, err := json.Marshal(openapi.TokenRequest{GrantType: "password", Username: user, Password: password})
	if err != nil {
		return nil, err
	}
	var tok openapi.TokenResponse
	err = c.policy.Do(ctx, func() error {
		b, err := c.post(ctx, TokenPath, body, nil, nil)
		if err != nil {
			return err
		}
		if json.Unmarshal(b, &tok) != nil || tok.AccessToken == "" {
			return fmt.Errorf("POST %s answered 200 without an access_token; check that the base URL is the Algoreg API's", c.base+TokenPath)
		}
		return nil
	}, c.onRetry)
	if err != nil {
		return nil, fmt.Errorf("get a token: %w", err)
	}
	return &tok, nil
}

// post makes one attempt: it sends body to path with auth's Authorization
// (none when auth is nil), once more with a new one when a 401 answers an
// Authorization that can be renewed and *renewed is still false, and returns
// the body of a 200. Its errors are marked for retry when another attempt
// may help.
func (c *Client) post(ctx context.Context, path string, body []byte, auth Authorizer, renewed *bool) ([]byte, error) {
	for {
		var h string
		if auth != nil {
			var err error
			if h, err = auth.Authorization(ctx); err != nil {
				return nil, err
			}
		}
		status, header, b, err := c.roundTrip(ctx, path, body, h)
		switch {
		case err != nil:
			return nil, err
		case status == http.StatusOK:
			return b, nil
		case status == http.StatusUnauthorized && auth != nil && !*renewed && auth.Refused(h):
			*renewed = true
			continue
		}
		e := c.newError(path, status, b)
		switch status {
		case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return nil, retry.AfterHeader(e, header, c.now())
		}
		return nil, e
	}
}

// roundTrip sends one request, after its turn under the rate limit, and
// reads the answer. A transport error is marked for retry.
func (c *Client) roundTrip(ctx context.Context, path string, body []byte, auth string) (int, http.Header, []byte, error) {
	if c.lim != nil {
		if err := c.lim.Wait(ctx); err != nil {
			return 0, nil, nil, fmt.Errorf("algoreg: wait for the rate limit: %w", err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, application/problem+json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, nil, ctx.Err()
		}
		return 0, nil, nil, retry.Again(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, nil, ctx.Err()
		}
		return 0, nil, nil, retry.Again(fmt.Errorf("POST %s: read the answer: %w", c.base+path, err))
	}
	return resp.StatusCode, resp.Header, b, nil
}
