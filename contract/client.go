package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/routers"
	"golang.org/x/time/rate"

	"github.com/algoreg-kit/algoreg-kit/algoreg"
	"github.com/algoreg-kit/algoreg-kit/internal/retry"
	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// The paths the suite calls.
const (
	apiPrefix     = "/api/v1"
	savePath      = apiPrefix + "/customers/save"
	tokenPath     = apiPrefix + "/token"
	healthPath    = "/healthz"
	adminCustomer = "/__admin/customers"
	adminRelation = "/__admin/relations"
)

const (
	defaultTimeout = 30 * time.Second
	// maxResponse bounds how much of a response body the suite reads.
	maxResponse = 64 << 20
	// showBody bounds how much of a body a failure shows.
	showBody = 2048
)

// exchange is one request the suite sent and the response it got.
type exchange struct {
	Method    string
	Path      string
	ReqHeader http.Header
	ReqBody   []byte
	Status    int
	Header    http.Header
	Body      []byte
	// Err is a transport error (no response), or the suite's refusal to send
	// a request that would break its safety rules.
	Err error
	// SchemaErr says how the response does not match the document, if it does not.
	SchemaErr error
	// Auth says whose credentials the request carried (authPrimary, …), for
	// reports and replays, which never show them.
	Auth string
}

// The credentials an exchange carried (exchange.Auth, Exchange.Auth).
const (
	authPrimary = "primary" // the primary business's (given or got from the token endpoint)
	authSecond  = "second"  // the second business's
	authNoCreds = "none"    // no Authorization header
	authFixed   = "made-up" // a made-up value the check chose, no secret: kept as sent
)

// RequestText shows the request for people, credentials redacted and the
// body shortened.
func (x *exchange) RequestText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", x.Method, x.Path)
	for _, k := range sortedKeys(x.ReqHeader) {
		fmt.Fprintf(&b, "\n%s: %s", k, redactHeader(k, x.ReqHeader.Get(k)))
	}
	if len(x.ReqBody) > 0 {
		b.WriteString("\n\n")
		b.WriteString(shorten(redactBody(x.Path, x.ReqBody)))
	}
	return b.String()
}

// ResponseText shows the response for people, tokens redacted and the body
// shortened.
func (x *exchange) ResponseText() string {
	if x.Err != nil {
		return "no response: " + x.Err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", x.Status, http.StatusText(x.Status))
	for _, k := range []string{"Content-Type", "WWW-Authenticate", "Retry-After", "Allow"} {
		if v := x.Header.Get(k); v != "" {
			fmt.Fprintf(&b, "\n%s: %s", k, v)
		}
	}
	if len(x.Body) > 0 {
		b.WriteString("\n\n")
		b.WriteString(shorten(redactBody(x.Path, x.Body)))
	}
	return b.String()
}

func sortedKeys(h http.Header) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func redactHeader(name, value string) string {
	if !strings.EqualFold(name, "Authorization") {
		return value
	}
	scheme, _, _ := strings.Cut(value, " ")
	return scheme + " <redacted>"
}

// redactBody hides the credentials and tokens of token requests and
// responses: the values of the keys in secretKeys, and the whole body when it
// is neither a JSON object nor a form of known keys.
func redactBody(path string, body []byte) []byte {
	if path != tokenPath {
		return body
	}
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		for k := range m {
			if secretKeys[k] {
				m[k] = "<redacted>"
			}
		}
		out, _ := json.Marshal(m)
		return out
	}
	if q, err := url.ParseQuery(string(body)); err == nil && len(q) > 0 {
		for k := range q {
			if _, known := formKeys[k]; !known {
				return []byte("<redacted>")
			}
			if secretKeys[k] {
				q.Set(k, "<redacted>")
			}
		}
		return []byte(q.Encode())
	}
	return []byte("<redacted>")
}

// secretKeys are the keys whose values the suite never shows.
var secretKeys = map[string]bool{
	"password": true, "username": true, "access_token": true, "refresh_token": true, "client_secret": true, "client_id": true,
}

// formKeys are the keys a token form may show.
var formKeys = map[string]bool{
	"grant_type": true, "scope": true, "password": true, "username": true, "client_secret": true, "client_id": true,
}

func shorten(b []byte) string {
	if len(b) <= showBody {
		return string(b)
	}
	return fmt.Sprintf("%s… (%d more bytes)", b[:showBody], len(b)-showBody)
}

// credentials are one business's: a user and password (sent as a bearer
// token from the token endpoint, or as HTTP Basic), or a given token. They
// are safe for concurrent use.
type credentials struct {
	user, password string
	auth           algoreg.Authorizer
}

