package mockserver

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// The defaults of Config.
const (
	DefaultTokenTTL         = time.Hour
	DefaultLockoutThreshold = 5
	DefaultLockoutDuration  = 15 * time.Minute
)

// Config configures a Server. The zero value is valid: every zero field takes
// its documented default.
type Config struct {
	// Rules configures the per-record rules; nil means rules.DefaultConfig().
	// New replaces a Rules that fails rules.Config.Validate by the defaults and
	// logs it, so check it with Validate first (the mock command does).
	Rules *rules.Config
	// Users restricts the API to fixed accounts. Nil means open mode: any
	// non-empty username with any password is accepted, and the username names
	// its business.
	Users []User
	// TokenTTL is how long an access token lives (default one hour).
	TokenTTL time.Duration
	// LockoutThreshold wrong passwords in a row lock an account of Users for
	// LockoutDuration (defaults 5 and 15 minutes). Open mode never locks.
	LockoutThreshold int
	LockoutDuration  time.Duration
	// RateLimit is the number of save requests per second each business may
	// make (0, the default, means unlimited); RateBurst is the burst (default
	// the rate rounded up). Over the limit the mock answers 429 with
	// Retry-After.
	RateLimit float64
	RateBurst int
	// Store holds the state; nil means a new MemStore.
	Store Store
	// Logger gets one line per request; nil means no logging.
	Logger *slog.Logger
	// Validator is used by KinValidation and ValidateResponses; nil means the
	// embedded document's.
	Validator *openapi.Validator
	// KinValidation also validates save requests with kin-openapi's generic
	// request validator, once the fast decoder has accepted them (slow; for
	// comparison).
	KinValidation bool
	// ValidateResponses checks every response against the document and logs
	// the ones that do not match (at level ERROR). It costs a copy of every
	// response.
	ValidateResponses bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// WebhookURL, when set, receives a customers_updated event (the vendor's
	// envelope; see WebhookEvent) after every save that created or updated
	// customers, except dry runs. Delivery is in the background, retried
	// three times on errors, 429 and 5xx; failures are logged.
	WebhookURL string
}

// Server is the stateful mock: an http.Handler serving the vendor's paths
// (POST /api/v1/customers/save, POST /api/v1/token), the inspection API under
// /__admin, /healthz and /openapi.yaml. It is safe for concurrent use.
type Server struct {
	cfg     Config
	rules   *rules.Compiled
	store   Store
	log     *slog.Logger
	auth    *authenticator
	limits  *limiter
	handler http.Handler
	now     func() time.Time

	webhooks *webhookSender // nil without Config.WebhookURL

	validatorOnce sync.Once
	validator     *openapi.Validator
}

// New returns a Server for cfg. It never fails: a cfg.Rules that does not
// validate is replaced by the defaults and the problem logged, so check it
// with rules.Config.Validate beforehand where it comes from users.
func New(cfg Config) *Server {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.LockoutThreshold <= 0 {
		cfg.LockoutThreshold = DefaultLockoutThreshold
	}
	if cfg.LockoutDuration <= 0 {
		cfg.LockoutDuration = DefaultLockoutDuration
	}
	if cfg.Store == nil {
		cfg.Store = NewMemStore()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	rc := rules.DefaultConfig()
	if cfg.Rules != nil {
		rc = *cfg.Rules
	}
	compiled, err := rc.Compile()
	if err != nil {
		cfg.Logger.Error("invalid rules configuration; using the defaults", "err", err)
		compiled, _ = rules.DefaultConfig().Compile()
	}
	s := &Server{
		cfg:       cfg,
		rules:     compiled,
		store:     cfg.Store,
		log:       cfg.Logger,
		now:       cfg.Now,
		validator: cfg.Validator,
	}
	s.auth = newAuthenticator(cfg.Users, cfg.TokenTTL, cfg.LockoutThreshold, cfg.LockoutDuration, cfg.Now)
	if cfg.RateLimit > 0 {
		s.limits = newLimiter(cfg.RateLimit, cfg.RateBurst)
	}
	if cfg.WebhookURL != "" {
		s.webhooks = newWebhookSender(cfg.WebhookURL, cfg.Logger)
	}
	var h http.Handler = s.routes()
	if cfg.ValidateResponses {
		h = s.openapiValidator().ResponseChecker(func(r *http.Request, err error) {
			s.log.Error("response does not match the OpenAPI document", "method", r.Method, "path", r.URL.Path, "err", err)
		})(h)
	}
	s.handler = s.logRequests(s.recoverPanics(h))
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Store returns the server's store.
func (s *Server) Store() Store { return s.store }

// Rules returns the server's compiled rule configuration.
func (s *Server) Rules() *rules.Compiled { return s.rules }

func (s *Server) openapiValidator() *openapi.Validator {
	s.validatorOnce.Do(func() {
		if s.validator == nil {
			s.validator = openapi.MustNewValidator()
		}
	})
	return s.validator
}

// HTTPServer returns an *http.Server for s with the mock's timeouts: 10 s to
// read the headers, 2 min to read a body, 2 min to write a response, 2 min idle.
// The caller sets Addr (or uses Serve with its own listener) and calls
// Shutdown when finished.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// requestInfo collects what the request log line reports.
type requestInfo struct {
	business string
	save     *SaveStats
}

type infoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	if ri, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests writes one log line per request.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &requestInfo{}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), infoKey{}, ri)))
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		if !s.log.Enabled(r.Context(), level) {
			return
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Int64("bytes", sw.bytes),
			slog.Duration("duration", time.Since(start)),
		}
		if ri.business != "" {
			attrs = append(attrs, slog.String("business", ri.business))
		}
		if st := ri.save; st != nil {
			attrs = append(attrs,
				slog.Int("customers", st.Customers), slog.Int("relations", st.Relations),
				slog.Int("added", st.Added), slog.Int("errors", st.Errors), slog.Int("warnings", st.Warnings))
		}
		s.log.LogAttrs(r.Context(), level, "request", attrs...)
	})
}

// recoverPanics turns a panic in a handler into a 500 problem and a log line.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic in handler", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
			writeProblem(w, r, http.StatusInternalServerError, "internal", "Internal server error",
				"The mock failed on this request; this is a bug in algoreg-kit, please report it with the request.")
		}()
		next.ServeHTTP(w, r)
	})
}
