package mockserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// addRule posts a fault rule with client and returns the answer.
func addRule(tb testing.TB, ts *mocktest.Server, client *http.Client, rule string) response {
	tb.Helper()
	return do(tb, client, http.MethodPost, ts.URL+"/__admin/faults", "application/json", rule)
}

func mustAddRule(tb testing.TB, ts *mocktest.Server, client *http.Client, rule string) openapi.FaultRule {
	tb.Helper()
	r := addRule(tb, ts, client, rule)
	var v openapi.FaultRule
	if r.status != http.StatusCreated || json.Unmarshal(r.body, &v) != nil {
		tb.Fatalf("add rule %s: got %d %s, want 201", rule, r.status, r.body)
	}
	if got, want := r.header.Get("Location"), "/__admin/faults/"+v.ID; got != want {
		tb.Errorf("Location: got %q, want %q", got, want)
	}
	return v
}

func TestFaultRuleValidation(t *testing.T) {
	ts := newServer(t, mockserver.Config{})
	for _, tt := range []struct {
		name, rule, want string // want: part of the 400's detail
	}{
		{"not JSON", `{`, "not a fault rule"},
		{"unknown key", `{"status":503,"colour":"red"}`, "not a fault rule"},
		{"two values", `{"status":503}{}`, "more than one"},
		{"no action", `{"probability":0.5}`, "exactly one of status, latency and fault"},
		{"two actions", `{"status":503,"fault":"reset"}`, "exactly one"},
		{"read-only id", `{"id":"x","status":503}`, "set by the mock"},
		{"other path", `{"path":"/api/v1/token","status":503}`, "match /api/v1/customers/save only"},
		{"probability", `{"probability":1.5,"status":503}`, "from 0 to 1"},
		{"times", `{"times":0,"status":503}`, "at least 1"},
		{"status not listed", `{"status":404}`, "give one of 400, 401"},
		{"retry_after without 503", `{"status":500,"retry_after":3}`, "429 or 503"},
		{"retry_after too long", `{"status":503,"retry_after":7200}`, "0 to 3600"},
		{"fault", `{"fault":"slow"}`, "reset, empty"},
		{"latency empty", `{"latency":{}}`, "one of: fixed"},
		{"latency two forms", `{"latency":{"fixed":"1s","median":"1s"}}`, "one of: fixed"},
		{"latency too long", `{"latency":{"fixed":"2m"}}`, "from 0 to 1m0s"},
		{"latency min alone", `{"latency":{"min":"1s"}}`, "go together"},
		{"latency min > max", `{"latency":{"min":"2s","max":"1s"}}`, "more than"},
		{"sigma alone", `{"latency":{"sigma":1}}`, "goes with latency.median"},
		{"sigma too wide", `{"latency":{"median":"1s","sigma":9}}`, "0 to 4"},
		{"apply latency", `{"latency":{"fixed":"1ms"},"apply_then_fail":true}`, "goes with status or fault"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := addRule(t, ts, ts.Client, tt.rule)
			var p openapi.Problem
			if r.status != http.StatusBadRequest || json.Unmarshal(r.body, &p) != nil || !strings.Contains(p.Detail, tt.want) {
				t.Errorf("got %d %s, want 400 saying %q", r.status, r.body, tt.want)
			}
		})
	}
	if r := do(t, ts.Client, http.MethodPost, ts.URL+"/__admin/faults", "text/plain", `{"status":503}`); r.status != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: got %d, want 415", r.status)
	}
	if got := len(listRules(t, ts, ts.Client)); got != 0 {
		t.Errorf("%d rules after bad requests, want none", got)
	}
}

func listRules(tb testing.TB, ts *mocktest.Server, client *http.Client) []openapi.FaultRule {
	tb.Helper()
	r := do(tb, client, http.MethodGet, ts.URL+"/__admin/faults", "", "")
	var l openapi.FaultRuleList
	if r.status != http.StatusOK || json.Unmarshal(r.body, &l) != nil || l.Limit != mockserver.MaxFaultRules {
		tb.Fatalf("list rules: got %d %s", r.status, r.body)
	}
	return l.Rules
}

func customerSave(id string) string {
	return fmt.Sprintf(`{"customers":[{"external_id":%q,"account_type":"N","last_name":"Doe"}]}`, id)
}

