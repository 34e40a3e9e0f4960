package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/algoreg-kit/algoreg-kit/fixtures"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// saveValid saves req, a batch of valid records, with verify_input: verify,
// and checks the answer with expectAllSaved.
func (t *checkT) saveValid(req *openapi.SaveCustomersRequest, verify bool) (*openapi.SaveCustomersResponse, *exchange) {
	resp, x := t.save(req, saveOpts{verify: verify})
	t.expectAllSaved(req, resp, x, verify)
	return resp, x
}

// expectAllSaved checks the answer to a batch of valid records: status ok,
// no detail, and (unless verifying) every customer in added, in request
// order, with unique customer_ids.
func (t *checkT) expectAllSaved(req *openapi.SaveCustomersRequest, resp *openapi.SaveCustomersResponse, x *exchange, verify bool) {
	if resp.Status != openapi.StatusOK {
		t.Errorf(x, "status ok for a batch of valid records, got %q", resp.Status)
	}
	if len(resp.Detail) > 0 {
		t.Errorf(x, "an empty detail for valid records, got %d entries (first: %q %v %v)", len(resp.Detail),
			resp.Detail[0].ExternalID, codes(resp.Detail[0].Errors), codes(resp.Detail[0].Warnings))
	}
	if verify || t.VerifyOnly() {
		if len(resp.Added) != 0 {
			t.Errorf(x, "added empty with verify_input: true, got %d entries", len(resp.Added))
		}
		return
	}
	t.expectAdded(req.Customers, resp, x)
}

// expectAdded checks that added lists exactly want, in order, with unique,
// non-empty customer_ids.
func (t *checkT) expectAdded(want []openapi.Customer, resp *openapi.SaveCustomersResponse, x *exchange) {
	if len(resp.Added) != len(want) {
		t.Errorf(x, "%d customers in added (one per new customer), got %d", len(want), len(resp.Added))
	}
	seen := map[string]string{}
	for i, a := range resp.Added {
		if i < len(want) && a.ExternalID != idOf(want[i]) {
			t.Errorf(x, "added[%d] to be %q (request order), got %q", i, idOf(want[i]), a.ExternalID)
		}
		if a.CustomerID == "" {
			t.Errorf(x, "a non-empty customer_id for %q", a.ExternalID)
		}
		if other, ok := seen[a.CustomerID]; ok {
			t.Errorf(x, "customer_id %s given once, got it for both %q and %q", a.CustomerID, other, a.ExternalID)
		}
		seen[a.CustomerID] = a.ExternalID
	}
}

func checkCreateListsAdded(t *checkT) {
	g := t.gen(0)
	req := &openapi.SaveCustomersRequest{}
	for i := 0; i < t.fit(6); i++ {
		req.Customers = append(req.Customers, g.Customer(i))
	}
	t.saveValid(req, false)
}

func checkResaveNotAdded(t *checkT) {
	req := t.batch(t.gen(0), 4)
	resp, x := t.saveValid(req, false)
	resp, x = t.Save(req)
	if len(resp.Added) != 0 {
		t.Errorf(x, "added empty when saving the same customers again (they are updates), got %d entries, first %q", len(resp.Added), resp.Added[0].ExternalID)
	}
	if resp.Status != openapi.StatusOK || len(resp.Detail) != 0 {
		t.Errorf(x, "status ok and an empty detail for the same valid body saved again, got %q and %d detail entries", resp.Status, len(resp.Detail))
	}
}

// firstIndividual returns g's first valid individual.
func firstIndividual(g *fixtures.Generator) openapi.Customer {
	for i := 0; ; i++ {
		if !g.IsFirm(i) {
			return g.Customer(i)
		}
	}
}

// createOne saves the valid individual of slot i of a new generator and
// returns it.
func (t *checkT) createOne(k int64) openapi.Customer {
	c := firstIndividual(t.gen(k))
	req := &openapi.SaveCustomersRequest{Customers: []openapi.Customer{c}}
	resp, _ := t.saveValid(req, false)
	if len(resp.Added) != 1 {
		panic(stop{})
	}
	return c
}

