package mockserver

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/algoreg-kit/algoreg-kit/internal/retry"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/memstore"
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
	// New refuses a Rules that fails rules.Config.Validate.
	Rules *rules.Config
	// Users restricts the API to fixed accounts. Nil means open mode: any
	// non-empty username with any password is accepted, and the username names
	// its business. A business is at most MaxBusinessBytes long.
	Users []User
	// TokenTTL is how long an access token lives (default one hour).
	TokenTTL time.Duration
	// LockoutThreshold wrong passwords in a row lock an account of Users for
	// LockoutDuration (defaults 5 and 15 minutes). Open mode never locks. The
	// counts are the Store's (store.Accounts), as is the secret that signs
	// the stateless access tokens: both hold on every server of the store.
	LockoutThreshold int
	LockoutDuration  time.Duration
	// RateLimit is the number of save requests per second each business may
	// make (0, the default, means unlimited); RateBurst is the burst (default
	// the rate rounded up). Over the limit the mock answers 429 with
	// Retry-After.
	RateLimit float64
	RateBurst int
	// Store holds the state; nil means a new in-memory store
	// (memstore.New). A Store given here is the caller's to close, after
	// the Server's Close.
	Store store.Store
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
	// customers, except dry runs. The event is written to the Store's outbox
	// in the save's transaction and delivered in the background, at least
	// once and in order per business (the next event of a business waits
	// for the previous one): retried with capped exponential backoff and
	// jitter until WebhookRetryFor after its save, then kept in the outbox
	// as failed (GET /__admin/webhooks?status=failed). Without it no event
	// is written.
	WebhookURL string
	// Lenient accepts more than the vendor documents: a form-encoded
	// (application/x-www-form-urlencoded) token request, and saves and token
	// requests of any application/*+json type or with any parameters. By
	// default both endpoints take only application/json (optionally with
	// charset=utf-8) and answer anything else 415, as the vendor would, so
	// that an integration that passes against the mock passes at the vendor.
	Lenient bool
	// WebhookSecret, when set, signs every delivery the Standard Webhooks
	// way (webhook-signature: v1,<base64 HMAC-SHA256>): "whsec_" followed by
	// the base64 of a key of 24 to 64 bytes.
	WebhookSecret string
	// AdminToken, when set, turns on the operator endpoints under
	// /__admin/operator (every business's counts, a reset of one or all, the
	// lockouts and their unlocking, any business's webhook events), which
	// take it as a bearer token; without it they do not exist (404). At
	// least 16 printable ASCII characters.
	AdminToken string
	// WebhookRetryFor is how long after its save an event is retried
	// (default DefaultWebhookRetryFor, one hour); every event gets at least
	// one attempt.
	WebhookRetryFor time.Duration

	// The request journal (journal.go, GET /__admin/requests): per business
	// at most JournalSize entries (DefaultJournalSize) and JournalBytes bytes
	// (DefaultJournalBytes), and JournalTotalBytes (DefaultJournalTotalBytes)
	// for every business together, the oldest dropped first; each body kept
	// up to JournalBodyBytes (DefaultJournalBodyBytes). A negative
	// JournalSize or JournalBytes turns the journal off.
	JournalSize       int
	JournalBytes      int64
	JournalTotalBytes int64
	JournalBodyBytes  int64
	// NoMetrics turns GET /metrics (metrics.go) off: it answers 404, and
	// nothing is counted.
	NoMetrics bool

	webhookBackoff *retry.Policy // tests only (export_test.go); nil: defaultWebhookBackoff

	// Connections and bodies in flight (conns.go, bodies.go); every zero
	// field takes its default. MaxConns caps the open connections of
	// Listener (DefaultMaxConns). MaxHeaderBytes bounds the request line and
	// headers (DefaultMaxHeaderBytes; over it 431). BodyMemory bounds the
	// request-body bytes held at once across all requests (default 16
	// bodies of the body limit; at least the body limit); a request waits
	// BodyWait (DefaultBodyWait) for room, then gets 503. A body must arrive
	// at MinBodyRate bytes per second (DefaultMinBodyRate) after
	// ReadHeaderTimeout (DefaultReadHeaderTimeout), else 408. IdleTimeout
	// closes an idle keep-alive connection (DefaultIdleTimeout).
	MaxConns          int
	MaxHeaderBytes    int
	BodyMemory        int64
	BodyWait          time.Duration
	MinBodyRate       int64
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
}

