package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/algoreg-kit/algoreg-kit/contract"
	"github.com/algoreg-kit/algoreg-kit/fixtures"
	"github.com/algoreg-kit/algoreg-kit/internal/words"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

const fixturesUsage = `Usage: algoreg-kit fixtures [flags]

Generates a realistic, reproducible fake customer dataset (individuals, firms,
name variations, custom fields, relations), optionally with labelled invalid
records, and writes it as Save customers request bodies, NDJSON, one JSON
document or CSV, or posts it to a server and checks every answer.

The same --seed and flags give byte-identical output; record i does not depend
on --count. --invalid gives that share of records exactly one known defect
each, labelled in the --expectations file (JSON lines; never send it). The
labels assume customers the business does not have yet: use a fresh business
or a new --prefix for each load. The rule flags (--kyc-min, --kyc-max,
--review-groups, --custom-fields, --relation-types, --risk-scan-limit,
--max-batch, --max-body) describe the server the data is meant for, with the
syntax of algoreg-kit mock: valid records follow them, invalid ones break them.
With --post to an algoreg-kit mock, the data follows the mock's own rules (its
GET /__admin/config), the rule flags given overriding them; one line on stderr
says what was taken.

Examples:
  # 10 records to stdout, as one request body
  algoreg-kit fixtures --count 10

  # a million customers, one per line, with the summary on stderr
  algoreg-kit fixtures --count 1000000 --format ndjson --out customers.ndjson

  # request bodies of 500 customers in a folder, 5% invalid, with their labels
  algoreg-kit fixtures --count 20000 --batch-size 500 --invalid 0.05 \
      --out batches/ --expectations batches/expectations.jsonl

  # seed a running mock and check its answers against the labels
  algoreg-kit mock &
  algoreg-kit fixtures --count 50000 --invalid 0.02 --post http://127.0.0.1:8080 \
      --user me@example.com --password secret --concurrency 4

  # a flat file for a spreadsheet
  algoreg-kit fixtures --count 1000 --format csv --out customers.csv

  # NDJSON with the relations in a second file, then both into the mock
  algoreg-kit fixtures --count 100000 --format ndjson --out customers.ndjson \
      --relations-out relations.ndjson
  algoreg-kit mock --preload customers.ndjson,relations.ndjson
`

// fixturesConfig is everything "algoreg-kit fixtures" was told.
type fixturesConfig struct {
	parsed
	Count     int
	Seed      int64
	Format    fixtures.Format
	BatchSize int
	// Out, RelationsOut and Expectations are file names ("" for none; Out ""
	// or "-" is stdout).
	Out, RelationsOut, Expectations string
	// Options go to fixtures.New once runFixtures has set Server from Rules.
	Options fixtures.Options
	Rules   *ruleFlags
	// VerifyInput and DisableRiskScan set those fields in every request body.
	VerifyInput, DisableRiskScan bool
	// Post is the base URL to post to ("" writes files instead); Load holds
	// the credentials and the load's settings.
	Post     string
	Load     fixtures.LoadConfig
	Progress string // auto, always or never
}

func parseFixtures(args []string, getenv func(string) string) (fixturesConfig, error) {
	var cfg fixturesConfig
	fs := newFlagSet("fixtures", fixturesUsage)
	cfg.declare(fs)
	var err error
	if cfg.notes, err = fs.parse(args, getenv); err != nil {
		return cfg, err
	}
	cfg.Format, err = fixtures.ParseFormat(string(cfg.Format))
	o, lc := &cfg.Options, &cfg.Load
	o.Firms, o.Variations, lc.Retries = orNone(o.Firms), orNone(o.Variations), orNoRetries(lc.Retries)
	o.Shape, o.RelationsAside = cfg.Format.Shape(), cfg.RelationsOut != ""
	lc.BaseURL, lc.BatchSize, lc.VerifyOnly = cfg.Post, cfg.BatchSize, lc.VerifyOnly || cfg.VerifyInput
	switch {
	case err != nil:
		return cfg, fs.usageErrorf("--format: %v", err)
	case cfg.Count < 0:
		return cfg, fs.usageErrorf("--count %d is negative", cfg.Count)
	case cfg.BatchSize < 1:
		return cfg, fs.usageErrorf("--batch-size %d must be at least 1", cfg.BatchSize)
	case cfg.RelationsOut != "" && cfg.Format != fixtures.FormatNDJSON && cfg.Format != fixtures.FormatCSV:
		return cfg, fs.usageErrorf("--relations-out is for --format ndjson or csv; the %s format carries its relations itself", cfg.Format)
	case cfg.Post != "" && (cfg.Out != "" || cfg.Format != fixtures.FormatRequest || cfg.RelationsOut != ""):
		return cfg, fs.usageErrorf("--post sends request bodies to the server; drop --out, --format and --relations-out")
	case cfg.Post != "" && lc.Token == "" && (lc.User == "" || lc.Password == ""):
		return cfg, fs.usageErrorf("--post needs credentials: give --user and --password (or set ALGOREG_USER and ALGOREG_PASSWORD), or --token (or ALGOREG_TOKEN)")
	case cfg.Post == "" && cfg.Format == fixtures.FormatRequest && cfg.Out != "" && isFileName(cfg.Out):
		return cfg, fs.usageErrorf("the request format writes a folder of batch files, and %s looks like a file; give a folder, or use --format json for one document", cfg.Out)
	}
	if err := cfg.Rules.check(); err != nil {
		return cfg, fs.usageErr(err)
	}
	return cfg, nil
}

