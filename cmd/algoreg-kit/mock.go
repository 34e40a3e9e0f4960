package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/algoreg-kit/algoreg-kit/internal/flushwriter"
	"github.com/algoreg-kit/algoreg-kit/internal/gcheadroom"
	"github.com/algoreg-kit/algoreg-kit/internal/words"
	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/openapi"
)

const mockUsage = `Usage: algoreg-kit mock [flags]

Runs the stateful mock of the Algoreg Save customers endpoint, at the vendor's
paths (POST /api/v1/customers/save, POST /api/v1/token): point your integration
at it by swapping the base URL. State is per business: in memory by default
(lost on exit), or kept by --state in a SQLite file or in PostgreSQL, shared by
any number of mock replicas. Inspection API under /__admin (same credentials),
/healthz, /openapi.yaml.

Without --users, any username and password are accepted and the username names
the business (so "demo"/"demo" works out of the box).

Examples:
  algoreg-kit mock
  algoreg-kit mock --addr 127.0.0.1:0 --log-level debug
  algoreg-kit mock --users users.csv --token-ttl 10m --rate-limit 5
  algoreg-kit mock --review-groups retail,eu --custom-fields segment,score --kyc-max 5
  algoreg-kit mock --relation-types 1=director,2=shareholder,42=auditor
  algoreg-kit mock --preload ./batches --preload-business demo
  algoreg-kit mock --state state.db
  algoreg-kit mock --state sqlite:/var/lib/algoreg/state.db --state-sync full
  algoreg-kit mock --state postgres://algoreg:secret@db:5432/algoreg
  ALGOREG_MOCK_ADDR=0.0.0.0:8080 algoreg-kit mock --validate-responses
  algoreg-kit mock --log-level warn --pprof-addr 127.0.0.1:6060
  ALGOREG_MOCK_ADMIN_TOKEN=$(openssl rand -hex 16) algoreg-kit mock --users users.csv

Users file (--users): CSV with the header username,password,business, e.g.
  username,password,business
  api@acme.example,s3cret,acme
State (--state): a SQLite file is created if missing (WAL mode; --state-sync
normal: a save answered 200 survives a crash of the process; full: a power
loss too). A postgres:// or postgresql:// URL keeps the state in that
database; several mocks on one database are replicas of one mock. The schema
is migrated at start; a state a newer algoreg-kit wrote is refused.
Preload (--preload): a file or a folder of files, or several separated by
commas: *.json (a Save customers request body, or fixtures --format json),
*.ndjson or *.jsonl (one customer, relation or request body per line), *.csv
(a customers or relations table of fixtures --format csv). Every file of a
folder is loaded, in name order, or named in the error. Records are checked as
the save endpoint checks them and saved --max-batch customers (--max-relations
relations) at a time, the customers of every file before any relation; rejected
records are counted by code, e.g.
  algoreg-kit mock --preload customers.ndjson,relations.ndjson
`

// mockWebhookDrain bounds how long the mock, once stopped, goes on
// delivering the pending webhooks of an in-memory state (a durable one
// keeps them for the next start).
const mockWebhookDrain = 5 * time.Second

// mockDefaultPreloadBusiness is the business a newcomer's "demo" user lands in.
const mockDefaultPreloadBusiness = "demo"

// mockConfig is everything "algoreg-kit mock" was told.
type mockConfig struct {
	parsed
	Addr      string
	UsersFile string // "": open mode
	Rules     *ruleFlags
	// Server holds the settings that go to mockserver.New as they are; runMock
	// adds the rules, the users and the logger.
	Server    mockserver.Config
	LogLevel  slog.Level
	LogFormat string // text or json
	Preload   []string
	// PreloadOptions go to Server.Preload.
	PreloadOptions mockserver.PreloadOptions
	// PreloadBusiness is where Preload goes; "" means "demo", or with --users
	// the first account's business.
	PreloadBusiness string
	PprofAddr       string
	State           stateSpec
	// GCHeadroom is --gc-headroom: the collector's floor of heap growth
	// between cycles (internal/gcheadroom); 0 leaves Go's pacing.
	GCHeadroom int64
}

