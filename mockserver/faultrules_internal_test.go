package mockserver

import (
	"testing"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// pickCases are the states in which a save's rule lookup must cost nothing:
// no rule in the process, rules of another business only, and a rule of the
// business that does not match the save.
func pickCases() []struct {
	name  string
	rules func(*faultRules)
} {
	rule := func(prefix string) *faultRule {
		return &faultRule{view: openapi.FaultRule{Path: savePath, ExternalIDPrefix: prefix}, probability: 1, remaining: -1, status: 503}
	}
	return []struct {
		name  string
		rules func(*faultRules)
	}{
		{"no rules", func(*faultRules) {}},
		{"another business's rules", func(f *faultRules) { f.add("other", rule("")) }},
		{"a rule that does not match", func(f *faultRules) { f.add("acme", rule("vip-")) }},
	}
}

func pickRequest() *openapi.SaveCustomersRequest {
	id, parent := "c1", "c2"
	return &openapi.SaveCustomersRequest{
		Customers: []openapi.Customer{{ExternalID: &id}},
		Relations: []openapi.Relation{{ParentCustomerExternalID: &parent, ChildCustomerExternalID: &id}},
	}
}

func TestPickWithoutMatchAllocatesNothing(t *testing.T) {
	req := pickRequest()
	for _, tt := range pickCases() {
		t.Run(tt.name, func(t *testing.T) {
			f := newFaultRules()
			tt.rules(f)
			var fired bool
			got := testing.AllocsPerRun(1000, func() { _, fired = f.pick("acme", savePath, req) })
			if fired {
				t.Fatal("a rule fired")
			}
			if got != 0 {
				t.Errorf("got %v allocations per save, want 0", got)
			}
		})
	}
}

// BenchmarkFaultRulePick is the cost of the rule lookup on every save.
func BenchmarkFaultRulePick(b *testing.B) {
	req := pickRequest()
	for _, tt := range pickCases() {
		b.Run(tt.name, func(b *testing.B) {
			f := newFaultRules()
			tt.rules(f)
			b.ReportAllocs()
			for b.Loop() {
				f.pick("acme", savePath, req)
			}
		})
	}
}
