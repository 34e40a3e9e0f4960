package rules_test

import (
	"testing"

	"github.com/algoreg-kit/algoreg-kit/rules"
)

// A MemState holds what Keep was given, by id, and nothing else; the last
// Keep of an id wins.
func TestMemState(t *testing.T) {
	s := rules.NewMemState()
	s.Keep(rules.Outcome{
		Customers: []*rules.Customer{{ExternalID: "c1"}, {ExternalID: "c2"}},
		Relations: []rules.Relation{{RelationExternalID: "r1", ParentExternalID: "c1", ChildExternalID: "c2"}},
	})
	s.Keep(rules.Outcome{Customers: []*rules.Customer{{ExternalID: "c2", FirstName: "second"}}})
	for _, tt := range []struct {
		id        string
		wantFound bool
		wantName  string
	}{{"c1", true, ""}, {"c2", true, "second"}, {"c3", false, ""}, {"r1", false, ""}} {
		c, found, err := s.Customer(tt.id)
		if err != nil || found != tt.wantFound || c.FirstName != tt.wantName {
			t.Errorf("Customer(%q) = %+v, %v, %v; want found %v, first name %q", tt.id, c, found, err, tt.wantFound, tt.wantName)
		}
	}
	if r, found, err := s.Relation("r1"); err != nil || !found || r.ParentExternalID != "c1" {
		t.Errorf("Relation(r1) = %+v, %v, %v", r, found, err)
	}
	if _, found, _ := s.Relation("c1"); found {
		t.Error("a customer's id found as a relation")
	}
}