func checkDeltaAccepted(t *checkT) {
	c := t.createOne(0)
	delta := openapi.Customer{ExternalID: c.ExternalID, Phone: ptr("+33699887766")}
	resp, x := t.Save(&openapi.SaveCustomersRequest{Customers: []openapi.Customer{delta}})
	if resp.Status != openapi.StatusOK || len(resp.Detail) != 0 {
		t.Errorf(x, "status ok and no detail for a delta update of a stored customer (absent fields keep their stored values), got %q, detail %v", resp.Status, detailSummary(resp))
	}
	if len(resp.Added) != 0 {
		t.Errorf(x, "added empty for an update, got %d entries", len(resp.Added))
	}
}

func checkDeltaKeepsFields(t *checkT) {
	c := t.createOne(0)
	before, x := t.stored(idOf(c), nil)
	if before == nil {
		t.Fatalf(x, "the customer created just before to be stored")
	}
	delta := openapi.Customer{ExternalID: c.ExternalID, Phone: ptr("+33699887766"), Comment: ptr("delta update by the contract suite")}
	resp, x := t.Save(&openapi.SaveCustomersRequest{Customers: []openapi.Customer{delta}})
	if resp.Status != openapi.StatusOK {
		t.Fatalf(x, "status ok for a delta update, got %q", resp.Status)
	}
	after, x := t.stored(idOf(c), nil)
	if after == nil {
		t.Fatalf(x, "the updated customer to be stored")
	}
	if after.Phone != "+33699887766" || after.Comment != "delta update by the contract suite" {
		t.Errorf(x, "the fields of the delta to replace the stored ones: phone %q, comment %q", after.Phone, after.Comment)
	}
	if after.LastName != before.LastName || after.FirstName != before.FirstName || after.AccountType != before.AccountType || after.CustomerID != before.CustomerID {
		t.Errorf(x, "the fields absent from the delta to keep their stored values (account_type %q, first_name %q, last_name %q, customer_id %s), got %q, %q, %q, %s",
			before.AccountType, before.FirstName, before.LastName, before.CustomerID, after.AccountType, after.FirstName, after.LastName, after.CustomerID)
	}
}

func checkNullMeansAbsent(t *checkT) {
	c := t.createOne(0)
	body := fmt.Sprintf(`{"customers":[{"external_id":%q,"last_name":null,"first_name":null,"phone":null,"comment":"null test"}]}`, idOf(c))
	resp, x := t.saveBody([]byte(body), nil)
	if resp.Status != openapi.StatusOK || len(resp.Detail) != 0 {
		t.Errorf(x, "status ok and no detail: null means absent, so the stored last_name is kept; got %q, detail %v", resp.Status, detailSummary(resp))
	}
	after, x := t.mustStored(idOf(c))
	if after.LastName != *c.LastName || after.Comment != "null test" {
		t.Errorf(x, "last_name %q kept (null means absent) and comment updated, got last_name %q, comment %q", *c.LastName, after.LastName, after.Comment)
	}
}

// mustStored reads the primary business's customer id and ends the check
// when it is not stored.
func (t *checkT) mustStored(id string) (*openapi.StoredCustomer, *exchange) {
	sc, x := t.stored(id, nil)
	if sc == nil {
		t.Fatalf(x, "the customer to be stored")
	}
	return sc, x
}

// errorUnits returns labelled units of error codes that need no other
// record of the request to be rejected.
func (t *checkT) errorUnits(k int64, codes ...string) []openapi.Customer {
	g := t.gen(k)
	var out []openapi.Customer
	for i, code := range codes {
		u := t.invalid(g, code, 100+i)
		out = append(out, u.Customers...)
	}
	return out
}