func parseMock(args []string, getenv func(string) string) (mockConfig, error) {
	var cfg mockConfig
	var level, state, stateSync string
	s := &cfg.Server
	fs := newFlagSet("mock", mockUsage)
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	fs.StringVar(&cfg.UsersFile, "users", "", "CSV file of fixed accounts (username,password,business); default: open mode")
	fs.DurationVar(&s.TokenTTL, "token-ttl", mockserver.DefaultTokenTTL, "lifetime of access tokens")
	cfg.Rules = fs.ruleFlags()
	fs.Float64Var(&s.RateLimit, "rate-limit", 0, "save requests per second per business (0: unlimited); over it, 429 with Retry-After")
	fs.IntVar(&s.LockoutThreshold, "lockout-threshold", mockserver.DefaultLockoutThreshold, "wrong passwords in a row that lock an account of --users")
	fs.DurationVar(&s.LockoutDuration, "lockout-duration", mockserver.DefaultLockoutDuration, "how long a locked account stays locked")
	fs.BoolVar(&s.ValidateResponses, "validate-responses", false, "check every response against the OpenAPI document and log mismatches (slower)")
	fs.BoolVar(&s.KinValidation, "kin-validation", false, "validate save requests with kin-openapi's generic validator too (slow; for comparison)")
	fs.choice(&level, "log-level", "info", []string{"debug", "info", "warn", "error"}, "`level` of the log: debug, info, warn or error")
	fs.choice(&cfg.LogFormat, "log-format", "text", []string{"text", "json"}, "`format` of the log: text or json")
	fs.Var((*listValue)(&cfg.Preload), "preload", "`file` or folder of data to save before serving, or several separated by commas (see above)")
	fs.StringVar(&s.WebhookURL, "webhook", "", "URL that receives the vendor's customers_updated webhook after every save that created or updated customers (not dry runs); default: off")
	fs.BoolVar(&s.Lenient, "lenient", false, "also accept what the vendor refuses with 415: form-encoded token requests, and application/*+json types or parameters other than charset=utf-8 on saves and token requests; default: only application/json, as the vendor documents")
	fs.StringVar(&s.AdminToken, "admin-token", "", "turn on the operator endpoints under /__admin/operator (every business's counts, resets, unlocking accounts, any business's webhooks), which take this bearer token (at least 16 characters); better given as ALGOREG_MOCK_ADMIN_TOKEN, which ps does not show; default: off (404)")
	fs.StringVar(&s.WebhookSecret, "webhook-secret", "", "Standard Webhooks secret (whsec_ and base64 of 24 to 64 bytes) that signs each delivery (webhook-signature); better given as ALGOREG_MOCK_WEBHOOK_SECRET, which ps does not show; default: unsigned")
	fs.DurationVar(&s.WebhookRetryFor, "webhook-retry-for", mockserver.DefaultWebhookRetryFor, "how long after its save a webhook event is retried (backoff up to 30 s) before it is kept as failed")
	fs.IntVar(&s.MaxConns, "max-conns", mockserver.DefaultMaxConns, "most connections open at once; at the cap a new one closes the longest-idle keep-alive connection, or gets 503 with Retry-After when none is idle")
	fs.Var((*sizeValue)(&s.BodyMemory), "max-body-memory", "most request-body bytes held at once across all requests, a `size` (default 16 × --max-body); over it a request waits up to 5 s, then 503 with Retry-After")
	s.MinBodyRate = mockserver.DefaultMinBodyRate
	fs.Var((*sizeValue)(&s.MinBodyRate), "min-body-rate", "slowest a body may arrive, a `size` per second, after 10 s; slower: 408 and the connection closed")
	fs.IntVar(&s.MaxHeaderBytes, "max-header-bytes", mockserver.DefaultMaxHeaderBytes, "largest request line and headers; over it 431")
	fs.DurationVar(&s.IdleTimeout, "idle-timeout", mockserver.DefaultIdleTimeout, "how long an idle keep-alive connection stays open")
	cfg.GCHeadroom = gcheadroom.Default
	fs.Var((*sizeOrZeroValue)(&cfg.GCHeadroom), "gc-headroom", "let the heap grow by at least this `size` between garbage collections: less CPU per save for at most that much more memory (at most a quarter of GOMEMLIMIT when set; 0: Go's pacing, growth equal to the live heap); a GOGC in the environment wins")
	fs.StringVar(&cfg.PprofAddr, "pprof-addr", "", "also serve Go's net/http/pprof profiles on this address (e.g. 127.0.0.1:6060); default: off")
	fs.StringVar(&state, "state", "", "where the state is kept: a SQLite `file` (or sqlite:PATH), or a postgres:// URL; default: in memory, lost on exit")
	fs.choice(&stateSync, "state-sync", "", []string{"normal", "full"}, "`mode` of a SQLite state file: normal (a save survives a crash of the process) or full (a power loss too: an fsync per save); default normal")
	cfg.PreloadOptions.MaxFileBytes = mockserver.DefaultPreloadMaxBytes
	fs.Var((*sizeValue)(&cfg.PreloadOptions.MaxFileBytes), "preload-max-bytes", "largest file --preload reads: a `size` (as --max-body)")
	fs.observeFlags(s)
	fs.StringVar(&cfg.PreloadBusiness, "preload-business", "", `business that --preload saves into (default "demo"; with --users: the first account's business)`)
	var err error
	if cfg.notes, err = fs.parse(args, getenv); err != nil {
		return cfg, err
	}
	_ = cfg.LogLevel.UnmarshalText([]byte(level)) // a choice of the names it knows
	// The server's own settings (--webhook, --token-ttl, --lockout-*,
	// --rate-limit) are checked by mockserver.New, once, in runMock.
	if err := cfg.Rules.check(); err != nil {
		return cfg, fs.usageErr(err)
	}
	if cfg.State, err = parseState(state, stateSync); err != nil {
		return cfg, fs.usageErr(err)
	}
	return cfg, nil
}