// Server is the stateful mock: an http.Handler serving the vendor's paths
// (POST /api/v1/customers/save, POST /api/v1/token), the inspection API under
// /__admin, /healthz and /openapi.yaml. It is safe for concurrent use. The
// caller should call Close when finished, after the HTTP server that serves it
// has shut down.
type Server struct {
	cfg       Config
	rules     *rules.Compiled
	store     store.Store
	log       *slog.Logger
	auth      *authenticator
	limits    *limiter
	handler   http.Handler
	now       func() time.Time
	validator *openapi.Validator // nil unless KinValidation or ValidateResponses

	webhooks   *webhookSender // nil without Config.WebhookURL
	journal    *journal       // nil when Config turns it off
	metrics    *metrics       // nil with Config.NoMetrics
	conns      *connLimiter
	bodies     *bodyBudget
	faultRules *faultRules // /__admin/faults, in memory
}

// New returns a Server for cfg, or an error, one sentence saying what to
// change, when cfg is invalid: a Rules that fails rules.Config.Validate, a
// negative duration, limit or rate, a User without username, password or
// business (or listed twice), a WebhookURL that is not an absolute http or
// https URL, or a document that cannot be loaded for KinValidation or
// ValidateResponses. Nothing in cfg can fail later, at request time.
//
// The caller should call Close when finished.
func New(cfg Config) (*Server, error) {
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, fmt.Errorf("mockserver: %w", err)
	}
	rc := rules.DefaultConfig()
	if cfg.Rules != nil {
		rc = *cfg.Rules
	}
	compiled, err := rc.Compile()
	if err != nil {
		return nil, fmt.Errorf("mockserver: Config.Rules is invalid: %w; fix it, or leave Rules nil for the defaults", err)
	}
	if cfg.BodyMemory == 0 {
		cfg.BodyMemory = defaultBodyMemoryBodies * compiled.MaxBody
	}
	if cfg.BodyMemory < compiled.MaxBody {
		return nil, fmt.Errorf("mockserver: Config.BodyMemory is %d bytes, less than one body of the limit (%d); raise it, or 0 for %d bodies of the limit", cfg.BodyMemory, compiled.MaxBody, defaultBodyMemoryBodies)
	}
	s := &Server{cfg: cfg, rules: compiled, store: cfg.Store, log: cfg.Logger, now: cfg.Now,
		conns: newConnLimiter(cfg), bodies: newBodyBudget(cfg.BodyMemory, cfg.BodyWait), faultRules: newFaultRules(),
		journal: newJournal(cfg)}
	if s.store == nil {
		s.store = memstore.New()
	}
	if cfg.KinValidation || cfg.ValidateResponses {
		if s.validator, err = loadValidator(cfg.Validator); err != nil {
			return nil, fmt.Errorf("mockserver: KinValidation and ValidateResponses need the OpenAPI document, which cannot be loaded (%w); pass Config.Validator or turn them off", err)
		}
	}
	s.auth = newAuthenticator(cfg, s.store)
	if cfg.RateLimit > 0 {
		s.limits = newLimiter(cfg.RateLimit, cfg.RateBurst)
	}
	if !cfg.NoMetrics {
		s.metrics = newMetrics(s)
	}
	if cfg.WebhookURL != "" {
		s.webhooks = startWebhookSender(cfg, s.store, s.metrics)
	}
	var h http.Handler = s.routes()
	if cfg.ValidateResponses {
		h = s.validator.ResponseChecker(func(r *http.Request, err error) {
			s.log.Error("response does not match the OpenAPI document", "method", r.Method, "path", r.URL.Path, "err", err)
		})(h)
	}
	s.handler = s.logRequests(s.recoverPanics(h))
	return s, nil
}

