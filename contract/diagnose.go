package contract

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// Cause is one reason behind many failures of a run, said in one line: a
// target that is a stub, that has no token endpoint, that refuses the
// suite's credentials, or whose rules differ from the suite's. The summary
// gives it first, so that a reader does not work through forty failures
// that say one thing.
type Cause struct {
	// Cause says what the failures have in common and what to do.
	Cause string `json:"cause"`
	// Checks are the failed checks whose exchanges show it.
	Checks []string `json:"checks"`
}

// minCauseChecks is how many failed checks must show a cause for the
// summary to name it: one failure is its check's own.
const minCauseChecks = 2

// diagnosers look at the failed checks of a report, each for one cause, and
// return it (Cause nil when they do not see it). They read only what the
// report keeps (the failed checks' exchanges), so a report read back from
// --json is diagnosed as the run was; rc are the rules the suite expected
// of the target.
var diagnosers = []func(rep *Report, rc rules.Config) *Cause{
	noTokenEndpoint,
	credentialsRefused,
	offDocument,
	statelessStub,
	rulesDiffer,
}

// Diagnose returns the causes of many failures of rep, the most basic
// first (no token endpoint before a stub before a rule setting); rc are the
// rules the suite expected of the target.
func Diagnose(rep Report, rc rules.Config) []Cause {
	var out []Cause
	for _, d := range diagnosers {
		if c := d(&rep, rc); c != nil && len(c.Checks) >= minCauseChecks {
			out = append(out, *c)
		}
	}
	return out
}

// failedExchanges calls f with every exchange of every failed check of rep.
func failedExchanges(rep *Report, f func(check string, e *Exchange)) {
	for i := range rep.Checks {
		c := &rep.Checks[i]
		if c.Status != Fail {
			continue
		}
		for j := range c.Exchanges {
			f(c.ID, &c.Exchanges[j])
		}
	}
}

// exchangePath is the API path of e (savePath, tokenPath, …), whatever base
// path the target has.
func exchangePath(e *Exchange) string {
	u, err := url.Parse(e.URL)
	if err != nil {
		return ""
	}
	for _, p := range []string{savePath, tokenPath} {
		if strings.HasSuffix(u.Path, p) {
			return p
		}
	}
	return u.Path
}

// checkSet collects check ids once each, in the order seen.
type checkSet struct {
	ids  []string
	seen map[string]bool
}

func (s *checkSet) add(id string) {
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	if !s.seen[id] {
		s.seen[id] = true
		s.ids = append(s.ids, id)
	}
}

// noTokenEndpoint: every token request of the failed checks was answered
// 404, 405 or 501 (a stub or a gateway that serves the save path only).
func noTokenEndpoint(rep *Report, _ rules.Config) *Cause {
	var checks checkSet
	n, status, other := 0, 0, false
	failedExchanges(rep, func(id string, e *Exchange) {
		if e.Method != http.MethodPost || exchangePath(e) != tokenPath || e.Status == 0 {
			return
		}
		switch e.Status {
		case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
			n++
			status = e.Status
			checks.add(id)
		default:
			other = true
		}
	})
	if n == 0 || other {
		return nil
	}
	return &Cause{
		Cause: fmt.Sprintf("the target has no token endpoint: POST %s was answered %d %s %s; the checks of the token endpoint fail for that alone (if the target is not meant to issue tokens, leave them out with --skip '^negative/auth/token-')",
			tokenPath, status, http.StatusText(status), times(n)),
		Checks: checks.ids,
	}
}

// credentialsRefused: most requests that carried the suite's own
// credentials (not the made-up ones of the auth checks) were answered 401
// or 403.
func credentialsRefused(rep *Report, _ rules.Config) *Cause {
	var checks checkSet
	refused, carried := 0, 0
	failedExchanges(rep, func(id string, e *Exchange) {
		if (e.Auth != authPrimary && e.Auth != authSecond) || exchangePath(e) == tokenPath || e.Status == 0 {
			return
		}
		carried++
		if e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
			refused++
			checks.add(id)
		}
	})
	if refused == 0 || refused*5 < carried*4 {
		return nil
	}
	return &Cause{
		Cause: fmt.Sprintf("the target refused the suite's own credentials in %d of %d requests that carried them (401 or 403): check the user and password or the token, and that the user may save customers; the failures follow from that",
			refused, carried),
		Checks: checks.ids,
	}
}

// offDocument: the failed checks' first off-document answer breaks the
// document the same way in most of them (a stub's answer to every save).
func offDocument(rep *Report, _ rules.Config) *Cause {
	const prefix = "a response that matches the OpenAPI document: "
	by := map[string]*checkSet{}
	failed := 0
	for _, c := range rep.Checks {
		if c.Status != Fail {
			continue
		}
		failed++
		for _, f := range c.Failures {
			_, v, ok := strings.Cut(f.Expected, prefix)
			if !ok {
				continue
			}
			_, v, _ = strings.Cut(v, "does not match the OpenAPI document: ")
			v, _, _ = strings.Cut(v, "; ")
			if by[v] == nil {
				by[v] = &checkSet{}
			}
			by[v].add(c.ID)
			break
		}
	}
	top := ""
	for v, s := range by {
		if top == "" || len(s.ids) > len(by[top].ids) || len(s.ids) == len(by[top].ids) && v < top {
			top = v
		}
	}
	if top == "" || 2*len(by[top].ids) < failed {
		return nil
	}
	return &Cause{
		Cause:  fmt.Sprintf("the target's answers break the document the same way: %s (fix it first: the other failures may follow from it)", oneLine(top)),
		Checks: by[top].ids,
	}
}