func checkMixedBatch(t *checkT) {
	t.needBatch(2)
	g := t.gen(0)
	// 3 valid and 3 invalid customers, alternating; fewer of each when the
	// server's batch limit is below 6.
	nValid := min(3, t.fit(6)/2)
	nBad := min(3, t.fit(6)-nValid)
	valid := []openapi.Customer{g.Customer(0), g.Customer(1), g.Customer(2)}[:nValid]
	badCodes := []string{rules.DateOfBirthInvalid, rules.CountryCodeUnknown, rules.AccountTypeInvalid}[:nBad]
	bad := t.errorUnits(1, badCodes...)
	wantCode := map[string]string{}
	for i, b := range bad {
		wantCode[idOf(b)] = badCodes[i]
	}
	req := &openapi.SaveCustomersRequest{}
	for i := 0; i < max(nValid, nBad); i++ {
		if i < nValid {
			req.Customers = append(req.Customers, valid[i])
		}
		if i < nBad {
			req.Customers = append(req.Customers, bad[i])
		}
	}
	resp, x := t.Save(req)
	if resp.Status != openapi.StatusPartial {
		t.Errorf(x, "status partial for %d valid and %d invalid customers, got %q", nValid, nBad, resp.Status)
	}
	det := details(resp)
	for _, b := range bad {
		id := idOf(b)
		d, ok := det[id]
		switch {
		case !ok:
			t.Errorf(x, "a detail entry under the invalid customer's own external_id %q with %s, got entries for %v", id, wantCode[id], detailIDs(resp))
		case !hasCode(d.Errors, wantCode[id]):
			t.Errorf(x, "the detail of %q to list the error %s, got errors %v", id, wantCode[id], codes(d.Errors))
		}
	}
	for _, v := range valid {
		if d, ok := det[idOf(v)]; ok && len(d.Errors) > 0 {
			t.Errorf(x, "no error for the valid customer %q, got %v", idOf(v), codes(d.Errors))
		}
	}
	if t.VerifyOnly() {
		return
	}
	t.expectAdded(valid, resp, x)
}

func checkAllValid(t *checkT) {
	req := t.batch(t.gen(0), 12)
	t.saveValid(req, false)
}

func checkAllInvalid(t *checkT) {
	bad := t.errorUnits(0, []string{rules.DateOfBirthInFuture, rules.KYCLevelOutOfRange, rules.AccountTypeMissing}[:t.fit(3)]...)
	resp, x := t.Save(&openapi.SaveCustomersRequest{Customers: bad})
	if resp.Status != openapi.StatusFailed {
		t.Errorf(x, "status failed when every record is rejected, got %q", resp.Status)
	}
	if len(resp.Added) != 0 {
		t.Errorf(x, "nothing added when every record is rejected, got %d entries", len(resp.Added))
	}
	det := details(resp)
	for _, b := range bad {
		if d, ok := det[idOf(b)]; !ok || len(d.Errors) == 0 {
			t.Errorf(x, "an error in the detail of %q", idOf(b))
		}
	}
}

// pairWithRelation returns a firm, an individual, and the relation "the
// individual is director of the firm" (type 1, or the table's first).
func (t *checkT) pairWithRelation(k int64) (firm, person openapi.Customer, rel openapi.Relation) {
	g := t.gen(k)
	var haveFirm, havePerson bool
	for i := 0; !haveFirm || !havePerson; i++ {
		if g.IsFirm(i) && !haveFirm {
			firm, haveFirm = g.Customer(i), true
		} else if !g.IsFirm(i) && !havePerson {
			person, havePerson = g.Customer(i), true
		}
	}
	types := t.r.serverRules().RelationTypeValues()
	rel = openapi.Relation{
		RelationExternalID:       ptr(t.NewID("rel")),
		ParentCustomerExternalID: firm.ExternalID,
		ChildCustomerExternalID:  person.ExternalID,
		RelationType:             ptr(types[0]),
	}
	return firm, person, rel
}