// withDefaults checks the fields of cfg that New does not hand on to another
// package's check, and fills in the zero ones.
func withDefaults(cfg Config) (Config, error) {
	if err := positiveOr("TokenTTL", &cfg.TokenTTL, DefaultTokenTTL); err != nil {
		return cfg, err
	}
	if err := positiveOr("LockoutThreshold", &cfg.LockoutThreshold, DefaultLockoutThreshold); err != nil {
		return cfg, err
	}
	if err := positiveOr("LockoutDuration", &cfg.LockoutDuration, DefaultLockoutDuration); err != nil {
		return cfg, err
	}
	switch {
	case cfg.RateLimit < 0 || math.IsNaN(cfg.RateLimit) || math.IsInf(cfg.RateLimit, 0):
		return cfg, fmt.Errorf("Config.RateLimit is %g; make it a positive number of requests per second, or 0 for no limit", cfg.RateLimit)
	case cfg.RateBurst < 0:
		return cfg, fmt.Errorf("Config.RateBurst is %d; make it positive, or 0 for the rate rounded up", cfg.RateBurst)
	}
	if err := checkWebhook(cfg); err != nil {
		return cfg, err
	}
	if err := positiveOr("WebhookRetryFor", &cfg.WebhookRetryFor, DefaultWebhookRetryFor); err != nil {
		return cfg, err
	}
	if err := checkUsers(cfg.Users); err != nil {
		return cfg, err
	}
	if err := checkAdminToken(cfg.AdminToken); err != nil {
		return cfg, err
	}
	cfg, err := connDefaults(cfg)
	if err != nil {
		return cfg, err
	}
	if cfg, err = journalSettings(cfg); err != nil {
		return cfg, err
	}
	zeroFor(&cfg.Logger, slog.New(slog.DiscardHandler))
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg, nil
}

// positiveOr checks the Config field named field, which is positive or 0 for
// def: it fills in def for 0, and refuses a negative value with an error that
// says what to give instead.
func positiveOr[T ~int | ~int64](field string, v *T, def T) error {
	if *v < 0 {
		return fmt.Errorf("Config.%s is %v; make it positive, or 0 for %v", field, *v, def)
	}
	zeroFor(v, def)
	return nil
}

