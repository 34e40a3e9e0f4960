package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/algoreg-kit/algoreg-kit/internal/flushwriter"
	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

const mockUsage = `Usage: algoreg-kit mock [flags]

Runs the stateful mock of the Algoreg Save customers endpoint, at the vendor's
paths (POST /api/v1/customers/save, POST /api/v1/token): point your integration
at it by swapping the base URL. State is in memory, per business. Inspection
API under /__admin (same credentials), /healthz, /openapi.yaml.

Without --users, any username and password are accepted and the username names
the business (so "demo"/"demo" works out of the box). Every flag can also be
set with the environment variable ALGOREG_MOCK_<FLAG> (upper case, '-' as '_',
e.g. ALGOREG_MOCK_MAX_BATCH=500); a flag on the command line wins.

Examples:
  algoreg-kit mock
  algoreg-kit mock --addr 127.0.0.1:0 --log-level debug
  algoreg-kit mock --users users.csv --token-ttl 10m --rate-limit 5
  algoreg-kit mock --review-groups retail,eu --custom-fields segment,score --kyc-max 5
  algoreg-kit mock --relation-types 1=director,2=shareholder,42=auditor
  algoreg-kit mock --preload ./batches --preload-business demo
  ALGOREG_MOCK_ADDR=0.0.0.0:8080 algoreg-kit mock --validate-responses
  algoreg-kit mock --log-level warn --pprof-addr 127.0.0.1:6060

Users file (--users): CSV with the header username,password,business, e.g.
  username,password,business
  api@acme.example,s3cret,acme
Preload (--preload): a Save customers request body (JSON file), a folder of
them named batch-*.json (applied in name order), or an NDJSON file (*.ndjson or
*.jsonl) with one customer or relation object per line; several, separated by
commas, are loaded in that order, e.g.
  algoreg-kit mock --preload customers.ndjson,relations.ndjson
`

// mockDefaultPreloadBusiness is the business a newcomer's "demo" user lands in.
const mockDefaultPreloadBusiness = "demo"

func runMock(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("mock", mockUsage, e)
	def := rules.DefaultConfig()
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	usersFile := fs.String("users", "", "CSV file of fixed accounts (username,password,business); default: open mode")
	tokenTTL := fs.Duration("token-ttl", mockserver.DefaultTokenTTL, "lifetime of access tokens")
	maxBody := fs.String("max-body", "16MiB", "largest request body (bytes, or with a KiB/MiB/GiB/KB/MB/GB suffix)")
	maxBatch := fs.Int("max-batch", def.MaxBatch, "most customers per save request (more: 413)")
	riskLimit := fs.Int("risk-scan-limit", def.RiskScanLimit, "above this many customers saved by one request, disable_risk_scan is forced to true")
	kycMin := fs.Int64("kyc-min", def.KYCMin, "lowest valid kyc_level and kyc_level_requested")
	kycMax := fs.Int64("kyc-max", def.KYCMax, "highest valid kyc_level and kyc_level_requested")
	reviewGroups := fs.String("review-groups", "", "comma-separated known review groups (others get review_group_unknown); default: any")
	customFields := fs.String("custom-fields", "", "comma-separated known custom fields (others are dropped with custom_field_unknown); default: any")
	relationTypes := fs.String("relation-types", "", "relation-type table: a list such as 1=director,2=shareholder (or 1,2,3), or a file with one value[,name] per line; default: the document's 1-10")
	rateLimit := fs.Float64("rate-limit", 0, "save requests per second per business (0: unlimited); over it, 429 with Retry-After")
	lockoutN := fs.Int("lockout-threshold", mockserver.DefaultLockoutThreshold, "wrong passwords in a row that lock an account of --users")
	lockoutFor := fs.Duration("lockout-duration", mockserver.DefaultLockoutDuration, "how long a locked account stays locked")
	validateResponses := fs.Bool("validate-responses", false, "check every response against the OpenAPI document and log mismatches (slower)")
	kinValidation := fs.Bool("kin-validation", false, "validate save requests with kin-openapi's generic validator too (slow; for comparison)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "text or json")
	preload := fs.String("preload", "", "file or folder of data to save before serving, or several separated by commas (see above)")
	webhook := fs.String("webhook", "", "URL that receives the vendor's customers_updated webhook after every save that created or updated customers (not dry runs); default: off")
	pprofAddr := fs.String("pprof-addr", "", "also serve Go's net/http/pprof profiles on this address (e.g. 127.0.0.1:6060); default: off")
	preloadBusiness := fs.String("preload-business", mockDefaultPreloadBusiness, "business that --preload saves into (with --users: the first account's business)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := mockFlagsFromEnv(fs, e.getenv); err != nil {
		return err
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("mock: --log-level %q: use debug, info, warn or error", *logLevel)
	}
	// The log is flushed every 100 ms rather than written line by line: one
	// write system call per request took a fifth of a small save's time.
	logOut := flushwriter.New(e.stderr, 100*time.Millisecond)
	defer logOut.Close()
	var handler slog.Handler
	switch *logFormat {
	case "text":
		handler = slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: level})
	case "json":
		handler = slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: level})
	default:
		return fmt.Errorf("mock: --log-format %q: use text or json", *logFormat)
	}
	logger := slog.New(handler)

	rc := def
	rc.MaxBatch, rc.RiskScanLimit, rc.KYCMin, rc.KYCMax = *maxBatch, *riskLimit, *kycMin, *kycMax
	rc.ReviewGroups = mockSplitList(*reviewGroups)
	rc.CustomFields = mockSplitList(*customFields)
	if *relationTypes != "" {
		rts, err := mockRelationTypes(*relationTypes)
		if err != nil {
			return fmt.Errorf("mock: --relation-types: %w", err)
		}
		rc.RelationTypes = rts
	}
	body, err := mockParseSize(*maxBody)
	if err != nil {
		return fmt.Errorf("mock: --max-body: %w", err)
	}
	rc.MaxBody = body
	if err := rc.Validate(); err != nil {
		return fmt.Errorf("mock: %w", err)
	}
	cfg := mockserver.Config{
		Rules: &rc, TokenTTL: *tokenTTL, RateLimit: *rateLimit,
		LockoutThreshold: *lockoutN, LockoutDuration: *lockoutFor,
		Logger: logger, ValidateResponses: *validateResponses, KinValidation: *kinValidation,
		WebhookURL: *webhook,
	}
	if *webhook != "" {
		if u, err := url.Parse(*webhook); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("mock: --webhook %q: want an http:// or https:// URL", *webhook)
		}
	}
	if *tokenTTL <= 0 || *lockoutN <= 0 || *lockoutFor <= 0 || *rateLimit < 0 {
		return errors.New("mock: --token-ttl, --lockout-threshold and --lockout-duration must be positive, --rate-limit not negative")
	}
	exampleUser, examplePass := "demo", "demo"
	if *usersFile != "" {
		f, err := os.Open(*usersFile)
		if err != nil {
			return fmt.Errorf("mock: --users: %w", err)
		}
		users, err := mockserver.ParseUsers(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("mock: --users %s: %w", *usersFile, err)
		}
		cfg.Users = users
		exampleUser, examplePass = users[0].Username, "<password>"
		if !mockFlagSet(fs, e.getenv, "preload-business") {
			*preloadBusiness = users[0].Business
		}
	}
	mock := mockserver.New(cfg)

	if *preload != "" {
		st, err := mock.Preload(ctx, *preloadBusiness, strings.Split(*preload, ",")...)
		if err != nil {
			return fmt.Errorf("mock: %w", err)
		}
		fmt.Fprintf(e.stdout, "preloaded %d customers and %d relations from %d file(s) into business %q: %d customers added, %d records rejected\n",
			st.Customers, st.Relations, st.Files, *preloadBusiness, st.Added, st.Rejected)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("mock: listen on %s: %w", *addr, err)
	}
	srv := mock.HTTPServer()
	url := "http://" + ln.Addr().String()
	mode := "open mode: any username and password; the username names the business"
	if cfg.Users != nil {
		mode = fmt.Sprintf("%d account(s) from %s", len(cfg.Users), *usersFile)
	}
	fmt.Fprintf(e.stdout, "algoreg-kit mock serving on %s (%s)\n", url, mode)
	fmt.Fprintf(e.stdout, "try: TOKEN=$(curl -s -d grant_type=password -d username=%s -d password=%s %s/api/v1/token | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/') && curl -s -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d '{\"customers\":[{\"external_id\":\"c1\",\"account_type\":\"N\",\"last_name\":\"Doe\"}]}' %s/api/v1/customers/save\n",
		exampleUser, examplePass, url, url)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *pprofAddr != "" {
		pln, err := net.Listen("tcp", *pprofAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("mock: --pprof-addr %s: %w", *pprofAddr, err)
		}
		pmux := http.NewServeMux()
		pmux.HandleFunc("/debug/pprof/", pprof.Index)
		pmux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		pmux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		pmux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		pmux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		psrv := &http.Server{Handler: pmux, ReadHeaderTimeout: 10 * time.Second}
		go psrv.Serve(pln)
		defer psrv.Close()
		fmt.Fprintf(e.stdout, "profiles on http://%s/debug/pprof/ (go tool pprof http://%s/debug/pprof/profile?seconds=30)\n", pln.Addr(), pln.Addr())
	}
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