func checkRelationsSameRequest(t *checkT) {
	t.needBatch(2)
	firm, person, rel := t.pairWithRelation(0)
	req := &openapi.SaveCustomersRequest{Customers: []openapi.Customer{firm, person}, Relations: []openapi.Relation{rel}}
	resp, x := t.Save(req)
	if d, ok := details(resp)[*rel.RelationExternalID]; ok {
		t.Errorf(x, "no detail for a relation between two customers of the same request, got errors %v warnings %v", codes(d.Errors), codes(d.Warnings))
	}
	t.expectAllSaved(req, resp, x, false)
}

func checkRelationStored(t *checkT) {
	t.needBatch(2)
	firm, person, rel := t.pairWithRelation(0)
	req := &openapi.SaveCustomersRequest{Customers: []openapi.Customer{firm, person}, Relations: []openapi.Relation{rel}}
	t.saveValid(req, false)
	sc, x := t.stored(idOf(person), nil)
	if sc == nil {
		t.Fatalf(x, "the child customer to be stored")
	}
	for _, r := range sc.Relations {
		if r.RelationExternalID == *rel.RelationExternalID {
			if r.ParentCustomerExternalID != idOf(firm) || r.ChildCustomerExternalID != idOf(person) || r.RelationType != *rel.RelationType {
				t.Errorf(x, "relation %q stored as sent (parent %q, child %q, type %d)", r.RelationExternalID, idOf(firm), idOf(person), *rel.RelationType)
			}
			return
		}
	}
	t.Errorf(x, "the relation %q among the child's stored relations", *rel.RelationExternalID)
}

func checkRelationUnknown(t *checkT) {
	firm, _, rel := t.pairWithRelation(0)
	rel.ChildCustomerExternalID = ptr(t.NewID("nobody"))
	resp, x := t.Save(&openapi.SaveCustomersRequest{Customers: []openapi.Customer{firm}, Relations: []openapi.Relation{rel}})
	d, ok := details(resp)[*rel.RelationExternalID]
	switch {
	case !ok:
		t.Errorf(x, "a detail entry under the relation_external_id %q, got entries for %v", *rel.RelationExternalID, detailIDs(resp))
	case !hasCode(d.Errors, rules.RelationCustomerUnknown):
		t.Errorf(x, "the error relation_customer_unknown for %q, got errors %v", *rel.RelationExternalID, codes(d.Errors))
	}
	if resp.Status != openapi.StatusPartial {
		t.Errorf(x, "status partial (the customer saved, the relation rejected), got %q", resp.Status)
	}
}

func checkVerifyPersistsNothing(t *checkT) {
	g := t.gen(0)
	req := &openapi.SaveCustomersRequest{Customers: []openapi.Customer{g.Customer(0), g.Customer(1)}[:t.fit(2)]}
	resp, x := t.save(req, saveOpts{verify: true})
	if !resp.VerifyInput {
		t.Errorf(x, "verify_input: true echoed")
	}
	t.expectAllSaved(req, resp, x, true)
	resp, x = t.Save(req)
	if len(resp.Added) != len(req.Customers) {
		t.Errorf(x, "the customers sent before with verify_input: true were not stored, so a real save lists both in added; got %d entries", len(resp.Added))
	}
}

func checkVerifySameAnswer(t *checkT) {
	g := t.gen(0)
	bad := t.errorUnits(1, rules.DateOfBirthInvalid)
	warn := t.invalid(g, rules.PhoneNotE164, 50)
	req := &openapi.SaveCustomersRequest{Customers: append([]openapi.Customer{g.Customer(0), warn.Customers[0]}, bad...)[:t.fit(3)]}
	vresp, vx := t.save(req, saveOpts{verify: true})
	resp, x := t.Save(req)
	if len(vresp.Added) != 0 {
		t.Errorf(vx, "added empty with verify_input: true, got %d entries", len(vresp.Added))
	}
	if vresp.Status != resp.Status {
		t.Errorf(vx, "the status of the real save (%q) with verify_input: true, got %q", resp.Status, vresp.Status)
	}
	if got, want := detailSummary(vresp), detailSummary(resp); got != want {
		t.Errorf(vx, "the detail of the real save with verify_input: true:\n%s\ngot:\n%s", want, got)
	}
	_ = x
}

