package lint_test

import (
	"fmt"

	"github.com/algoreg-kit/algoreg-kit/lint"
)

// A unit test lints the body its code produces, with the server's rules
// (the mock's defaults here), and fails on any error.
func ExampleBody() {
	body := []byte(`{"customers":[
  {"external_id":"c-1","account_type":"N","last_name":"Doe","date_of_birth":"1984-02-30"},
  {"external_id":"c-2","account_type":"N","last_name":"Roe","domicile_code":"fr"}
]}`)
	findings, err := lint.Body(body, lint.Options{})
	if err != nil {
		panic(err)
	}
	for _, f := range findings {
		fmt.Printf("%s (%s, %s)\n", f, f.Severity, f.ExternalID)
	}
	// Output:
	// body:2:3: date_of_birth_invalid: customers[0]: date_of_birth "1984-02-30" is not a real YYYY-MM-DD date (error, c-1)
	// body:3:3: country_code_lowercase: customers[1]: domicile_code "fr" is lower case; stored as "FR" (warning, c-2)
}
