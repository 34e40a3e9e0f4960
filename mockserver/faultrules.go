package mockserver

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/algoreg-kit/algoreg-kit/internal/retry"
	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// The bounds of the fault rules: per business, and across the businesses of
// the process (in open mode anyone can make a business).
const (
	MaxFaultRules      = 100
	MaxFaultRulesTotal = 10000
)

// faultRules holds every business's fault rules (/__admin/faults), in the
// memory of the process. It is safe for concurrent use.
type faultRules struct {
	total atomic.Int64 // the rules of every business: 0 lets a save skip the lookup
	mu    sync.RWMutex // guards per
	per   map[tenant]*ruleSet
}

// ruleSet is the rules of one business, in the order they are tried.
type ruleSet struct {
	mu    sync.Mutex // guards rules, and their fired and remaining counts
	rules []*faultRule
}

// faultRule is a rule as the mock runs it; view is its answer, whose Fired
// and Remaining follow the counts.
type faultRule struct {
	view          openapi.FaultRule
	probability   float64
	remaining     int64 // -1: no bound
	status        int
	retryAfter    int
	latency       latency
	fault         faultKind
	applyThenFail bool
}

// faultAction is what a rule that fired does to one save.
type faultAction struct {
	rule          string // the rule's id, for the answer
	delay         time.Duration
	status        int
	retryAfter    int
	fault         faultKind
	applyThenFail bool
}

func newFaultRules() *faultRules { return &faultRules{per: map[tenant]*ruleSet{}} }