// Each action of a rule, on the saves it matches.
func TestFaultRuleActions(t *testing.T) {
	for _, tt := range []struct {
		name   string
		rule   string
		id     string // the customer saved
		check  func(t *testing.T, resp *http.Response, err error)
		stored bool // whether the save is applied
		fired  int64
	}{
		{"status once", `{"status":503,"retry_after":7,"times":1}`, "c1", func(t *testing.T, resp *http.Response, err error) {
			if err != nil || resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "7" {
				t.Errorf("got %v %v, want 503 with Retry-After 7", resp, err)
			}
		}, false, 1},
		{"status after applying", `{"status":504,"apply_then_fail":true}`, "c1", func(t *testing.T, resp *http.Response, err error) {
			if err != nil || resp.StatusCode != 504 {
				t.Errorf("got %v %v, want 504", resp, err)
			}
		}, true, 1},
		{"reset", `{"fault":"reset"}`, "c1", func(t *testing.T, resp *http.Response, err error) {
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("got %v, want a reset", err)
			}
		}, false, 1},
		{"reset after applying", `{"fault":"reset","apply_then_fail":true}`, "c1", func(t *testing.T, resp *http.Response, err error) {
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("got %v, want a reset", err)
			}
		}, true, 1},
		{"latency", `{"latency":{"min":"1ms","max":"3ms"}}`, "c1", ok200, true, 1},
		{"log-normal latency", `{"latency":{"median":"1ms","sigma":0.3}}`, "c1", ok200, true, 1},
		{"other prefix", `{"external_id_prefix":"vip-","status":503}`, "c1", ok200, true, 0},
		{"prefix", `{"external_id_prefix":"vip-","status":503}`, "vip-7", func(t *testing.T, resp *http.Response, err error) {
			if err != nil || resp.StatusCode != 503 {
				t.Errorf("got %v %v, want 503", resp, err)
			}
		}, false, 1},
		{"probability 0", `{"probability":0,"fault":"empty"}`, "c1", ok200, true, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := newServer(t, mockserver.Config{})
			rule := mustAddRule(t, ts, ts.Client, tt.rule)
			resp, err := post(ts, customerSave(tt.id), "")
			tt.check(t, resp, err)
			if resp != nil {
				resp.Body.Close()
			}
			if _, stored := getCustomer(t, ts, ts.Client, tt.id); stored != tt.stored {
				t.Errorf("stored: got %v, want %v", stored, tt.stored)
			}
			r := do(t, ts.Client, http.MethodGet, ts.URL+"/__admin/faults/"+rule.ID, "", "")
			var got openapi.FaultRule
			if r.status != 200 || json.Unmarshal(r.body, &got) != nil || got.Fired != tt.fired {
				t.Errorf("the rule after the save: got %d %s, want fired %d", r.status, r.body, tt.fired)
			}
		})
	}
}

func ok200(t *testing.T, resp *http.Response, err error) {
	t.Helper()
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("got %v %v, want 200", resp, err)
	}
}

// "times" counts down, the first rule that fires acts, and the rules can be
// deleted one by one or all at once.
func TestFaultRuleLifecycle(t *testing.T) {
	ts := newServer(t, mockserver.Config{})
	first := mustAddRule(t, ts, ts.Client, `{"status":429,"times":2}`)
	second := mustAddRule(t, ts, ts.Client, `{"status":502}`)
	var got []int
	for i := range 4 {
		resp, err := post(ts, customerSave(fmt.Sprint("c", i)), "")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got = append(got, resp.StatusCode)
	}
	if want := []int{429, 429, 502, 502}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses: got %v, want %v", got, want)
	}
	rules := listRules(t, ts, ts.Client)
	if len(rules) != 2 || rules[0].ID != first.ID || *rules[0].Remaining != 0 || rules[0].Fired != 2 || rules[1].Fired != 2 || rules[1].Remaining != nil {
		t.Errorf("rules: got %+v", rules)
	}
	if r := do(t, ts.Client, http.MethodDelete, ts.URL+"/__admin/faults/"+second.ID, "", ""); r.status != 204 {
		t.Errorf("delete: got %d %s", r.status, r.body)
	}
	for _, path := range []string{"/__admin/faults/" + second.ID} {
		for _, method := range []string{http.MethodGet, http.MethodDelete} {
			if r := do(t, ts.Client, method, ts.URL+path, "", ""); r.status != 404 {
				t.Errorf("%s %s after delete: got %d, want 404", method, path, r.status)
			}
		}
	}
	if r := do(t, ts.Client, http.MethodDelete, ts.URL+"/__admin/faults", "", ""); r.status != 204 {
		t.Errorf("delete all: got %d %s", r.status, r.body)
	}
	if n := len(listRules(t, ts, ts.Client)); n != 0 {
		t.Errorf("%d rules after delete all", n)
	}
	save(t, ts, customerSave("after"))
}

