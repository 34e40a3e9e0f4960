package contract

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// Category groups the checks.
type Category string

// The categories.
const (
	Schema     Category = "schema"     // responses match the document
	Behaviour  Category = "behaviour"  // upserts, batches, relations, dry runs, tenants, concurrency
	Negative   Category = "negative"   // every catalogue code, auth
	Generative Category = "generative" // seeded random batches and mutations
	Transport  Category = "transport"  // content type, malformed JSON, schema violations, sizes
	Safety     Category = "safety"     // the suite's own safety against live tenants
)

// Check is one named check of the catalogue.
type Check struct {
	// ID is stable from release to release, e.g. "behaviour/create-lists-added".
	ID string
	// Category is the first element of ID.
	Category Category
	// Description says in one line what the server must do.
	Description string
	// NeedsInspection: the check reads the mock's /__admin API, and is
	// skipped when the target is not the mock.
	NeedsInspection bool
	// MockBehaviour: the check holds the target to what only the algoreg-kit
	// mock documents (mockserver/README.md), not the vendor, and is skipped
	// when the target is not the mock.
	MockBehaviour bool
	// NeedsPersistence: the check must save data for real, and is skipped in
	// verify-only mode.
	NeedsPersistence bool
	// NeedsSecondBusiness: the check needs a second set of credentials.
	NeedsSecondBusiness bool
	// final checks run after every other check, on the run's tallies.
	final bool
	// index is the check's place in the catalogue; its ids carry it.
	index int
	run   func(t *checkT)
}

// checkT is what a check gets: its data, the client, and how to report. A check
// runs in one goroutine; checkT is not safe for concurrent use, except Do and
// Save (which the concurrency check calls from many goroutines).
type checkT struct {
	ctx context.Context
	r   *runner
	id  string
	// prefix starts every id the check makes: the run prefix and the
	// check's own part ("ct5f3a9c1e-c12-"), so that no two checks share a
	// record and the verdicts do not depend on the order they run in.
	prefix string
	ids    atomic.Int64 // ids made by NewID
	gens   atomic.Int64 // generators made by gen`
	rand   *rand.Rand
	seed   int64
	fails  []Failure
	skip   string
	nsent  atomic.Int64

	xmu     sync.Mutex // guards xs and failedX (Do runs in many goroutines)
	xs      []*exchange
	failedX map[*exchange]bool
}

// keep records x among the check's exchanges, for the report if the check
// fails.
func (t *checkT) keep(x *exchange) {
	t.xmu.Lock()
	t.xs = append(t.xs, x)
	t.xmu.Unlock()
}

// recorded returns the check's last exchanges as the report keeps them, and
// how many earlier ones it left out.
func (t *checkT) recorded() ([]Exchange, int) {
	t.xmu.Lock()
	defer t.xmu.Unlock()
	xs, omitted := t.xs, 0
	if len(xs) > maxReportExchanges {
		xs, omitted = xs[len(xs)-maxReportExchanges:], len(xs)-maxReportExchanges
	}
	out := make([]Exchange, len(xs))
	for i, x := range xs {
		out[i] = t.r.record(x, t.failedX[x])
	}
	return out, omitted
}

// stop ends a check early (after Fatal or Skip).
type stop struct{}

// Failure is one failed expectation of a check, with the exchange that
// showed it.
type Failure struct {
	// Expected says what the server should have done.
	Expected string `json:"expected"`
	// Request and Response show the exchange, credentials redacted; empty
	// when the failure is not about one exchange.
	Request  string `json:"request,omitempty"`
	Response string `json:"response,omitempty"`
}

// Errorf records a failure about exchange x (nil when the failure is about
// no single exchange) and lets the check go on.
func (t *checkT) Errorf(x *exchange, format string, args ...any) {
	f := Failure{Expected: fmt.Sprintf(format, args...)}
	if x != nil {
		f.Request, f.Response = x.RequestText(), x.ResponseText()
		t.xmu.Lock()
		if t.failedX == nil {
			t.failedX = map[*exchange]bool{}
		}
		t.failedX[x] = true
		t.xmu.Unlock()
	}
	t.fails = append(t.fails, f)
}

// ErrorfEach records one failure per line, "expected; line", for at most 20
// lines, then one that says how many more there were ("… and N more what").
func (t *checkT) ErrorfEach(lines []string, expected, what string) {
	for i, l := range lines {
		if i == 20 {
			t.Errorf(nil, "… and %d more %s", len(lines)-i, what)
			return
		}
		t.Errorf(nil, "%s; %s", expected, l)
	}
}

// Fatalf records a failure and ends the check.
func (t *checkT) Fatalf(x *exchange, format string, args ...any) {
	t.Errorf(x, format, args...)
	panic(stop{})
}

// Skipf ends the check as skipped, with a reason.
func (t *checkT) Skipf(format string, args ...any) {
	t.skip = fmt.Sprintf(format, args...)
	panic(stop{})
}

// VerifyOnly reports whether the run sends only verify_input: true saves.
func (t *checkT) VerifyOnly() bool { return t.r.cfg.VerifyOnly }

