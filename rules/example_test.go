package rules_test

import (
	"fmt"

	"github.com/algoreg-kit/algoreg-kit/rules"
)

func ExampleNormalizeCountryCode() {
	for _, code := range []string{"FRA", "de", "ZZ"} {
		got, res := rules.NormalizeCountryCode(code)
		fmt.Println(code, "→", got, res == rules.CountryOK, res == rules.CountryLowercase)
	}
	c, _ := rules.LookupCountry("FR")
	fmt.Println(c.Alpha3, c.Name, "+"+c.CallingCode)
	// Output:
	// FRA → FRA true false
	// de → DE false true
	// ZZ → ZZ false false
	// FRA France +33
}
