package rules

import "strings"

// NotApplicable lists, for an account type, the name fields that do not fit it
// (stored with the warning field_not_applicable): a firm's names on an
// individual, a person's names and date of birth on a firm.
var NotApplicable = map[string][]string{
	"N": {"company_name", "trading_name"},
	"F": {"first_name", "middle_name", "last_name", "date_of_birth"},
}

// SuggestKey returns the key of known closest to an unknown key: equal but for
// case, or within two edits; "" when none is that close. The keys a record may
// have are openapi.CustomerKeys, openapi.RelationKeys and
// openapi.VariationKeys, generated from the document.
func SuggestKey(key string, known []string) string {
	best, bestD := "", 3
	lk := strings.ToLower(key)
	for _, cand := range known {
		if lk == cand {
			return cand
		}
		if d := EditDistance(lk, cand, bestD); d < bestD {
			best, bestD = cand, d
		}
	}
	return best
}

// EditDistance is the Levenshtein distance of a and b (bytes), or limit when
// it is at least limit. Strings over 64 bytes count as limit away.
func EditDistance(a, b string, limit int) int {
	if len(a)-len(b) >= limit || len(b)-len(a) >= limit || len(a) > 64 || len(b) > 64 {
		return limit
	}
	var prevBuf, curBuf [65]int
	prev, cur := prevBuf[:len(b)+1], curBuf[:len(b)+1]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}