// minStubSaves is how many saves of different bodies answered 200 it takes
// to call a target a stub.
const minStubSaves = 5

// statelessStub: the 200 answers to saves of different bodies are all the
// same, or their added lists never name a customer the request sent.
func statelessStub(rep *Report, _ rules.Config) *Cause {
	var checks checkSet
	bodies, answers := map[string]bool{}, map[string]bool{}
	withCustomers, namesSent := 0, false
	failedExchanges(rep, func(id string, e *Exchange) {
		if e.Method != http.MethodPost || exchangePath(e) != savePath || e.Status != http.StatusOK || e.RequestBodyCut || e.ResponseBodyCut {
			return
		}
		checks.add(id)
		bodies[e.RequestBody] = true
		answers[e.ResponseBody] = true
		var req struct {
			Customers []struct {
				ExternalID string `json:"external_id"`
			} `json:"customers"`
			VerifyInput bool `json:"verify_input"`
		}
		var resp openapi.SaveCustomersResponse
		if json.Unmarshal([]byte(e.RequestBody), &req) != nil || json.Unmarshal([]byte(e.ResponseBody), &resp) != nil || req.VerifyInput || len(req.Customers) == 0 {
			return
		}
		withCustomers++
		sent := map[string]bool{}
		for _, c := range req.Customers {
			sent[c.ExternalID] = true
		}
		for _, a := range resp.Added {
			namesSent = namesSent || sent[a.ExternalID]
		}
		for _, d := range resp.Detail {
			namesSent = namesSent || sent[d.ExternalID]
		}
	})
	switch {
	case len(bodies) >= minStubSaves && len(answers) == 1:
		return &Cause{
			Cause:  fmt.Sprintf("the target answers every save the same way: it looks like a stateless stub, not a stateful server (%d saves of different bodies, one answer)", len(bodies)),
			Checks: checks.ids,
		}
	case withCustomers >= minStubSaves && !namesSent:
		return &Cause{
			Cause:  fmt.Sprintf("the target's answers do not follow its requests: in %d saves, added and detail never name a customer that was sent; it looks like a stub that makes up its answers, not a stateful server", withCustomers),
			Checks: checks.ids,
		}
	}
	return nil
}

// ruleCodes are the codes whose verdict a rule setting decides, with the
// fields of the record they are about and the flags that set the rule.
var ruleCodes = map[string]struct {
	fields []string
	flags  string
}{
	rules.KYCLevelOutOfRange:  {[]string{"kyc_level", "kyc_level_requested"}, "--kyc-min or --kyc-max"},
	rules.RelationTypeInvalid: {[]string{"relation_type"}, "--relation-types"},
	rules.ReviewGroupUnknown:  {[]string{"review_groups"}, "--review-groups"},
	rules.CustomFieldUnknown:  {nil, "--custom-fields"},
}

// rulesDiffer: the target answered a code of a rule setting (kyc range,
// relation types, review groups, custom fields) for records the suite's
// rules give no such code. It names the values refused: those of the
// refused records that no accepted record of the same saves had.
func rulesDiffer(rep *Report, rc rules.Config) *Cause {
	cc, err := rc.Compile()
	if err != nil {
		return nil
	}
	ev := &ruleEvidence{refused: map[ruleKey]*checkSet{}, accepted: map[ruleKey]map[string]bool{}, codes: map[string]bool{}}
	failedExchanges(rep, func(id string, e *Exchange) { ev.observe(cc, id, e) })
	if len(ev.codes) == 0 {
		return nil
	}
	var what []string
	for _, code := range slices.Sorted(maps.Keys(ev.codes)) {
		what = append(what, ev.describe(code, rep.Mock))
	}
	return &Cause{
		Cause:  "the target's rules differ from the suite's: " + strings.Join(what, "; "),
		Checks: ev.checks.ids,
	}
}

// ruleKey is a rule code and one of the fields it judges.
type ruleKey struct{ code, field string }

// ruleEvidence is what rulesDiffer gathers from the failed checks' saves:
// the rule codes the target answered that the suite did not predict, the
// checks that got them, and the values (as JSON text) of the fields those
// codes judge, refused and accepted.
type ruleEvidence struct {
	checks   checkSet
	refused  map[ruleKey]*checkSet
	accepted map[ruleKey]map[string]bool
	codes    map[string]bool
}