// newCredentials returns the credentials of user and password, sent as HTTP
// Basic when basic is true, else as a token of the password grant that the
// client fetches (recorded like any exchange) and package algoreg renews;
// or those of the given token fixed, when not "".
func (c *client) newCredentials(user, password string, basic bool, fixed string) *credentials {
	creds := &credentials{user: user, password: password}
	switch {
	case fixed != "":
		creds.auth = algoreg.BearerToken(fixed)
	case basic:
		creds.auth = algoreg.BasicAuth(user, password)
	default:
		creds.auth = algoreg.NewTokenSource(func(ctx context.Context) (*openapi.TokenResponse, error) {
			checkID, _ := ctx.Value(checkIDKey{}).(string)
			tok, x := c.fetchToken(ctx, user, password, checkID)
			switch {
			case x.Err != nil:
				return nil, x.Err
			case tok == nil:
				return nil, tokenRefused(x)
			}
			return tok, nil
		}, func() time.Time { return c.now() })
	}
	return creds
}

// tokenRefused says why the token endpoint's answer x is no token, and what
// to do: a target without a token endpoint (404, 405, 501: a stub, a proxy
// that serves only the save path) takes no user and password there, so the
// advice is HTTP Basic or a given token; otherwise the credentials are
// wrong.
func tokenRefused(x *exchange) error {
	switch x.Status {
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return fmt.Errorf("get a token: the target has no token endpoint (POST %s answered %s); if it takes the user and password as HTTP Basic, run with --basic (Config.Basic), or give a token with --token", tokenPath, describe(x))
	}
	return fmt.Errorf("get a token from %s: the target answered %s; check the user and password", tokenPath, describe(x))
}

// checkIDKey carries the ID of the check whose request needs a token, so
// that the token's exchange is recorded under it.
type checkIDKey struct{}

// authMode says how a request authenticates.
type authMode int

const (
	authDefault authMode = iota // the request's credentials
	authNone                    // no Authorization header
	authRaw                     // request.rawAuth, a form of the primary's credentials, as the Authorization header
	authMadeUp                  // request.rawAuth, made-up credentials that are no secret, as the Authorization header
)

// request is what a check asks the client to send.
type request struct {
	method, path string
	contentType  string // default application/json when there is a body
	body         []byte
	auth         authMode
	creds        *credentials // default: the primary business's
	rawAuth      string
	header       http.Header // more request headers (Content-Encoding), nil for none
}

// client sends the suite's requests: it authenticates them, bounds their
// rate, refuses bodies that break the safety rules, validates every response
// against the document and keeps the run's tallies. It is safe for
// concurrent use.
type client struct {
	base       string
	hc         *http.Client
	v          *openapi.Validator
	lim        *rate.Limiter // nil: no bound
	verifyOnly bool
	prefix     string
	primary    *credentials
	now        func() time.Time
	tally      *tally
}

// tally is what the run observed across every check.
type tally struct {
	mu           sync.Mutex
	requests     int
	serverErrors []string                  // one line per 5xx answer
	schemaErrors []string                  // one line per off-document answer
	refused      []string                  // bodies the client refused to send
	sent         map[*credentials]*sentIDs // ids sent in persisting saves
	added        int
}

// sentIDs are the ids a business was sent in saves that may persist, in the
// order first sent.
type sentIDs struct {
	customers, relations []string
	seen                 map[string]bool
}

func newTally() *tally { return &tally{sent: map[*credentials]*sentIDs{}} }

func (t *tally) note(list *[]string, line string) {
	t.mu.Lock()
	*list = append(*list, line)
	t.mu.Unlock()
}

// do sends r and returns the exchange; it never returns nil. A 401 answered
// to a token the client got from the token endpoint is retried once with a
// new token, and a 429 as retry429 says.
func (c *client) do(ctx context.Context, r request, checkID string) *exchange {
	if r.creds == nil {
		r.creds = c.primary
	}
	if r.path == savePath {
		if err := c.guard(r); err != nil {
			c.tally.note(&c.tally.refused, fmt.Sprintf("%s: %s", checkID, err))
			return &exchange{Method: r.method, Path: r.path, ReqBody: r.body, Err: err, Auth: c.authOf(r)}
		}
	}
	renewed := false
	return retry429(ctx, func() *exchange {
		x := c.send(ctx, r, checkID)
		if x.Status == http.StatusUnauthorized && r.auth == authDefault && !renewed && r.creds.auth.Refused(x.ReqHeader.Get("Authorization")) {
			renewed = true
			x = c.send(ctx, r, checkID)
		}
		return x
	})
}