func runMock(ctx context.Context, cfg mockConfig, e env) error {
	// The log is flushed every 100 ms rather than written line by line: one
	// write system call per request took a fifth of a small save's time.
	logOut := flushwriter.New(e.stderr, 100*time.Millisecond)
	defer logOut.Close()
	defer gcheadroom.Start(cfg.GCHeadroom)()
	st, err := openStore(ctx, cfg.State)
	if err != nil {
		return fmt.Errorf("mock: %w", err)
	}
	defer func() { // after the server's Close
		if err := st.Close(); err != nil && cfg.Server.Logger != nil {
			cfg.Server.Logger.Error("closing the state", "err", err)
		}
	}()
	cfg.Server.Store = st
	if note := cfg.fitConnsToFileLimit(); note != "" {
		fmt.Fprintln(e.stdout, note)
	}
	mock, err := cfg.newServer(logOut)
	if err != nil {
		return fmt.Errorf("mock: %w", err)
	}
	defer func() { // after the HTTP server's shutdown, before the store's close and the log's flush
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), mockWebhookDrain)
		defer cancel()
		mock.Shutdown(ctx) // in memory: deliver the pending webhooks first, for a while
	}()
	// Listen (and on --pprof-addr) before preloading, so that a busy port
	// fails at once, not after a long preload, its summary and the banner.
	ln, err := listen(cfg.Addr, "--addr")
	if err != nil {
		return fmt.Errorf("mock: %w", err)
	}
	defer ln.Close() // in case of an early return; Shutdown closes it too
	var pprofLn net.Listener
	if cfg.PprofAddr != "" {
		if pprofLn, err = listen(cfg.PprofAddr, "--pprof-addr"); err != nil {
			return fmt.Errorf("mock: --pprof-addr: %w", err)
		}
		defer pprofLn.Close()
	}
	if len(cfg.Preload) > 0 {
		st, err := mock.Preload(ctx, cfg.PreloadBusiness, cfg.PreloadOptions, cfg.Preload...)
		if err != nil {
			return fmt.Errorf("mock: %w", err)
		}
		printPreload(e.stdout, st, cfg.PreloadBusiness)
	}
	srv := mock.HTTPServer()
	cfg.printBanner(e.stdout, "http://"+ln.Addr().String())

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if pprofLn != nil {
		defer servePprof(pprofLn, mock, e.stdout)()
	}
	return serveUntilDone(ctx, srv, mock.Listener(ln), cfg.Server.Logger)
}

// newServer reads the users file and the rules and builds the mock, logging
// to w. It settles the preload business too.
func (cfg *mockConfig) newServer(w io.Writer) (*mockserver.Server, error) {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var handler slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.LogFormat == "json" {
		handler = slog.NewJSONHandler(w, opts)
	}
	cfg.Server.Logger = slog.New(handler)
	rc, err := cfg.Rules.resolve()
	if err != nil {
		return nil, err
	}
	cfg.Server.Rules = &rc
	if cfg.UsersFile != "" {
		f, err := os.Open(cfg.UsersFile)
		if err != nil {
			return nil, fmt.Errorf("--users: %w", err)
		}
		users, err := mockserver.ParseUsers(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("--users %s: %w", cfg.UsersFile, err)
		}
		cfg.Server.Users = users
	}
	if cfg.PreloadBusiness == "" {
		cfg.PreloadBusiness = mockDefaultPreloadBusiness
		if cfg.Server.Users != nil {
			cfg.PreloadBusiness = cfg.Server.Users[0].Business
		}
	}
	return mockserver.New(cfg.Server)
}

