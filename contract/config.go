package contract

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// The defaults of Config.
const (
	DefaultCases = 100
	// DefaultParallel is how many checks run at once against a loopback
	// target (the in-process mock, a mock on 127.0.0.1);
	// DefaultRemoteParallel against any other host, to be gentle with a
	// shared sandbox or a live tenant. See DefaultParallelFor.
	DefaultParallel       = 8
	DefaultRemoteParallel = 4
)

// DefaultParallelFor returns the default of Config.Parallel for target:
// DefaultParallel when its host is a loopback address or "localhost",
// DefaultRemoteParallel otherwise.
func DefaultParallelFor(target string) int {
	u, err := url.Parse(target)
	if err != nil {
		return DefaultRemoteParallel
	}
	h := u.Hostname()
	if ip := net.ParseIP(h); (ip != nil && ip.IsLoopback()) || strings.EqualFold(h, "localhost") {
		return DefaultParallel
	}
	return DefaultRemoteParallel
}

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
	// LockoutUser and LockoutPassword name an account of the target's
	// --users that the suite may lock: the lockout check sends it the
	// lockout threshold of wrong passwords and leaves it locked for the
	// lockout duration. Never give a real account. Without them the lockout
	// check is skipped.
	LockoutUser, LockoutPassword string

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
	// Shuffle, when not 0, starts the checks in an order drawn from this
	// seed instead of the default (the generative checks first); the report
	// lists them in catalogue order all the same. For tests that the
	// verdicts do not depend on the order.
	Shuffle int64
	// Parallel is how many checks run at once (0: DefaultParallelFor the
	// target: 8 on loopback, 4 elsewhere). Every check has its own ids, so
	// the verdicts do not depend on it.
	Parallel int

	// Rules are the server's rule settings and limits (kyc range,
	// relation-type table, review groups, custom fields, risk-scan limit,
	// batch and body limits, which the 413 checks probe), when known; nil means
	// rules.DefaultConfig(), the mock's defaults (the vendor does not publish
	// its own). The checks of the codes that only a configured list can
	// trigger (review_group_unknown, custom_field_unknown) are skipped unless
	// Rules has that list.
	Rules *rules.Config
	// Asked, when not nil, is what ReadKit already found out about Target
	// (Asked.Kit nil: not an algoreg-kit mock), so that Run does not send
	// GET /__admin/config a second time; nil: Run asks.
	Asked *Asked
	// HTTPClient sends the requests (default: a client with a 30 s timeout).
	HTTPClient *http.Client
	// Validator validates every response (default: one built from the
	// embedded document).
	Validator *openapi.Validator
	// Progress, when not nil, gets one line per check as it finishes.
	Progress io.Writer
}

// ConfigError is a mistake in a Config (or in the --run and --skip patterns
// given to Select): Run returns it before it sends any request, and its
// message says what to fix. The command exits with status 2 on it.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

func configErrorf(format string, args ...any) error {
	return &ConfigError{Err: fmt.Errorf(format, args...)}
}

// withDefaults returns c with its defaults filled in, or a *ConfigError that
// says which setting to fix.
func (c Config) withDefaults() (Config, error) {
	if c.Target == "" {
		return c, configErrorf("no target: give the server's base URL")
	}
	if err := checkTarget(c.Target); err != nil {
		return c, err
	}
	c.Target = strings.TrimRight(c.Target, "/")
	switch {
	case c.Token != "" && (c.User != "" || c.Basic):
		return c, configErrorf("credentials: give either a token or a user and password, not both")
	case c.Token == "" && (c.User == "" || c.Password == ""):
		return c, configErrorf("credentials: give a user and a password, or a token")
	case (c.SecondUser == "") != (c.SecondPassword == ""):
		return c, configErrorf("second credentials: give both the second user and its password")
	case (c.LockoutUser == "") != (c.LockoutPassword == ""):
		return c, configErrorf("lockout credentials: give both the lockout user and its password")
	case c.LockoutUser != "" && (c.LockoutUser == c.User || c.LockoutUser == c.SecondUser):
		return c, configErrorf("lockout credentials: the lockout user %q is also the run's user or second user; give an account the suite may lock, which the run does not use", c.LockoutUser)
	}
	if c.Cases == 0 {
		c.Cases = DefaultCases
	}
	if c.Cases < 0 {
		return c, configErrorf("cases: %d is negative", c.Cases)
	}
	if c.Rate < 0 {
		return c, configErrorf("rate: %g requests per second is negative", c.Rate)
	}
	if c.Parallel < 0 {
		return c, configErrorf("parallel: %d checks at once is negative", c.Parallel)
	}
	if c.Parallel == 0 {
		c.Parallel = DefaultParallelFor(c.Target)
	}
	if c.Rules != nil {
		if err := c.Rules.Validate(); err != nil {
			return c, &ConfigError{Err: fmt.Errorf("server rules: %w", err)}
		}
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: defaultTimeout}
	}
	return c, nil
}

// checkTarget refuses a target that is not an absolute http(s) URL, and one
// whose path already holds the API's /api/v1: the suite adds the API's paths
// itself, so https://host/api/v1 would be called at /api/v1/api/v1/token.
func checkTarget(target string) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return configErrorf("target %q: give an absolute http:// or https:// URL", target)
	}
	if i := strings.Index(u.Path+"/", apiPrefix+"/"); i >= 0 {
		base := *u
		base.Path, base.RawPath, base.RawQuery, base.Fragment = u.Path[:i], "", "", ""
		return configErrorf("target %q: its path %q already holds the API's %s, which the suite adds to every path itself (it would call %s%s); give the base URL, %s",
			target, u.Path, apiPrefix, strings.TrimRight(target, "/"), tokenPath, base.String())
	}
	return nil
}
