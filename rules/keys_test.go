package rules_test

import (
	"slices"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// TestNotApplicableNamesCustomerKeys: every field NotApplicable names is a
// property of the document's Customer schema.
func TestNotApplicableNamesCustomerKeys(t *testing.T) {
	for typ, fields := range rules.NotApplicable {
		for _, f := range fields {
			if !slices.Contains(openapi.CustomerKeys, f) {
				t.Errorf("NotApplicable[%s] names %q, not a customer key", typ, f)
			}
		}
	}
}

func TestSuggestKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"fist_name", "first_name"},
		{"First_Name", "first_name"},
		{"lastname", "last_name"},
		{"nationality", ""},
		{"dob", ""},
		{"relation_typ", ""}, // not a customer key
		{"kyc_levle", "kyc_level"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := rules.SuggestKey(tt.in, openapi.CustomerKeys); got != tt.want {
				t.Errorf("SuggestKey(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if got := rules.SuggestKey("relation_typ", openapi.RelationKeys); got != "relation_type" {
		t.Errorf("relation_typ: got %q", got)
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b  string
		limit int
		want  int
	}{
		{"", "", 3, 0},
		{"abc", "abc", 3, 0},
		{"kitten", "sitting", 9, 3},
		{"kitten", "sitting", 2, 2},
		{"a", "abcdef", 3, 3},
		{"flaw", "lawn", 5, 2},
	}
	for _, tt := range tests {
		if got := rules.EditDistance(tt.a, tt.b, tt.limit); got != tt.want {
			t.Errorf("EditDistance(%q, %q, %d) = %d, want %d", tt.a, tt.b, tt.limit, got, tt.want)
		}
	}
}
