package sqlstore

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/internal/everyfield"
	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slowCustomerData is how the data column was read before
// decodeCustomerData: encoding/json.
func slowCustomerData(data string) (customerData, error) {
	var d customerData
	err := json.Unmarshal([]byte(data), &d)
	return d, err
}

// checkAgrees fails t when decodeCustomerData reads data, but not as
// encoding/json does; it reports whether the fast path read it.
func checkAgrees(t *testing.T, data string) bool {
	t.Helper()
	var fast customerData
	if decodeCustomerData(data, &fast) != nil {
		return false
	}
	slow, err := slowCustomerData(data)
	if assert.NoError(t, err, "the fast decoder read what encoding/json refuses: %s", data) {
		assert.Equal(t, slow, fast, "data %s", data)
	}
	return true
}

// The data column as customerArgs writes it, of a customer with every field
// filled (by reflection, so a new field takes part) and of the usual shapes,
// is read by the fast path, exactly as encoding/json reads it.
func TestCustomerDataDecoderAgrees(t *testing.T) {
	var full rules.Customer
	everyfield.Fill(t, reflect.ValueOf(&full).Elem(), "Customer")
	full.Fields = append(full.Fields,
		rules.Field{Key: "n", Value: float64(-12.5)}, rules.Field{Key: "big", Value: json.Number("1e400")},
		rules.Field{Key: "nested", Value: map[string]any{"a": []any{true, false, nil, 1.0, "x", map[string]any{}}, "b": []any{}}},
		rules.Field{Key: "unicode", Value: "Хаммес ✓"}, rules.Field{Key: "zero", Value: 0.0})
	customers := map[string]*rules.Customer{
		"every field":     &full,
		"nothing":         {ExternalID: "e"},
		"empty lists":     {ExternalID: "e", NationalityCodes: []string{}, Contacts: []string{}, Fields: []rules.Field{}, Variations: []rules.Variation{}},
		"empty variation": {ExternalID: "e", Variations: []rules.Variation{{}}},
	}
	for name, c := range customers {
		t.Run(name, func(t *testing.T) {
			args, err := customerArgs("b", c)
			require.NoError(t, err)
			data := args[len(args)-1].(string)
			assert.True(t, checkAgrees(t, data), "the fast path gave up on what customerArgs writes: %s", data)
		})
	}
}

// What the fast path does not read (escapes, nulls, keys it does not know
// or spelled otherwise, bad JSON) it leaves to encoding/json; what it reads
// in another layout (white space) it reads as encoding/json does.
func TestCustomerDataDecoderGivesUp(t *testing.T) {
	for _, tc := range []struct {
		data string
		fast bool
	}{
		{data: ` { "phone" : "+33" , "contacts" : [ "a" , "b" ] , "fields" : { "k" : [ 1 , 2.5e3 ] } } `, fast: true},
		{data: `{"phone":"a\"b"}`},
		{data: `{"phone":"\u00e9"}`},
		{data: `{"phone":null}`},
		{data: `{"fields":null}`},
		{data: `{"Phone":"x"}`},
		{data: `{"unknown":1}`},
		{data: `{"variations":[{"nick":"x"}]}`},
		{data: `{"fields":{"a":01}}`},
		{data: `{"fields":{"a":1.}}`},
		{data: `{"fields":{"a":-}}`},
		{data: `{"phone":"x"`},
		{data: `{"phone":"x"} x`},
		{data: "{\"phone\":\"\xff\"}"},
		{data: "{\"phone\":\"a\tb\"}"},
		{data: `{"fields":{"a":` + strings.Repeat("[", maxFastDepth+2) + strings.Repeat("]", maxFastDepth+2) + `}}`},
		{data: ``},
		{data: `{"phone":"x","phone":"y","fields":{"a":1,"a":2},"contacts":["1"],"contacts":[]}`, fast: true},
	} {
		if got := checkAgrees(t, tc.data); got != tc.fast {
			t.Errorf("fast path for %q: %v, want %v", tc.data, got, tc.fast)
		}
	}
}

// Whatever the fast path reads, encoding/json reads the same way.
func FuzzCustomerDataDecoder(f *testing.F) {
	for _, s := range []string{`{}`, `{"phone":"+33","fields":{"a":[1,{"b":null}],"c":1e400}}`,
		`{"variations":[{"first_name":"A"},{}],"alias_ids":[]}`, ` {"contacts" : ["x"] } `} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) { checkAgrees(t, data) })
}