// Mock reports whether the target is the algoreg-kit mock.
func (t *checkT) Mock() bool { return t.r.mock }

// NewID returns a new external_id that carries the check's prefix (and so
// the run prefix). Every call returns a different id; the n-th call of a
// check returns the same id whatever the other checks do.
func (t *checkT) NewID(kind string) string {
	return fmt.Sprintf("%s%s-%06d", t.prefix, kind, t.ids.Add(1))
}

// checkPrefix is the prefix of the ids of the check at index i of the
// catalogue.
func checkPrefix(runPrefix string, i int) string { return fmt.Sprintf("%sc%02d-", runPrefix, i) }

// Do sends r and fails the check on a transport error or a response that does
// not match the document; it returns the exchange.
func (t *checkT) Do(r request) *exchange {
	x := t.r.client.do(t.ctx, r, t.id)
	t.nsent.Add(1)
	t.keep(x)
	t.checkExchange(x)
	return x
}

// do is Do that does not fail on an off-document response, for the
// goroutines of the concurrency check, which report on their own.
func (t *checkT) do(r request) *exchange {
	t.nsent.Add(1)
	x := t.r.client.do(t.ctx, r, t.id)
	t.keep(x)
	return x
}

func (t *checkT) checkExchange(x *exchange) {
	t.checkExchangeNoStop(x)
	if x.Err != nil {
		panic(stop{})
	}
}

// saveOpts changes how Save sends a body.
type saveOpts struct {
	creds  *credentials
	verify bool // force verify_input: true
}

// marshal encodes a request; in verify-only mode it sets verify_input: true.
func (t *checkT) marshal(body *openapi.SaveCustomersRequest, verify bool) []byte {
	if verify || t.VerifyOnly() {
		v := true
		cp := *body
		cp.VerifyInput = &v
		body = &cp
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatalf(nil, "the suite could not encode its request: %v", err)
	}
	return b
}

// Save posts body to the save endpoint with the primary business's
// credentials (verify_input: true in verify-only mode). It ends the check
// unless the answer is a 200 whose body matches the document.
func (t *checkT) Save(body *openapi.SaveCustomersRequest) (*openapi.SaveCustomersResponse, *exchange) {
	return t.save(body, saveOpts{})
}

func (t *checkT) save(body *openapi.SaveCustomersRequest, o saveOpts) (*openapi.SaveCustomersResponse, *exchange) {
	return t.saveBody(t.marshal(body, o.verify), o.creds)
}

// saveBody sends body, a save request as JSON, with creds (nil: the primary
// business's), and ends the check unless the answer is a 200 whose body
// matches the document.
func (t *checkT) saveBody(body []byte, creds *credentials) (*openapi.SaveCustomersResponse, *exchange) {
	x := t.Do(request{method: http.MethodPost, path: savePath, body: body, creds: creds})
	return t.decodeSave(x), x
}

// decodeSave requires a 200 with a Save customers response.
func (t *checkT) decodeSave(x *exchange) *openapi.SaveCustomersResponse {
	if x.Status != http.StatusOK {
		t.Fatalf(x, "200 OK with a Save customers response")
	}
	if x.SchemaErr != nil {
		panic(stop{}) // already reported by Do
	}
	var resp openapi.SaveCustomersResponse
	if err := json.Unmarshal(x.Body, &resp); err != nil {
		t.Fatalf(x, "a Save customers response body: %v", err)
	}
	return &resp
}

// seedFor derives a check's seed from the run's seed and the check's ID, so
// that one check's data does not depend on which other checks run.
func seedFor(seed int64, id string) int64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	s := seed ^ int64(h.Sum64()&(1<<62-1))
	if s == 0 {
		s = 1
	}
	return s
}

// details indexes a response's detail list by external_id.
func details(resp *openapi.SaveCustomersResponse) map[string]openapi.RecordDetail {
	m := make(map[string]openapi.RecordDetail, len(resp.Detail))
	for _, d := range resp.Detail {
		if prev, ok := m[d.ExternalID]; ok {
			prev.Errors = append(prev.Errors, d.Errors...)
			prev.Warnings = append(prev.Warnings, d.Warnings...)
			m[d.ExternalID] = prev
			continue
		}
		m[d.ExternalID] = d
	}
	return m
}

// addedIDs indexes a response's added list: external_id → customer_id.
func addedIDs(resp *openapi.SaveCustomersResponse) map[string]string {
	m := make(map[string]string, len(resp.Added))
	for _, a := range resp.Added {
		m[a.ExternalID] = a.CustomerID
	}
	return m
}

func codes(ms []openapi.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Code
	}
	sort.Strings(out)
	return out
}

func hasCode(ms []openapi.Message, code string) bool {
	for _, m := range ms {
		if m.Code == code {
			return true
		}
	}
	return false
}

func list(ss []string) string {
	if len(ss) == 0 {
		return "none"
	}
	return strings.Join(ss, ", ")
}

// ptr returns a pointer to v.
func ptr[V any](v V) *V { return &v }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