func checkVerifyEchoed(t *checkT) {
	g := t.gen(0)
	req := &openapi.SaveCustomersRequest{Customers: []openapi.Customer{g.Customer(0)}}
	resp, x := t.save(req, saveOpts{verify: true})
	if !resp.VerifyInput {
		t.Errorf(x, "verify_input: true in the response to a request with verify_input: true")
	}
	if t.VerifyOnly() {
		return
	}
	// An invalid record without verify_input: nothing can be persisted.
	bad := &openapi.SaveCustomersRequest{Customers: t.errorUnits(1, rules.AccountTypeMissing)}
	resp, x = t.Save(bad)
	if resp.VerifyInput {
		t.Errorf(x, "verify_input: false in the response to a request without verify_input")
	}
}

func checkTenantIsolation(t *checkT) { t.tenantIsolation(t.r.client.primary, t.r.second) }

// checkTenantIsolationBasic is checkTenantIsolation with both businesses'
// users sent as HTTP Basic: a Basic user acts as its own business too.
func checkTenantIsolationBasic(t *checkT) {
	p, s := t.r.client.primary, t.r.second
	if p.password == "" || s.password == "" {
		t.Skipf("needs both businesses' users and passwords (the run uses a given token)")
	}
	t.tenantIsolation(t.r.client.newCredentials(p.user, p.password, true, ""), t.r.client.newCredentials(s.user, s.password, true, ""))
}

// tenantIsolation saves one customer as a, then the same as b, and expects
// two customers.
func (t *checkT) tenantIsolation(a, b *credentials) {
	c := t.gen(0).Customer(0)
	req := &openapi.SaveCustomersRequest{Customers: []openapi.Customer{c}}
	first, x1 := t.save(req, saveOpts{creds: a})
	second, x2 := t.save(req, saveOpts{creds: b})
	if len(first.Added) != 1 {
		t.Fatalf(x1, "the first business to create %q", idOf(c))
	}
	if len(second.Added) != 1 {
		t.Fatalf(x2, "the second business to create its own %q (businesses do not share customers), got %d added", idOf(c), len(second.Added))
	}
	if first.Added[0].CustomerID == second.Added[0].CustomerID {
		t.Errorf(x2, "two customers with different customer_ids, got %s twice", first.Added[0].CustomerID)
	}
	if t.Mock() {
		if sc, x := t.stored(idOf(c), b); sc == nil || sc.CustomerID != second.Added[0].CustomerID {
			t.Errorf(x, "the second business to see its own customer %s", second.Added[0].CustomerID)
		}
	}
}

func checkConcurrentCreate(t *checkT) {
	c := t.gen(0).Customer(0)
	body := t.marshal(&openapi.SaveCustomersRequest{Customers: []openapi.Customer{c}}, false)
	const n = 16
	xs := make([]*exchange, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range xs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			xs[i] = t.do(request{method: http.MethodPost, path: savePath, body: body})
		}()
	}
	close(start)
	wg.Wait()
	created := 0
	var ids []string
	for _, x := range xs {
		t.checkExchangeNoStop(x)
		if x.Status != http.StatusOK {
			t.Errorf(x, "200 for every one of %d parallel saves of the same body", n)
			continue
		}
		var resp openapi.SaveCustomersResponse
		if jsonUnmarshal(x.Body, &resp) != nil {
			continue
		}
		for _, a := range resp.Added {
			created++
			ids = append(ids, a.CustomerID)
		}
		if resp.Status != openapi.StatusOK {
			t.Errorf(x, "status ok for every parallel save, got %q", resp.Status)
		}
	}
	if created != 1 {
		t.Errorf(xs[0], "exactly one of %d parallel saves of a new external_id to list it in added, got %d (customer_ids %v)", n, created, ids)
	}
}

