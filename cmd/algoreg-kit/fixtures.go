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

	"github.com/algoreg-kit/algoreg-kit/fixtures"
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
or a new --prefix for each load.

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

func runFixtures(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("fixtures", fixturesUsage, e)
	count := fs.Int("count", 10, "number of records (slots; an invalid record that needs a partner adds one)")
	seed := fs.Int64("seed", fixtures.DefaultSeed, "seed of the dataset (not 0)")
	format := fs.String("format", "request", "output format: request, ndjson, json or csv")
	batchSize := fs.Int("batch-size", fixtures.DefaultBatchSize, "most customers per request body (request format, --post)")
	out := fs.String("out", "", "output file, or for the request format a folder that gets batch-00001.json, batch-00002.json, …; stdout when empty (request bodies one per line)")
	relationsOut := fs.String("relations-out", "", "with --format ndjson or csv: also write the relations to this file (NDJSON lines, or a CSV table); load it after the customers")
	expectations := fs.String("expectations", "", "write the labels of invalid records to this file (JSON lines), also with --post")
	firms := fs.Float64("firms", fixtures.DefaultFirms, "share of firms among customers, 0 to 1")
	invalid := fs.Float64("invalid", 0, "share of records with exactly one labelled defect, 0 to 1")
	codes := fs.String("codes", "", "comma-separated codes the defects are drawn from (default: every code the format and server allow)")
	variations := fs.Float64("variations", fixtures.DefaultVariations, "share of customers with name variations, 0 to 1")
	prefix := fs.String("prefix", "", "prefix of every external_id and relation_external_id")
	reviewGroups := fs.String("review-groups", "", "the server's review-group list (comma-separated): valid records use only these, and review_group_unknown joins the defects")
	customFields := fs.String("custom-fields", "", "the server's custom-field list (comma-separated): valid records use only these, and custom_field_unknown joins the defects")
	kycMin := fs.Int64("kyc-min", rules.DefaultKYCMin, "the server's lowest kyc level")
	kycMax := fs.Int64("kyc-max", rules.DefaultKYCMax, "the server's highest kyc level")
	relationTypes := fs.String("relation-types", "", "the server's relation-type table, as for algoreg-kit mock (1=director,2=shareholder, 1,2,3, or a file); default: the document's 1-10")
	verifyInput := fs.Bool("verify-input", false, "set verify_input: true in every request body")
	disableRisk := fs.Bool("disable-risk-scan", false, "set disable_risk_scan: true in every request body")
	post := fs.String("post", "", "post the dataset to this base URL (e.g. http://127.0.0.1:8080) instead of writing it")
	// Credentials default to the environment after parsing, so that -h never
	// prints them.
	token := fs.String("token", "", "bearer token for --post (default $ALGOREG_TOKEN)")
	user := fs.String("user", "", "user for --post: gets a token from URL/api/v1/token, or Basic with --basic (default $ALGOREG_USER)")
	password := fs.String("password", "", "password for --user (default $ALGOREG_PASSWORD)")
	basic := fs.Bool("basic", false, "with --user: send HTTP Basic credentials instead of getting a token")
	verifyOnly := fs.Bool("verify-only", false, "with --post: send verify_input: true, so the server checks and stores nothing")
	concurrency := fs.Int("concurrency", 4, "with --post: requests in flight")
	retries := fs.Int("retries", 5, "with --post: retries of a request on 429, 5xx or a connection error, with backoff")
	progress := fs.String("progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always or never")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	for _, c := range []struct {
		v   *string
		env string
	}{{token, "ALGOREG_TOKEN"}, {user, "ALGOREG_USER"}, {password, "ALGOREG_PASSWORD"}} {
		if *c.v == "" {
			*c.v = e.getenv(c.env)
		}
	}
	f, err := fixtures.ParseFormat(*format)
	if err != nil {
		return fmt.Errorf("fixtures: %w", err)
	}
	if *count < 0 {
		return fmt.Errorf("fixtures: --count %d is negative", *count)
	}
	if *progress != "auto" && *progress != "always" && *progress != "never" {
		return fmt.Errorf("fixtures: --progress %q: use auto, always or never", *progress)
	}
	if *batchSize < 1 {
		return fmt.Errorf("fixtures: --batch-size %d must be at least 1", *batchSize)
	}
	server := rules.DefaultConfig()
	server.KYCMin, server.KYCMax = *kycMin, *kycMax
	server.ReviewGroups, server.CustomFields = splitList(*reviewGroups), splitList(*customFields)
	if *relationTypes != "" {
		rts, err := mockRelationTypes(*relationTypes)
		if err != nil {
			return fmt.Errorf("fixtures: --relation-types: %w", err)
		}
		server.RelationTypes = rts
	}
	opts := fixtures.Options{
		Firms: orNone(*firms), Invalid: *invalid, Codes: splitList(*codes), Variations: orNone(*variations),
		Server: server, Prefix: *prefix, Shape: f.Shape(), RelationsAside: *relationsOut != "",
	}
	if *relationsOut != "" && f != fixtures.FormatNDJSON && f != fixtures.FormatCSV {
		return fmt.Errorf("fixtures: --relations-out is for --format ndjson or csv; the %s format carries its relations itself", f)
	}
	if *post != "" {
		if *out != "" || *format != "request" || *relationsOut != "" {
			return errors.New("fixtures: --post sends request bodies to the server; drop --out, --format and --relations-out")
		}
		opts.Shape = fixtures.ShapeRequest
	}
	g, err := fixtures.New(*seed, opts)
	if err != nil {
		return fmt.Errorf("fixtures: %w", err)
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	bar := newBar(e.stderr, *progress, *count)

	start := time.Now()
	if *post != "" {
		var drs *bool
		if *disableRisk {
			drs = disableRisk
		}
		lc := fixtures.LoadConfig{
			BaseURL: *post, Token: *token, User: *user, Password: *password, Basic: *basic,
			BatchSize: *batchSize, Concurrency: *concurrency, VerifyOnly: *verifyOnly || *verifyInput,
			DisableRiskScan: drs, Retries: orNoRetries(*retries), Progress: bar.set,
		}
		if *expectations != "" {
			file, err := os.Create(*expectations)
			if err != nil {
				return fmt.Errorf("fixtures: %w", err)
			}
			defer file.Close()
			bw := bufio.NewWriter(file)
			defer bw.Flush()
			lc.Expectations = bw
		}
		tally, err := fixtures.Load(ctx, g, *count, lc)
		bar.finish()
		printTally(e.stderr, tally, *seed, *count, time.Since(start))
		if err != nil {
			return fmt.Errorf("fixtures: post to %s: %w", *post, err)
		}
		if n := len(tally.Mismatches); n > 0 {
			return fmt.Errorf("fixtures: %d answers differ from the labels (listed above)", n)
		}
		return nil
	}

	o := fixtures.Output{Format: f, BatchSize: *batchSize, Progress: bar.set}
	if *verifyInput {
		o.VerifyInput = verifyInput
	}
	if *disableRisk {
		o.DisableRiskScan = disableRisk
	}
	dest := "stdout"
	var closers []io.Closer
	switch {
	case *out == "" || *out == "-":
		o.W = e.stdout
	case f == fixtures.FormatRequest:
		if isFileName(*out) {
			return fmt.Errorf("fixtures: the request format writes a folder of batch files, and %s looks like a file; give a folder, or use --format json for one document", *out)
		}
		o.Dir, dest = *out, strings.TrimRight(*out, string(filepath.Separator))+string(filepath.Separator)
	default:
		file, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("fixtures: %w", err)
		}
		closers = append(closers, file)
		o.W, dest = file, *out
	}
	if *relationsOut != "" {
		file, err := os.Create(*relationsOut)
		if err != nil {
			return fmt.Errorf("fixtures: %w", err)
		}
		closers = append(closers, file)
		o.Relations = file
		dest += " (relations to " + *relationsOut + ")"
	}
	if *expectations != "" {
		if dir := filepath.Dir(*expectations); dir != "." {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("fixtures: %w", err)
			}
		}
		file, err := os.Create(*expectations)
		if err != nil {
			return fmt.Errorf("fixtures: %w", err)
		}
		closers = append(closers, file)
		o.Expectations = file
	}
	st, err := fixtures.Write(ctx, g, *count, o)
	for _, c := range closers {
		if cerr := c.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}
	bar.finish()
	if err != nil {
		return fmt.Errorf("fixtures: write %s: %w", dest, err)
	}
	d := time.Since(start)
	fmt.Fprintf(e.stderr, "fixtures: %d customers, %d relations, %d invalid (labelled) from %d records, %s to %s in %s (%.0f customers/s), seed %d\n",
		st.Customers, st.Relations, st.Labelled, st.Slots, f, dest, d.Round(time.Millisecond), float64(st.Customers)/d.Seconds(), *seed)
	return nil
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

func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
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

func printTally(w io.Writer, t fixtures.Tally, seed int64, count int, d time.Duration) {
	fmt.Fprintf(w, "fixtures: posted %d records (%d customers, %d relations) in %d requests (%d retries) in %s (%.0f customers/s), seed %d\n",
		count, t.Customers, t.Relations, t.Requests, t.Retries, d.Round(time.Millisecond), float64(t.Customers)/d.Seconds(), seed)
	fmt.Fprintf(w, "fixtures: added %d; errors %s; warnings %s\n", t.Added, byCode(t.Errors), byCode(t.Warnings))
	if t.Skipped > 0 {
		fmt.Fprintf(w, "fixtures: %d relations to customers of earlier batches not sent (a dry run stores no customer)\n", t.Skipped)
	}
	fmt.Fprintf(w, "fixtures: %d labelled records, %d mismatches\n", t.Expected, len(t.Mismatches))
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
