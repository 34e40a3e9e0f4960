package rules_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// These tests are the checklist of openapi/README.md, "Adding a field", for
// this package: a property added to the document's StoredCustomer needs a
// field of rules.Customer, and a property the document says is stored as
// given (x-rule: stored) needs its merge.

// TestCustomerHoldsEveryStoredProperty: every property of StoredCustomer has
// a field of the same Go name in rules.Customer (relations are stored apart).
func TestCustomerHoldsEveryStoredProperty(t *testing.T) {
	held := reflect.TypeFor[rules.Customer]()
	stored := reflect.TypeFor[openapi.StoredCustomer]()
	for i := range stored.NumField() {
		f := stored.Field(i)
		if f.Name == "Relations" {
			continue
		}
		if _, ok := held.FieldByName(f.Name); !ok {
			t.Errorf("openapi.StoredCustomer.%s has no field in rules.Customer (rules/record.go): add one, and its merge in rules/customer.go", f.Name)
		}
	}
}

// TestStoredAsGivenIsMerged: a property of Customer whose x-rule is "stored"
// is kept exactly as given, in the field of the same Go name of the merged
// rules.Customer, and kept by a later delta that leaves it out.
func TestStoredAsGivenIsMerged(t *testing.T) {
	props := storedAsGiven(t)
	if len(props) == 0 {
		t.Fatal("no property of Customer has x-rule: stored")
	}
	cfg := compile(t, nil)
	in := reflect.TypeFor[openapi.Customer]()
	for _, prop := range props {
		t.Run(prop, func(t *testing.T) {
			f, ok := fieldByKey(in, prop)
			if !ok {
				t.Fatalf("openapi.Customer has no field for %q: run go generate ./openapi/...", prop)
			}
			c := person("c1")
			given := reflect.ValueOf(&c).Elem().FieldByIndex(f.Index)
			var want any
			switch f.Type {
			case reflect.TypeFor[*string]():
				given.Set(reflect.ValueOf(s("given " + prop)))
				want = "given " + prop
			case reflect.TypeFor[*bool]():
				given.Set(reflect.ValueOf(b(true)))
				want = true
			case reflect.TypeFor[*int64]():
				given.Set(reflect.ValueOf(n(7)))
				want = int64(7)
			case reflect.TypeFor[[]string]():
				given.Set(reflect.ValueOf([]string{"given", prop}))
				want = []string{"given", prop}
			default:
				t.Fatalf("openapi.Customer.%s is a %s: extend this test", f.Name, f.Type)
			}
			out := evaluate(t, cfg, rules.EmptyState, &openapi.SaveCustomersRequest{Customers: []openapi.Customer{c}})
			if len(out.Customers) != 1 {
				t.Fatalf("the customer was not saved: %+v", out.Detail)
			}
			merged := *out.Customers[0]
			got := reflect.ValueOf(merged).FieldByName(f.Name)
			if !got.IsValid() {
				t.Fatalf("rules.Customer has no field %s for %q (rules/record.go)", f.Name, prop)
			}
			if !reflect.DeepEqual(got.Interface(), want) {
				t.Fatalf("rules.Customer.%s = %#v after a save of %q: %#v; merge it in mergePlain (rules/customer.go)", f.Name, got.Interface(), prop, want)
			}

			delta := openapi.Customer{ExternalID: s("c1")}
			state := mapState{customers: map[string]rules.Customer{"c1": merged}}
			out = evaluate(t, cfg, state, &openapi.SaveCustomersRequest{Customers: []openapi.Customer{delta}})
			if len(out.Customers) != 1 {
				t.Fatalf("the delta was not saved: %+v", out.Detail)
			}
			if got := reflect.ValueOf(*out.Customers[0]).FieldByName(f.Name).Interface(); !reflect.DeepEqual(got, want) {
				t.Errorf("a delta without %q left rules.Customer.%s = %#v, want %#v kept", prop, f.Name, got, want)
			}
		})
	}
}

// storedAsGiven returns the properties of the document's Customer schema
// whose x-rule is "stored".
func storedAsGiven(tb testing.TB) []string {
	tb.Helper()
	doc, err := openapi.Load(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	var props []string
	for name, p := range doc.Components.Schemas["Customer"].Value.Properties {
		if p.Value.Extensions["x-rule"] == "stored" {
			props = append(props, name)
		}
	}
	slices.Sort(props)
	return props
}

// fieldByKey returns the field of the struct type t whose JSON key is key.
func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}
