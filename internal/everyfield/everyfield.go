// Package everyfield fills every field of a struct by reflection, for the
// tests that check that a record encoding or a view keeps every field of the
// model: a field added to the model is covered without a line of test.
package everyfield

import (
	"fmt"
	"reflect"
	"testing"
)

// Fill sets every field of the struct v, recursively, to a value that is not
// zero and differs from field to field: strings name their path, integers
// count, bools are true, slices have two items, an interface (a custom-field
// value) holds a string, a pointer points to a filled value, a map has one
// key. It fails tb for a kind it does not know.
func Fill(tb testing.TB, v reflect.Value, path string) {
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
		case reflect.Pointer: // an optional field of the API's model
			v.Set(reflect.New(v.Type().Elem()))
			fill(v.Elem(), path)
		case reflect.Map: // custom fields: one key, named by its path
			v.Set(reflect.MakeMap(v.Type()))
			val := reflect.New(v.Type().Elem()).Elem()
			fill(val, path+"[]")
			v.SetMapIndex(reflect.ValueOf(fmt.Sprintf("key%d", next)).Convert(v.Type().Key()), val)
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
			tb.Fatalf("everyfield.Fill does not know %s, a %s: extend it", path, v.Type())
		}
	}
	fill(v, path)
}

// Lost fails tb for every field of the struct want that got does not have,
// naming where to fix it.
func Lost(tb testing.TB, got, want reflect.Value, path, where string) {
	tb.Helper()
	for i := range want.NumField() {
		if !reflect.DeepEqual(got.Field(i).Interface(), want.Field(i).Interface()) {
			tb.Errorf("%s.%s is lost by %s: got %#v, want %#v", path, want.Type().Field(i).Name, where, got.Field(i).Interface(), want.Field(i).Interface())
		}
	}
}