// observe adds what the save exchange e of the check id shows.
func (ev *ruleEvidence) observe(cc *rules.Compiled, id string, e *Exchange) {
	if e.Method != http.MethodPost || exchangePath(e) != savePath || e.Status != http.StatusOK || e.RequestBodyCut {
		return
	}
	var resp openapi.SaveCustomersResponse
	if json.Unmarshal([]byte(e.ResponseBody), &resp) != nil {
		return
	}
	got := map[string]bool{} // "external_id code" of the rule codes answered
	for _, d := range resp.Detail {
		for _, m := range messagesOf(d) {
			if _, ok := ruleCodes[m.Code]; ok {
				got[d.ExternalID+" "+m.Code] = true
			}
		}
	}
	if len(got) == 0 {
		return
	}
	predicted := predictedCodes(cc, []byte(e.RequestBody))
	for _, r := range saveRecords(e.RequestBody) {
		for code, rule := range ruleCodes {
			k := r.id + " " + code
			if got[k] && predicted[k] {
				continue // the suite expected the code too
			}
			if got[k] {
				ev.checks.add(id)
				ev.codes[code] = true
			}
			for _, f := range rule.fields {
				if v, ok := r.fields[f]; ok && string(v) != "null" {
					ev.value(ruleKey{code, f}, string(v), got[k])
				}
			}
		}
	}
}

// value notes the value v of a field, refused or accepted under its code.
func (ev *ruleEvidence) value(k ruleKey, v string, refused bool) {
	if refused {
		if ev.refused[k] == nil {
			ev.refused[k] = &checkSet{}
		}
		ev.refused[k].add(v)
		return
	}
	if ev.accepted[k] == nil {
		ev.accepted[k] = map[string]bool{}
	}
	ev.accepted[k][v] = true
}

// describe says, for one code, which values were refused (those only
// refused, when some were also accepted) and how to give the suite the
// target's settings.
func (ev *ruleEvidence) describe(code string, mock bool) string {
	var vals []string
	for _, f := range ruleCodes[code].fields {
		vs := ev.refused[ruleKey{code, f}]
		if vs == nil {
			continue
		}
		var only []string
		for _, v := range vs.ids {
			if !ev.accepted[ruleKey{code, f}][v] {
				only = append(only, v)
			}
		}
		if len(only) == 0 {
			only = vs.ids
		}
		sort.Strings(only)
		vals = append(vals, f+" "+orList(only))
	}
	verb := "refused"
	if code == rules.ReviewGroupUnknown || code == rules.CustomFieldUnknown {
		verb = "unknown to the target"
	}
	subject := code + " was answered"
	switch all := strings.Join(vals, ", "); {
	case len(vals) == 1 && !strings.Contains(all, " or "):
		subject = all + " was " + verb
	case len(vals) > 0:
		subject = all + " were " + verb
	}
	hint := "give the target's settings with " + ruleCodes[code].flags
	if mock {
		hint = "use " + ruleCodes[code].flags + " or let the suite read /__admin/config: rule flags given override the mock's"
	}
	return fmt.Sprintf("%s (%s; %s)", subject, code, hint)
}

// saveRecord is one customer or relation of a save body: its id and its
// fields as JSON text.
type saveRecord struct {
	id     string
	fields map[string]json.RawMessage
}

// saveRecords returns the customers and relations of a save body; none
// when it is not one.
func saveRecords(body string) []saveRecord {
	var req struct {
		Customers []map[string]json.RawMessage `json:"customers"`
		Relations []map[string]json.RawMessage `json:"relations"`
	}
	if json.Unmarshal([]byte(body), &req) != nil {
		return nil
	}
	var out []saveRecord
	for i, recs := range [][]map[string]json.RawMessage{req.Customers, req.Relations} {
		idKey := []string{"external_id", "relation_external_id"}[i]
		for _, r := range recs {
			var id string
			_ = json.Unmarshal(r[idKey], &id)
			out = append(out, saveRecord{id: id, fields: r})
		}
	}
	return out
}

// orList writes values as "2", "2 or 3", "1, 2 or 3" (at most 5, then "…").
func orList(vs []string) string {
	if len(vs) > 5 {
		vs = append(vs[:5:5], "…")
	}
	if len(vs) == 1 {
		return vs[0]
	}
	return strings.Join(vs[:len(vs)-1], ", ") + " or " + vs[len(vs)-1]
}

// messagesOf returns a record's errors and warnings.
func messagesOf(d openapi.RecordDetail) []openapi.Message {
	return append(append([]openapi.Message(nil), d.Errors...), d.Warnings...)
}

// predictedCodes are the codes ("external_id code") the rules cc give the
// save body raw on an empty business; none when raw does not decode.
func predictedCodes(cc *rules.Compiled, raw []byte) map[string]bool {
	out := map[string]bool{}
	o, err := predict(cc, raw)
	if err != nil {
		return out
	}
	for _, d := range o.Detail {
		for _, m := range messagesOf(d) {
			out[d.ExternalID+" "+m.Code] = true
		}
	}
	return out
}

// times says "once", "twice" or "N times".
func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}
