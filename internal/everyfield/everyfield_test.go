package everyfield_test

import (
	"reflect"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/internal/everyfield"
)

type inner struct{ S string }

type sample struct {
	ID    [2]byte
	Name  string
	N     int64
	On    bool
	Value any
	List  []inner
	Opt   *int64
	Map   map[string]any
}

// Every field comes out set, and a copy that loses one is caught.
func TestFill(t *testing.T) {
	var v sample
	everyfield.Fill(t, reflect.ValueOf(&v).Elem(), "sample")
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			t.Errorf("%s is zero", rv.Type().Field(i).Name)
		}
	}
	if v.List[0].S == v.List[1].S || v.Name == v.List[0].S {
		t.Errorf("values repeat: %+v", v)
	}
	lossy := v
	lossy.N = 0
	rec := &recorder{TB: t}
	everyfield.Lost(rec, reflect.ValueOf(lossy), reflect.ValueOf(v), "sample", "the test")
	if rec.errors != 1 {
		t.Errorf("Lost reported %d fields, want 1 (N)", rec.errors)
	}
}

type recorder struct {
	testing.TB
	errors int
}

func (r *recorder) Errorf(string, ...any) { r.errors++ }
func (r *recorder) Helper()               {}
