package rules

// The value checks below are pure, allocation-free on valid input, and use no
// regular expressions: the mock runs them on every record of every batch.

// AccountTypeValid reports whether t is "F" (firm) or "N" (individual).
func AccountTypeValid(t string) bool { return t == "F" || t == "N" }

// Date is a calendar date as a comparable number: year*10000 + month*100 + day.
type Date int32

// MakeDate returns the Date of year, month and day (not checked).
func MakeDate(year, month, day int) Date { return Date(year*10000 + month*100 + day) }

// DateResult is the outcome of CheckDateOfBirth.
type DateResult int

// The outcomes of CheckDateOfBirth.
const (
	DateOK       DateResult = iota
	DateInvalid             // not a real YYYY-MM-DD date
	DateInFuture            // after today
)

// CheckDateOfBirth checks that s is YYYY-MM-DD, a real calendar date (leap
// years included), and not after today.
func CheckDateOfBirth(s string, today Date) DateResult {
	d, ok := ParseDate(s)
	if !ok {
		return DateInvalid
	}
	if d > today {
		return DateInFuture
	}
	return DateOK
}

// ParseDate parses a YYYY-MM-DD calendar date (years 0001 to 9999).
func ParseDate(s string) (Date, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || y < 1 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	return MakeDate(y, m, d), true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// CountryResult is the outcome of NormalizeCountryCode.
type CountryResult int

// The outcomes of NormalizeCountryCode.
const (
	CountryOK        CountryResult = iota
	CountryLowercase               // known once upper-cased: stored upper case, with a warning
	CountryUnknown                 // not an ISO 3166-1 alpha-2 or alpha-3 code
)

// NormalizeCountryCode checks an ISO 3166-1 alpha-2 or alpha-3 code and returns
// it upper case. A code with any lower-case letter that is known once
// upper-cased is CountryLowercase; anything else unknown is CountryUnknown. The
// returned string is the table's own (interned) copy when the code is known.
func NormalizeCountryCode(code string) (string, CountryResult) {
	if i, ok := countryIndex(code); ok {
		return internCode(i, len(code)), CountryOK
	}
	if len(code) != 2 && len(code) != 3 {
		return code, CountryUnknown
	}
	var buf [3]byte
	lower := false
	for i := 0; i < len(code); i++ {
		c := code[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
			lower = true
		}
		buf[i] = c
	}
	if lower {
		if i, ok := countryIndex(string(buf[:len(code)])); ok {
			return internCode(i, len(code)), CountryLowercase
		}
	}
	return code, CountryUnknown
}

func internCode(i, n int) string {
	if n == 2 {
		return countryList[i].Alpha2
	}
	return countryList[i].Alpha3
}

// SameCountry reports whether two known codes (alpha-2 or alpha-3) name the
// same country.
func SameCountry(a, b string) bool {
	i, ok1 := countryIndex(a)
	j, ok2 := countryIndex(b)
	return ok1 && ok2 && i == j
}

// PhonePlausibleE164 reports whether s is a plausible E.164 number: a "+", then
// 7 to 15 digits (ITU-T E.164 allows at most 15; the shortest numbers, of
// small territories such as Niue, have 7 with the country code) and nothing
// else, starting with an assigned country calling code. It does not check
// national numbering plans.
func PhonePlausibleE164(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	for n := 1; n <= 3; n++ {
		if callingCodes[s[1:1+n]] {
			return true
		}
	}
	return false
}
