package contract

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	mrand "math/rand"
	"net/http"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// runner holds one run's state.
type runner struct {
	cfg    Config
	client *client
	prefix string
	seed   int64
	// mock: the target is the algoreg-kit mock (readKit), of kitVersion.
	mock       bool
	kitVersion string
	second     *credentials // nil without second credentials

	progressMu sync.Mutex
	cleanup    cleanupResult
	// slots bound the checks (and generative cases) that run at once to
	// cfg.Parallel; nil outside runAll.
	slots *semaphore.Weighted
}

// Run checks cfg.Target against the contract and returns the report. The
// error is not nil only when the suite could not run at all (a bad Config, no
// token from the target, a cancelled context before any check ran); failed
// checks are in the report, see Report.OK.
//
// Whatever the checks did, Run disables at the end every customer and
// relation the run may have created, even when ctx is cancelled (with a
// 30-second bound).
func Run(ctx context.Context, cfg Config) (Report, error) {
	start := time.Now()
	r, err := newRunner(ctx, cfg)
	if err != nil {
		return Report{}, err
	}
	picked, final, err := r.pick()
	if err != nil {
		return Report{}, err
	}
	rep := Report{
		Target: r.cfg.Target, Seed: r.seed, Cases: r.cfg.Cases, RunPrefix: r.prefix,
		VerifyOnly: r.cfg.VerifyOnly, Started: start.UTC(),
	}
	if err := r.setup(ctx); err != nil {
		return rep, err
	}
	rep.Mock, rep.KitVersion = r.mock, r.kitVersion

	results := r.runAll(ctx, picked)
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	r.disableCreated(cctx)
	for _, c := range final {
		results = append(results, r.runCheck(cctx, c))
	}
	cancel()

	t := r.client.tally
	t.mu.Lock()
	rep.Created, rep.Requests = t.added, t.requests
	t.mu.Unlock()
	rep.Disabled = r.cleanup.disabled
	rep.Checks = results
	rep.Causes = Diagnose(rep, r.serverRules())
	rep.Duration = time.Since(start)
	return rep, nil
}

// newRunner checks cfg and returns the runner of one run, with its client
// and credentials.
func newRunner(ctx context.Context, cfg Config) (*runner, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	v := cfg.Validator
	if v == nil {
		doc, err := openapi.Load(ctx)
		if err != nil {
			return nil, err
		}
		if v, err = openapi.NewValidator(doc); err != nil {
			return nil, err
		}
	}
	r := &runner{cfg: cfg, seed: cfg.Seed, prefix: newRunPrefix()}
	if r.seed == 0 {
		r.seed = randomSeed()
	}
	r.client = &client{
		base: cfg.Target, hc: cfg.HTTPClient, v: v, verifyOnly: cfg.VerifyOnly,
		prefix: r.prefix, now: time.Now, tally: newTally(),
	}
	r.client.primary = r.client.newCredentials(cfg.User, cfg.Password, cfg.Basic, cfg.Token)
	if cfg.SecondUser != "" {
		r.second = r.client.newCredentials(cfg.SecondUser, cfg.SecondPassword, cfg.Basic || cfg.Token != "", "")
	}
	if cfg.Rate > 0 {
		r.client.lim = rate.NewLimiter(rate.Limit(cfg.Rate), 1)
	}
	return r, nil
}

// setup checks the credentials with an empty dry-run save (a run with
// credentials the target refuses would only report the same failure for
// every check: it fails once, with what to fix) and finds out whether the
// target is the algoreg-kit mock: only from its GET /__admin/config
// (readKit, unless Config.Asked has its answer), which a stub generated from
// the document cannot answer (it must repeat a fresh random nonce, with the
// kit's version header). Against
// the mock, a run without Config.Rules takes the mock's own.
func (r *runner) setup(ctx context.Context) error {
	if _, err := r.client.authorization(ctx, r.client.primary, "setup"); err != nil {
		return err
	}
	x := r.client.do(ctx, request{method: http.MethodPost, path: savePath, body: []byte(`{"verify_input":true,"customers":[]}`)}, "setup")
	switch {
	case x.Err != nil:
		return fmt.Errorf("reach %s: %w", r.cfg.Target, x.Err)
	case x.Status == http.StatusUnauthorized || x.Status == http.StatusForbidden:
		return fmt.Errorf("the target refused the given credentials: an empty dry-run save was answered %s; check the user and password, or the token", describe(x))
	}
	kit, err := r.kit(ctx)
	if err != nil {
		return err
	}
	if kit != nil {
		r.mock, r.kitVersion = true, kit.Version
		if r.cfg.Rules == nil {
			r.cfg.Rules = &kit.Rules
		}
	}
	if r.mock && r.second == nil {
		r.second = r.openModeSecond(ctx)
	}
	return nil
}

// pick returns the checks that cfg.Run and cfg.Skip select (see Select),
// the final ones (run after the clean-up) apart.
func (r *runner) pick() (picked, final []Check, err error) {
	checks, err := Select(r.cfg.Run, r.cfg.Skip)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range checks {
		if c.final {
			final = append(final, c)
		} else {
			picked = append(picked, c)
		}
	}
	return picked, final, nil
}