// pick returns the action of the first of business's rules that matches
// the save req to path and fires, and counts it; ok is false when none
// does. A business without rules costs an atomic load (no rule anywhere) or
// a map lookup, and no allocation.
func (f *faultRules) pick(business tenant, path string, req *openapi.SaveCustomersRequest) (act faultAction, ok bool) {
	if f.total.Load() == 0 {
		return act, false
	}
	f.mu.RLock()
	rs := f.per[business]
	f.mu.RUnlock()
	if rs == nil {
		return act, false
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, r := range rs.rules {
		switch {
		case r.remaining == 0, r.view.Path != path:
			continue
		case r.view.ExternalIDPrefix != "" && !namesPrefix(req, r.view.ExternalIDPrefix):
			continue
		case r.probability < 1 && rand.Float64() >= r.probability:
			continue
		}
		if r.remaining > 0 {
			r.remaining--
		}
		r.view.Fired++
		return faultAction{rule: r.view.ID, delay: r.latency.sample(), status: r.status, retryAfter: r.retryAfter,
			fault: r.fault, applyThenFail: r.applyThenFail}, true
	}
	return act, false
}

// namesPrefix reports whether a customer of req, or a customer a relation
// of req names, has an external_id starting with prefix.
func namesPrefix(req *openapi.SaveCustomersRequest, prefix string) bool {
	has := func(id *string) bool { return id != nil && strings.HasPrefix(*id, prefix) }
	for i := range req.Customers {
		if has(req.Customers[i].ExternalID) {
			return true
		}
	}
	for i := range req.Relations {
		if has(req.Relations[i].ParentCustomerExternalID) || has(req.Relations[i].ChildCustomerExternalID) {
			return true
		}
	}
	return false
}

// ruleLimitDetail and totalRuleLimitDetail are add's refusals.
var (
	ruleLimitDetail      = fmt.Sprintf("Your business has %d fault rules, as many as the mock keeps; delete some (DELETE /__admin/faults/{id}, or DELETE /__admin/faults for all) first.", MaxFaultRules)
	totalRuleLimitDetail = fmt.Sprintf("The mock holds %d fault rules across its businesses, as many as it keeps; delete some first.", MaxFaultRulesTotal)
)

// add appends r to business's rules, or returns why it cannot.
func (f *faultRules) add(business tenant, r *faultRule) (refused string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.total.Load() >= MaxFaultRulesTotal {
		return totalRuleLimitDetail
	}
	rs := f.per[business]
	if rs == nil {
		rs = &ruleSet{}
		f.per[business] = rs
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.rules) >= MaxFaultRules {
		return ruleLimitDetail
	}
	rs.rules = append(rs.rules, r)
	f.total.Add(1)
	return ""
}

// list returns the views of business's rules, in order.
func (f *faultRules) list(business tenant) []openapi.FaultRule {
	out := []openapi.FaultRule{}
	f.each(business, func(rs *ruleSet) {
		for _, r := range rs.rules {
			out = append(out, r.answer())
		}
	})
	return out
}

// get returns the view of business's rule id.
func (f *faultRules) get(business tenant, id string) (v openapi.FaultRule, ok bool) {
	f.each(business, func(rs *ruleSet) {
		for _, r := range rs.rules {
			if r.view.ID == id {
				v, ok = r.answer(), true
			}
		}
	})
	return v, ok
}

// remove deletes business's rule id, or all its rules when id is "", and
// reports whether there was one.
func (f *faultRules) remove(business tenant, id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	rs := f.per[business]
	if rs == nil {
		return false
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	n := len(rs.rules)
	if id == "" {
		rs.rules = nil
	} else {
		rs.rules = deleteRule(rs.rules, id)
	}
	removed := n - len(rs.rules)
	f.total.Add(-int64(removed))
	if len(rs.rules) == 0 {
		delete(f.per, business)
	}
	return removed > 0
}

func deleteRule(rules []*faultRule, id string) []*faultRule {
	for i, r := range rules {
		if r.view.ID == id {
			return append(rules[:i:i], rules[i+1:]...)
		}
	}
	return rules
}

// each calls fn with business's rule set locked, if it has one.
func (f *faultRules) each(business tenant, fn func(*ruleSet)) {
	f.mu.RLock()
	rs := f.per[business]
	f.mu.RUnlock()
	if rs == nil {
		return
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	fn(rs)
}

// answer is r's view with its counts, under its set's lock.
func (r *faultRule) answer() openapi.FaultRule {
	v := r.view
	if r.remaining >= 0 {
		n := r.remaining
		v.Remaining = &n
	}
	return v
}

// latency is a rule's wait: fixed, uniform in [min, max], or log-normal
// around median with spread sigma; at most MaxInjectedDelay.
type latency struct {
	fixed, min, max, median time.Duration
	sigma                   float64
}

func (l latency) sample() time.Duration {
	var d time.Duration
	switch {
	case l.max > 0:
		d = l.min + rand.N(l.max-l.min+1)
	case l.median > 0:
		d = time.Duration(float64(l.median) * math.Exp(l.sigma*rand.NormFloat64()))
	default:
		d = l.fixed
	}
	return min(max(d, 0), MaxInjectedDelay)
}

// injectBefore does what act asks before the save: wait, then answer the
// status or break the answer, unless the rule applies the save first. It
// reports whether the request is answered.
func (s *Server) injectBefore(w http.ResponseWriter, r *http.Request, act faultAction) bool {
	if act.delay > 0 {
		s.countFault("latency")
		if retry.Sleep(r.Context(), act.delay) != nil {
			noteCancelled(r.Context())
			return true
		}
	}
	switch {
	case act.applyThenFail:
		return false
	case act.status != 0:
		s.answerInjected(w, r, act.status, act.retryAfter, "fault rule "+act.rule, false)
	case act.fault != faultNone:
		s.breakAnswer(w, r, act.fault, nil, 0)
	default:
		return false
	}
	return true
}

// failAfter answers a save that was applied with act's failure: its status,
// or its fault (a truncated answer cuts resp's own body).
func (s *Server) failAfter(w http.ResponseWriter, r *http.Request, act faultAction, resp *openapi.SaveCustomersResponse) {
	if act.status != 0 {
		s.answerInjected(w, r, act.status, act.retryAfter, "fault rule "+act.rule, true)
		return
	}
	body, _ := json.Marshal(resp) // a response always encodes
	s.breakAnswer(w, r, act.fault, body, 0)
}
