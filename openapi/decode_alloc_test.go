package openapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestDecodeSaveCustomersAllocs holds the decoder to a few allocations per
// customer: the strings, pointers, lists and variations come from shared
// copies and slabs, and the repeated values of fields are boxed once, so what
// is left per customer is mostly its fields map.
func TestDecodeSaveCustomersAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	const n = 200
	body := realisticBody(t, 1, n)
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := DecodeSaveCustomers(body); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 3*n {
		t.Errorf("got %v allocations for %d customers, want at most 3 per customer", allocs, n)
	}
}

// TestDecodeSaveCustomersCapacity: the customers are decoded into a slice
// sized by an estimate; what is returned keeps no large unused capacity.
func TestDecodeSaveCustomersCapacity(t *testing.T) {
	for _, body := range [][]byte{
		realisticBody(t, 1, 1),
		realisticBody(t, 1, 100),
		// Small customers, then much else: the first estimate is far too high.
		[]byte(`{"customers":[{},{}],"relations":[` + strings.Repeat(`{"relation_type":1},`, 1000) + `{}]}`),
		// A large customer, then small ones: the first estimate is too low.
		[]byte(`{"customers":[{"comment":"` + strings.Repeat("x", 5000) + `"}` + strings.Repeat(`,{}`, 1000) + `]}`),
	} {
		req, err := DecodeSaveCustomers(body)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(req.Customers); cap(req.Customers)-n > n/8 {
			t.Errorf("got %d customers in a capacity of %d", n, cap(req.Customers))
		}
	}
}

// TestGrowCustomersBounded: a few small customers followed by a large value
// do not reserve room for a customer per three bytes of that value.
func TestGrowCustomersBounded(t *testing.T) {
	prefix := `{"customers":[`
	body := []byte(prefix + `{},{}],"x":"` + strings.Repeat("x", 1<<20) + `"}`)
	d := decoder{buf: body, pos: len(prefix) + len(`{},`)}
	out := d.growCustomers(make([]Customer, 1), len(prefix))
	if size := cap(out) * int(reflect.TypeFor[Customer]().Size()); size > 5*len(body) {
		t.Errorf("reserved %d bytes of customers for a body of %d bytes", size, len(body))
	}
}

// TestDecodeSaveCustomersBoxedValues: the strings and numbers of fields and
// Extra, some of them boxed once and shared (see boxString), behave as any
// other any: equality, type switches, reflection and encoding.
func TestDecodeSaveCustomersBoxedValues(t *testing.T) {
	body := []byte(`{"customers":[{"fields":{"s":"text","n":1.5,"i":42,"e":"","big":1e400},"extra":["x",7]}]}`)
	req, err := DecodeSaveCustomers(body)
	if err != nil {
		t.Fatal(err)
	}
	c := req.Customers[0]
	want := map[string]any{"s": "text", "n": 1.5, "i": float64(42), "e": "", "big": json.Number("1e400")}
	if !reflect.DeepEqual(c.Fields, want) {
		t.Errorf("got fields %#v, want %#v", c.Fields, want)
	}
	for k, v := range want {
		if c.Fields[k] != v {
			t.Errorf("fields[%q] = %#v, != %#v", k, c.Fields[k], v)
		}
	}
	switch v := c.Fields["s"].(type) {
	case string:
		if v != "text" {
			t.Errorf("got %q", v)
		}
	default:
		t.Errorf("fields[s] is a %T", v)
	}
	if f, ok := c.Fields["n"].(float64); !ok || f != 1.5 {
		t.Errorf("fields[n] = %#v", c.Fields["n"])
	}
	if got := reflect.ValueOf(c.Fields["i"]).Float(); got != 42 {
		t.Errorf("reflect: got %v", got)
	}
	if got, want := c.Extra["extra"], []any{"x", float64(7)}; !reflect.DeepEqual(got, want) {
		t.Errorf("got extra %#v, want %#v", got, want)
	}
	b, err := json.Marshal(c.Fields)
	if err != nil || string(b) != `{"big":1e400,"e":"","i":42,"n":1.5,"s":"text"}` {
		t.Errorf("got %s, %v", b, err)
	}
}

// TestDecodeSaveCustomersSharedValues: strings cut from the copies of the
// body, across the copies' boundaries and longer than a copy's share, and the
// values of fields boxed once (equal strings, strings of equal hash, whole
// numbers at the table's ends) decode as encoding/json decodes them.
func TestDecodeSaveCustomersSharedValues(t *testing.T) {
	fields := map[string]any{}
	for i := range 400 {
		// Same length, first and last byte: the same boxString hash.
		fields[fmt.Sprintf("k%03d", i)] = fmt.Sprintf("a%03db", i%7)
	}
	for _, n := range []float64{0, 1, 1023, 1024, -1, 1e3, 4.5, 1 << 53} {
		fields[fmt.Sprintf("n%v", n)] = n
	}
	var customers []map[string]any
	for i := range 300 {
		customers = append(customers, map[string]any{
			"comment": strings.Repeat("c", i*7%1500),
			"phone":   fmt.Sprintf("+%d", i),
			"fields":  fields,
		})
	}
	body, err := json.Marshal(map[string]any{"customers": customers})
	if err != nil {
		t.Fatal(err)
	}
	req, err := DecodeSaveCustomers(body)
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Customers []struct {
			Comment string
			Phone   string
			Fields  map[string]any
		}
	}
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatal(err)
	}
	for i, c := range req.Customers {
		w := want.Customers[i]
		if *c.Comment != w.Comment || *c.Phone != w.Phone || !reflect.DeepEqual(c.Fields, w.Fields) {
			t.Fatalf("customer %d: got %q %q %v, want %q %q %v", i, *c.Comment, *c.Phone, c.Fields, w.Comment, w.Phone, w.Fields)
		}
	}
}