// maxRetries429 bounds the retries of a request answered 429.
const maxRetries429 = 3

// retry429Policy is the client's policy of package retry: a 429 is retried
// at most maxRetries429 times, after its Retry-After or else a backoff from
// 1 s, and never past a minute (a longer Retry-After ends the retries).
var retry429Policy = retry.Policy{Attempts: 1 + maxRetries429, MaxElapsed: time.Minute, Initial: time.Second, Max: 4 * time.Second}

var errTooManyRequests = errors.New("429 Too Many Requests")

// retry429 calls send, and again while the answer is 429, and returns the
// last exchange.
func retry429(ctx context.Context, send func() *exchange) *exchange {
	var x *exchange
	_ = retry429Policy.Do(ctx, func() error {
		x = send()
		if x.Err == nil && x.Status == http.StatusTooManyRequests {
			return retry.AfterHeader(errTooManyRequests, x.Header, time.Now())
		}
		return nil
	}, nil)
	return x
}

// authOf says whose credentials r carries.
func (c *client) authOf(r request) string {
	switch {
	case r.auth == authNone:
		return authNoCreds
	case r.auth == authMadeUp:
		return authFixed
	case r.auth == authDefault && r.creds != nil && r.creds != c.primary:
		return authSecond
	}
	return authPrimary
}

// send sends r once.
func (c *client) send(ctx context.Context, r request, checkID string) *exchange {
	x := &exchange{Method: r.method, Path: r.path, ReqBody: r.body, ReqHeader: http.Header{}, Auth: c.authOf(r)}
	switch r.auth {
	case authDefault:
		h, err := c.authorization(ctx, r.creds, checkID)
		if err != nil {
			x.Err = err
			return x
		}
		x.ReqHeader.Set("Authorization", h)
	case authRaw, authMadeUp:
		x.ReqHeader.Set("Authorization", r.rawAuth)
	}
	if r.body != nil {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		x.ReqHeader.Set("Content-Type", ct)
	}
	x.ReqHeader.Set("Accept", "application/json, application/problem+json")
	for k, vs := range r.header {
		x.ReqHeader[http.CanonicalHeaderKey(k)] = vs
	}
	c.roundTrip(ctx, x, checkID)
	if x.Err == nil && r.path == savePath && x.Status == http.StatusOK {
		var resp openapi.SaveCustomersResponse
		if json.Unmarshal(x.Body, &resp) == nil && !resp.VerifyInput {
			c.tally.mu.Lock()
			c.tally.added += len(resp.Added)
			c.tally.mu.Unlock()
		}
	}
	return x
}

// roundTrip sends x's request and fills in its response, then validates the
// response and keeps the tallies.
func (c *client) roundTrip(ctx context.Context, x *exchange, checkID string) {
	if c.lim != nil {
		if err := c.lim.Wait(ctx); err != nil {
			x.Err = fmt.Errorf("rate limit: %w", err)
			return
		}
	}
	var body io.Reader
	if x.ReqBody != nil {
		body = bytes.NewReader(x.ReqBody)
	}
	req, err := http.NewRequestWithContext(ctx, x.Method, c.base+x.Path, body)
	if err != nil {
		x.Err = err
		return
	}
	req.Header = x.ReqHeader.Clone()
	c.tally.mu.Lock()
	c.tally.requests++
	c.tally.mu.Unlock()
	resp, err := c.hc.Do(req)
	if err != nil {
		x.Err = err
		return
	}
	defer resp.Body.Close()
	x.Status, x.Header = resp.StatusCode, resp.Header
	x.Body, err = io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		x.Err = fmt.Errorf("read the response: %w", err)
		return
	}
	where := fmt.Sprintf("%s: %s %s → %d", checkID, x.Method, pathOnly(x.Path), x.Status)
	if x.Status >= 500 {
		c.tally.note(&c.tally.serverErrors, where)
	}
	err = c.v.ValidateResponse(req, x.Status, x.Header, x.Body)
	if err != nil && !errors.Is(err, routers.ErrPathNotFound) && !errors.Is(err, routers.ErrMethodNotAllowed) {
		if ve := (*openapi.ValidationError)(nil); errors.As(err, &ve) {
			err = ve.MostTellingFirst() // a wrong enum value before a format detail, in every failure's first line
		}
		x.SchemaErr = err
		c.tally.note(&c.tally.schemaErrors, where+": "+err.Error())
	}
}

func pathOnly(p string) string {
	p, _, _ = strings.Cut(p, "?")
	return p
}

