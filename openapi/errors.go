package openapi

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// ValidationError is returned by the Validator when a request or a response does
// not match the document. It lists every violation found, in body order, and
// wraps kin-openapi's error (reachable with errors.As). A Violation's Pointer
// is an RFC 6901 JSON pointer into the body ("" for the whole body), or a
// header or parameter name prefixed with its location, e.g.
// "header:Content-Type".
type ValidationError struct {
	Kind       string // "request" or "response"
	Violations []Violation
	// Truncated is true when the list was cut at Limits.MaxViolations
	// (DecodeSaveCustomersLimits): the body has more violations than listed.
	Truncated bool
	err       error
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s does not match the OpenAPI document: ", e.Kind)
	for i, v := range e.Violations {
		if i > 0 {
			b.WriteString("; ")
		}
		if v.Pointer != "" {
			b.WriteString(v.Pointer)
			b.WriteString(": ")
		}
		b.WriteString(v.Message)
	}
	if e.Truncated {
		b.WriteString("; and more (the list was cut)")
	}
	return b.String()
}

// Unwrap returns kin-openapi's error.
func (e *ValidationError) Unwrap() error { return e.err }

func newValidationError(kind string, err error) *ValidationError {
	ve := &ValidationError{Kind: kind, err: err}
	collectViolations(err, "", &ve.Violations)
	if len(ve.Violations) == 0 {
		ve.Violations = []Violation{{Message: err.Error()}}
	}
	sortViolations(ve.Violations)
	return ve
}

// collectViolations walks kin-openapi's error tree (MultiError, RequestError,
// ResponseError, SchemaError) and appends one Violation per leaf.
func collectViolations(err error, where string, out *[]Violation) {
	if se, ok := err.(*openapi3.SchemaError); ok && se.SchemaField == "oneOf" && se.Origin != nil {
		collectOneOf(se, where, out)
		return
	}
	var multi openapi3.MultiError
	if errors.As(err, &multi) {
		for _, e := range multi {
			collectViolations(e, where, out)
		}
		return
	}
	var schemaErr *openapi3.SchemaError
	var reqErr *openapi3filter.RequestError
	var respErr *openapi3filter.ResponseError
	var secErr *openapi3filter.SecurityRequirementsError
	switch {
	case errors.As(err, &schemaErr):
		*out = append(*out, Violation{Pointer: JSONPointer(schemaErr.JSONPointer()...), Message: schemaMessage(schemaErr)})
	case errors.As(err, &reqErr):
		loc := where
		if reqErr.Parameter != nil {
			loc = reqErr.Parameter.In + ":" + reqErr.Parameter.Name
		}
		if reqErr.Err != nil && !errors.Is(reqErr.Err, err) {
			before := len(*out)
			collectViolations(reqErr.Err, loc, out)
			if len(*out) > before {
				return
			}
		}
		*out = append(*out, Violation{Pointer: loc, Message: reqErr.Error()})
	case errors.As(err, &respErr):
		if respErr.Err != nil {
			before := len(*out)
			collectViolations(respErr.Err, where, out)
			if len(*out) > before {
				return
			}
		}
		msg := respErr.Reason
		if msg == "" {
			msg = respErr.Error()
		}
		*out = append(*out, Violation{Pointer: where, Message: msg})
	case errors.As(err, &secErr):
		*out = append(*out, Violation{Pointer: where, Message: secErr.Error()})
	default:
		*out = append(*out, Violation{Pointer: where, Message: err.Error()})
	}
}

