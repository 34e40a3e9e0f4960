package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/algoreg-kit/algoreg-kit/contract"
	"github.com/algoreg-kit/algoreg-kit/fixtures"
	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

const contractUsage = `Usage: algoreg-kit contract [flags]

Checks that a server honours the Save customers contract: every response
against the OpenAPI document, and the business behaviour (upserts, partial
batches, relations, verify_input, tenants, every error and warning code, auth,
transport errors, seeded random batches and mutations). One line per check
(PASS, FAIL or SKIP with the reason); on failure the request, the response and
what was expected. Exit status 1 if any check fails.

With no --target it starts the mock in-process (two businesses, rule lists)
and checks it, so it works on a fresh clone.

Against a live tenant it is safe: every id it sends starts with a random run
prefix, it disables every customer it created at the end, --verify-only sends
only verify_input: true requests (nothing is persisted), checks that need the
mock's inspection API are skipped, and --rate bounds the requests per second.
See contract/README.md for exactly what a live run writes.

Credentials come from flags or, to keep them out of CI logs, from the
environment: ALGOREG_CONTRACT_USER, ALGOREG_CONTRACT_PASSWORD,
ALGOREG_CONTRACT_TOKEN, ALGOREG_CONTRACT_SECOND_USER,
ALGOREG_CONTRACT_SECOND_PASSWORD (and ALGOREG_CONTRACT_TARGET). They are never
printed.

Examples:
  algoreg-kit contract
  algoreg-kit contract --list
  algoreg-kit contract --run 'negative/code/' --junit contract.xml
  algoreg-kit contract --target http://127.0.0.1:8080 --user demo --password demo --second-user other --second-password x
  ALGOREG_CONTRACT_USER=api@acme.example ALGOREG_CONTRACT_PASSWORD=… \
    algoreg-kit contract --target https://api.algoreg.com/ --verify-only --rate 5 --json report.json
  algoreg-kit contract --seed 42 --cases 7 --run '^generative/valid-batches$'   # replay a failing case
`

func runContract(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("contract", contractUsage, e)
	target := fs.String("target", e.getenv("ALGOREG_CONTRACT_TARGET"), "base URL of the server to check (default: the mock, started in-process)")
	user := fs.String("user", "", "programmatic user (or ALGOREG_CONTRACT_USER)")
	password := fs.String("password", "", "its password (or ALGOREG_CONTRACT_PASSWORD)")
	token := fs.String("token", "", "a bearer token instead of --user and --password (or ALGOREG_CONTRACT_TOKEN)")
	basic := fs.Bool("basic", false, "send --user and --password as HTTP Basic instead of getting a token from /api/v1/token")
	secondUser := fs.String("second-user", "", "a second business's user, for the tenant-isolation check (or ALGOREG_CONTRACT_SECOND_USER)")
	secondPassword := fs.String("second-password", "", "its password (or ALGOREG_CONTRACT_SECOND_PASSWORD)")
	runRe := fs.String("run", "", "run only the checks whose ID matches this regular expression")
	skipRe := fs.String("skip", "", "leave out the checks whose ID matches this regular expression")
	cases := fs.Int("cases", contract.DefaultCases, "cases of each generative check")
	seed := fs.Int64("seed", 0, "seed of the generated data (0: random; the report prints it for replays)")
	rate := fs.Float64("rate", 0, "most requests per second (0: no bound)")
	parallel := fs.Int("parallel", contract.DefaultParallel, "checks run at once")
	verifyOnly := fs.Bool("verify-only", false, "send only verify_input: true saves, so nothing is persisted")
	reviewGroups := fs.String("review-groups", "", "the target's comma-separated review groups, if it has a list (enables the review_group_unknown check)")
	customFields := fs.String("custom-fields", "", "the target's comma-separated custom fields, if it has a list (enables the custom_field_unknown check)")
	def := rules.DefaultConfig()
	relationTypes := fs.String("relation-types", "", "the target's relation-type table, as for algoreg-kit mock (1=director,2=shareholder, 1,2,3, or a file); default: the document's 1-10")
	kycMin := fs.Int64("kyc-min", def.KYCMin, "the target's lowest valid kyc level")
	kycMax := fs.Int64("kyc-max", def.KYCMax, "the target's highest valid kyc level")
	riskLimit := fs.Int("risk-scan-limit", def.RiskScanLimit, "the target's risk-scan limit (checked on the mock only)")
	maxBody := fs.Int64("max-body", def.MaxBody, "the target's body limit in bytes (the 413 check sends one byte more)")
	maxBatch := fs.Int("max-batch", def.MaxBatch, "the target's batch limit (the 413 check sends one customer more)")
	timeout := fs.Duration("timeout", 30*time.Second, "timeout of one request")
	junit := fs.String("junit", "", "write a JUnit XML report to this file")
	jsonOut := fs.String("json", "", "write a JSON report to this file")
	list := fs.Bool("list", false, "list the checks (those --run and --skip pick) and exit")
	progress := fs.Bool("progress", false, "print each check's line to stderr as it finishes")
	if err := parseFlags(fs, args); err != nil {
		return err
	}

	fromEnv := func(v *string, name string) {
		if *v == "" {
			*v = e.getenv(name)
		}
	}
	fromEnv(user, "ALGOREG_CONTRACT_USER")
	fromEnv(password, "ALGOREG_CONTRACT_PASSWORD")
	fromEnv(token, "ALGOREG_CONTRACT_TOKEN")
	fromEnv(secondUser, "ALGOREG_CONTRACT_SECOND_USER")
	fromEnv(secondPassword, "ALGOREG_CONTRACT_SECOND_PASSWORD")

	rc := rules.DefaultConfig()
	rc.ReviewGroups = contractList(*reviewGroups)
	rc.CustomFields = contractList(*customFields)
	rc.KYCMin, rc.KYCMax, rc.RiskScanLimit, rc.MaxBatch, rc.MaxBody = *kycMin, *kycMax, *riskLimit, *maxBatch, *maxBody
	if *relationTypes != "" {
		rt, err := mockRelationTypes(*relationTypes)
		if err != nil {
			return fmt.Errorf("contract: --relation-types: %w", err)
		}
		rc.RelationTypes = rt
	}
	if err := rc.Validate(); err != nil {
		return fmt.Errorf("contract: the target's rules: %w", err)
	}
	cfg := contract.Config{
		Target: *target, User: *user, Password: *password, Token: *token, Basic: *basic,
		SecondUser: *secondUser, SecondPassword: *secondPassword,
		Seed: *seed, Cases: *cases, Rate: *rate, Parallel: *parallel, VerifyOnly: *verifyOnly,
		Rules:      &rc,
		HTTPClient: &http.Client{Timeout: *timeout},
	}
	if *progress {
		cfg.Progress = e.stderr
	}
	var err error
	if cfg.Run, err = compileFlag("run", *runRe); err != nil {
		return err
	}
	if cfg.Skip, err = compileFlag("skip", *skipRe); err != nil {
		return err
	}
	if *list {
		return listChecks(e.stdout, cfg.Run, cfg.Skip)
	}
	if *cases <= 0 {
		return fmt.Errorf("contract: --cases %d: give at least 1", *cases)
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.Target == "" {
		shutdown, err := startInProcessMock(&cfg)
		if err != nil {
			return fmt.Errorf("contract: start the in-process mock: %w", err)
		}
		defer shutdown()
		fmt.Fprintf(e.stderr, "no --target: checking the mock, started in-process at %s\n", cfg.Target)
	}
	rep, err := contract.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("contract: %w", err)
	}
	if err := rep.WriteText(e.stdout); err != nil {
		return err
	}
	if err := writeReport(*junit, rep.WriteJUnit); err != nil {
		return err
	}
	if err := writeReport(*jsonOut, rep.WriteJSON); err != nil {
		return err
	}
	if !rep.OK() {
		return fmt.Errorf("contract: %d of %d checks failed: %s", rep.Count(contract.Fail), len(rep.Checks), strings.Join(rep.Failed(), ", "))
	}
	return nil
}

