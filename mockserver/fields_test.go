package mockserver

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/rules"
)

// These tests are the checklist of openapi/README.md, "Adding a field", for
// this package: a field of rules.Customer must survive the store's record,
// and every property of the document's StoredCustomer must be set by the
// view. They fill every field by reflection, so a new field is covered
// without a line here.

// TestRecordKeepsEveryField: a customer and a relation with every field set
// come back equal from their record.
func TestRecordKeepsEveryField(t *testing.T) {
	roundTrip(t, "rules.Customer", appendCustomer, decodeCustomer, "appendCustomer and decodeCustomer (mockserver/record.go; a string goes in customerStrings)")
	roundTrip(t, "rules.Relation", appendRelation, decodeRelation, "appendRelation and decodeRelation (mockserver/record.go)")
}

// roundTrip fills every field of a T, encodes and decodes it, and fails
// naming fix for every field that came back different.
func roundTrip[T any](t *testing.T, name string, encode func([]byte, *T) ([]byte, error), decode func([]byte) (T, error), fix string) {
	t.Helper()
	var v T
	fillEvery(t, reflect.ValueOf(&v).Elem(), name)
	rec, err := encode(nil, &v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decode(rec)
	if err != nil {
		t.Fatal(err)
	}
	lost(t, reflect.ValueOf(got), reflect.ValueOf(v), name, fix)
}

// TestViewSetsEveryProperty: the view of a customer (and of its relation)
// with every field set has every property of StoredCustomer (StoredRelation)
// set.
func TestViewSetsEveryProperty(t *testing.T) {
	var c rules.Customer
	fillEvery(t, reflect.ValueOf(&c).Elem(), "rules.Customer")
	var r rules.Relation
	fillEvery(t, reflect.ValueOf(&r).Elem(), "rules.Relation")
	v := viewCustomer(c, []rules.Relation{r})
	vv := reflect.ValueOf(v)
	for i := range vv.NumField() {
		if f := vv.Field(i); f.IsZero() || (f.Kind() == reflect.Slice && f.Len() == 0) {
			t.Errorf("viewCustomer leaves openapi.StoredCustomer.%s empty: give rules.Customer a field of the same name and type (copied by sameFields), or convert it in viewCustomer (mockserver/handlers.go)", vv.Type().Field(i).Name)
		}
	}
	if v.ExternalID != c.ExternalID || v.Comment != c.Comment || v.AliasIDs[0] != c.AliasIDs[0] {
		t.Errorf("sameFields copied the wrong fields: %+v from %+v", v, c)
	}
	rv := reflect.ValueOf(v.Relations[0])
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			t.Errorf("viewRelation leaves openapi.StoredRelation.%s empty (mockserver/handlers.go)", rv.Type().Field(i).Name)
		}
	}
}

// fillEvery sets every field of the struct v, recursively, to a value that is
// not zero and differs from field to field.
func fillEvery(tb testing.TB, v reflect.Value, path string) {
	tb.Helper()
	next := 0
	var fill func(v reflect.Value, path string)
	fill = func(v reflect.Value, path string) {
		next++
		switch v.Kind() {
		case reflect.String:
			v.SetString(fmt.Sprintf("%s #%d", path, next))
		case reflect.Int64:
			v.SetInt(int64(next))
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Array: // uuid.UUID
			for i := range v.Len() {
				v.Index(i).Set(reflect.ValueOf(byte(next + i)).Convert(v.Type().Elem()))
			}
		case reflect.Interface: // a custom-field value
			v.Set(reflect.ValueOf("value of " + path))
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 2, 2))
			for i := range v.Len() {
				fill(v.Index(i), path+"[]")
			}
		case reflect.Struct:
			for i := range v.NumField() {
				fill(v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		default:
			tb.Fatalf("fillEvery does not know %s, a %s: extend it", path, v.Type())
		}
	}
	fill(v, path)
}

// lost reports every field of want that got does not have.
func lost(tb testing.TB, got, want reflect.Value, path, where string) {
	tb.Helper()
	for i := range want.NumField() {
		if !reflect.DeepEqual(got.Field(i).Interface(), want.Field(i).Interface()) {
			tb.Errorf("%s.%s is lost by %s: got %#v, want %#v", path, want.Type().Field(i).Name, where, got.Field(i).Interface(), want.Field(i).Interface())
		}
	}
}
