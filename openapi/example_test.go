package openapi_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

func ExampleDecodeSaveCustomers() {
	body := []byte(`{"customers":[{"external_id":"cust-1","account_type":"N","last_name":"Dupont",
		"review_groups":"retail; eu","kyc_level":null,"fist_name":"Marie"}]}`)
	req, err := openapi.DecodeSaveCustomers(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	c := req.Customers[0]
	fmt.Println(*c.ExternalID, c.ReviewGroups, c.KYCLevel == nil, c.Extra)

	_, err = openapi.DecodeSaveCustomers([]byte(`{"customers":[{"kyc_level":"2","contacts":5},null]}`))
	var ve *openapi.ValidationError
	if errors.As(err, &ve) {
		for _, v := range ve.Violations {
			fmt.Printf("422 %s: %s\n", v.Pointer, v.Message)
		}
	}

	_, err = openapi.DecodeSaveCustomers([]byte(`{"customers":[}`))
	var se *openapi.SyntaxError
	if errors.As(err, &se) {
		fmt.Println("400", se.Offset, se.Msg)
	}
	// Output:
	// cust-1 [retail eu] true map[fist_name:Marie]
	// 422 /customers/0/contacts: value must be a string or an array of strings
	// 422 /customers/0/kyc_level: value must be an integer
	// 422 /customers/1: value must not be null
	// 400 15 invalid character '}' looking for beginning of value
}

func ExampleValidator_ValidateRequest() {
	v := openapi.MustNewValidator()
	r := httptest.NewRequest(http.MethodPost, "/api/v1/customers/save", bytes.NewReader([]byte(`{"customers":{}}`)))
	r.Header.Set("Content-Type", "application/json")
	fmt.Println(v.ValidateRequest(r))
	// Output:
	// request does not match the OpenAPI document: /customers: value must be an array
}

func ExampleDecodeSaveCustomersLimits() {
	lim := openapi.Limits{MaxCustomers: 2, MaxViolations: 100}
	_, err := openapi.DecodeSaveCustomersLimits([]byte(`{"customers":[{},{},{}]}`), lim)
	var le *openapi.LimitError
	if errors.As(err, &le) {
		fmt.Println("413", le)
	}
	// Output:
	// 413 the request has more than 2 customers (at "/customers/2"); split the batch
}