func compileFlag(name, expr string) (*regexp.Regexp, error) {
	if expr == "" {
		return nil, nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("contract: --%s %q is not a regular expression: %w", name, expr, err)
	}
	return re, nil
}

func contractList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func writeReport(path string, write func(io.Writer) error) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("contract: write the report: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("contract: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("contract: write %s: %w", path, err)
	}
	return nil
}

// listChecks lists the checks that --run and --skip pick.
func listChecks(w io.Writer, run, skip *regexp.Regexp) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tNEEDS\tDESCRIPTION")
	for _, c := range contract.Checks() {
		if (run != nil && !run.MatchString(c.ID)) || (skip != nil && skip.MatchString(c.ID)) {
			continue
		}
		var needs []string
		if c.NeedsInspection {
			needs = append(needs, "mock")
		}
		if c.NeedsPersistence {
			needs = append(needs, "writes")
		}
		if c.NeedsSecondBusiness {
			needs = append(needs, "2nd-user")
		}
		n := strings.Join(needs, ",")
		if n == "" {
			n = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.ID, n, c.Description)
	}
	return tw.Flush()
}

// startInProcessMock starts the mock on a loopback port with two businesses
// (random passwords) and lists of review groups and custom fields, and
// points cfg at it. The returned function stops it.
func startInProcessMock(cfg *contract.Config) (func(), error) {
	rc := rules.DefaultConfig()
	rc.ReviewGroups = fixtures.DefaultReviewGroups
	rc.CustomFields = fixtures.DefaultCustomFields
	passA, passB := randomPassword(), randomPassword()
	mock := mockserver.New(mockserver.Config{
		Rules: &rc,
		Users: []mockserver.User{
			{Username: "contract-a@algoreg-kit.test", Password: passA, Business: "contract-a"},
			{Username: "contract-b@algoreg-kit.test", Password: passB, Business: "contract-b"},
		},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := mock.HTTPServer()
	go srv.Serve(ln)
	cfg.Target = "http://" + ln.Addr().String()
	cfg.User, cfg.Password, cfg.Token, cfg.Basic = "contract-a@algoreg-kit.test", passA, "", false
	cfg.SecondUser, cfg.SecondPassword = "contract-b@algoreg-kit.test", passB
	cfg.Rules = &rc
	// The run is over when this is called: close at once rather than wait
	// for the connections the client keeps alive.
	return func() { srv.Close() }, nil
}

func randomPassword() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}
