package contract

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// The defaults of Config.
const (
	DefaultCases    = 100
	DefaultParallel = 4
)

// Config says which server to check and how.
type Config struct {
	// Target is the server's base URL, e.g. "https://api.algoreg.com/" or the
	// mock's "http://127.0.0.1:8080". Required.
	Target string
	// User and Password are the programmatic user's credentials. By default
	// the suite gets a bearer token from Target's /api/v1/token with them (the
	// OAuth2 password grant) and renews it before it expires or once on a 401;
	// with Basic it sends them as HTTP Basic instead.
	User, Password string
	// Token is a bearer token to use instead of User and Password. It is never
	// renewed.
	Token string
	// Basic sends User and Password as HTTP Basic on every request.
	Basic bool
	// SecondUser and SecondPassword are the credentials of a second business,
	// used by the tenant-isolation check (skipped without them).
	SecondUser, SecondPassword string

	// Seed seeds every piece of generated data; 0 picks a random seed, which
	// the Report gives, so that a failure replays with the same seed.
	Seed int64
	// Cases is the number of generative cases of each generative check
	// (default DefaultCases).
	Cases int
	// Rate bounds the requests per second the suite sends (0: no bound).
	Rate float64
	// VerifyOnly sends only verify_input: true save requests, so that nothing
	// at all is persisted; checks that need persisted data are skipped.
	VerifyOnly bool
	// Run, when not nil, picks the checks whose ID it matches; Skip, when not
	// nil, leaves out the checks whose ID it matches.
	Run, Skip *regexp.Regexp
	// Parallel is how many checks run at once (default DefaultParallel).
	Parallel int

	// Rules are the server's rule settings and limits (kyc range,
	// relation-type table, review groups, custom fields, risk-scan limit,
	// batch and body limits, which the 413 checks probe), when known; nil means
	// rules.DefaultConfig(), the mock's defaults (the vendor does not publish
	// its own). The checks of the codes that only a configured list can
	// trigger (review_group_unknown, custom_field_unknown) are skipped unless
	// Rules has that list.
	Rules *rules.Config
	// HTTPClient sends the requests (default: a client with a 30 s timeout).
	HTTPClient *http.Client
	// Validator validates every response (default: one built from the
	// embedded document).
	Validator *openapi.Validator
	// Progress, when not nil, gets one line per check as it finishes.
	Progress io.Writer
}

// withDefaults returns c with its defaults filled in, or an error that says
// which setting to fix.
func (c Config) withDefaults() (Config, error) {
	if c.Target == "" {
		return c, errors.New("no target: give the server's base URL")
	}
	u, err := url.Parse(c.Target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("target %q: give an absolute http:// or https:// URL", c.Target)
	}
	c.Target = strings.TrimRight(c.Target, "/")
	switch {
	case c.Token != "" && (c.User != "" || c.Basic):
		return c, errors.New("credentials: give either a token or a user and password, not both")
	case c.Token == "" && (c.User == "" || c.Password == ""):
		return c, errors.New("credentials: give a user and a password, or a token")
	case (c.SecondUser == "") != (c.SecondPassword == ""):
		return c, errors.New("second credentials: give both the second user and its password")
	}
	if c.Cases == 0 {
		c.Cases = DefaultCases
	}
	if c.Cases < 0 {
		return c, fmt.Errorf("cases: %d is negative", c.Cases)
	}
	if c.Rate < 0 {
		return c, fmt.Errorf("rate: %g requests per second is negative", c.Rate)
	}
	if c.Parallel <= 0 {
		c.Parallel = DefaultParallel
	}
	if c.Rules != nil {
		if err := c.Rules.Validate(); err != nil {
			return c, fmt.Errorf("server rules: %w", err)
		}
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: defaultTimeout}
	}
	return c, nil
}
