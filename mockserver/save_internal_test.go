package mockserver

import (
	"strings"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// uuidText writes each id as uuid.UUID.String does.
func TestUUIDText(t *testing.T) {
	ids, err := newUUIDs(50)
	require.NoError(t, err)
	ids = append(ids, uuid.UUID{}, uuid.Max)
	want := make([]string, len(ids))
	for i, id := range ids {
		want[i] = id.String()
	}
	require.Equal(t, strings.Join(want, ""), uuidText(ids))
	require.Equal(t, "", uuidText(nil))
}

// requestIDs names every customer and relation the rules may read from the
// store, each customer once, and none the request itself saves twice over.
func TestRequestIDs(t *testing.T) {
	s := func(v string) *string { return &v }
	rel := func(id, parent, child *string) openapi.Relation {
		return openapi.Relation{RelationExternalID: id, ParentCustomerExternalID: parent, ChildCustomerExternalID: child}
	}
	tests := []struct {
		name                     string
		req                      openapi.SaveCustomersRequest
		wantCustomers, wantRelat []string
	}{
		{name: "empty"},
		{
			name:          "customers only; a missing or empty external_id is skipped",
			req:           openapi.SaveCustomersRequest{Customers: []openapi.Customer{{ExternalID: s("a")}, {}, {ExternalID: s("")}, {ExternalID: s("b")}}},
			wantCustomers: []string{"a", "b"},
		},
		{
			name: "relation ends in the request are not asked again; others once each",
			req: openapi.SaveCustomersRequest{
				Customers: []openapi.Customer{{ExternalID: s("a")}, {ExternalID: s("b")}},
				Relations: []openapi.Relation{
					rel(s("r1"), s("a"), s("b")),
					rel(s("r2"), s("a"), s("x")),
					rel(s("r3"), s("x"), s("y")),
					rel(nil, nil, s("")),
				},
			},
			wantCustomers: []string{"a", "b", "x", "y"},
			wantRelat:     []string{"r1", "r2", "r3"},
		},
		{
			name:          "a customer listed twice is asked twice (the rules read each occurrence)",
			req:           openapi.SaveCustomersRequest{Customers: []openapi.Customer{{ExternalID: s("a")}, {ExternalID: s("a")}}, Relations: []openapi.Relation{rel(s("r"), s("a"), s("a"))}},
			wantCustomers: []string{"a", "a"},
			wantRelat:     []string{"r"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			customers, relations := requestIDs(&tt.req)
			require.Equal(t, tt.wantCustomers, nilIfEmpty(customers), "customers")
			require.Equal(t, tt.wantRelat, nilIfEmpty(relations), "relations")
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
