package sqlstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/algoreg-kit/algoreg-kit/internal/jsonstr"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// The data column of a customer is written for every customer a save
// stores and read for every stored customer it touches, and encoding/json's
// reflection took a quarter of the CPU of a SQLite save of 100 updated
// customers (and a tenth of one of 100 new ones). appendCustomerData writes
// what encoding/json writes (TestCustomerDataEncoderAgrees), by hand. decodeCustomerData reads the form
// that customerArgs writes (encoding/json's, compact: the known keys, strings
// without escapes) by hand, its strings substrings of data, and gives up on
// anything else — an escape, a null, an unknown or differently spelled key,
// deep nesting — so that scanCustomer decodes that data with encoding/json,
// as before: a row edited by hand reads exactly as encoding/json reads it.
// TestCustomerDataDecoderAgrees holds the two to the same result.

// errNotFast is decodeCustomerData's "decode this with encoding/json".
var errNotFast = errors.New("sqlstore: not the data column's usual form")

// maxFastDepth is the nesting of custom-field values decodeCustomerData reads
// itself; deeper values go to encoding/json.
const maxFastDepth = 64

// decodeCustomerData decodes data into d, or returns errNotFast (d then
// holds a part of it, to be overwritten).
func decodeCustomerData(data string, d *customerData) error {
	r := jsonReader{s: data}
	ok := r.members(func(key string) (ok bool) {
		switch key {
		case "registration_number":
			d.RegistrationNumber, ok = r.str()
		case "date_of_birth":
			d.DateOfBirth, ok = r.str()
		case "phone":
			d.Phone, ok = r.str()
		case "comment":
			d.Comment, ok = r.str()
		case "nationality_codes":
			d.NationalityCodes, ok = r.strList()
		case "domicile_codes":
			d.DomicileCodes, ok = r.strList()
		case "review_groups":
			d.ReviewGroups, ok = r.strList()
		case "contacts":
			d.Contacts, ok = r.strList()
		case "alias_ids":
			d.AliasIDs, ok = r.strList()
		case "fields":
			d.Fields, ok = r.fields()
		case "variations":
			d.Variations, ok = r.variations()
		}
		return ok // false for a key it does not know
	})
	if !ok {
		return errNotFast
	}
	return r.end()
}

