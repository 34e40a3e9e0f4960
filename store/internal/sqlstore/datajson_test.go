package sqlstore

import (
	"bytes"
	"encoding/json"
	"math"
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

// refFields is custom fields encoded as before appendFieldsJSON, through
// encoding/json value by value: the reference of the encoder tests.
type refFields []rules.Field

func (fl refFields) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i, f := range fl {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(f.Key); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1)
		buf.WriteByte(':')
		if err := enc.Encode(f.Value); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// refData is customerData with refFields.
type refData struct {
	RegistrationNumber string      `json:"registration_number,omitempty"`
	DateOfBirth        string      `json:"date_of_birth,omitempty"`
	Phone              string      `json:"phone,omitempty"`
	Comment            string      `json:"comment,omitempty"`
	NationalityCodes   []string    `json:"nationality_codes,omitzero"`
	DomicileCodes      []string    `json:"domicile_codes,omitzero"`
	ReviewGroups       []string    `json:"review_groups,omitzero"`
	Contacts           []string    `json:"contacts,omitzero"`
	AliasIDs           []string    `json:"alias_ids,omitzero"`
	Fields             refFields   `json:"fields,omitzero"`
	Variations         []variation `json:"variations,omitzero"`
}

// checkEncoderAgrees fails t when appendCustomerData does not write what
// encoding/json writes for d.
func checkEncoderAgrees(t *testing.T, d customerData) {
	t.Helper()
	ref := refData{d.RegistrationNumber, d.DateOfBirth, d.Phone, d.Comment, d.NationalityCodes, d.DomicileCodes,
		d.ReviewGroups, d.Contacts, d.AliasIDs, refFields(d.Fields), d.Variations}
	want, wantErr := marshal(ref)
	got, err := appendCustomerData(nil, &d)
	if wantErr != nil {
		assert.Error(t, err, "encoding/json: %v", wantErr)
		return
	}
	if assert.NoError(t, err) {
		assert.Equal(t, want, string(got))
	}
}

// A struct as a custom-field value, which only a Go caller can give.
type goValue struct {
	A int    `json:"a"`
	B string `json:"b,omitempty"`
}

func TestCustomerDataEncoderAgrees(t *testing.T) {
	var full rules.Customer
	everyfield.Fill(t, reflect.ValueOf(&full).Elem(), "Customer")
	args, err := customerArgs("b", &full)
	require.NoError(t, err)
	assert.True(t, checkAgrees(t, args[len(args)-1].(string)))

	odd := "q\"b\\s/\b\f\n\r\t\x01\x1f\x7f <>& é \u2028\u2029 \xff\xfe end"
	for name, d := range map[string]customerData{
		"every field": {RegistrationNumber: full.RegistrationNumber, DateOfBirth: full.DateOfBirth, Phone: full.Phone,
			Comment: full.Comment, NationalityCodes: full.NationalityCodes, DomicileCodes: full.DomicileCodes,
			ReviewGroups: full.ReviewGroups, Contacts: full.Contacts, AliasIDs: full.AliasIDs, Fields: full.Fields,
			Variations: []variation{{FirstName: "a", TradingName: "t"}, {}}},
		"nothing":     {},
		"empty lists": {Contacts: []string{}, Fields: fieldList{}, Variations: []variation{}},
		"odd strings": {Phone: odd, Contacts: []string{odd, ""}, Fields: fieldList{{Key: odd, Value: odd}}, Variations: []variation{{LastName: odd}}},
		"numbers": {Fields: fieldList{{Key: "a", Value: 0.0}, {Key: "b", Value: math.Copysign(0, -1)}, {Key: "c", Value: 1e-7},
			{Key: "d", Value: 1e21}, {Key: "e", Value: 1e20}, {Key: "f", Value: 123456789.125}, {Key: "g", Value: -0.1},
			{Key: "h", Value: 5e-324}, {Key: "i", Value: math.MaxFloat64}, {Key: "j", Value: json.Number("1e400")},
			{Key: "k", Value: json.Number("")}, {Key: "l", Value: 1e-6}}},
		"nested":       {Fields: fieldList{{Key: "m", Value: map[string]any{"z": 1.0, "a": []any{nil, true, false, "x", map[string]any{}}, "é": []any{}}}}},
		"go values":    {Fields: fieldList{{Key: "s", Value: goValue{A: 1}}, {Key: "i", Value: 7}, {Key: "p", Value: &goValue{B: "<"}}}},
		"no JSON form": {Fields: fieldList{{Key: "nan", Value: math.NaN()}}},
		"bad number":   {Fields: fieldList{{Key: "n", Value: json.Number("1x")}}},
	} {
		t.Run(name, func(t *testing.T) { checkEncoderAgrees(t, d) })
	}
}

// Whatever the strings and numbers, appendCustomerData writes what
// encoding/json writes.
func FuzzCustomerDataEncoder(f *testing.F) {
	f.Add("+33", "k", "v", 1.5, "1e400")
	f.Add("\u2028\xff\"", "\x00", "<&>", -1e-9, "-0")
	f.Fuzz(func(t *testing.T, s, key, value string, x float64, number string) {
		checkEncoderAgrees(t, customerData{Phone: s, Contacts: []string{value, s},
			Fields:     fieldList{{Key: key, Value: value}, {Key: s, Value: x}, {Key: "n", Value: json.Number(number)}, {Key: "m", Value: map[string]any{key: x, s: value}}},
			Variations: []variation{{FirstName: s, CompanyName: value}}})
	})
}
