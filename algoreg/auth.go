package algoreg

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// An Authorizer gives the Authorization header of a request. A Client uses
// the one its options build; other senders (the contract suite) use them for
// requests of their own. The Authorizers of this package are safe for
// concurrent use.
type Authorizer interface {
	// Authorization returns the value of the Authorization header, getting a
	// token first when it needs one.
	Authorization(ctx context.Context) (string, error)
	// Refused is told that the server answered 401 to a request sent with
	// the header value h. It reports whether another Authorization may be
	// accepted (a token that can be renewed); the caller then sends the
	// request once more, and only once.
	Refused(h string) bool
}

// hinter is an Authorizer that knows what to do about a refused request.
type hinter interface{ refusedHint() string }

// BasicAuth sends user and password as HTTP Basic on every request.
func BasicAuth(user, password string) Authorizer {
	return basicAuth("Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password)))
}

type basicAuth string

func (b basicAuth) Authorization(context.Context) (string, error) { return string(b), nil }
func (basicAuth) Refused(string) bool                             { return false }
func (basicAuth) refusedHint() string                             { return "check the user and password" }

// BearerToken sends token as a bearer token on every request. It is never
// renewed.
func BearerToken(token string) Authorizer { return bearerToken("Bearer " + token) }

type bearerToken string

func (b bearerToken) Authorization(context.Context) (string, error) { return string(b), nil }
func (bearerToken) Refused(string) bool                             { return false }
func (bearerToken) refusedHint() string {
	return "the token was refused (expired or revoked): give a new one, or a user and password so that the client renews its token itself"
}

// RenewBefore is how long before a token expires a TokenSource renews it; a
// token that lives less than twice as long is renewed at half its life.
const RenewBefore = time.Minute

// TokenSource keeps an access token of the password grant: it gets one with
// its fetch function on first use, keeps it until RenewBefore its expiry, and
// gets a new one after Refused. It is an Authorizer and is safe for
// concurrent use: concurrent callers wait for one fetch (or for their
// context to end).
//
// A fetch error that is an *Error with a 4xx status (a rejected user or
// password) is kept and returned by every later call, without asking again,
// so that a wrong password is not retried into an account lockout.
type TokenSource struct {
	fetch func(context.Context) (*openapi.TokenResponse, error)
	now   func() time.Time
	sem   chan struct{} // held by the one goroutine fetching

	mu      sync.Mutex // guards token, renewAt and failed
	token   string
	renewAt time.Time // zero: the token's life is not known
	failed  error
}

// NewTokenSource returns a TokenSource that calls fetch for every new token.
// now is the clock that dates the tokens' expiry (time.Now when nil).
func NewTokenSource(fetch func(ctx context.Context) (*openapi.TokenResponse, error), now func() time.Time) *TokenSource {
	if now == nil {
		now = time.Now
	}
	return &TokenSource{fetch: fetch, now: now, sem: make(chan struct{}, 1)}
}

// current returns the token when it can still be sent, or the kept failure.
func (s *TokenSource) current() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed != nil {
		return "", s.failed
	}
	if s.token != "" && (s.renewAt.IsZero() || s.now().Before(s.renewAt)) {
		return s.token, nil
	}
	return "", nil
}

// Token returns the current token, getting a new one when there is none or
// it is about to expire.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	if tok, err := s.current(); tok != "" || err != nil {
		return tok, err
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.sem }()
	if tok, err := s.current(); tok != "" || err != nil { // fetched while we waited
		return tok, err
	}
	tr, err := s.fetch(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.StatusCode >= 400 && e.StatusCode < 500 &&
			e.StatusCode != http.StatusTooManyRequests && e.StatusCode != http.StatusRequestTimeout {
			s.failed = err
		}
		return "", err
	}
	s.token, s.renewAt = tr.AccessToken, time.Time{}
	if tr.ExpiresIn > 0 {
		life := time.Duration(tr.ExpiresIn) * time.Second
		s.renewAt = s.now().Add(life - min(RenewBefore, life/2))
	}
	return s.token, nil
}

// Authorization returns "Bearer " and the current token.
func (s *TokenSource) Authorization(ctx context.Context) (string, error) {
	tok, err := s.Token(ctx)
	if err != nil {
		return "", err
	}
	return "Bearer " + tok, nil
}

// Refused forgets the token if h still carries it, so that the next call
// gets a new one, and reports true: a new token may be accepted.
func (s *TokenSource) Refused(h string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && h == "Bearer "+s.token {
		s.token = ""
	}
	return s.failed == nil
}

func (*TokenSource) refusedHint() string {
	return "the server refused a token it had just issued: check that the user may save customers"
}