// jsonReader reads JSON from s; a method that reports false has met
// something it does not read (the caller gives up).
type jsonReader struct {
	s string
	i int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// peek returns the next byte after white space (0 at the end, and for a NUL
// byte, which no caller takes).
func (r *jsonReader) peek() byte {
	for r.i < len(r.s) && isSpace(r.s[r.i]) {
		r.i++
	}
	if r.i == len(r.s) {
		return 0
	}
	return r.s[r.i]
}

// next returns the next byte after white space, and moves past it.
func (r *jsonReader) next() byte {
	c := r.peek()
	if c != 0 {
		r.i++
	}
	return c
}

func (r *jsonReader) expect(c byte) bool { return r.next() == c }

// items reads open, then items each read by item and separated by commas,
// then close.
func (r *jsonReader) items(open, close byte, item func() bool) bool {
	if !r.expect(open) {
		return false
	}
	if r.peek() == close {
		r.i++
		return true
	}
	for {
		if !item() {
			return false
		}
		switch r.next() {
		case ',':
		case close:
			return true
		default:
			return false
		}
	}
}

// members reads an object: the key of each member, then member, which reads
// its value.
func (r *jsonReader) members(member func(key string) bool) bool {
	return r.items('{', '}', func() bool {
		key, ok := r.str()
		return ok && r.expect(':') && member(key)
	})
}

// end reports whether only white space is left.
func (r *jsonReader) end() error {
	if r.peek(); r.i != len(r.s) {
		return errNotFast
	}
	return nil
}

// str reads a string without escapes, valid UTF-8 without control
// characters: a substring of s.
func (r *jsonReader) str() (string, bool) {
	if r.next() != '"' {
		return "", false
	}
	start := r.i
	ascii := true
	for ; r.i < len(r.s); r.i++ {
		switch c := r.s[r.i]; {
		case c == '"':
			v := r.s[start:r.i]
			r.i++
			return v, ascii || utf8.ValidString(v)
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// strList reads an array of strings ([] is an empty, not nil, list).
func (r *jsonReader) strList() ([]string, bool) {
	list := []string{}
	ok := r.items('[', ']', func() bool {
		v, ok := r.str()
		list = append(list, v)
		return ok
	})
	return list, ok
}

// fields reads custom fields as fieldList.UnmarshalJSON does: the object's
// members in order, each value as encoding/json decodes it into an any with
// numbers that fit a float64 as float64 (numbers), others as json.Number.
func (r *jsonReader) fields() (fieldList, bool) {
	list := fieldList{}
	ok := r.members(func(key string) bool {
		v, ok := r.value(0)
		list = append(list, rules.Field{Key: key, Value: v})
		return ok
	})
	return list, ok
}

// value reads a JSON value as encoding/json decodes it into an any, with
// numbers' float64s (see fields).
func (r *jsonReader) value(depth int) (any, bool) {
	if depth > maxFastDepth {
		return nil, false
	}
	switch c := r.peek(); {
	case c == '"':
		return r.str()
	case c == '{':
		m := map[string]any{}
		ok := r.members(func(key string) (ok bool) {
			m[key], ok = r.value(depth + 1)
			return ok
		})
		return m, ok
	case c == '[':
		list := []any{}
		ok := r.items('[', ']', func() bool {
			v, ok := r.value(depth + 1)
			list = append(list, v)
			return ok
		})
		return list, ok
	case c == 't':
		return true, r.literal("true")
	case c == 'f':
		return false, r.literal("false")
	case c == 'n':
		return nil, r.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return r.number()
	}
	return nil, false
}

// literal moves past word, and reports whether it was there.
func (r *jsonReader) literal(word string) bool {
	if len(r.s)-r.i < len(word) || r.s[r.i:r.i+len(word)] != word {
		return false
	}
	r.i += len(word)
	return true
}

// number reads a number of JSON's grammar: a float64 when it parses as one,
// else (beyond float64's range) the json.Number of its text.
func (r *jsonReader) number() (any, bool) {
	start := r.i
	digits := func() int {
		n := 0
		for r.i < len(r.s) && r.s[r.i] >= '0' && r.s[r.i] <= '9' {
			r.i++
			n++
		}
		return n
	}
	if r.s[r.i] == '-' {
		r.i++
	}
	if r.i < len(r.s) && r.s[r.i] == '0' {
		r.i++
	} else if digits() == 0 {
		return nil, false
	}
	if r.i < len(r.s) && r.s[r.i] == '.' {
		r.i++
		if digits() == 0 {
			return nil, false
		}
	}
	if r.i < len(r.s) && (r.s[r.i] == 'e' || r.s[r.i] == 'E') {
		r.i++
		if r.i < len(r.s) && (r.s[r.i] == '+' || r.s[r.i] == '-') {
			r.i++
		}
		if digits() == 0 {
			return nil, false
		}
	}
	text := r.s[start:r.i]
	if f, err := strconv.ParseFloat(text, 64); err == nil {
		return f, true
	}
	return json.Number(text), true
}

// variations reads the variations, each an object of the five names.
func (r *jsonReader) variations() ([]variation, bool) {
	list := []variation{}
	ok := r.items('[', ']', func() bool {
		var v variation
		ok := r.members(func(key string) (ok bool) {
			switch key {
			case "first_name":
				v.FirstName, ok = r.str()
			case "middle_name":
				v.MiddleName, ok = r.str()
			case "last_name":
				v.LastName, ok = r.str()
			case "company_name":
				v.CompanyName, ok = r.str()
			case "trading_name":
				v.TradingName, ok = r.str()
			}
			return ok // false for a key it does not know
		})
		list = append(list, v)
		return ok
	})
	return list, ok
}

// appendCustomerData appends the JSON of d that encoding/json writes (with
// SetEscapeHTML(false), compact), by hand: its reflection was most of the
// cost of writing a customer's row.
func appendCustomerData(dst []byte, d *customerData) ([]byte, error) {
	dst = append(dst, '{')
	n := len(dst)
	member := func(key string) {
		if len(dst) > n {
			dst = append(dst, ',')
		}
		dst = append(appendJSONString(dst, key), ':')
	}
	for _, f := range [...]struct{ key, v string }{{"registration_number", d.RegistrationNumber},
		{"date_of_birth", d.DateOfBirth}, {"phone", d.Phone}, {"comment", d.Comment}} {
		if f.v != "" {
			member(f.key)
			dst = appendJSONString(dst, f.v)
		}
	}
	for _, l := range [...]struct {
		key string
		v   []string
	}{{"nationality_codes", d.NationalityCodes}, {"domicile_codes", d.DomicileCodes},
		{"review_groups", d.ReviewGroups}, {"contacts", d.Contacts}, {"alias_ids", d.AliasIDs}} {
		if l.v != nil {
			member(l.key)
			dst = append(dst, '[')
			for i, s := range l.v {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = appendJSONString(dst, s)
			}
			dst = append(dst, ']')
		}
	}
	if d.Fields != nil {
		member("fields")
		var err error
		if dst, err = appendFieldsJSON(dst, d.Fields); err != nil {
			return nil, err
		}
	}
	if d.Variations != nil {
		member("variations")
		dst = append(dst, '[')
		for i, v := range d.Variations {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '{')
			m := len(dst)
			for _, f := range [...]struct{ key, v string }{{"first_name", v.FirstName}, {"middle_name", v.MiddleName},
				{"last_name", v.LastName}, {"company_name", v.CompanyName}, {"trading_name", v.TradingName}} {
				if f.v != "" {
					if len(dst) > m {
						dst = append(dst, ',')
					}
					dst = append(appendJSONString(dst, f.key), ':')
					dst = appendJSONString(dst, f.v)
				}
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	return append(dst, '}'), nil
}

// appendFieldsJSON appends custom fields as one JSON object, keys in the
// order of the list.
func appendFieldsJSON(dst []byte, fl fieldList) ([]byte, error) {
	dst = append(dst, '{')
	for i, f := range fl {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(appendJSONString(dst, f.Key), ':')
		var err error
		if dst, err = appendJSONValue(dst, f.Value); err != nil {
			return nil, fmt.Errorf("custom field %q: %w", f.Key, err)
		}
	}
	return append(dst, '}'), nil
}

// appendJSONValue appends v as encoding/json writes it: the types a JSON
// decoder puts in an any by hand, any other through encoding/json.
func appendJSONValue(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool:
		return strconv.AppendBool(dst, v), nil
	case string:
		return appendJSONString(dst, v), nil
	case float64:
		if !math.IsInf(v, 0) && !math.IsNaN(v) {
			return appendJSONFloat(dst, v), nil
		}
	case []any:
		dst = append(dst, '[')
		for i, item := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendJSONValue(dst, item); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys) // as encoding/json orders a map's keys
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(appendJSONString(dst, k), ':')
			var err error
			if dst, err = appendJSONValue(dst, v[k]); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	}
	// json.Number (which encoding/json checks), a value a Go caller built,
	// a float64 without a JSON form (the error).
	b, err := marshal(v)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

// appendJSONFloat appends a finite f as encoding/json does: the shortest
// decimal that reads back as f, in exponent form below 1e-6 and from 1e21.
func appendJSONFloat(dst []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' { // e-09 as e-9
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// appendJSONString appends s quoted as encoding/json quotes it without HTML
// escapes.
func appendJSONString(dst []byte, s string) []byte { return jsonstr.Append(dst, s, false) }
