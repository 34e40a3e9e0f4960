package mockserver

import (
	"reflect"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/internal/everyfield"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// This test is the checklist of openapi/README.md, "Adding a field", for
// this package: every property of the document's StoredCustomer must be set
// by the view (store/memstore's TestRecordKeepsEveryField checks the store's
// record). It fills every field by reflection, so a new field is covered
// without a line here.

// TestViewSetsEveryProperty: the view of a customer (and of its relation)
// with every field set has every property of StoredCustomer (StoredRelation)
// set.
func TestViewSetsEveryProperty(t *testing.T) {
	var c rules.Customer
	everyfield.Fill(t, reflect.ValueOf(&c).Elem(), "rules.Customer")
	var r rules.Relation
	everyfield.Fill(t, reflect.ValueOf(&r).Elem(), "rules.Relation")
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
