package rules

import (
	"fmt"
	"math"
	"strconv"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// Env is what a save depends on besides the request and the stored state:
// the server's clock.
type Env struct {
	// Today is the server's date (UTC): a date of birth after it is in the
	// future.
	Today Date
	// NowNanos is the time of the save in Unix nanoseconds: CreatedAt of new
	// records, UpdatedAt of every merged one.
	NowNanos int64
	// DetailBudget, when not zero, bounds the answer's detail: messages are
	// listed, in order, while their JSON text fits in DetailBudget bytes; the
	// rest are counted in Outcome.DetailOmitted and not even formatted. The
	// mock sets it from the body's size (DetailBudget), so that an answer
	// grows with its request, never faster: a body of empty relations would
	// otherwise cost about 200 bytes of answer per byte.
	DetailBudget int
}

// DetailBudget returns the detail budget of a request body of bodyBytes
// bytes: 32 KiB, plus 2 bytes per body byte. No realistic request comes near
// it (a record with findings takes hundreds of bytes and gets one or two
// messages of about 150); a hostile one stops there.
func DetailBudget(bodyBytes int) int { return 32<<10 + 2*bodyBytes }

// State is what Evaluate reads of a business's stored records. Both methods
// return a copy that Evaluate may keep and merge into, or the error of the
// store that could not read it. A store's transaction implements it;
// EmptyState is a business with nothing stored.
type State interface {
	// Customer returns the stored customer with externalID.
	Customer(externalID string) (Customer, bool, error)
	// Relation returns the stored relation with relationExternalID.
	Relation(relationExternalID string) (Relation, bool, error)
}

// EmptyState is a State with no stored record: what a request meets in a new
// business.
var EmptyState State = emptyState{}

type emptyState struct{}

func (emptyState) Customer(string) (Customer, bool, error) { return Customer{}, false, nil }
func (emptyState) Relation(string) (Relation, bool, error) { return Relation{}, false, nil }

// Outcome is what a save request does, as Evaluate decides it: what to store,
// and the answer's detail and status. It holds no customer_id: the caller
// gives one to each customer of New, and stores Customers and Relations unless
// the request is a dry run (verify_input: true), which Evaluate does not look
// at (a dry run answers exactly as the real save would).
type Outcome struct {
	// Customers are the merged records of the customers to store, in request
	// order, each external_id at most once.
	Customers []*Customer
	// New are those of Customers that the state did not hold, in request
	// order: the customers the answer lists in added.
	New []*Customer
	// Relations are the merged relations to store, in request order.
	Relations []Relation
	// Detail has one entry per record with an error or a warning: customers
	// first, then relations, in request order. Nil when there is none.
	// Detail[:CustomerDetails] are the customers' entries.
	Detail          []openapi.RecordDetail
	CustomerDetails int
	// Status is the answer's status.
	Status openapi.Status
	// RiskScanDisabled is whether the saved customers were saved without
	// the risk scan (it is set on each of Customers too); RiskScanForced
	// whether that is because more customers were saved than
	// Config.RiskScanLimit allows, whatever the request asked.
	RiskScanDisabled, RiskScanForced bool
	// Errors and Warnings count the records with an error, with a warning.
	Errors, Warnings int
	// DetailOmitted counts the messages left out of Detail by
	// Env.DetailBudget (0 without a budget); the records they are about are
	// saved or rejected all the same.
	DetailOmitted int
}

// Evaluate applies the rules to one save request against the stored state, as
// the Save customers endpoint does: customers one by one in request order,
// each merged into its stored record (or into the record an earlier customer
// of the request left) and checked as it will be stored, then relations,
// which may name customers that the request saves. It changes neither state
// nor req (the merged records share req's strings, slices and custom-field
// values). It is safe for concurrent use with a State that is.
//
// The first error of state stops the evaluation: Evaluate returns it (and a
// zero Outcome), and the caller must not store anything.
func Evaluate(cfg *Compiled, env Env, state State, req *openapi.SaveCustomersRequest) (Outcome, error) {
	n := len(req.Customers)
	e := evaluation{cfg: cfg, env: env, state: state, seen: make(map[string]seenCustomer, n), budget: env.DetailBudget}
	e.records = make([]Customer, n) // one allocation for the merged records
	if env.DetailBudget <= 0 {
		e.budget = math.MaxInt
	}
	both := make([]*Customer, 0, 2*n) // one allocation for Customers and New
	e.out.Customers, e.out.New = both[:0:n], both[n:n:2*n]
	var m msgs
	for i := range req.Customers {
		in := &req.Customers[i]
		m = msgs{kind: "customers", index: i, e: &e}
		c, isNew := e.customer(i, in, &m)
		if e.err != nil {
			return Outcome{}, e.err
		}
		if !e.report(deref(in.ExternalID), &m) {
			continue
		}
		e.out.Customers = append(e.out.Customers, c)
		if isNew {
			e.out.New = append(e.out.New, c)
		}
	}
	e.out.CustomerDetails = len(e.out.Detail)
	e.out.RiskScanForced = len(e.out.Customers) > cfg.RiskScanLimit
	e.out.RiskScanDisabled = e.out.RiskScanForced || (req.DisableRiskScan != nil && *req.DisableRiskScan)
	for _, c := range e.out.Customers {
		c.RiskScanDisabled = e.out.RiskScanDisabled
	}

	e.out.Relations = make([]Relation, 0, len(req.Relations))
	firstAt := make(map[string]int, len(req.Relations))
	for i := range req.Relations {
		in := &req.Relations[i]
		m = msgs{kind: "relations", index: i, e: &e}
		rel := e.relation(i, in, firstAt, &m)
		if e.err != nil {
			return Outcome{}, e.err
		}
		if e.report(deref(in.RelationExternalID), &m) {
			e.out.Relations = append(e.out.Relations, rel)
		}
	}

	saved := len(e.out.Customers) + len(e.out.Relations)
	switch {
	case e.out.Errors == 0:
		e.out.Status = openapi.StatusOK
	case saved > 0:
		e.out.Status = openapi.StatusPartial
	default:
		e.out.Status = openapi.StatusFailed
	}
	return e.out, nil
}

// evaluation is the state of one Evaluate call.
type evaluation struct {
	cfg   *Compiled
	env   Env
	state State
	out   Outcome
	seen  map[string]seenCustomer // external_ids of this request's customers
	// records holds the merged record of customers[i] at i.
	records []Customer
	err     error // the first error of state
	// budget is what is left of Env.DetailBudget, in bytes of JSON.
	budget int
}

// seenCustomer is what a request did with an external_id.
type seenCustomer struct {
	first int       // index of the first occurrence
	saved *Customer // the merged record, when it is saved; nil when rejected
}

// exists reports whether eid is a customer once this request's customers
// are applied.
func (e *evaluation) exists(eid string) bool {
	if e.seen[eid].saved != nil {
		return true
	}
	_, ok := e.stored(eid)
	return ok
}

// stored and storedRelation read the stored record with an id; after an
// error of state (kept in e.err) they answer that there is none.
func (e *evaluation) stored(eid string) (Customer, bool) {
	return read(e, "customer", eid, e.state.Customer)
}

func (e *evaluation) storedRelation(rid string) (Relation, bool) {
	return read(e, "relation", rid, e.state.Relation)
}

func read[T any](e *evaluation, what, id string, get func(string) (T, bool, error)) (T, bool) {
	var v T
	if e.err != nil {
		return v, false
	}
	v, ok, err := get(id)
	if err != nil {
		e.err = fmt.Errorf("read stored %s %q: %w", what, id, err)
		var zero T
		return zero, false
	}
	return v, ok
}

// rejected reports whether this request rejected every occurrence of eid.
func (e *evaluation) rejected(eid string) bool {
	s, ok := e.seen[eid]
	return ok && s.saved == nil
}

// report adds the detail entry of one record, if it has messages, and
// reports whether the record is saved (it has no error).
func (e *evaluation) report(externalID string, m *msgs) bool {
	if m.hasErrors() {
		e.out.Errors++
	}
	if len(m.warnings)+m.omittedWarnings > 0 {
		e.out.Warnings++
	}
	if len(m.errors) == 0 && len(m.warnings) == 0 {
		return !m.hasErrors() // no message listed (none, or all over the budget)
	}
	errs, warns := m.errors, m.warnings
	if errs == nil {
		errs = []openapi.Message{}
	}
	if warns == nil {
		warns = []openapi.Message{}
	}
	e.budget -= jsonLen(externalID)
	e.out.Detail = append(e.out.Detail, openapi.RecordDetail{ExternalID: externalID, Errors: errs, Warnings: warns})
	return !m.hasErrors()
}

// msgs gathers the messages of one record.
type msgs struct {
	kind     string // "customers" or "relations"
	index    int
	errors   []openapi.Message
	warnings []openapi.Message
	e        *evaluation // whose budget the listed messages spend (nil: no budget)
	entry    bool        // whether the record's entry was paid for
	// omittedErrors and omittedWarnings count the messages over the budget.
	omittedErrors, omittedWarnings int
}

// add appends the message code to list, formatted, if the budget pays for
// its JSON text (and for the record's entry, with the first message); else it
// only counts it in *omitted.
func (m *msgs) add(list *[]openapi.Message, omitted *int, code, format string, args []any) {
	if m.e != nil && m.e.budget <= 0 {
		*omitted++
		m.e.out.DetailOmitted++
		return
	}
	msg := openapi.Message{Code: code, Detail: m.text(format, args)}
	if m.e != nil {
		cost := jsonLen(code) + jsonLen(msg.Detail) + len(`{"error":"","detail":""},`)
		if !m.entry {
			cost += len(`{"external_id":"","errors":[],"warnings":[]},`) // the id is paid in report
			m.entry = true
		}
		m.e.budget -= cost
	}
	*list = append(*list, msg)
}

// hasErrors reports whether the record has an error, listed or not.
func (m *msgs) hasErrors() bool { return len(m.errors)+m.omittedErrors > 0 }

// jsonLen is the most bytes encoding/json writes for s inside quotes: '<', '>'
// and '&' become \u003c…, control characters \u00XX, '"' and '\\' two bytes.
func jsonLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '<' || c == '>' || c == '&' || c < 0x20:
			n += 5
		case c == '"' || c == '\\':
			n++
		case c == 0xe2: // U+2028, U+2029
			n += 3
		}
	}
	return n
}

// text prefixes a message with its record, e.g. "customers[3]: ".
func (m *msgs) text(format string, args []any) string {
	return m.kind + "[" + strconv.Itoa(m.index) + "]: " + fmt.Sprintf(format, args...)
}

func (m *msgs) err(code, format string, args ...any) {
	m.add(&m.errors, &m.omittedErrors, code, format, args)
}

func (m *msgs) warn(code, format string, args ...any) {
	m.add(&m.warnings, &m.omittedWarnings, code, format, args)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func setString(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}
