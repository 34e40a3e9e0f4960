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
	// keywords are the schema keywords (SchemaError.SchemaField) the
	// violations broke, where known, for MostTellingFirst.
	keywords map[Violation]string
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

// MostTellingFirst returns a copy of e whose violations put the most telling
// first, for a person reading the first line: a missing property, a value
// outside its enum, a value of the wrong type or a property the schema does
// not allow (the body says something else than the document) before a bound
// (minimum, maxLength, …), and a bound before a format or pattern (a value of
// the right kind in another shape, such as a customer_id that is no UUID);
// among equals the shallower pointer first, then body order. Violations whose
// keyword is unknown (the decoder's) rank as bounds.
func (e *ValidationError) MostTellingFirst() *ValidationError {
	cp := *e
	cp.Violations = slices.Clone(e.Violations)
	slices.SortStableFunc(cp.Violations, func(a, b Violation) int {
		if c := keywordRank(e.keywords[a]) - keywordRank(e.keywords[b]); c != 0 {
			return c
		}
		return strings.Count(a.Pointer, "/") - strings.Count(b.Pointer, "/")
	})
	return &cp
}

// keywordRank orders schema keywords by how much a violation of each tells:
// 0 for the value's kind, 1 for its bounds, 2 for its shape.
func keywordRank(keyword string) int {
	switch keyword {
	case "required", "enum", "type", "additionalProperties", "nullable", "oneOf", "anyOf", "const":
		return 0
	case "format", "pattern":
		return 2
	}
	return 1
}

func newValidationError(kind string, err error) *ValidationError {
	ve := &ValidationError{Kind: kind, err: err, keywords: map[Violation]string{}}
	c := &collector{keywords: ve.keywords}
	collectViolations(err, "", c)
	ve.Violations = c.vs
	if len(ve.Violations) == 0 {
		ve.Violations = []Violation{{Message: err.Error()}}
	}
	sortViolations(ve.Violations)
	return ve
}

// collector gathers the violations of one error tree and the schema keyword
// each broke.
type collector struct {
	vs       []Violation
	keywords map[Violation]string
}

func (c *collector) add(v Violation, keyword string) {
	c.vs = append(c.vs, v)
	if keyword != "" {
		c.keywords[v] = keyword
	}
}

// collectViolations walks kin-openapi's error tree (MultiError, RequestError,
// ResponseError, SchemaError) and adds one Violation per leaf to out.
func collectViolations(err error, where string, out *collector) {
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
		out.add(Violation{Pointer: JSONPointer(schemaErr.JSONPointer()...), Message: schemaMessage(schemaErr)}, schemaErr.SchemaField)
	case errors.As(err, &reqErr):
		loc := where
		if reqErr.Parameter != nil {
			loc = reqErr.Parameter.In + ":" + reqErr.Parameter.Name
		}
		if reqErr.Err != nil && !errors.Is(reqErr.Err, err) {
			before := len(out.vs)
			collectViolations(reqErr.Err, loc, out)
			if len(out.vs) > before {
				return
			}
		}
		out.add(Violation{Pointer: loc, Message: reqErr.Error()}, "")
	case errors.As(err, &respErr):
		if respErr.Err != nil {
			before := len(out.vs)
			collectViolations(respErr.Err, where, out)
			if len(out.vs) > before {
				return
			}
		}
		msg := respErr.Reason
		if msg == "" {
			msg = respErr.Error()
		}
		out.add(Violation{Pointer: where, Message: msg}, "")
	case errors.As(err, &secErr):
		out.add(Violation{Pointer: where, Message: secErr.Error()}, "")
	default:
		out.add(Violation{Pointer: where, Message: err.Error()}, "")
	}
}

// collectOneOf reports a value that matches no branch of a oneOf (the
// string-or-array fields). When the value has the type of a branch but some of
// its items are wrong, the items are reported; otherwise one violation names
// every branch ("value must be a string or an array of strings") instead of one
// violation per branch at the same place.
func collectOneOf(se *openapi3.SchemaError, where string, out *collector) {
	sub := &collector{keywords: out.keywords}
	collectViolations(se.Origin, where, sub)
	leaves := sub.vs
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
		out.vs = append(out.vs, deeper...)
	case same && len(leaves) > 0:
		out.add(Violation{Pointer: p, Message: leaves[0].Message}, out.keywords[leaves[0]])
	default:
		out.add(Violation{Pointer: p, Message: "value must be " + describeOneOf(se.Schema)}, "type")
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
