package storetest

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/google/uuid"
)

var (
	uuidType   = reflect.TypeFor[uuid.UUID]()
	fieldsType = reflect.TypeFor[[]rules.Field]()
)

// FilledCustomer returns a customer whose every field holds a value of its own
// (every bool true, every list non-empty, custom fields of every JSON type),
// found by reflection: a field added to rules.Customer is filled too, so an
// engine that forgets to store it fails the round trip. It fails tb when a
// field has a type fill does not know.
func FilledCustomer(tb testing.TB, externalID string) rules.Customer {
	tb.Helper()
	c := filled[rules.Customer](tb, 1)
	c.ExternalID = externalID
	return c
}

// FilledRelation is FilledCustomer for a relation.
func FilledRelation(tb testing.TB, relationExternalID string) rules.Relation {
	tb.Helper()
	r := filled[rules.Relation](tb, 2)
	r.RelationExternalID = relationExternalID
	return r
}

// filled returns a T with every field set by fill.
func filled[T any](tb testing.TB, seed int) T {
	tb.Helper()
	var v T
	fill(tb, reflect.ValueOf(&v).Elem(), seed)
	return v
}

// fill sets every field of the struct v to a non-zero value that depends on
// seed and the field's position.
func fill(tb testing.TB, v reflect.Value, seed int) {
	tb.Helper()
	for i := range v.NumField() {
		f, sf := v.Field(i), v.Type().Field(i)
		n := seed*100 + i
		switch {
		case f.Type() == uuidType:
			f.Set(reflect.ValueOf(uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "storetest %d", n))))
		case f.Type() == fieldsType:
			f.Set(reflect.ValueOf(FieldsOfEveryType()))
		case f.Kind() == reflect.String:
			f.SetString(fmt.Sprintf("%s %d: Zoë \"D'Arcy\" \\ </b> 😀", sf.Name, n))
		case f.Kind() == reflect.Int64:
			f.SetInt(1<<60 + int64(n)) // Unix nanoseconds in 2006, exact only as an integer
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
			f.Set(reflect.ValueOf([]string{sf.Name + " a", "", strings.ToUpper(sf.Name) + " é"}))
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
			s := reflect.MakeSlice(f.Type(), 2, 2)
			for j := range 2 {
				fill(tb, s.Index(j), n*10+j)
			}
			f.Set(s)
		default:
			tb.Fatalf("storetest: cannot fill %s.%s of type %s: teach fill this type", v.Type(), sf.Name, sf.Type)
		}
		if f.IsZero() {
			tb.Fatalf("storetest: fill left %s.%s zero", v.Type(), sf.Name)
		}
	}
}

// FieldsOfEveryType returns custom fields, ordered by key, holding every type
// a JSON decoder puts in an any: nil, bool, float64 (whole, fractional, −0,
// the extremes), string, json.Number (beyond float64), and nested, empty and
// non-empty []any and map[string]any.
func FieldsOfEveryType() []rules.Field {
	fields := []rules.Field{
		{Key: "null", Value: nil},
		{Key: "true", Value: true},
		{Key: "false", Value: false},
		{Key: "whole", Value: 42.0},
		{Key: "negative", Value: -7.0},
		{Key: "fraction", Value: 0.1},
		{Key: "negative zero", Value: math.Copysign(0, -1)},
		{Key: "huge", Value: 1e300},
		{Key: "tiny", Value: 5e-324},
		{Key: "2^53+2", Value: float64(1<<53 + 2)},
		{Key: "string", Value: "text \"quoted\" \\ \t\n\u2028 é 😀 <b>&amp;"},
		{Key: "empty string", Value: ""},
		{Key: "beyond float64", Value: json.Number("1e400")},
		{Key: "array", Value: []any{1.0, "x", nil, true, []any{}, map[string]any{}}},
		{Key: "object", Value: map[string]any{"p": map[string]any{"q": []any{nil, 2.5}}, "r": "s", "é \"k\"": false}},
		{Key: "empty array", Value: []any{}},
		{Key: "empty object", Value: map[string]any{}},
		{Key: "Ключ \"quoted\"", Value: "v"},
	}
	slices.SortFunc(fields, func(a, b rules.Field) int { return strings.Compare(a.Key, b.Key) })
	return fields
}

// checkNegativeZero fails tb unless the field "negative zero" of fields is −0,
// which an equality check cannot tell from 0.
func checkNegativeZero(tb testing.TB, fields []rules.Field) {
	tb.Helper()
	for _, f := range fields {
		if f.Key == "negative zero" {
			if v, ok := f.Value.(float64); !ok || v != 0 || !math.Signbit(v) {
				tb.Errorf("custom field %q: got %#v, want -0", f.Key, f.Value)
			}
			return
		}
	}
	tb.Errorf("custom field \"negative zero\" is missing")
}