// runAll runs checks cfg.Parallel at a time and returns their results in
// the order of checks. They start in startOrder, each when one of the
// run's slots is free; a generative check borrows the idle ones for its
// cases (eachCase).
func (r *runner) runAll(ctx context.Context, checks []Check) []Result {
	results := make([]Result, len(checks))
	r.slots = semaphore.NewWeighted(int64(r.cfg.Parallel))
	var wg sync.WaitGroup
	for _, i := range r.startOrder(checks) {
		if err := r.slots.Acquire(ctx, 1); err != nil {
			results[i] = r.runCheck(ctx, checks[i]) // skipped: the context is done
			continue
		}
		wg.Go(func() {
			defer r.slots.Release(1)
			results[i] = r.runCheck(ctx, checks[i])
		})
	}
	wg.Wait()
	return results
}

// startOrder returns the order in which the checks start: the generative
// ones first (each sends --cases requests one after the other, the longest
// path of a run against a slow target), then the catalogue's; or, with
// cfg.Shuffle, an order drawn from it. Every check has its own ids and data,
// so the order changes the run's time, never a verdict.
func (r *runner) startOrder(checks []Check) []int {
	order := make([]int, len(checks))
	for i := range order {
		order[i] = i
	}
	if r.cfg.Shuffle != 0 {
		mrand.New(mrand.NewSource(r.cfg.Shuffle)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		return order
	}
	sort.SliceStable(order, func(i, j int) bool {
		return checks[order[i]].Category == Generative && checks[order[j]].Category != Generative
	})
	return order
}

// runCheck runs one check and returns its result.
func (r *runner) runCheck(ctx context.Context, c Check) (res Result) {
	start := time.Now()
	res = Result{ID: c.ID, Category: c.Category, Description: c.Description}
	defer func() {
		res.Duration = time.Since(start)
		r.progress(res)
	}()
	switch {
	case c.NeedsInspection && !r.mock:
		res.Status, res.Reason = Skip, "needs the mock's inspection API (/__admin); the target is not the algoreg-kit mock"
		return res
	case c.MockBehaviour && !r.mock:
		res.Status, res.Reason = Skip, "checks what only the algoreg-kit mock documents (the vendor publishes nothing of it); the target is not the algoreg-kit mock"
		return res
	case c.NeedsPersistence && r.cfg.VerifyOnly:
		res.Status, res.Reason = Skip, "saves data for real; verify-only mode sends only verify_input: true"
		return res
	case c.NeedsSecondBusiness && r.second == nil:
		res.Status, res.Reason = Skip, "needs a second business: give the second user and its password"
		return res
	}
	if err := ctx.Err(); err != nil {
		res.Status, res.Reason = Skip, "not run: "+err.Error()
		return res
	}
	seed := seedFor(r.seed, c.ID)
	t := &checkT{ctx: ctx, r: r, id: c.ID, prefix: checkPrefix(r.prefix, c.index), seed: seed, rand: mrand.New(mrand.NewSource(seed))}
	func() {
		defer func() {
			if p := recover(); p != nil {
				if _, ok := p.(stop); !ok {
					t.Errorf(nil, "the check to finish; it panicked (a bug of the suite): %v\n%s", p, debug.Stack())
				}
			}
		}()
		c.run(t)
	}()
	res.Requests = int(t.nsent.Load())
	res.Failures = t.fails
	switch {
	case len(t.fails) > 0:
		res.Status = Fail
		res.Exchanges, res.ExchangesOmitted = t.recorded()
		res.Reason = t.fails[0].Expected
		if n := len(t.fails); n > 1 {
			res.Reason += fmt.Sprintf(" (and %d more failures)", n-1)
		}
	case t.skip != "":
		res.Status, res.Reason = Skip, t.skip
	default:
		res.Status = Pass
	}
	return res
}

func (r *runner) progress(res Result) {
	if r.cfg.Progress == nil {
		return
	}
	r.progressMu.Lock()
	defer r.progressMu.Unlock()
	writeResultLine(r.cfg.Progress, res, false)
}

// openModeSecond returns credentials of a second business on a mock in open
// mode (no users file: any username names its own business), or nil when the
// mock refuses a made-up user. It is only called on the mock.
func (r *runner) openModeSecond(ctx context.Context) *credentials {
	user := strings.TrimSuffix(r.prefix, "-") + "-second@contract.invalid"
	tok, _ := r.client.fetchToken(ctx, user, "open-mode", "setup")
	if tok == nil {
		return nil
	}
	return r.client.newCredentials(user, "open-mode", r.cfg.Basic || r.cfg.Token != "", "")
}

func newRunPrefix() string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return "ct" + hex.EncodeToString(b[:]) + "-"
}

func randomSeed() int64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	s := int64(binary.LittleEndian.Uint64(b[:]) & (1<<62 - 1))
	if s == 0 {
		s = 1
	}
	return s
}