// checkExchangeNoStop is checkExchange without ending the check.
func (t *checkT) checkExchangeNoStop(x *exchange) {
	if x.Err != nil {
		t.Errorf(x, "a response")
		return
	}
	if x.SchemaErr != nil {
		t.Errorf(x, "a response that matches the OpenAPI document: %s", x.SchemaErr)
	}
	if x.Status >= 500 {
		t.Errorf(x, "never a 5xx answer")
	}
}

func checkRiskScanForced(t *checkT) {
	rc := t.r.serverRules()
	limit := rc.RiskScanLimit
	if limit+1 > rc.MaxBatch {
		t.Skipf("the risk-scan limit %d is not below the batch limit %d: no request can exceed it", limit, rc.MaxBatch)
	}
	g := t.gen(0)
	req := &openapi.SaveCustomersRequest{DisableRiskScan: ptr(false)}
	for i := 0; i <= limit; i++ {
		req.Customers = append(req.Customers, g.Customer(i))
	}
	if int64(len(t.marshal(req, false))) > rc.MaxBody {
		t.Skipf("%d customers, one more than the risk-scan limit, do not fit in the body limit of %d bytes", limit+1, rc.MaxBody)
	}
	t.saveValid(req, false)
	sc, x := t.mustStored(idOf(req.Customers[limit]))
	if !sc.RiskScanDisabled {
		t.Errorf(x, "risk_scan_disabled true: %d customers is more than the risk-scan limit %d, so disable_risk_scan is forced", len(req.Customers), limit)
	}
	small := &openapi.SaveCustomersRequest{Customers: []openapi.Customer{g.Customer(limit + 1)}, DisableRiskScan: ptr(false)}
	t.saveValid(small, false)
	if sc, x = t.stored(idOf(small.Customers[0]), nil); sc == nil || sc.RiskScanDisabled {
		t.Errorf(x, "risk_scan_disabled false for a one-customer save with disable_risk_scan: false")
	}
}

// detailSummary shows a detail list in a comparable form: one line per
// record, its codes sorted.
func detailSummary(resp *openapi.SaveCustomersResponse) string {
	s := ""
	for _, d := range resp.Detail {
		s += fmt.Sprintf("%q errors %v warnings %v\n", d.ExternalID, codes(d.Errors), codes(d.Warnings))
	}
	return s
}

func detailIDs(resp *openapi.SaveCustomersResponse) []string {
	ids := make([]string, len(resp.Detail))
	for i, d := range resp.Detail {
		ids[i] = fmt.Sprintf("%q", d.ExternalID)
	}
	return ids
}

func checkVariations(t *checkT) {
	c := firstIndividual(t.gen(0))
	c.Variations = append(c.Variations, openapi.Variation{Op: ptr("add"), FirstName: ptr("Ada"), LastName: ptr("Alias")})
	req := &openapi.SaveCustomersRequest{Customers: []openapi.Customer{c}}
	resp, x := t.saveValid(req, false)
	has := func(sc *openapi.StoredCustomer, first, last string) bool {
		for _, v := range sc.Variations {
			if v.FirstName == first && v.LastName == last {
				return true
			}
		}
		return false
	}
	before, x := t.stored(idOf(c), nil)
	if before == nil || !has(before, "Ada", "Alias") {
		t.Fatalf(x, "the added variation Ada Alias among the stored variations")
	}
	update := openapi.Customer{ExternalID: c.ExternalID, Variations: []openapi.Variation{
		{Op: ptr("remove"), FirstName: ptr("Ada"), LastName: ptr("Alias")},
		{FirstName: ptr("Bea"), LastName: ptr("Other")}, // _op absent: add
	}}
	resp, x = t.Save(&openapi.SaveCustomersRequest{Customers: []openapi.Customer{update}})
	if resp.Status != openapi.StatusOK || len(resp.Detail) != 0 {
		t.Errorf(x, "status ok and no detail for removing a stored variation and adding one, got %q, %s", resp.Status, detailSummary(resp))
	}
	after, x := t.mustStored(idOf(c))
	if has(after, "Ada", "Alias") || !has(after, "Bea", "Other") {
		t.Errorf(x, "Ada Alias removed and Bea Other added (absent _op means add)")
	}
	if len(after.Variations) != len(before.Variations) {
		t.Errorf(x, "%d stored variations after removing one and adding one, got %d (the other variations are kept)", len(before.Variations), len(after.Variations))
	}
}

