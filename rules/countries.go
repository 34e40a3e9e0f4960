package rules

import (
	"sort"
	"strings"

	"github.com/biter777/countries"
)

// Country is one ISO 3166-1 country: its alpha-2 and alpha-3 codes, its English
// short name, and its ITU-T E.164 country calling code (digits only, without
// the "+": "33" for France, "1" for every NANP country, "44" for Guernsey).
type Country struct {
	Alpha2      string
	Alpha3      string
	Name        string
	CallingCode string
}

// withdrawn lists codes that github.com/biter777/countries still carries but
// that ISO 3166-1 no longer assigns (they moved to ISO 3166-3): Netherlands
// Antilles and Yugoslavia. A test compares the resulting list with Debian's
// iso-codes when the machine has it.
var withdrawn = map[string]bool{"AN": true, "YU": true}

var (
	countryList  []Country
	callingCodes map[string]bool
	// byAlpha2 and byAlpha3 hold, by the letters of a code (countrySlot),
	// 1 + the index in countryList of the country with that code, or 0. A
	// save reads several codes a customer; a map of the 500 codes cost 1.7 %
	// of the mock's CPU under 100-customer creates, this one load.
	byAlpha2 [26 * 26]uint8
	byAlpha3 [26 * 26 * 26]uint8
)

// countrySlot returns the slot of an upper-case alpha-2 or alpha-3 code in
// byAlpha2 or byAlpha3, or -1 for anything else.
func countrySlot(code string) int {
	if len(code) != 2 && len(code) != 3 {
		return -1
	}
	slot := 0
	for i := 0; i < len(code); i++ {
		c := code[i] - 'A' // a byte below 'A' wraps to 26 or more
		if c >= 26 {
			return -1
		}
		slot = 26*slot + int(c)
	}
	return slot
}

// countryIndex returns the index in countryList of the country whose upper-case
// alpha-2 or alpha-3 code is code.
func countryIndex(code string) (int, bool) {
	slot := countrySlot(code)
	var i uint8
	switch {
	case slot < 0:
		return 0, false
	case len(code) == 2:
		i = byAlpha2[slot]
	default:
		i = byAlpha3[slot]
	}
	return int(i) - 1, i != 0
}

func init() {
	all := countries.All()
	raw := make(map[string][]string, len(all)) // alpha-2 → call codes, digits only
	short := map[string]bool{}                 // call codes of at most 3 digits
	for _, c := range all {
		if withdrawn[c.Alpha2()] {
			continue
		}
		for _, cc := range c.CallCodes() {
			d := strings.TrimPrefix(cc.String(), "+")
			raw[c.Alpha2()] = append(raw[c.Alpha2()], d)
			if len(d) <= 3 {
				short[d] = true
			}
		}
	}
	// The library gives some territories a country code with their area code
	// appended (Guernsey "+441481", Vatican "+3906698", Antigua "+1268"): the
	// country calling code is the shortest prefix that is itself a code of at
	// most three digits.
	callingCodes = map[string]bool{}
	for _, c := range all {
		a2 := c.Alpha2()
		if withdrawn[a2] {
			continue
		}
		var calling string
		if codes := raw[a2]; len(codes) > 0 {
			calling = ituPrefix(codes[0], short)
		}
		if calling != "" {
			callingCodes[calling] = true
		}
		countryList = append(countryList, Country{Alpha2: a2, Alpha3: c.Alpha3(), Name: c.String(), CallingCode: calling})
	}
	sort.Slice(countryList, func(i, j int) bool { return countryList[i].Alpha2 < countryList[j].Alpha2 })
	if len(countryList) >= 255 {
		panic("rules: more countries than byAlpha2 can index")
	}
	for i, c := range countryList {
		byAlpha2[countrySlot(c.Alpha2)] = uint8(i + 1)
		byAlpha3[countrySlot(c.Alpha3)] = uint8(i + 1)
	}
}

func ituPrefix(digits string, short map[string]bool) string {
	for n := 1; n <= 3 && n <= len(digits); n++ {
		if short[digits[:n]] {
			return digits[:n]
		}
	}
	if len(digits) > 3 {
		return digits[:3]
	}
	return digits
}

// LookupCountry returns the country whose ISO 3166-1 alpha-2 or alpha-3 code is
// code, exactly (upper case: "FR" and "FRA" match, "fr" does not; see
// NormalizeCountryCode for the rule that accepts lower case with a warning).
func LookupCountry(code string) (Country, bool) {
	i, ok := countryIndex(code)
	if !ok {
		return Country{}, false
	}
	return countryList[i], true
}

// Countries returns every assigned ISO 3166-1 country (the 249 official codes
// plus XK, the user-assigned code for Kosovo used by the EU and by KYC
// vendors), ordered by alpha-2 code. The caller may modify the returned slice.
func Countries() []Country {
	return append([]Country(nil), countryList...)
}

// IsCallingCode reports whether digits (no "+") is an E.164 country calling
// code of some country.
func IsCallingCode(digits string) bool { return callingCodes[digits] }