// declare declares the flags of "algoreg-kit fixtures" into cfg.
func (cfg *fixturesConfig) declare(fs *flagSet) {
	o, lc := &cfg.Options, &cfg.Load
	fs.IntVar(&cfg.Count, "count", 10, "number of records (slots; an invalid record that needs a partner adds one)")
	fs.Int64Var(&cfg.Seed, "seed", fixtures.DefaultSeed, "seed of the dataset (not 0)")
	fs.StringVar((*string)(&cfg.Format), "format", string(fixtures.FormatRequest), "output format: request, ndjson, json or csv")
	fs.IntVar(&cfg.BatchSize, "batch-size", fixtures.DefaultBatchSize, "most customers per request body (request format, --post)")
	fs.StringVar(&cfg.Out, "out", "", "output file, or for the request format a folder that gets batch-00001.json, batch-00002.json, …; stdout when empty (request bodies one per line)")
	fs.StringVar(&cfg.RelationsOut, "relations-out", "", "with --format ndjson or csv: also write the relations to this file (NDJSON lines, or a CSV table); load it after the customers")
	fs.StringVar(&cfg.Expectations, "expectations", "", "write the labels of invalid records to this file (JSON lines), also with --post")
	fs.Float64Var(&o.Firms, "firms", fixtures.DefaultFirms, "share of firms among customers, 0 to 1")
	fs.Float64Var(&o.Invalid, "invalid", 0, "share of records with exactly one labelled defect, 0 to 1")
	fs.Var((*listValue)(&o.Codes), "codes", "comma-separated `codes` the defects are drawn from (default: every code the format and server allow)")
	fs.Float64Var(&o.Variations, "variations", fixtures.DefaultVariations, "share of customers with name variations, 0 to 1")
	fs.StringVar(&o.Prefix, "prefix", "", "prefix of every external_id and relation_external_id")
	cfg.Rules = fs.ruleFlags()
	fs.BoolVar(&cfg.VerifyInput, "verify-input", false, "set verify_input: true in every request body")
	fs.BoolVar(&cfg.DisableRiskScan, "disable-risk-scan", false, "set disable_risk_scan: true in every request body")
	fs.StringVar(&cfg.Post, "post", "", "post the dataset to this base URL (e.g. http://127.0.0.1:8080) instead of writing it")
	fs.StringVar(&lc.Token, "token", "", "bearer token for --post")
	fs.StringVar(&lc.User, "user", "", "user for --post: gets a token from URL/api/v1/token, or Basic with --basic")
	fs.StringVar(&lc.Password, "password", "", "password for --user")
	fs.BoolVar(&lc.Basic, "basic", false, "with --user: send HTTP Basic credentials instead of getting a token")
	fs.BoolVar(&lc.VerifyOnly, "verify-only", false, "with --post: send verify_input: true, so the server checks and stores nothing")
	fs.IntVar(&lc.Concurrency, "concurrency", 4, "with --post: requests in flight")
	fs.IntVar(&lc.Retries, "retries", 5, "with --post: retries of a request on 429, 5xx or a connection error, with backoff")
	fs.choice(&cfg.Progress, "progress", "auto", []string{"auto", "always", "never"}, "`mode` of the progress bar on stderr: auto (when stderr is a terminal), always or never")
}