// collectOneOf reports a value that matches no branch of a oneOf (the
// string-or-array fields). When the value has the type of a branch but some of
// its items are wrong, the items are reported; otherwise one violation names
// every branch ("value must be a string or an array of strings") instead of one
// violation per branch at the same place.
func collectOneOf(se *openapi3.SchemaError, where string, out *[]Violation) {
	var leaves []Violation
	collectViolations(se.Origin, where, &leaves)
	p := JSONPointer(se.JSONPointer()...)
	var deeper []Violation
	same := true
	for _, l := range leaves {
		if strings.HasPrefix(l.Pointer, p+"/") {
			deeper = append(deeper, l)
		}
		if l.Message != leaves[0].Message {
			same = false
		}
	}
	switch {
	case len(deeper) > 0:
		*out = append(*out, deeper...)
	case same && len(leaves) > 0:
		*out = append(*out, Violation{Pointer: p, Message: leaves[0].Message})
	default:
		*out = append(*out, Violation{Pointer: p, Message: "value must be " + describeOneOf(se.Schema)})
	}
}

// describeOneOf names the branches of a oneOf: "a string or an array of strings".
func describeOneOf(s *openapi3.Schema) string {
	var parts []string
	for _, b := range s.OneOf {
		if b.Value != nil {
			parts = append(parts, describeType(b.Value))
		}
	}
	return strings.Join(parts, " or ")
}

func describeType(s *openapi3.Schema) string {
	if s.Type == nil || len(*s.Type) != 1 {
		return "a value"
	}
	switch t := (*s.Type)[0]; t {
	case openapi3.TypeArray:
		if s.Items != nil && s.Items.Value != nil && s.Items.Value.Type != nil && len(*s.Items.Value.Type) == 1 {
			return "an array of " + (*s.Items.Value.Type)[0] + "s"
		}
		return "an array"
	case openapi3.TypeInteger, openapi3.TypeObject:
		return "an " + t
	default:
		return "a " + t
	}
}

func schemaMessage(e *openapi3.SchemaError) string {
	switch e.Reason {
	case "cannot convert json.Number to float64":
		return msgOutOfRange
	case `integer doesn't match the format "int64" (value should be between -9223372036854775808 and 9223372036854775807)`:
		return msgOutOfRange // the same answer for 1e23 as for 1e400
	case "Value is not nullable":
		return msgNotNullable
	}
	if e.Reason != "" {
		return e.Reason
	}
	return e.Error()
}

// JSONPointer builds an RFC 6901 pointer from reference tokens, escaping '~' and '/'.
func JSONPointer(tokens ...string) string {
	if len(tokens) == 0 {
		return ""
	}
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapePointerToken(t))
	}
	return b.String()
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// escapePointerToken escapes one reference token of a JSON pointer.
func escapePointerToken(t string) string {
	if !strings.ContainsAny(t, "~/") {
		return t
	}
	return pointerEscaper.Replace(t)
}

// sortViolations orders violations by pointer, comparing array indexes as
// numbers, so the list follows the body and is stable from run to run.
func sortViolations(vs []Violation) {
	slices.SortStableFunc(vs, func(a, b Violation) int {
		switch {
		case pointerLess(a.Pointer, b.Pointer):
			return -1
		case pointerLess(b.Pointer, a.Pointer):
			return 1
		}
		return 0
	})
}

// pointerLess compares two JSON pointers token by token; tokens that are both
// array indexes compare as numbers. It does not allocate.
func pointerLess(a, b string) bool {
	for a != "" && b != "" {
		var ta, tb string
		ta, a = cutToken(a)
		tb, b = cutToken(b)
		if ta == tb {
			continue
		}
		if isIndex(ta) && isIndex(tb) && len(ta) != len(tb) {
			return len(ta) < len(tb)
		}
		return ta < tb
	}
	return a == "" && b != ""
}

// cutToken splits the first reference token off a pointer ("/a/b" gives "a"
// and "/b").
func cutToken(p string) (token, rest string) {
	p = p[1:]
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i], p[i:]
	}
	return p, ""
}

// isIndex reports whether t is an array index in canonical form (no sign, no
// leading zero), so that comparing length then bytes compares the numbers.
func isIndex(t string) bool {
	if t == "" || (t[0] == '0' && len(t) > 1) {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return false
		}
	}
	return true
}
