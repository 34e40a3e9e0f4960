package rules

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// mergeCountries checks and merges the singular and plural forms of a country field
// (singular first), upper-cased, without repeating a country. The list is
// appended to arena and capped at its own length.
func mergeCountries(m *msgs, arena *[]string, field string, one *string, many []string) []string {
	start := len(*arena)
	add := func(j int, code string) { // j < 0: the singular form
		norm, res := NormalizeCountryCode(code)
		if res != CountryOK {
			name := field
			if j >= 0 {
				name = field + "s[" + strconv.Itoa(j) + "]"
			}
			if res == CountryUnknown {
				m.err(CountryCodeUnknown, "%s %q is not an ISO 3166-1 alpha-2 or alpha-3 country code (e.g. \"FR\" or \"FRA\")", name, code)
				return
			}
			m.warn(CountryCodeLowercase, "%s %q is lower case; stored as %q", name, code, norm)
		}
		for _, have := range (*arena)[start:] {
			if have == norm || SameCountry(have, norm) {
				return
			}
		}
		*arena = append(*arena, norm)
	}
	if one != nil {
		add(-1, *one)
	}
	for j, code := range many {
		add(j, code)
	}
	a := *arena
	return a[start:len(a):len(a)]
}

// listLen is how many items a singular and plural pair can give.
func listLen(one *string, many []string) int {
	if one != nil {
		return 1 + len(many)
	}
	return len(many)
}

// mergeFields merges custom fields key by key into the stored ones (keys in
// the request replace stored keys), dropping unknown keys with a warning.
func (e *evaluation) mergeFields(m *msgs, field string, stored []Field, in map[string]any) []Field {
	out := make([]Field, len(stored), len(stored)+len(in))
	copy(out, stored)
	var unknown []string
	for k, v := range in {
		if !e.cfg.CustomFieldKnown(k) {
			unknown = append(unknown, k)
			continue
		}
		j := 0
		for j < len(out) && out[j].Key < k {
			j++
		}
		if j < len(out) && out[j].Key == k {
			out[j].Value = v
			continue
		}
		out = append(out, Field{})
		copy(out[j+1:], out[j:])
		out[j] = Field{Key: k, Value: v}
	}
	if len(unknown) > 1 {
		sort.Strings(unknown)
	}
	for _, k := range unknown {
		m.warn(CustomFieldUnknown, "%s key %q is not one of the configured custom fields; dropped", field, k)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// The values of a variation's _op: OpAdd (the default) adds the names to the
// stored variations, OpRemove removes them; any other is
// variation_op_invalid.
const (
	OpAdd    = "add"
	OpRemove = "remove"
)

// VariationOps lists the values of _op, for those who describe the rules
// (the mock's GET /__admin/config).
var VariationOps = []string{OpAdd, OpRemove}

// variations applies add and remove operations to the stored set.
func variations(m *msgs, stored []Variation, ops []openapi.Variation) []Variation {
	out := make([]Variation, len(stored), len(stored)+len(ops))
	copy(out, stored)
	for j := range ops {
		in := &ops[j]
		if len(in.Extra) > 0 {
			unknownKeys(m, fmt.Sprintf("variations[%d]: ", j), in.Extra, openapi.VariationKeys)
		}
		op := OpAdd
		if in.Op != nil {
			op = *in.Op
		}
		if op != OpAdd && op != OpRemove {
			m.err(VariationOpInvalid, "variations[%d]._op %q is neither %q nor %q", j, op, OpAdd, OpRemove)
			continue
		}
		v := Variation{deref(in.FirstName), deref(in.MiddleName), deref(in.LastName), deref(in.CompanyName), deref(in.TradingName)}
		if v == (Variation{}) {
			m.err(VariationNameMissing, "variations[%d] has none of first_name, middle_name, last_name, company_name, trading_name", j)
			continue
		}
		at := -1
		for k := range out {
			if out[k] == v {
				at = k
				break
			}
		}
		switch {
		case op == OpAdd && at < 0:
			out = append(out, v)
		case op == OpRemove && at >= 0:
			out = append(out[:at], out[at+1:]...)
		case op == OpRemove:
			m.warn(VariationNotFound, "variations[%d]: no stored variation has exactly these names; nothing removed", j)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// unknownKeys warns unknown_key for every key of extra, in key order; where
// names the place inside the record ("" for the record itself).
func unknownKeys(m *msgs, where string, extra map[string]any, known []string) {
	if len(extra) == 0 {
		return
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if s := SuggestKey(k, known); s != "" {
			m.warn(UnknownKey, "%skey %q is not defined by the API and was ignored; did you mean %q?", where, k, s)
		} else {
			m.warn(UnknownKey, "%skey %q is not defined by the API and was ignored", where, k)
		}
	}
}