func runFixtures(ctx context.Context, cfg fixturesConfig, e env) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	rc, err := cfg.Rules.resolve()
	if err == nil && cfg.Post != "" {
		lc := cfg.Load
		rc, _, err = targetRules(ctx, e.stderr, "fixtures", cfg.Rules,
			contract.Config{Target: cfg.Post, User: lc.User, Password: lc.Password, Token: lc.Token, Basic: lc.Basic},
			printUnreachable(e.stderr, "fixtures"))
	}
	if err != nil {
		return fmt.Errorf("fixtures: %w", err)
	}
	cfg.Options.Server = rc
	g, err := fixtures.New(cfg.Seed, cfg.Options)
	if err != nil {
		return fmt.Errorf("fixtures: %w", err)
	}
	bar := newBar(e.stderr, cfg.Progress, cfg.Count)
	if cfg.Post != "" {
		return postFixtures(ctx, cfg, g, bar, e.stderr)
	}
	return writeFixtures(ctx, cfg, g, bar, e)
}

// postFixtures posts the dataset and checks every answer against the labels.
func postFixtures(ctx context.Context, cfg fixturesConfig, g *fixtures.Generator, bar *bar, stderr io.Writer) error {
	start := time.Now()
	lc := cfg.Load
	lc.Progress = bar.set
	if cfg.DisableRiskScan {
		lc.DisableRiskScan = &cfg.DisableRiskScan
	}
	var labels *os.File
	var bw *bufio.Writer
	if cfg.Expectations != "" {
		var err error
		if labels, err = os.Create(cfg.Expectations); err != nil {
			return fmt.Errorf("fixtures: %w", err)
		}
		bw = bufio.NewWriter(labels)
		lc.Expectations = bw
	}
	tally, err := fixtures.Load(ctx, g, cfg.Count, lc)
	bar.finish()
	if labels != nil {
		// The labels are written before the summary, which must not follow
		// a lost write.
		if ferr := errors.Join(bw.Flush(), labels.Close()); ferr != nil {
			return fmt.Errorf("fixtures: write %s: %w", cfg.Expectations, ferr)
		}
	}
	if err != nil {
		if tally.Requests > 0 {
			return fmt.Errorf("fixtures: post to %s: %w (after %s answered)", cfg.Post, err, words.Count(tally.Requests, "request"))
		}
		return fmt.Errorf("fixtures: post to %s: %w", cfg.Post, err)
	}
	printTally(stderr, tally, cfg.Seed, cfg.Count, time.Since(start))
	if n := len(tally.Mismatches); n > 0 {
		return fmt.Errorf("fixtures: %s differ from the labels (listed above)", words.Count(n, "answer"))
	}
	return nil
}

// writeFixtures writes the dataset to stdout, a file or a folder.
func writeFixtures(ctx context.Context, cfg fixturesConfig, g *fixtures.Generator, bar *bar, e env) error {
	start := time.Now()
	o := fixtures.Output{Format: cfg.Format, BatchSize: cfg.BatchSize, Progress: bar.set, W: e.stdout}
	if cfg.VerifyInput {
		o.VerifyInput = &cfg.VerifyInput
	}
	if cfg.DisableRiskScan {
		o.DisableRiskScan = &cfg.DisableRiskScan
	}
	dest, closers, err := openOutputs(cfg, &o)
	var st fixtures.Stats
	if err == nil {
		st, err = fixtures.Write(ctx, g, cfg.Count, o)
		if err != nil {
			err = fmt.Errorf("write %s: %w", dest, err)
		}
	}
	for _, c := range closers {
		if cerr := c.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write %s: %w", dest, cerr)
		}
	}
	bar.finish()
	if err != nil {
		return fmt.Errorf("fixtures: %w", err)
	}
	d := time.Since(start)
	fmt.Fprintf(e.stderr, "fixtures: %s, %s, %d invalid (labelled) from %s, %s to %s in %s (%.0f customers/s), seed %d\n",
		words.Count(st.Customers, "customer"), words.Count(st.Relations, "relation"), st.Labelled, words.Count(st.Slots, "record"),
		cfg.Format, dest, words.Took(d), perSecond(st.Customers, d), cfg.Seed)
	return nil
}

// openOutputs points o at the files cfg names, and returns the description
// of the destination and the files to close (also when it fails).
func openOutputs(cfg fixturesConfig, o *fixtures.Output) (dest string, closers []io.Closer, err error) {
	create := func(name string) (*os.File, error) {
		f, err := os.Create(name)
		if err == nil {
			closers = append(closers, f)
		}
		return f, err
	}
	dest = "stdout"
	switch {
	case cfg.Out == "" || cfg.Out == "-":
	case cfg.Format == fixtures.FormatRequest:
		o.W, o.Dir, dest = nil, cfg.Out, strings.TrimRight(cfg.Out, string(filepath.Separator))+string(filepath.Separator)
	default:
		if o.W, err = create(cfg.Out); err != nil {
			return dest, closers, err
		}
		dest = cfg.Out
	}
	if cfg.RelationsOut != "" {
		if o.Relations, err = create(cfg.RelationsOut); err != nil {
			return dest, closers, err
		}
		dest += " (relations to " + cfg.RelationsOut + ")"
	}
	if cfg.Expectations != "" {
		if dir := filepath.Dir(cfg.Expectations); dir != "." {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return dest, closers, err
			}
		}
		if o.Expectations, err = create(cfg.Expectations); err != nil {
			return dest, closers, err
		}
	}
	return dest, closers, nil
}