// printPreload says what the preload saved and, when it rejected records,
// why: the errors by code and the first few records.
func printPreload(w io.Writer, st mockserver.PreloadStats, business string) {
	fmt.Fprintf(w, "preloaded %s and %s from %s into business %q: %s added, %s rejected\n",
		words.Count(st.Customers, "customer"), words.Count(st.Relations, "relation"), words.Count(st.Files, "file"),
		business, words.Count(st.Added, "customer"), words.Count(st.Rejected, "record"))
	if st.Rejected == 0 {
		return
	}
	fmt.Fprintf(w, "preload: errors by code: %s\n", st.CodesString())
	for _, r := range st.Examples {
		fmt.Fprintf(w, "preload: rejected %s\n", r)
	}
	if st.Codes["relation_customer_unknown"] > 0 {
		fmt.Fprintln(w, "preload: relation_customer_unknown: the relation names a customer that no preloaded file has (the customers of every file are saved before any relation), or one that was rejected")
	}
}

// fileReserve is how many files the mock keeps for itself beyond its
// connections (the listeners, the state, the log, a webhook's connections).
const fileReserve = 64

// fitConnsToFileLimit lowers --max-conns under the process's limit of open
// files, so that a flood of connections meets the cap (a closed idle
// connection or a 503) rather than "too many open files" in accept; it
// returns a line saying so, or "".
func (cfg *mockConfig) fitConnsToFileLimit() string {
	limit, ok := fileLimit()
	want := cfg.Server.MaxConns
	if want == 0 {
		want = mockserver.DefaultMaxConns
	}
	if !ok || limit >= uint64(want+fileReserve) || limit <= 2*fileReserve {
		return ""
	}
	cfg.Server.MaxConns = int(limit) - fileReserve
	return fmt.Sprintf("note: --max-conns lowered from %d to %d, under the limit of %d open files (raise it with ulimit -n)", want, cfg.Server.MaxConns, limit)
}

// printBanner says where the mock serves, in which mode, and how to try it,
// in one write.
func (cfg *mockConfig) printBanner(out io.Writer, url string) {
	w := &strings.Builder{}
	defer func() { io.WriteString(out, w.String()) }()
	exampleUser, examplePass := "demo", "demo"
	mode := "open mode: any username and password; the username names the business"
	if users := cfg.Server.Users; users != nil {
		exampleUser, examplePass = users[0].Username, "<password>"
		mode = fmt.Sprintf("%s from %s", words.Count(len(users), "account"), cfg.UsersFile)
	}
	fmt.Fprintf(w, "algoreg-kit mock serving on %s (%s; %s)\n", url, mode, cfg.State)
	if cfg.Server.AdminToken != "" {
		fmt.Fprintln(w, "operator endpoints on under /__admin/operator (Authorization: Bearer <the --admin-token>)")
	}
	if cfg.Server.Lenient {
		fmt.Fprintln(w, "lenient: form-encoded token requests and any application/*+json type are accepted, which the vendor refuses (415); an integration that passes here may fail there")
	}
	var tokenBody bytes.Buffer
	enc := json.NewEncoder(&tokenBody)
	enc.SetEscapeHTML(false) // "<password>" as it is
	enc.Encode(openapi.TokenRequest{GrantType: "password", Username: exampleUser, Password: examplePass})
	fmt.Fprintf(w, "try: TOKEN=$(curl -s -H 'Content-Type: application/json' -d '%s' %s/api/v1/token | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/') && curl -s -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d '{\"customers\":[{\"external_id\":\"c1\",\"account_type\":\"N\",\"last_name\":\"Doe\"}]}' %s/api/v1/customers/save\n",
		bytes.TrimSpace(tokenBody.Bytes()), url, url)
}

// listen listens on addr; an address in use gets a hint at flag, the flag
// that chose it.
func listen(addr, flag string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("listen on %s: the address is already in use (another mock?); pick another with %s, e.g. %s 127.0.0.1:0 for a free port", addr, flag, flag)
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// servePprof serves net/http/pprof on ln, with the mock's timeouts and
// header limit, until the returned function is called.
func servePprof(ln net.Listener, mock *mockserver.Server, stdout io.Writer) func() {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux}
	mock.ServerLimits(srv)
	go srv.Serve(ln)
	fmt.Fprintf(stdout, "profiles on http://%s/debug/pprof/ (go tool pprof http://%s/debug/pprof/profile?seconds=30)\n", ln.Addr(), ln.Addr())
	return func() { srv.Close() }
}

// serveUntilDone serves on ln until ctx ends, then shuts srv down, letting
// requests in flight finish (10 s at most).
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, logger *slog.Logger) error {
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("mock: serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("mock: shutdown: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("mock: serve: %w", err)
	}
	return nil
}
