package memstore

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/internal/everyfield"
	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRecordKeepsEveryField: a customer and a relation with every field set
// (by reflection, so a new field of the model is covered without a line
// here) come back equal from their record. It is the store's line of the
// checklist of openapi/README.md, "Adding a field".
func TestRecordKeepsEveryField(t *testing.T) {
	keepsEvery(t, "rules.Customer", appendCustomer, decodeCustomer, "appendCustomer and decodeCustomer (store/memstore/record.go; a string goes in customerStrings)")
	keepsEvery(t, "rules.Relation", appendRelation, decodeRelation, "appendRelation and decodeRelation (store/memstore/record.go)")
}

// keepsEvery fills every field of a T, encodes and decodes it, and fails
// naming fix for every field that came back different.
func keepsEvery[T any](t *testing.T, name string, encode func([]byte, *T) ([]byte, error), decode func(string) (T, error), fix string) {
	t.Helper()
	var v T
	everyfield.Fill(t, reflect.ValueOf(&v).Elem(), name)
	_, got := roundTrip(t, encode, decode, &v)
	everyfield.Lost(t, reflect.ValueOf(got), reflect.ValueOf(v), name, fix)
}

// roundTrip encodes v and decodes its record.
func roundTrip[T any](t *testing.T, encode func([]byte, *T) ([]byte, error), decode func(string) (T, error), v *T) (string, T) {
	t.Helper()
	buf, err := encode(nil, v)
	require.NoError(t, err)
	rec := string(buf)
	got, err := decode(rec)
	require.NoError(t, err)
	return rec, got
}

// The record codec must give back exactly the customer it was given: every
// field, nil and empty lists kept apart, and every value type a JSON decoder
// puts in a custom field.
func TestRecordRoundTrip(t *testing.T) {
	full := rules.Customer{
		CustomerID: uuid.MustParse("3f1c2b9e-8a7d-4e6f-9b0a-1c2d3e4f5a6b"), ExternalID: "cust-1", AccountType: "N",
		FirstName: "Zoë", MiddleName: "Ann", LastName: "D'Arcy", CompanyName: "c", TradingName: "t",
		RegistrationNumber: "B123", DateOfBirth: "1980-02-29", Phone: "+33612345678", Comment: strings.Repeat("é", 300),
		NationalityCodes: []string{"FR", "DE"}, DomicileCodes: []string{"FR"}, ReviewGroups: []string{"retail"},
		Contacts: []string{"a@example.org", ""}, AliasIDs: []string{"x"},
		Fields: []rules.Field{
			{Key: "a", Value: nil}, {Key: "b", Value: true}, {Key: "c", Value: false}, {Key: "d", Value: 42.0}, {Key: "e", Value: -7.0}, {Key: "f", Value: 0.1}, {Key: "g", Value: math.Copysign(0, -1)},
			{Key: "h", Value: 1e300}, {Key: "i", Value: float64(1 << 53)}, {Key: "j", Value: "text"}, {Key: "k", Value: json.Number("1e400")},
			{Key: "l", Value: []any{1.0, "x", []any{}, map[string]any{}}}, {Key: "m", Value: map[string]any{"n": map[string]any{"o": []any{nil}}}},
		},
		Variations: []rules.Variation{{FirstName: "Zoe"}, {LastName: "Darcy", TradingName: "T"}},
		KYCLevel:   -3, KYCLevelRequested: math.MaxInt64, CreatedAt: 1_700_000_000_000_000_000, UpdatedAt: 1_800_000_000_000_000_001,
		HasKYCLevel: true, HasDisabled: true, RiskScanDisabled: true,
	}
	cases := map[string]rules.Customer{
		"zero":        {},
		"id only":     {ExternalID: "a"},
		"full":        full,
		"empty lists": {ExternalID: "e", NationalityCodes: []string{}, Contacts: []string{}, Fields: []rules.Field{}, Variations: []rules.Variation{}},
		"flags":       {ExternalID: "f", HasKYCRequested: true, Disabled: true, UpdatedAt: -5},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			rec, got := roundTrip(t, appendCustomer, decodeCustomer, &c)
			assert.Equal(t, c.ExternalID, recordID(rec))
			assert.Equal(t, c, got)
			// −0 survives (assert.Equal cannot tell it from 0).
			if name == "full" {
				assert.True(t, math.Signbit(got.Fields[6].Value.(float64)))
			}
		})
	}
}