// isFileName reports whether path looks like a JSON file rather than a
// folder for request batches.
func isFileName(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json", ".jsonl", ".ndjson":
		return true
	}
	return false
}

// orNone maps a share of 0 to the generator's "none" (a negative share),
// since 0 means "the default" in fixtures.Options.
func orNone(share float64) float64 {
	if share == 0 {
		return -1
	}
	return share
}

func orNoRetries(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

func printTally(w io.Writer, t fixtures.Tally, seed int64, records int, d time.Duration) {
	fmt.Fprintf(w, "fixtures: posted %s (%s, %s) in %s (%s) in %s (%.0f customers/s), seed %d\n",
		words.Count(records, "record"), words.Count(t.Customers, "customer"), words.Count(t.Relations, "relation"),
		words.Count(t.Requests, "request"), words.Count(t.Retries, "retry"), words.Took(d), perSecond(t.Customers, d), seed)
	fmt.Fprintf(w, "fixtures: added %d; errors %s; warnings %s\n", t.Added, byCode(t.Errors), byCode(t.Warnings))
	if t.Recovered > 0 {
		fmt.Fprintf(w, "fixtures: %s of the added by attempts whose answers were lost: the retries of their batches found them stored\n", words.Count(t.Recovered, "customer"))
	}
	if t.Skipped > 0 {
		fmt.Fprintf(w, "fixtures: %s to customers of earlier batches not sent (a dry run stores no customer)\n", words.Count(t.Skipped, "relation"))
	}
	fmt.Fprintf(w, "fixtures: %s, %s\n", words.Count(t.Expected, "labelled record"), words.Count(len(t.Mismatches), "mismatch"))
	if len(t.Mismatches) == 0 {
		return
	}
	kinds := map[string]int{}
	for _, m := range t.Mismatches {
		kinds[m.Kind+" "+m.Code]++
	}
	fmt.Fprintf(w, "fixtures: mismatches by kind and code: %s\n", byCode(kinds))
	for _, h := range mismatchHints(kinds) {
		fmt.Fprintf(w, "fixtures: hint: %s\n", h)
	}
	const most = 20
	for k, m := range t.Mismatches {
		if k == most {
			fmt.Fprintf(w, "  … and %d more\n", len(t.Mismatches)-most)
			break
		}
		fmt.Fprintf(w, "  %s\n", m)
	}
}

// mismatchHints names the usual causes of a pattern of mismatches.
func mismatchHints(kinds map[string]int) []string {
	var out []string
	if kinds["unexpected "+rules.CustomFieldUnknown] > 0 {
		out = append(out, "the server has a custom-field list: pass it with --custom-fields so that valid records use only those fields")
	}
	if kinds["unexpected "+rules.ReviewGroupUnknown] > 0 {
		out = append(out, "the server has a review-group list: pass it with --review-groups so that valid records use only those groups")
	}
	if kinds["missing "+rules.ReviewGroupUnknown]+kinds["missing "+rules.CustomFieldUnknown] > 0 {
		out = append(out, "review_group_unknown and custom_field_unknown need the server configured with the lists given to --review-groups and --custom-fields")
	}
	for _, code := range []string{rules.AccountTypeMissing, rules.LastNameMissing, rules.CompanyNameMissing, rules.RelationCustomerMissing} {
		if kinds["missing "+code] > 0 {
			out = append(out, "creation rules only fire for new customers: were these ids loaded before? use a fresh business or a new --prefix")
			break
		}
	}
	return out
}

func byCode(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

// bar is a progress bar on stderr, or nothing.
type bar struct{ pb *progressbar.ProgressBar }

func newBar(w io.Writer, mode string, total int) *bar {
	show := mode == "always"
	if mode == "auto" {
		f, ok := w.(*os.File)
		show = ok && term.IsTerminal(int(f.Fd()))
	}
	if !show || total == 0 {
		return &bar{}
	}
	return &bar{pb: progressbar.NewOptions64(int64(total),
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("records"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("records"),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)}
}

func (b *bar) set(n int) {
	if b.pb != nil {
		_ = b.pb.Set64(int64(n))
	}
}

func (b *bar) finish() {
	if b.pb != nil {
		_ = b.pb.Finish()
	}
}