// mockFlagsFromEnv sets every flag not given on the command line from
// ALGOREG_MOCK_<FLAG>, when that variable is set.
func mockFlagsFromEnv(fs *flag.FlagSet, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		name := "ALGOREG_MOCK_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("mock: %s=%q: %w", name, v, serr)
			}
		}
	})
	return err
}

// mockFlagSet reports whether flag name was given on the command line or by
// its environment variable.
func mockFlagSet(fs *flag.FlagSet, getenv func(string) string, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given || getenv("ALGOREG_MOCK_"+strings.ToUpper(strings.ReplaceAll(name, "-", "_"))) != ""
}

func mockSplitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// mockRelationTypes reads "1=director,2=shareholder" or "1,2,3", or, when s
// names an existing file, one "value[,name]" per line ('#' starts a comment).
func mockRelationTypes(s string) ([]rules.RelationType, error) {
	var items []string
	where := func(i int) string { return fmt.Sprintf("item %d", i+1) }
	if f, err := os.Open(s); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line, _, _ := strings.Cut(sc.Text(), "#")
			items = append(items, line)
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
		where = func(i int) string { return fmt.Sprintf("%s line %d", s, i+1) }
	} else {
		items = strings.Split(s, ",")
		for i := range items {
			items[i] = strings.Replace(items[i], "=", ",", 1)
		}
	}
	var out []rules.RelationType
	for i, item := range items {
		if strings.TrimSpace(item) == "" {
			continue
		}
		v, name, _ := strings.Cut(item, ",")
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not an integer relation type", where(i), strings.TrimSpace(v))
		}
		out = append(out, rules.RelationType{Value: n, Name: strings.TrimSpace(name)})
	}
	if len(out) == 0 {
		return nil, errors.New("no relation type given")
	}
	return out, nil
}

// mockParseSize reads a byte count with an optional KiB/MiB/GiB/KB/MB/GB suffix.
func mockParseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"B", 1}}
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a positive size such as 16MiB or 1048576", s)
	}
	return n * mult, nil
}