// authorization returns the Authorization header of creds, getting or
// renewing the token when needed (package algoreg's TokenSource decides
// when), under checkID.
func (c *client) authorization(ctx context.Context, creds *credentials, checkID string) (string, error) {
	return creds.auth.Authorization(context.WithValue(ctx, checkIDKey{}, checkID))
}

// fetchToken asks the token endpoint for a token with the password grant. It
// returns nil and the exchange when the answer is not a token.
func (c *client) fetchToken(ctx context.Context, user, password, checkID string) (*openapi.TokenResponse, *exchange) {
	body, _ := json.Marshal(openapi.TokenRequest{GrantType: "password", Username: user, Password: password})
	send := func() *exchange {
		x := &exchange{Method: http.MethodPost, Path: tokenPath, ReqBody: body, ReqHeader: http.Header{}, Auth: authNoCreds}
		x.ReqHeader.Set("Content-Type", "application/json")
		x.ReqHeader.Set("Accept", "application/json")
		c.roundTrip(ctx, x, checkID)
		return x
	}
	x := retry429(ctx, send)
	if x.Err != nil || x.Status != http.StatusOK {
		return nil, x
	}
	var tok openapi.TokenResponse
	if err := json.Unmarshal(x.Body, &tok); err != nil || tok.AccessToken == "" || tok.ExpiresIn <= 0 {
		return nil, x
	}
	return &tok, x
}

// describe says in a few words what a response was, to be embedded in a
// sentence: the status, then the problem's detail or the OAuth2 error in
// parentheses, e.g. `401 Unauthorized ("The username or password is
// wrong.")` or `400 Bad Request (invalid_grant: "The username or password is
// wrong.")`.
func describe(x *exchange) string {
	if x.Err != nil {
		return "nothing (" + x.Err.Error() + ")"
	}
	s := fmt.Sprintf("%d %s", x.Status, http.StatusText(x.Status))
	var oe openapi.OAuthError
	var p openapi.Problem
	switch {
	case json.Unmarshal(x.Body, &p) == nil && p.Detail != "":
		s += fmt.Sprintf(" (%q)", p.Detail)
	case json.Unmarshal(x.Body, &oe) == nil && oe.Error != "":
		if oe.ErrorDescription != "" {
			s += fmt.Sprintf(" (%s: %q)", oe.Error, oe.ErrorDescription)
		} else {
			s += " (" + oe.Error + ")"
		}
	}
	return s
}

// guard refuses a save body that could persist data without the run prefix,
// or that could persist at all in verify-only mode. Bodies that are not a
// JSON object cannot be saved and pass. It records the ids of bodies that
// may persist, for the clean-up.
func (c *client) guard(r request) error {
	var generic any
	if json.Unmarshal(r.body, &generic) != nil {
		return nil
	}
	top, ok := generic.(map[string]any)
	if !ok {
		return nil
	}
	verify := top["verify_input"] == true
	if c.verifyOnly && !verify {
		return errors.New("the suite refused to send a save without verify_input: true in verify-only mode")
	}
	var bad, customers, relations []string
	id := func(rec any, key string, list *[]string) {
		m, _ := rec.(map[string]any)
		s, ok := m[key].(string)
		if !ok || s == "" {
			return
		}
		if !strings.HasPrefix(s, c.prefix) {
			bad = append(bad, fmt.Sprintf("%s %q", key, s))
		}
		if list != nil {
			*list = append(*list, s)
		}
	}
	cs, _ := top["customers"].([]any)
	for _, cu := range cs {
		id(cu, "external_id", &customers)
	}
	rs, _ := top["relations"].([]any)
	for _, rel := range rs {
		id(rel, "relation_external_id", &relations)
		id(rel, "parent_customer_external_id", nil)
		id(rel, "child_customer_external_id", nil)
	}
	if len(bad) > 0 {
		return fmt.Errorf("the suite refused to send ids without the run prefix %q: %s", c.prefix, strings.Join(bad, ", "))
	}
	if verify {
		return nil
	}
	c.tally.mu.Lock()
	defer c.tally.mu.Unlock()
	s := c.tally.sent[r.creds]
	if s == nil {
		s = &sentIDs{seen: map[string]bool{}}
		c.tally.sent[r.creds] = s
	}
	for _, id := range customers {
		if !s.seen["c:"+id] {
			s.seen["c:"+id] = true
			s.customers = append(s.customers, id)
		}
	}
	for _, id := range relations {
		if !s.seen["r:"+id] {
			s.seen["r:"+id] = true
			s.relations = append(s.relations, id)
		}
	}
	return nil
}
