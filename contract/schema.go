package contract

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

func checkSaveResponseValid(t *checkT) {
	req := t.batch(t.gen(0), 3)
	resp, x := t.Save(req)
	if ct := x.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf(x, "Content-Type application/json, got %q", ct)
	}
	t.expectAllSaved(req, resp, x, false)
}

// checkDocumentExamples sends the saveCustomers request examples of the
// document, in name order, with every id rewritten to a fresh prefixed one
// (the same id in two examples maps to the same new id, so the delta update
// example updates the customer of the first).
func checkDocumentExamples(t *checkT) {
	op := t.r.client.v.Doc().Paths.Value(savePath).Post
	media := op.RequestBody.Value.Content.Get("application/json")
	names := make([]string, 0, len(media.Examples))
	for name := range media.Examples {
		names = append(names, name)
	}
	sort.Strings(names)
	// Create before update: the example that creates customers goes first.
	sort.SliceStable(names, func(i, j int) bool { return names[i] != "deltaUpdate" && names[j] == "deltaUpdate" })
	if len(names) == 0 {
		t.Fatalf(nil, "the document to have request examples for saveCustomers")
	}
	ids := map[string]string{}
	for _, name := range names {
		raw, err := json.Marshal(media.Examples[name].Value.Value)
		if err != nil {
			t.Fatalf(nil, "example %s to encode: %v", name, err)
		}
		var req openapi.SaveCustomersRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			t.Fatalf(nil, "example %s to decode as the model: %v", name, err)
		}
		remap := func(p *string) {
			if p == nil || *p == "" {
				return
			}
			if _, ok := ids[*p]; !ok {
				ids[*p] = t.NewID("ex")
			}
			*p = ids[*p]
		}
		for i := range req.Customers {
			remap(req.Customers[i].ExternalID)
		}
		for i := range req.Relations {
			remap(req.Relations[i].RelationExternalID)
			remap(req.Relations[i].ParentCustomerExternalID)
			remap(req.Relations[i].ChildCustomerExternalID)
		}
		if rc := t.r.serverRules(); len(req.Customers) > rc.MaxBatch || len(req.Relations) > rc.MaxRelations {
			t.Skipf("the example %s has %d customers and %d relations; the server's limits are %d and %d per request", name, len(req.Customers), len(req.Relations), rc.MaxBatch, rc.MaxRelations)
		}
		if name == "deltaUpdate" && t.VerifyOnly() {
			continue // updates a customer that verify-only mode did not store
		}
		body, _ := json.Marshal(&req)
		if t.VerifyOnly() {
			body = t.marshal(&req, true)
		}
		x := t.Do(request{method: http.MethodPost, path: savePath, body: body})
		resp := t.decodeSave(x)
		for _, d := range resp.Detail {
			if len(d.Errors) > 0 {
				t.Errorf(x, "example %s saved without errors, got %q %v", name, d.ExternalID, codes(d.Errors))
			}
		}
	}
}

func checkEveryResponseValid(t *checkT) {
	tl := t.r.client.tally
	errs := tl.lines(&tl.schemaErrors)
	t.ErrorfEach(errs, "every response to match the document", "off-document responses")
	tl.mu.Lock()
	n := tl.requests
	tl.mu.Unlock()
	if len(errs) == 0 && n == 0 {
		t.Skipf("no response to check: no other check ran")
	}
}
