package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
)

// The reference decoder of the differential tests: encoding/json into a generic
// value, kin-openapi's own schema walk over the document's SaveCustomersRequest
// schema, then a plain walk of the generic value into the model. It is slow and
// obviously faithful to the document; DecodeSaveCustomers must agree with it.

var (
	requestSchemaOnce sync.Once
	requestSchema     *openapi3.Schema
	requestSchemaErr  error
)

// decodeReference decodes body the slow, obviously equal way: encoding/json into
// a generic value, kin-openapi's schema validation, then a walk of the value.
func decodeReference(body []byte) (*SaveCustomersRequest, error) {
	if len(body) == 0 {
		return nil, &ValidationError{Kind: "request", Violations: []Violation{{Pointer: "", Message: "value is required but missing"}}}
	}
	var generic any
	bad := refBadString(body)
	if err := json.Unmarshal(body, &generic); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			if bad != nil && bad.Offset <= se.Offset {
				return nil, bad
			}
			return nil, &SyntaxError{Offset: se.Offset, Msg: se.Error()}
		}
		// Only number range errors are left: decode again with UseNumber below.
	}
	if bad != nil {
		return nil, bad
	}
	generic = nil
	if err := unmarshalUseNumber(body, &generic); err != nil {
		return nil, &SyntaxError{Offset: int64(len(body)), Msg: err.Error()}
	}
	requestSchemaOnce.Do(func() {
		doc, err := Load(context.Background())
		if err != nil {
			requestSchemaErr = err
			return
		}
		requestSchema = doc.Components.Schemas["SaveCustomersRequest"].Value
	})
	if requestSchemaErr != nil {
		return nil, requestSchemaErr
	}
	if err := requestSchema.VisitJSON(generic, openapi3.MultiErrors(), openapi3.VisitAsRequest()); err != nil {
		return nil, newValidationError("request", err)
	}
	req := &SaveCustomersRequest{}
	refWalk(generic, reflect.ValueOf(req).Elem())
	return req, nil
}

func unmarshalUseNumber(body []byte, v *any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	return d.Decode(v)
}

// refWalk stores the validated generic value v into dst, following the json
// tags of the model: a key no field has goes to the Extra map when the struct
// has one (a record), and is dropped otherwise (the top level). It knows the
// model's Go types, not the document's properties, so a property added to the
// document (and generated into the model) needs no change here.
func refWalk(v any, dst reflect.Value) {
	switch dst.Type() {
	case reflect.TypeFor[*string]():
		dst.Set(reflect.ValueOf(refString(v)))
	case reflect.TypeFor[*bool]():
		dst.Set(reflect.ValueOf(refBool(v)))
	case reflect.TypeFor[*int64]():
		dst.Set(reflect.ValueOf(refInt(v)))
	case reflect.TypeFor[[]string]():
		dst.Set(reflect.ValueOf(refStrings(v)))
	case reflect.TypeFor[StringList]():
		dst.Set(reflect.ValueOf(refStringList(v)))
	case reflect.TypeFor[map[string]any]():
		dst.Set(reflect.ValueOf(refObject(v)))
	default:
		switch dst.Kind() {
		case reflect.Slice: // of records
			a, ok := v.([]any)
			if !ok {
				return
			}
			dst.Set(reflect.MakeSlice(dst.Type(), len(a), len(a)))
			for i, x := range a {
				refWalk(x, dst.Index(i))
			}
		case reflect.Struct:
			refRecord(v.(map[string]any), dst)
		default:
			panic("refWalk: no reference for " + dst.Type().String())
		}
	}
}

// refRecord stores the keys of m into the fields of the struct dst.
func refRecord(m map[string]any, dst reflect.Value) {
	fields := map[string]int{}
	for i := range dst.NumField() {
		if name, _, _ := strings.Cut(dst.Type().Field(i).Tag.Get("json"), ","); name != "-" {
			fields[name] = i
		}
	}
	extra := dst.FieldByName("Extra")
	for k, v := range m {
		if i, ok := fields[k]; ok {
			refWalk(v, dst.Field(i))
		} else if extra.IsValid() {
			if extra.IsNil() {
				extra.Set(reflect.ValueOf(map[string]any{}))
			}
			x := refAny(v) // an any: a null is kept, as nil
			extra.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(&x).Elem())
		}
	}
}

func refString(v any) *string {
	if s, ok := v.(string); ok {
		return &s
	}
	return nil
}

func refBool(v any) *bool {
	if b, ok := v.(bool); ok {
		return &b
	}
	return nil
}

func refStrings(v any) []string {
	a, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, len(a))
	for i, x := range a {
		out[i] = x.(string)
	}
	return out
}

func refStringList(v any) StringList {
	switch v := v.(type) {
	case string:
		return SplitStringList(v)
	case []any:
		out := StringList{}
		for _, x := range v {
			if s := strings.TrimSpace(x.(string)); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func refObject(v any) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	return refAny(m).(map[string]any)
}

// refInt converts a validated integer, saturating at the int64 range.
func refInt(v any) *int64 {
	n, ok := v.(json.Number)
	if !ok {
		return nil
	}
	var i int64
	if bi, ok := new(big.Int).SetString(string(n), 10); ok {
		switch {
		case bi.IsInt64():
			i = bi.Int64()
		case bi.Sign() > 0:
			i = math.MaxInt64
		default:
			i = math.MinInt64
		}
	} else {
		f, _ := strconv.ParseFloat(string(n), 64)
		switch {
		case f >= math.MaxInt64:
			i = math.MaxInt64
		case f <= math.MinInt64:
			i = math.MinInt64
		default:
			i = int64(f)
		}
	}
	return &i
}

// refAny turns json.Number into float64 (or keeps it when out of float64's range).
func refAny(v any) any {
	switch v := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return v
		}
		return f
	case []any:
		for i := range v {
			v[i] = refAny(v[i])
		}
		return v
	case map[string]any:
		for k := range v {
			v[k] = refAny(v[k])
		}
		return v
	}
	return v
}

// refBadString finds the first string byte that the decoder refuses and
// encoding/json replaces with U+FFFD: invalid UTF-8, or a \u escape of a
// surrogate that is not the first half of a pair followed by its second. It
// reads strings the simple way (a quote opens one outside a string, a
// backslash skips the next byte), which holds up to the first syntax error;
// what lies beyond that does not matter.
func refBadString(body []byte) *SyntaxError {
	in := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case !in:
			in = c == '"'
		case c == '"':
			in = false
		case c == '\\' && i+1 < len(body) && body[i+1] == 'u':
			r, err := strconv.ParseUint(string(body[i+2:min(i+6, len(body))]), 16, 32)
			if err != nil || i+6 > len(body) {
				return nil // a syntax error comes first
			}
			if r >= 0xd800 && r < 0xe000 {
				r2, err := strconv.ParseUint(string(body[min(i+8, len(body)):min(i+12, len(body))]), 16, 32)
				if r >= 0xdc00 || i+12 > len(body) || body[i+6] != '\\' || body[i+7] != 'u' || err != nil || r2 < 0xdc00 || r2 >= 0xe000 {
					return &SyntaxError{Offset: int64(i + 1), Msg: fmt.Sprintf(`lone surrogate \u%04x in string literal`, r)}
				}
				i += 6
			}
			i += 5
		case c == '\\':
			i++
		case c >= 0x80:
			r, size := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && size == 1 {
				return &SyntaxError{Offset: int64(i + 1), Msg: "invalid UTF-8 in string literal"}
			}
			i += size - 1
		}
	}
	return nil
}
