package contract

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

func checkVerifyStoresNothing(t *checkT) {
	req := t.batch(t.gen(0), 3)
	t.saveValid(req, true)
	for _, c := range req.Customers {
		if sc, x := t.stored(idOf(c), nil); sc != nil {
			t.Errorf(x, "%q, sent with verify_input: true, not stored", idOf(c))
		}
	}
}

func checkNever5xx(t *checkT) {
	tl := t.r.client.tally
	t.ErrorfEach(tl.lines(&tl.serverErrors), "never a 5xx", "5xx answers")
}

func checkRunPrefix(t *checkT) {
	// The guard must refuse an id without the prefix before anything is sent.
	x := t.r.client.do(t.ctx, request{method: http.MethodPost, path: savePath,
		body: []byte(`{"customers":[{"external_id":"no-prefix","account_type":"N","last_name":"Doe"}]}`)}, t.id)
	if x.Err == nil || x.Status != 0 {
		t.Errorf(x, "the suite to refuse, without sending it, a save whose external_id lacks the run prefix")
	}
	tl := t.r.client.tally
	for _, r := range tl.lines(&tl.refused) {
		if !strings.HasPrefix(r, t.id+":") {
			t.Errorf(nil, "no check to try sending an id without the run prefix; %s", r)
		}
	}
}

// lines returns a copy of list, one of t's lists of lines.
func (t *tally) lines(list *[]string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), *list...)
}

// cleanupResult is what the clean-up did.
type cleanupResult struct {
	disabled int
	fails    []Failure
	skipped  string
}

// cleanupBatch is how many customers and how many relations one clean-up
// request disables at most: 500 of each, fewer when the server's batch or
// relation limit is lower, or when its body limit would not take 500 deltas
// of about 100 bytes each (2 × 500 of them, with room for long ids).
func (r *runner) cleanupBatch() (customers, relations int) {
	rc := r.serverRules()
	n := int(min(rc.MaxBody/512, 500))
	return max(1, min(n, rc.MaxBatch)), max(1, min(n, rc.MaxRelations))
}

// disableCreated disables every customer and relation that a save of the run
// may have persisted, business by business. Ids that were never created are
// answered with the errors of a create without account_type (or without
// parent, child and type): that is how a delta for an unknown id must be
// answered, and it creates nothing.
func (r *runner) disableCreated(ctx context.Context) {
	t := &checkT{ctx: ctx, r: r, id: "safety/cleanup-disables-created"}
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(stop); !ok {
				panic(p)
			}
		}
		r.cleanup.fails = append(r.cleanup.fails, t.fails...)
	}()
	nc, nr := r.cleanupBatch()
	for _, b := range r.sentByBusiness() {
		creds, ids := b.creds, b.ids
		for i := 0; i*nc < len(ids.customers) || i*nr < len(ids.relations); i++ {
			req := &openapi.SaveCustomersRequest{DisableRiskScan: ptr(true)}
			for _, id := range window(ids.customers, i*nc, nc) {
				req.Customers = append(req.Customers, openapi.Customer{ExternalID: ptr(id), Disabled: ptr(true)})
			}
			for _, id := range window(ids.relations, i*nr, nr) {
				req.Relations = append(req.Relations, openapi.Relation{RelationExternalID: ptr(id), Disabled: ptr(true)})
			}
			x := r.client.do(ctx, request{method: http.MethodPost, path: savePath, body: t.marshal(req, false), creds: creds}, t.id)
			t.checkExchangeNoStop(x)
			if x.Err != nil || x.Status != http.StatusOK {
				t.Errorf(x, "200 for the clean-up save that disables the run's records")
				continue
			}
			var resp openapi.SaveCustomersResponse
			if jsonUnmarshal(x.Body, &resp) != nil {
				continue
			}
			r.cleanup.disabled += countDisabled(t, req, &resp, x)
		}
	}
}

// businessIDs are the ids a business was sent in saves that may persist.
type businessIDs struct {
	creds *credentials
	ids   sentIDs // customers and relations sorted
}

// sentByBusiness returns the ids of the run's saves that may persist, the
// primary business first, each list sorted: the clean-up then sends the same
// requests whatever order the checks ran in.
func (r *runner) sentByBusiness() []businessIDs {
	tl := r.client.tally
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var out []businessIDs
	for creds, ids := range tl.sent {
		out = append(out, businessIDs{creds, sentIDs{customers: slices.Sorted(slices.Values(ids.customers)), relations: slices.Sorted(slices.Values(ids.relations))}})
	}
	slices.SortFunc(out, func(a, b businessIDs) int {
		switch {
		case a.creds == r.client.primary:
			return -1
		case b.creds == r.client.primary:
			return 1
		}
		return strings.Compare(a.creds.user, b.creds.user)
	})
	return out
}

// window returns the n ids from lo on (fewer at the end).
func window(ids []string, lo, n int) []string {
	if lo >= len(ids) {
		return nil
	}
	return ids[lo:min(lo+n, len(ids))]
}

// neverCreated are the codes that a disabling delta of an id that was never
// stored is answered with.
var neverCreated = map[string]bool{
	rules.AccountTypeMissing: true, rules.LastNameMissing: true, rules.CompanyNameMissing: true,
	rules.RelationCustomerMissing: true, rules.RelationTypeInvalid: true,
}

// countDisabled returns how many customers the clean-up answer disabled, and
// fails on anything but a disabled record or a never-created one.
func countDisabled(t *checkT, req *openapi.SaveCustomersRequest, resp *openapi.SaveCustomersResponse, x *exchange) int {
	if len(resp.Added) > 0 {
		t.Errorf(x, "a delta of external_id and disabled to create nothing, got %d customers added (first %q)", len(resp.Added), resp.Added[0].ExternalID)
	}
	det := details(resp)
	n := 0
	for _, c := range req.Customers {
		d, ok := det[*c.ExternalID]
		if !ok || len(d.Errors) == 0 {
			n++
			continue
		}
		for _, m := range d.Errors {
			if !neverCreated[m.Code] {
				t.Errorf(x, "the clean-up to disable %q, got the error %s: %s", *c.ExternalID, m.Code, m.Detail)
			}
		}
	}
	for _, rel := range req.Relations {
		for _, m := range det[*rel.RelationExternalID].Errors {
			if !neverCreated[m.Code] {
				t.Errorf(x, "the clean-up to disable relation %q, got the error %s: %s", *rel.RelationExternalID, m.Code, m.Detail)
			}
		}
	}
	return n
}

func checkCleanup(t *checkT) {
	t.fails = append(t.fails, t.r.cleanup.fails...)
	if len(t.fails) > 0 || !t.Mock() || t.VerifyOnly() {
		return
	}
	// On the mock, read back a few of the disabled customers.
	sent := t.r.sentByBusiness()
	if len(sent) == 0 || sent[0].creds != t.r.client.primary {
		return
	}
	checked := 0
	for _, id := range sent[0].ids.customers {
		if checked == 10 {
			break
		}
		sc, x := t.stored(id, nil)
		if sc == nil {
			continue
		}
		checked++
		if sc.Disabled == nil || !*sc.Disabled {
			t.Errorf(x, "%q disabled after the clean-up", id)
		}
	}
}