// zeroFor fills in def when *v is the zero value: a Config field left out.
func zeroFor[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// loadValidator returns v, or the embedded document's validator when v is nil.
func loadValidator(v *openapi.Validator) (*openapi.Validator, error) {
	if v != nil {
		return v, nil
	}
	doc, err := openapi.Load(context.Background())
	if err != nil {
		return nil, err
	}
	return openapi.NewValidator(doc)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Close stops what the server started (the webhook sender: attempts in
// flight are cancelled, and their events stay pending in the store's outbox
// for the next server on the store) and waits for it. The server still
// answers requests after Close, but sends no more webhooks: close the HTTP
// server first. It does not close the store: a Config.Store is the caller's,
// and the in-memory store New makes without one holds nothing to release (no
// goroutine, no file). Close is idempotent and always returns nil.
func (s *Server) Close() error {
	if s.webhooks != nil {
		s.webhooks.close()
	}
	return nil
}

// Shutdown is Close after a grace period that ends with ctx: with an
// in-memory store (whose events die with the process) the webhook sender
// goes on delivering until no event is pending; with a durable store (whose
// pending events wait for the next server) it starts no new attempt and
// waits for those in flight. Call it after the HTTP server's Shutdown. It
// always returns nil.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.webhooks != nil {
		_, inMemory := s.store.(*memstore.Store)
		s.webhooks.shutdown(ctx, inMemory)
	}
	return nil
}

// Store returns the server's store.
func (s *Server) Store() store.Store { return s.store }

// Rules returns the server's compiled rule configuration.
func (s *Server) Rules() *rules.Compiled { return s.rules }

// logNote collects what the request log line reports beyond the status: the
// business requireAuth (or the token endpoint) found, and a save's counts. The
// handlers never read it; they take the business from the context.
type logNote struct {
	business  tenant
	save      *SaveStats
	cancelled bool // the client went away before the answer
	// For the journal and the metrics (observe.go): the route pattern
	// matched ("" for none), a save's decoded body and its answer.
	route    string
	saveReq  *openapi.SaveCustomersRequest
	saveResp *openapi.SaveCustomersResponse
	touched  []string // the customer ids the save read (requestIDs), set by save before noteSave
}

type logNoteKey struct{}

// noteTenant records business for the request log.
func noteTenant(ctx context.Context, business tenant) {
	if n, ok := ctx.Value(logNoteKey{}).(*logNote); ok {
		n.business = business
	}
}

// noteSave records a save's counts for the request log, and its body and
// answer for the journal and the metrics.
func noteSave(ctx context.Context, st SaveStats, req *openapi.SaveCustomersRequest, resp *openapi.SaveCustomersResponse) {
	if n, ok := ctx.Value(logNoteKey{}).(*logNote); ok {
		n.save, n.saveReq, n.saveResp = &st, req, resp
	}
}

// noteTouched records the customer ids a save read, in request order, for
// the journal (which would otherwise list them again).
func noteTouched(ctx context.Context, ids []string) {
	if n, ok := ctx.Value(logNoteKey{}).(*logNote); ok {
		n.touched = ids
	}
}

// noteRoute records the route pattern a request matched.
func noteRoute(ctx context.Context, pattern string) {
	if n, ok := ctx.Value(logNoteKey{}).(*logNote); ok {
		n.route = pattern
	}
}

// noteCancelled records that the request was abandoned by its client.
func noteCancelled(ctx context.Context) {
	if n, ok := ctx.Value(logNoteKey{}).(*logNote); ok {
		n.cancelled = true
	}
}

// statusCancelled is the status the request log gives a request abandoned by
// its client before it was answered (nginx's 499); nothing is sent.
const statusCancelled = 499

// statusWriter records the status and size of a response, and keeps its
// first keep bytes (for the journal).
type statusWriter struct {
	http.ResponseWriter
	status   int
	bytes    int64
	keep     int
	kept     strings.Builder
	hijacked bool // the connection was taken over (an injected fault)
}

// Hijack takes the connection over, for an injected fault, and notes it.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	w.hijacked = err == nil
	return c, rw, err
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
	if room := w.keep - w.kept.Len(); room > 0 && n > 0 {
		if w.kept.Cap() == 0 {
			w.kept.Grow(min(n, room))
		}
		w.kept.Write(p[:min(n, room)])
	}
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests writes one log line per request.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		note := &logNote{}
		sw := &statusWriter{ResponseWriter: w, keep: s.journalKeep()}
		r = r.WithContext(context.WithValue(r.Context(), logNoteKey{}, note))
		cb := s.captureBody(r)
		answered := false
		defer func() { // a handler that aborts the connection (panic(http.ErrAbortHandler)) is observed too
			if !answered {
				s.observe(r, sw, cb, note, statusAborted, start)
			}
		}()
		next.ServeHTTP(sw, r)
		answered = true
		switch {
		case note.cancelled && sw.status == 0:
			sw.status = statusCancelled
		case sw.hijacked && sw.status == 0:
			sw.status = statusAborted
		case sw.status == 0:
			sw.status = http.StatusOK
		}
		s.observe(r, sw, cb, note, sw.status, start)
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
		if note.business != "" {
			attrs = append(attrs, slog.String("business", string(note.business)))
		}
		if note.cancelled {
			attrs = append(attrs, slog.Bool("cancelled", true))
		}
		if st := note.save; st != nil {
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
