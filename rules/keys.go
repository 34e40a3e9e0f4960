package rules

import "strings"

// CustomerKeys, RelationKeys and VariationKeys are the keys the document
// defines for a customer, a relation and a name variation of a save request, in alphabetical order (a test
// keeps them equal to the document's schemas). Any other key is unknown_key.
var (
	CustomerKeys = []string{"account_type", "alias_ids", "comment", "company_name", "contacts", "date_of_birth", "disabled", "domicile_code", "domicile_codes", "external_id", "fields", "first_name", "kyc_level", "kyc_level_requested", "last_name", "middle_name", "nationality_code", "nationality_codes", "phone", "registration_number", "review_groups", "trading_name", "variations"}
	RelationKeys = []string{"child_customer_external_id", "disabled", "fields", "parent_customer_external_id", "relation_external_id", "relation_type"}
	// VariationKeys are the keys of an item of a customer's variations.
	VariationKeys = []string{"_op", "company_name", "first_name", "last_name", "middle_name", "trading_name"}
)

// NotApplicable lists, for an account type, the name fields that do not fit it
// (stored with the warning field_not_applicable): a firm's names on an
// individual, a person's names and date of birth on a firm.
var NotApplicable = map[string][]string{
	"N": {"company_name", "trading_name"},
	"F": {"first_name", "middle_name", "last_name", "date_of_birth"},
}

// SuggestKey returns the key of known closest to an unknown key: equal but for
// case, or within two edits; "" when none is that close.
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