func checkDetailOrder(t *checkT) {
	t.needBatch(2)
	g := t.gen(0)
	// Customers with a warning or an error at known places, then relations
	// with errors, in an order that differs from id order; the first ones
	// only when the server's batch limit is lower.
	warn1 := t.invalid(g, rules.PhoneNotE164, 10).Customers[0]
	bad1 := t.invalid(g, rules.DateOfBirthInvalid, 11).Customers[0]
	warn2 := t.invalid(g, rules.CountryCodeLowercase, 12).Customers[0]
	bad2 := t.invalid(g, rules.KYCLevelOutOfRange, 13).Customers[0]
	firm, person, rel := t.pairWithRelation(1)
	relBad1, relBad2 := rel, rel
	relBad1.RelationExternalID, relBad1.ChildCustomerExternalID = ptr(t.NewID("rel-z")), ptr(t.NewID("nobody"))
	relBad2.RelationExternalID, relBad2.RelationType = ptr(t.NewID("rel-a")), ptr(int64(-7))
	rc := t.r.serverRules()
	customers := []openapi.Customer{bad2, g.Customer(0), warn2, firm, bad1, person, warn1}
	customers = customers[:t.fit(len(customers))]
	relations := []openapi.Relation{relBad1, rel, relBad2}
	relations = relations[:min(len(relations), rc.MaxRelations)]
	req := &openapi.SaveCustomersRequest{Customers: customers, Relations: relations}
	sent := map[string]bool{}
	for _, c := range customers {
		sent[idOf(c)] = true
	}
	var want []string
	for _, c := range []openapi.Customer{bad2, warn2, bad1, warn1} {
		if sent[idOf(c)] {
			want = append(want, idOf(c))
		}
	}
	pairSent := sent[idOf(firm)] && sent[idOf(person)]
	for _, r := range relations {
		if r.RelationExternalID != rel.RelationExternalID || !pairSent {
			want = append(want, *r.RelationExternalID)
		}
	}
	resp, x := t.Save(req)
	var got []string
	for _, d := range resp.Detail {
		got = append(got, d.ExternalID)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf(x, "detail entries for exactly the records with messages, in request order, customers first:\n%v\ngot:\n%v", want, got)
	}
}

func checkRelationUpsert(t *checkT) {
	t.needBatch(2)
	firm, person, rel := t.pairWithRelation(0)
	req := &openapi.SaveCustomersRequest{Customers: []openapi.Customer{firm, person}, Relations: []openapi.Relation{rel}}
	resp, x := t.saveValid(req, false)
	types := t.r.serverRules().RelationTypeValues()
	update := openapi.Relation{RelationExternalID: rel.RelationExternalID, RelationType: ptr(types[len(types)-1]), Disabled: ptr(true)}
	resp, x = t.Save(&openapi.SaveCustomersRequest{Relations: []openapi.Relation{update}})
	if resp.Status != openapi.StatusOK || len(resp.Detail) != 0 {
		t.Errorf(x, "status ok and no detail for a delta of a stored relation (type and disabled only), got %q, %s", resp.Status, detailSummary(resp))
	}
	sc, x := t.stored(idOf(person), nil)
	if sc == nil {
		t.Fatalf(x, "the child customer to be stored")
	}
	n := 0
	for _, r := range sc.Relations {
		if r.RelationExternalID != *rel.RelationExternalID {
			continue
		}
		n++
		if r.RelationType != *update.RelationType || !r.Disabled || r.ParentCustomerExternalID != idOf(firm) {
			t.Errorf(x, "relation %q updated in place: type %d, disabled, parent %q kept; got type %d, disabled %v, parent %q",
				r.RelationExternalID, *update.RelationType, idOf(firm), r.RelationType, r.Disabled, r.ParentCustomerExternalID)
		}
	}
	if n != 1 {
		t.Errorf(x, "relation %q stored once, got %d times", *rel.RelationExternalID, n)
	}
}