// A business never sees, uses or deletes another's rules.
func TestFaultRulesIsolation(t *testing.T) {
	ts := newServer(t, mockserver.Config{})
	a, b := ts.ClientFor("acme", "x"), ts.ClientFor("globex", "x")
	rule := mustAddRule(t, ts, a, `{"status":503}`)
	if n := len(listRules(t, ts, b)); n != 0 {
		t.Errorf("B lists %d rules, want none", n)
	}
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		if r := do(t, b, method, ts.URL+"/__admin/faults/"+rule.ID, "", ""); r.status != 404 {
			t.Errorf("B %s A's rule: got %d, want 404", method, r.status)
		}
	}
	do(t, b, http.MethodDelete, ts.URL+"/__admin/faults", "", "")
	saveAs(t, ts, b, customerSave("b1"))
	if r := do(t, a, http.MethodPost, ts.URL+"/api/v1/customers/save", "application/json", customerSave("a1")); r.status != 503 {
		t.Errorf("A's save: got %d, want its rule's 503", r.status)
	}
	if n := len(listRules(t, ts, a)); n != 1 {
		t.Errorf("A has %d rules after B's deletes, want 1", n)
	}
}

func TestFaultRuleLimit(t *testing.T) {
	ts := newServer(t, mockserver.Config{})
	for range mockserver.MaxFaultRules {
		mustAddRule(t, ts, ts.Client, `{"probability":0,"status":500}`)
	}
	r := addRule(t, ts, ts.Client, `{"status":500}`)
	if r.status != http.StatusConflict || !strings.Contains(string(r.body), "too-many-fault-rules") {
		t.Errorf("rule %d: got %d %s, want 409", mockserver.MaxFaultRules+1, r.status, r.body)
	}
	mustAddRule(t, ts, ts.ClientFor("other", "x"), `{"status":500}`)
}

// Every example rule of the document is a rule the mock takes.
func TestFaultRuleExamples(t *testing.T) {
	doc, err := openapi.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	examples := doc.Paths.Find("/__admin/faults").Post.RequestBody.Value.Content["application/json"].Examples
	if len(examples) == 0 {
		t.Fatal("no examples")
	}
	ts := newServer(t, mockserver.Config{})
	for name, ex := range examples {
		b, err := json.Marshal(ex.Value.Value)
		if err != nil {
			t.Fatal(err)
		}
		if r := addRule(t, ts, ts.Client, string(b)); r.status != http.StatusCreated {
			t.Errorf("example %s: got %d %s, want 201", name, r.status, r.body)
		}
	}
}

// BenchmarkSaveWithFaultRule is a save of one customer (an update: the same
// body each time) through the whole handler, without rules and with a rule
// of the business that does not match it: the rule must cost nothing
// measurable.
//
//	go test -run '^$' -bench SaveWithFaultRule -cpu 1 -count 6 ./mockserver
func BenchmarkSaveWithFaultRule(b *testing.B) {
	for _, rule := range []string{"", `{"external_id_prefix":"vip-","status":503}`} {
		name := "no rule"
		if rule != "" {
			name = "a rule that does not match"
		}
		b.Run(name, func(b *testing.B) {
			mock := mocktest.NewMock(b, mockserver.Config{Validator: mocktest.Validator(b)})
			if rule != "" {
				req := httptest.NewRequest(http.MethodPost, "/__admin/faults", strings.NewReader(rule))
				req.Header.Set("Content-Type", "application/json")
				req.SetBasicAuth("bench", "x")
				rec := httptest.NewRecorder()
				if mock.ServeHTTP(rec, req); rec.Code != http.StatusCreated {
					b.Fatalf("add rule: %d %s", rec.Code, rec.Body.Bytes())
				}
			}
			body := benchBody(1, "c")
			b.ReportAllocs()
			for b.Loop() {
				mocktest.MustSave(b, mock, "bench", body)
			}
		})
	}
}
