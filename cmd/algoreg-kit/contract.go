package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
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
	"github.com/algoreg-kit/algoreg-kit/internal/words"
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
environment: ALGOREG_USER, ALGOREG_PASSWORD, ALGOREG_TOKEN,
ALGOREG_CONTRACT_SECOND_USER, ALGOREG_CONTRACT_SECOND_PASSWORD (and the target
from ALGOREG_CONTRACT_TARGET). They are never printed. The rule flags
(--kyc-min, --kyc-max, --review-groups, --custom-fields, --relation-types,
--risk-scan-limit, --max-batch, --max-body) describe the target, with the
syntax of algoreg-kit mock; without --target they configure the in-process
mock. When the target is an algoreg-kit mock (its GET /__admin/config
answers with the kit's header and repeats a random nonce), the suite takes
the mock's own rules from there, the rule flags given overriding them, and
says so in one line on stderr.

--json keeps each failing check's exchanges whole (credentials as the
placeholders ${ALGOREG_USER}, ${ALGOREG_PASSWORD}, ${ALGOREG_TOKEN}) with a curl
command each; --replay REPORT sends them again and says whether each failure
still happens (exit status 1 if one does).

Mistakes stop it with exit status 2 before the first request: a --run or
--skip pattern that matches no check (the closest are named), a --junit or
--json path that cannot be written, a --target whose path already holds the
API's /api/v1 (give the base URL), missing credentials.

Examples:
  algoreg-kit contract
  algoreg-kit contract --list
  algoreg-kit contract --run 'negative/code/' --junit contract.xml
  algoreg-kit contract --target http://127.0.0.1:8080 --user demo --password demo --second-user other --second-password x
  ALGOREG_USER=api@acme.example ALGOREG_PASSWORD=… \
    algoreg-kit contract --target https://api.algoreg.com/ --verify-only --rate 5 --json report.json
  algoreg-kit contract --seed 42 --cases 7 --run '^generative/valid-batches$'   # replay a failing case
  algoreg-kit contract --target https://sandbox.example.com --replay report.json   # do its failures still fail?