func checkStringListSplit(t *checkT) {
	groups := t.r.serverRules().ReviewGroups
	if len(groups) < 2 {
		groups = fixtures.DefaultReviewGroups
	}
	c := t.createOne(0)
	raw := fmt.Sprintf(`{"customers":[{"external_id":%q,"review_groups":" %s ;%s,, ","contacts":"a@example.com; b@example.com"}]}`, idOf(c), groups[0], groups[1])
	resp, x := t.saveBody([]byte(raw), nil)
	if resp.Status != openapi.StatusOK || len(resp.Detail) != 0 {
		t.Errorf(x, "status ok and no detail for review groups and contacts given as strings, got %q, %s", resp.Status, detailSummary(resp))
	}
	sc, x := t.mustStored(idOf(c))
	if want := []string{groups[0], groups[1]}; fmt.Sprint(sc.ReviewGroups) != fmt.Sprint(want) {
		t.Errorf(x, "review_groups %q stored from %q, got %q", want, " "+groups[0]+" ;"+groups[1]+",, ", sc.ReviewGroups)
	}
	if want := []string{"a@example.com", "b@example.com"}; fmt.Sprint(sc.Contacts) != fmt.Sprint(want) {
		t.Errorf(x, "contacts %q stored, got %q", want, sc.Contacts)
	}
}

// checkWarningsStored saves a customer with a lower-case country code, a
// phone that is not E.164, an unknown key and (when the suite knows the
// server's list) an unknown custom field, and reads it back: the country is
// stored upper case, the phone as given, the unknown key and custom field
// not at all.
func checkWarningsStored(t *checkT) {
	id := t.NewID("warned")
	unknownField := "not_a_field_" + strings.TrimSuffix(t.prefix, "-")
	fields := map[string]any{unknownField: "x"}
	known := t.r.serverRules().CustomFields
	if len(known) > 0 {
		fields[known[0]] = "kept"
	}
	body, _ := json.Marshal(map[string]any{"customers": []any{map[string]any{
		"external_id": id, "account_type": "N", "last_name": "Doe", "domicile_code": "fr", "phone": "0612 345",
		"fields": fields, "contract_unknown_key": "ignored",
	}}})
	resp, x := t.saveBody(body, nil)
	if resp.Status != openapi.StatusOK || len(resp.Added) != 1 {
		t.Fatalf(x, "status ok and the customer added: its defects are warnings, got %q, detail %v", resp.Status, detailSummary(resp))
	}
	sc, x := t.mustStored(id)
	if fmt.Sprint(sc.DomicileCodes) != "[FR]" {
		t.Errorf(x, "the lower-case domicile_code \"fr\" stored upper case as [FR], got %v", sc.DomicileCodes)
	}
	if sc.Phone != "0612 345" {
		t.Errorf(x, "the phone that is not E.164 stored as given, \"0612 345\", got %q", sc.Phone)
	}
	if bytes.Contains(x.Body, []byte("contract_unknown_key")) {
		t.Errorf(x, "the unknown key contract_unknown_key ignored, not stored")
	}
	if len(known) > 0 {
		if _, ok := sc.Fields[unknownField]; ok {
			t.Errorf(x, "the custom field %s, not in the server's list, dropped", unknownField)
		}
		if sc.Fields[known[0]] != "kept" {
			t.Errorf(x, "the custom field %s, in the server's list, stored, got %v", known[0], sc.Fields[known[0]])
		}
	}
}
