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
	countryIndex map[string]int // alpha-2 and alpha-3 → index in countryList
	callingCodes map[string]bool
)

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
	countryIndex = make(map[string]int, 2*len(all))
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
	for i, c := range countryList {
		countryIndex[c.Alpha2] = i
		countryIndex[c.Alpha3] = i
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
	i, ok := countryIndex[code]
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
