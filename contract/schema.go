package contract

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// checkSaveResponseValid checks the schema only: a 200 application/json
// whose body matches SaveCustomersResponse (Save fails on any other). What
// the body says (status ok, added in request order) is the behaviour
// checks' (behaviour/all-valid-ok, behaviour/create-lists-added), so that a
// stub that answers a valid body to every save passes the schema category.
func checkSaveResponseValid(t *checkT) {
	_, x := t.Save(t.batch(t.gen(0), 3))
	if ct := x.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf(x, "Content-Type application/json, got %q", ct)
	}
}

// checkDocumentExamples checks the schema only: every saveCustomers request
// example of the document is answered 200 with a Save customers response
// (the document's own examples are valid requests). What the answers say is
// behaviour/document-examples-saved's.
func checkDocumentExamples(t *checkT) {
	t.sendDocumentExamples(func(string, []byte, *exchange, *openapi.SaveCustomersResponse) {})
}

// checkDocumentExamplesSaved: the examples are saved without errors, but
// those the server's rules give and the defaults' do not (a mock with
// --kyc-max 1 refuses the kyc_level 2 example).
func checkDocumentExamplesSaved(t *checkT) {
	predictions := newExamplePredictions(t.r.serverRules(), t.VerifyOnly())
	t.sendDocumentExamples(func(name string, body []byte, x *exchange, resp *openapi.SaveCustomersResponse) {
		allowed := predictions.configured(body)
		for _, d := range resp.Detail {
			for _, c := range codes(d.Errors) {
				if !allowed[d.ExternalID+" "+c] {
					t.Errorf(x, "example %s saved without errors (but those the server's rules add to the defaults'), got %q %v", name, d.ExternalID, codes(d.Errors))
					break
				}
			}
		}
	})
}

// sendDocumentExamples sends the saveCustomers request examples of the
// document, in name order, with every id rewritten to a fresh prefixed one
// (the same id in two examples maps to the same new id, so the delta update
// example updates the customer of the first), and calls each with the
// example's name, the body sent and its answer; the check ends at an answer
// that is not a 200 with a Save customers response.
func (t *checkT) sendDocumentExamples(each func(name string, body []byte, x *exchange, resp *openapi.SaveCustomersResponse)) {
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
		each(name, body, x, t.decodeSave(x))
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

// examplePredictions predicts the errors of a sequence of examples twice,
// under the server's rules and under the defaults the examples are written
// for, each on the state its own predictions stored, so that an example
// written for the defaults (kyc_level 2) may be refused by a server whose
// --kyc-max is 1, and so may the update of the customer it would have
// created.
type examplePredictions struct {
	server, defaults *predictedState
	verifyOnly       bool
}

func newExamplePredictions(server rules.Config, verifyOnly bool) *examplePredictions {
	return &examplePredictions{server: newPredictedState(server), defaults: newPredictedState(rules.DefaultConfig()), verifyOnly: verifyOnly}
}

// configured returns the errors ("external_id code") the server's rules
// give body and the defaults do not.
func (p *examplePredictions) configured(body []byte) map[string]bool {
	extra := p.server.errors(body, !p.verifyOnly)
	for k := range p.defaults.errors(body, !p.verifyOnly) {
		delete(extra, k)
	}
	return extra
}

// predictedState is what a server of some rules would store of the bodies
// it was sent: a rules.State that holds the predictions' records.
type predictedState struct {
	cfg *rules.Compiled // nil: rules that do not compile, which predict nothing
	*rules.MemState
}

func newPredictedState(rc rules.Config) *predictedState {
	cc, _ := rc.Compile() // the suite's rules were validated by Run
	return &predictedState{cfg: cc, MemState: rules.NewMemState()}
}

// errors predicts body's errors ("external_id code") and, when store is
// true, keeps the records the prediction stores.
func (s *predictedState) errors(body []byte, store bool) map[string]bool {
	out := map[string]bool{}
	if s.cfg == nil {
		return out
	}
	o, err := predictOn(s.cfg, s, body)
	if err != nil {
		return out
	}
	for _, d := range o.Detail {
		for _, m := range d.Errors {
			out[d.ExternalID+" "+m.Code] = true
		}
	}
	if store {
		s.Keep(o)
	}
	return out
}