`

// contractConfig is everything "algoreg-kit contract" was told.
type contractConfig struct {
	parsed
	// Suite goes to contract.Run once runContract has set its rules, client
	// and progress writer (and, without a target, the in-process mock).
	Suite       contract.Config
	Rules       *ruleFlags
	Timeout     time.Duration
	JUnit, JSON string // report files ("" for none)
	List        bool
	Progress    bool
	Replay      string // a JSON report whose failed checks to send again ("" for a run)
}

func parseContract(args []string, getenv func(string) string) (contractConfig, error) {
	var cfg contractConfig
	var runRe, skipRe string
	s := &cfg.Suite
	fs := newFlagSet("contract", contractUsage)
	fs.StringVar(&s.Target, "target", "", "base URL of the server to check (default: the mock, started in-process)")
	fs.StringVar(&s.User, "user", "", "programmatic user")
	fs.StringVar(&s.Password, "password", "", "its password")
	fs.StringVar(&s.Token, "token", "", "a bearer token instead of --user and --password")
	fs.BoolVar(&s.Basic, "basic", false, "send --user and --password as HTTP Basic instead of getting a token from /api/v1/token")
	fs.StringVar(&s.SecondUser, "second-user", "", "a second business's user, for the tenant-isolation check")
	fs.StringVar(&s.SecondPassword, "second-password", "", "its password")
	fs.StringVar(&s.LockoutUser, "lockout-user", "", "an account of the target's --users that the suite may lock, for the lockout check (skipped without it); never give a real one")
	fs.StringVar(&s.LockoutPassword, "lockout-password", "", "its password")
	fs.StringVar(&runRe, "run", "", "run only the checks whose ID matches this regular expression")
	fs.StringVar(&skipRe, "skip", "", "leave out the checks whose ID matches this regular expression")
	fs.IntVar(&s.Cases, "cases", contract.DefaultCases, "cases of each generative check")
	fs.Int64Var(&s.Seed, "seed", 0, "seed of the generated data (0: random; the report prints it for replays)")
	fs.Float64Var(&s.Rate, "rate", 0, "most requests per second (0: no bound)")
	fs.IntVar(&s.Parallel, "parallel", 0, fmt.Sprintf("checks run at once (0: %d against a loopback target, %d against any other host)", contract.DefaultParallel, contract.DefaultRemoteParallel))
	fs.BoolVar(&s.VerifyOnly, "verify-only", false, "send only verify_input: true saves, so nothing is persisted")
	cfg.Rules = fs.ruleFlags()
	fs.DurationVar(&cfg.Timeout, "timeout", 30*time.Second, "timeout of one request")
	fs.StringVar(&cfg.JUnit, "junit", "", "write a JUnit XML report to this file")
	fs.StringVar(&cfg.JSON, "json", "", "write a JSON report to this file")
	fs.BoolVar(&cfg.List, "list", false, "list the checks (those --run and --skip pick) and exit")
	fs.BoolVar(&cfg.Progress, "progress", false, "print each check's line to stderr as it finishes")
	fs.StringVar(&cfg.Replay, "replay", "", "send the requests of the failed checks of this JSON report (--json) again, and say whether they still fail (--run and --skip pick among them)")
	var err error
	if cfg.notes, err = fs.parse(args, getenv); err != nil {
		return cfg, err
	}
	for _, re := range []struct {
		name, expr string
		p          **regexp.Regexp
	}{{"run", runRe, &s.Run}, {"skip", skipRe, &s.Skip}} {
		if re.expr == "" {
			continue
		}
		if *re.p, err = regexp.Compile(re.expr); err != nil {
			return cfg, fs.usageErrorf("--%s %q is not a regular expression: %v", re.name, re.expr, err)
		}
	}
	if _, err := contract.Select(s.Run, s.Skip); err != nil {
		return cfg, fs.usageErrorf("%v", err)
	}
	if s.Parallel < 0 {
		return cfg, fs.usageErrorf("--parallel %d: give at least 1, or 0 for the default", s.Parallel)
	}
	if s.Cases <= 0 {
		return cfg, fs.usageErrorf("--cases %d: give at least 1", s.Cases)
	}
	if err := cfg.Rules.check(); err != nil {
		return cfg, fs.usageErrorf("the target's rules: %v", err)
	}
	return cfg, nil
}

func runContract(ctx context.Context, cfg contractConfig, e env) error {
	if cfg.List {
		return listChecks(e.stdout, cfg.Suite.Run, cfg.Suite.Skip)
	}
	var replay contract.Report
	if cfg.Replay != "" {
		b, err := os.ReadFile(cfg.Replay)
		if err != nil {
			return usageError{cmd: "contract", err: fmt.Errorf("--replay: %w", err)}
		}
		if err := json.Unmarshal(b, &replay); err != nil {
			return usageError{cmd: "contract", err: fmt.Errorf("--replay %s is not a JSON report of algoreg-kit contract --json: %v", cfg.Replay, err)}
		}
	}
	// The report files are opened before the first request, so that a path
	// that cannot be written stops the run before it starts.
	junit, err := openReport("--junit", cfg.JUnit)
	if err != nil {
		return err
	}
	defer junit.abandon()
	jsonReport, err := openReport("--json", cfg.JSON)
	if err != nil {
		return err
	}
	defer jsonReport.abandon()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	suite := cfg.Suite
	suite.HTTPClient = &http.Client{Timeout: cfg.Timeout}
	rc, err := cfg.Rules.resolve()
	if err == nil && suite.Target != "" {
		// A target that cannot be asked fails the run's setup, which says
		// why: nothing to print here.
		rc, suite.Asked, err = targetRules(ctx, e.stderr, "contract", cfg.Rules, suite, func(error) {})
	}
	if err != nil {
		return fmt.Errorf("contract: the target's rules: %w", err)
	}
	suite.Rules = &rc
	if cfg.Progress {
		suite.Progress = e.stderr
	}
	inProcess := suite.Target == ""
	if inProcess {
		shutdown, err := startInProcessMock(&suite)
		if err != nil {
			return fmt.Errorf("contract: start the in-process mock: %w", err)
		}
		defer shutdown()
		fmt.Fprintf(e.stderr, "no --target: checking the mock, started in-process at %s\n", suite.Target)
	}
	if cfg.Replay != "" {
		return replayReport(ctx, cfg.Replay, replay, suite, inProcess, e)
	}
	rep, err := contract.Run(ctx, suite)
	var ce *contract.ConfigError
	switch {
	case errors.As(err, &ce):
		return usageError{cmd: "contract", err: err}
	case err != nil:
		return fmt.Errorf("contract: %w", err)
	}
	if err := rep.WriteText(e.stdout); err != nil {
		return err
	}
	if err := junit.write(rep.WriteJUnit); err != nil {
		return err
	}
	if err := jsonReport.write(rep.WriteJSON); err != nil {
		return err
	}
	if !rep.OK() {
		return fmt.Errorf("contract: %d of %s failed: %s", rep.Count(contract.Fail), words.Count(len(rep.Checks), "check"), strings.Join(rep.Failed(), ", "))
	}
	return nil
}

// replayReport sends the failed checks' requests of rep again and prints
// what it found; a check that still fails is an error (exit status 1).
func replayReport(ctx context.Context, path string, rep contract.Report, suite contract.Config, inProcess bool, e env) error {
	out, err := contract.Replay(ctx, suite, rep)
	var ce *contract.ConfigError
	switch {
	case errors.As(err, &ce):
		return usageError{cmd: "contract", err: fmt.Errorf("--replay %s: %w", path, err)}
	case err != nil:
		return fmt.Errorf("contract: %w", err)
	}
	if inProcess {
		out.Rerun = strings.Replace(out.Rerun, "--target "+suite.Target+" ", "", 1)
	}
	if err := out.WriteText(e.stdout); err != nil {
		return err
	}
	if ids := out.StillFailing(); len(ids) > 0 {
		return fmt.Errorf("contract: %d of %s still fail: %s", len(ids), words.Count(len(out.Checks), "replayed check"), strings.Join(ids, ", "))
	}
	return nil
}

// reportFile is a report's file, opened before the run.
type reportFile struct {
	flag, path string
	f          *os.File // nil: no report asked for, or written
	created    bool     // the file did not exist before the run
}

// openReport opens path for writing (nothing when path is ""), without
// truncating it yet: a run that ends before its report leaves an earlier
// report as it was. A path that cannot be written is a usage error.
func openReport(flag, path string) (*reportFile, error) {
	r := &reportFile{flag: flag, path: path}
	if path == "" {
		return r, nil
	}
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return nil, usageError{cmd: "contract", err: fmt.Errorf("%s %s cannot be written (%v); give a path in a writable folder", flag, path, errors.Unwrap(err))}
	}
	r.f, r.created = f, errors.Is(statErr, os.ErrNotExist)
	return r, nil
}

// write replaces the file's content with what write writes, and closes it.
func (r *reportFile) write(write func(io.Writer) error) error {
	if r.f == nil {
		return nil
	}
	f := r.f
	r.f = nil
	err := f.Truncate(0)
	if err == nil {
		err = write(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("contract: write %s: %w", r.path, err)
	}
	return nil
}

// abandon closes a report that was not written, and removes its file if
// the run created it.
func (r *reportFile) abandon() {
	if r.f == nil {
		return
	}
	r.f.Close()
	r.f = nil
	if r.created {
		os.Remove(r.path)
	}
}

// listChecks lists the checks that --run and --skip pick.
func listChecks(w io.Writer, run, skip *regexp.Regexp) error {
	checks, err := contract.Select(run, skip)
	if err != nil {
		return usageError{cmd: "contract", err: err}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tNEEDS\tDESCRIPTION")
	for _, c := range checks {
		var needs []string
		if c.NeedsInspection || c.MockBehaviour {
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
// (random passwords) and the rules of cfg.Rules, with lists of review groups
// and custom fields (fixtures' defaults) where cfg.Rules has none, so that
// every check can run; it points cfg at the mock. The returned function stops
// it.
func startInProcessMock(cfg *contract.Config) (func(), error) {
	rc := rules.DefaultConfig()
	if cfg.Rules != nil {
		rc = *cfg.Rules
	}
	if len(rc.ReviewGroups) == 0 {
		rc.ReviewGroups = fixtures.DefaultReviewGroups
	}
	if len(rc.CustomFields) == 0 {
		rc.CustomFields = fixtures.DefaultCustomFields
	}
	passA, passB, passLock := randomPassword(), randomPassword(), randomPassword()
	mock, err := mockserver.New(mockserver.Config{
		Rules: &rc,
		Users: []mockserver.User{
			{Username: "contract-a@algoreg-kit.test", Password: passA, Business: "contract-a"},
			{Username: "contract-b@algoreg-kit.test", Password: passB, Business: "contract-b"},
			// The lockout check's sacrificial account.
			{Username: "contract-lock@algoreg-kit.test", Password: passLock, Business: "contract-a"},
		},
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		mock.Close()
		return nil, err
	}
	srv := mock.HTTPServer()
	go srv.Serve(mock.Listener(ln))
	cfg.Target = "http://" + ln.Addr().String()
	cfg.User, cfg.Password, cfg.Token, cfg.Basic = "contract-a@algoreg-kit.test", passA, "", false
	cfg.SecondUser, cfg.SecondPassword = "contract-b@algoreg-kit.test", passB
	cfg.LockoutUser, cfg.LockoutPassword = "contract-lock@algoreg-kit.test", passLock
	cfg.Rules = &rc
	// The run is over when this is called: close at once rather than wait
	// for the connections the client keeps alive.
	return func() {
		srv.Close()
		mock.Close()
	}, nil
}

func randomPassword() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}