func TestRelationRecordRoundTrip(t *testing.T) {
	for name, r := range map[string]rules.Relation{
		"zero": {},
		"full": {RelationExternalID: "r1", ParentExternalID: "p", ChildExternalID: "ç", RelationType: 4, Disabled: true,
			Fields: []rules.Field{{Key: "share", Value: 0.25}, {Key: "since", Value: "2020"}}, CreatedAt: 10, UpdatedAt: 5},
		"empty fields": {RelationExternalID: "r2", Fields: []rules.Field{}},
	} {
		t.Run(name, func(t *testing.T) {
			rec, got := roundTrip(t, appendRelation, decodeRelation, &r)
			assert.Equal(t, r.RelationExternalID, recordID(rec))
			parent, child := relationEnds(rec)
			assert.Equal(t, [2]string{r.ParentExternalID, r.ChildExternalID}, [2]string{parent, child})
			assert.Equal(t, r, got)
			for n := range len(rec) {
				_, err := decodeRelation(rec[:n])
				assert.ErrorIs(t, err, errCorruptRecord, "truncated to %d bytes", n)
			}
		})
	}
}

// Go callers of Server.Save may put any value in fields: it is stored as its
// JSON says, numbers exactly; a value without a JSON form is refused.
func TestRecordStoresGoValuesAsTheirJSON(t *testing.T) {
	type pair struct {
		A int    `json:"a"`
		B string `json:"b,omitempty"`
	}
	in := []rules.Field{
		{Key: "int64", Value: int64(1) << 60}, {Key: "int", Value: -7}, {Key: "uint8", Value: uint8(200)}, {Key: "float32", Value: float32(0.1)},
		{Key: "struct", Value: pair{A: 1}}, {Key: "ints", Value: []int{1, 2}}, {Key: "map", Value: map[string]int{"x": 3}}, {Key: "ptr", Value: &pair{B: "y"}},
	}
	rec, err := appendCustomer(nil, &rules.Customer{ExternalID: "a", Fields: in})
	require.NoError(t, err)
	got, err := decodeCustomer(string(rec))
	require.NoError(t, err)
	for i, f := range got.Fields {
		want, _ := json.Marshal(in[i].Value)
		have, _ := json.Marshal(f.Value)
		assert.Equal(t, string(want), string(have), "field %s", f.Key)
	}
	for _, bad := range []any{make(chan int), func() {}, complex(1, 2)} {
		_, err := appendCustomer(nil, &rules.Customer{ExternalID: "a", Fields: []rules.Field{{Key: "f", Value: bad}}})
		assert.Error(t, err, "%T", bad)
	}
}

// A damaged record must decode to an error, never a panic, a huge allocation
// or a wrong customer: every truncation and every single-byte change of a
// real record is tried.
func TestDecodeCorruptRecord(t *testing.T) {
	buf, err := appendCustomer(nil, &rules.Customer{ExternalID: "x", FirstName: "A", Contacts: []string{"c"},
		Fields: []rules.Field{{Key: "k", Value: []any{map[string]any{"z": 1.5, "f": 0.1}}}}, Variations: []rules.Variation{{LastName: "V"}}})
	require.NoError(t, err)
	rec := string(buf)
	for n := range len(rec) {
		_, err := decodeCustomer(rec[:n])
		assert.ErrorIs(t, err, errCorruptRecord, "truncated to %d bytes", n)
	}
	_, err = decodeCustomer(rec + "\x00")
	assert.ErrorIs(t, err, errCorruptRecord, "a trailing byte")
	for i := range buf {
		for _, b := range []byte{0, 0x7f, 0x80, 0xff} {
			bad := []byte(rec)
			bad[i] = b
			assert.NotPanics(t, func() { _, _ = decodeCustomer(string(bad)) }, "byte %d set to %#x", i, b)
		}
	}
	// A varint longer than 64 bits is corrupt, as binary.Uvarint says.
	_, err = decodeCustomer("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02")
	assert.ErrorIs(t, err, errCorruptRecord)
}

func FuzzDecodeCustomerRecord(f *testing.F) {
	rec, _ := appendCustomer(nil, &rules.Customer{ExternalID: "x", Fields: []rules.Field{{Key: "k", Value: []any{map[string]any{"z": 1.5}}}}})
	f.Add(string(rec))
	f.Add("")
	f.Fuzz(func(t *testing.T, rec string) {
		c, err := decodeCustomer(rec)
		if err != nil {
			return
		}
		// Whatever decodes encodes back to a record that decodes the same.
		again, err := appendCustomer(nil, &c)
		require.NoError(t, err)
		c2, err := decodeCustomer(string(again))
		require.NoError(t, err)
		assert.Equal(t, c, c2)
	})
}
