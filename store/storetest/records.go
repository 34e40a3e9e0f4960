package storetest

import (
	"math/rand/v2"
	"slices"

	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// roundTripCustomers are the customers every engine must give back exactly:
// every field set, nothing set, and empty (not nil) lists.
func roundTripCustomers(h *harness) []rules.Customer {
	return []rules.Customer{
		FilledCustomer(h.t, "full"),
		{ExternalID: "id only"},
		{ExternalID: "empty lists", NationalityCodes: []string{}, DomicileCodes: []string{}, ReviewGroups: []string{},
			Contacts: []string{}, AliasIDs: []string{}, Fields: []rules.Field{}, Variations: []rules.Variation{}},
		{ExternalID: "flags", AccountType: "F", HasKYCRequested: true, KYCLevelRequested: 0, HasDisabled: true,
			Disabled: false, RiskScanDisabled: true, CreatedAt: -5, UpdatedAt: 0, Variations: []rules.Variation{{LastName: "x"}}},
	}
}

func customerRoundTrip(h *harness) {
	want := roundTripCustomers(h)
	h.update("acme", func(tx store.Tx) error {
		for i := range want {
			c := want[i]
			require.NoError(h.t, tx.PutCustomer(&c))
			got, ok := customer(h.t, tx, c.ExternalID)
			assert.True(h.t, ok, "in the same update")
			assert.Equal(h.t, want[i], got, "in the same update")
		}
		return nil
	})
	h.view("acme", func(tx store.Tx) error {
		for _, c := range want {
			got, ok := customer(h.t, tx, c.ExternalID)
			assert.True(h.t, ok, c.ExternalID)
			assert.Equal(h.t, c, got)
			if c.ExternalID == "full" {
				checkNegativeZero(h.t, got.Fields)
			}
		}
		page, total, err := tx.Customers(0, 10)
		require.NoError(h.t, err)
		assert.Equal(h.t, len(want), total)
		sorted := slices.Clone(want)
		slices.SortFunc(sorted, func(a, b rules.Customer) int { return compare(a.ExternalID, b.ExternalID) })
		assert.Equal(h.t, sorted, page, "Customers gives every field too")
		return nil
	})
}

func customerReplace(h *harness) {
	first := FilledCustomer(h.t, "c1")
	second := rules.Customer{ExternalID: "c1", CustomerID: first.CustomerID, AccountType: "N", LastName: "Other",
		Contacts: []string{}, KYCLevel: 2, HasKYCLevel: true, CreatedAt: first.CreatedAt, UpdatedAt: first.UpdatedAt + 1}
	h.put("acme", []rules.Customer{first}, nil)
	h.put("acme", []rules.Customer{second}, nil)
	h.view("acme", func(tx store.Tx) error {
		got, ok := customer(h.t, tx, "c1")
		assert.True(h.t, ok)
		assert.Equal(h.t, second, got, "a put replaces every field, lists and custom fields included")
		return nil
	})
	third := second
	third.Fields = []rules.Field{{Key: "k", Value: "v"}}
	h.update("acme", func(tx store.Tx) error {
		require.NoError(h.t, tx.PutCustomer(&first))
		require.NoError(h.t, tx.PutCustomer(&third))
		return nil
	})
	h.view("acme", func(tx store.Tx) error {
		got, _ := customer(h.t, tx, "c1")
		assert.Equal(h.t, third, got, "the last of two puts in one update wins")
		ids, total := customerIDs(h.t, tx, 0, 10)
		assert.Equal(h.t, []string{"c1"}, ids)
		assert.Equal(h.t, 1, total)
		return nil
	})
}

func relationRoundTrip(h *harness) {
	want := []rules.Relation{
		FilledRelation(h.t, "full"),
		{RelationExternalID: "id only"},
		{RelationExternalID: "empty fields", ParentExternalID: "p", ChildExternalID: "c", Fields: []rules.Field{}},
	}
	h.put("acme", nil, want)
	replaced := rules.Relation{RelationExternalID: "id only", ParentExternalID: "a", ChildExternalID: "b", RelationType: 3,
		Fields: []rules.Field{{Key: "share", Value: 0.25}}, Disabled: true, CreatedAt: 1, UpdatedAt: 2}
	h.put("acme", nil, []rules.Relation{replaced})
	want[1] = replaced
	h.view("acme", func(tx store.Tx) error {
		for _, r := range want {
			got, ok := relation(h.t, tx, r.RelationExternalID)
			assert.True(h.t, ok, r.RelationExternalID)
			assert.Equal(h.t, r, got)
		}
		full, _ := relation(h.t, tx, "full")
		checkNegativeZero(h.t, full.Fields)
		page, total, err := tx.Relations(0, 10)
		require.NoError(h.t, err)
		assert.Equal(h.t, 3, total)
		assert.Equal(h.t, []rules.Relation{want[2], want[0], want[1]}, page, "Relations gives every field too")
		return nil
	})
}

func missingRecords(h *harness) {
	h.put("acme", []rules.Customer{{ExternalID: "c"}}, []rules.Relation{{RelationExternalID: "r"}})
	for _, business := range []string{"acme", "other"} {
		h.view(business, func(tx store.Tx) error {
			_, ok := customer(h.t, tx, "nobody")
			assert.False(h.t, ok, "an unknown customer")
			_, ok = relation(h.t, tx, "nothing")
			assert.False(h.t, ok, "an unknown relation")
			_, ok = relation(h.t, tx, "c")
			assert.False(h.t, ok, "a customer's ID is no relation")
			return nil
		})
	}
}

// pagingIDs are external IDs whose byte order differs from most locales'.
func pagingIDs() []string {
	ids := []string{"b", "B", "a", "ab", "a-b", "a b", "é", "e", "Z9", "_", "0", "10", "9", "~", "Ä"}
	for i := range 20 {
		ids = append(ids, label("c%02d", i))
	}
	return ids
}

// compare orders strings as the store must: by their bytes.
func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// pageWindows are the (offset, limit) pairs the paging cases check.
var pageWindows = [][2]int{{0, 5}, {5, 5}, {30, 10}, {0, 1000}, {34, 1}, {35, 5}, {100, 5}}

func customersPaging(h *harness) {
	ids := pagingIDs()
	shuffled := slices.Clone(ids)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for chunk := range slices.Chunk(shuffled, 12) {
		var cs []rules.Customer
		for _, id := range chunk {
			cs = append(cs, rules.Customer{ExternalID: id, LastName: "L " + id})
		}
		h.put("acme", cs, nil)
	}
	h.put("other", []rules.Customer{{ExternalID: "zz"}}, nil)
	sorted := slices.Sorted(slices.Values(ids))
	h.view("acme", func(tx store.Tx) error {
		for _, w := range pageWindows {
			got, total := customerIDs(h.t, tx, w[0], w[1])
			assert.Equal(h.t, window(sorted, w[0], w[1]), got, "Customers(%d, %d)", w[0], w[1])
			assert.Equal(h.t, len(ids), total, "Customers(%d, %d) total", w[0], w[1])
		}
		page, _, err := tx.Customers(3, 1)
		require.NoError(h.t, err)
		require.Len(h.t, page, 1)
		assert.Equal(h.t, "L "+sorted[3], page[0].LastName)
		return nil
	})
}

// window is the page of sorted that Customers(offset, limit) returns.
func window(sorted []string, offset, limit int) []string {
	if offset > len(sorted) {
		return []string{}
	}
	return slices.Clone(sorted[offset:min(len(sorted), offset+limit)])
}

func relationsPaging(h *harness) {
	ids := pagingIDs()
	var rs []rules.Relation
	for _, id := range ids {
		rs = append(rs, rules.Relation{RelationExternalID: id, ParentExternalID: "p", ChildExternalID: id})
	}
	h.put("acme", nil, rs[:20])
	h.put("acme", nil, rs[20:])
	h.put("other", nil, []rules.Relation{{RelationExternalID: "zz"}})
	sorted := slices.Sorted(slices.Values(ids))
	h.view("acme", func(tx store.Tx) error {
		for _, w := range pageWindows {
			page, total, err := tx.Relations(w[0], w[1])
			require.NoError(h.t, err)
			assert.Equal(h.t, window(sorted, w[0], w[1]), relationIDs(page), "Relations(%d, %d)", w[0], w[1])
			assert.Equal(h.t, len(ids), total, "Relations(%d, %d) total", w[0], w[1])
		}
		return nil
	})
}

func relationsOf(h *harness) {
	rel := func(id, parent, child string) rules.Relation {
		return rules.Relation{RelationExternalID: id, ParentExternalID: parent, ChildExternalID: child, RelationType: 1}
	}
	h.put("acme", nil, []rules.Relation{rel("r2", "A", "B"), rel("r10", "B", "C"), rel("r3", "C", "D"),
		rel("r1", "A", "A"), rel("r4", "X", "Y"), rel("r5", "a", "b")})
	h.put("other", nil, []rules.Relation{rel("r0", "A", "B")})
	tests := []struct {
		ids  []string
		want []string
	}{
		{[]string{"A"}, []string{"r1", "r2"}},
		{[]string{"B"}, []string{"r10", "r2"}},
		{[]string{"A", "B"}, []string{"r1", "r10", "r2"}},
		{[]string{"D", "Y", "D"}, []string{"r3", "r4"}},
		{[]string{"nobody"}, []string{}},
		{nil, []string{}},
	}
	h.view("acme", func(tx store.Tx) error {
		for _, tt := range tests {
			got, err := tx.RelationsOf(tt.ids...)
			require.NoError(h.t, err)
			assert.Equal(h.t, tt.want, relationIDs(got), "RelationsOf(%q)", tt.ids)
		}
		got, err := tx.RelationsOf("C")
		require.NoError(h.t, err)
		assert.Equal(h.t, []rules.Relation{rel("r10", "B", "C"), rel("r3", "C", "D")}, got)
		return nil
	})
}

func businessesApart(h *harness) {
	businesses := []string{"acme", "Acme", "acme ", "ACME-é"}
	for i, b := range businesses {
		h.put(b, []rules.Customer{{ExternalID: "same", LastName: b, KYCLevel: int64(i), HasKYCLevel: true}},
			[]rules.Relation{{RelationExternalID: "same", ParentExternalID: b}})
	}
	require.NoError(h.t, h.s.Reset(h.ctx, "acme"))
	for i, b := range businesses {
		h.view(b, func(tx store.Tx) error {
			c, ok := customer(h.t, tx, "same")
			r, rok := relation(h.t, tx, "same")
			if i == 0 {
				assert.False(h.t, ok || rok, "reset business %q still has records", b)
				return nil
			}
			assert.Equal(h.t, rules.Customer{ExternalID: "same", LastName: b, KYCLevel: int64(i), HasKYCLevel: true}, c)
			assert.Equal(h.t, b, r.ParentExternalID)
			return nil
		})
	}
}
