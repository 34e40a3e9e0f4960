package rules_test

import (
	"fmt"

	"github.com/algoreg-kit/algoreg-kit/openapi"
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

func ExampleEvaluate() {
	cfg, err := rules.DefaultConfig().Compile()
	if err != nil {
		panic(err)
	}
	ptr := func(s string) *string { return &s }
	director := int64(1)
	req := &openapi.SaveCustomersRequest{
		Customers: []openapi.Customer{
			{ExternalID: ptr("c1"), AccountType: ptr("N"), LastName: ptr("Doe"), NationalityCode: ptr("fr")},
			{ExternalID: ptr("c2"), AccountType: ptr("F")},
		},
		Relations: []openapi.Relation{
			{RelationExternalID: ptr("r1"), ParentCustomerExternalID: ptr("c2"), ChildCustomerExternalID: ptr("c1"), RelationType: &director},
		},
	}
	// A new business: nothing stored yet.
	out, err := rules.Evaluate(cfg, rules.Env{Today: rules.MakeDate(2026, 1, 31)}, rules.EmptyState, req)
	if err != nil { // EmptyState never fails
		panic(err)
	}
	fmt.Println(out.Status, "- to store:", len(out.Customers), "customer,", len(out.Relations), "relations;", len(out.New), "new")
	fmt.Println(out.Customers[0].ExternalID, out.Customers[0].NationalityCodes)
	for _, d := range out.Detail {
		for _, m := range d.Errors {
			fmt.Println(d.ExternalID, "error", m.Code+":", m.Detail)
		}
		for _, m := range d.Warnings {
			fmt.Println(d.ExternalID, "warning", m.Code+":", m.Detail)
		}
	}
	// Output:
	// partial - to store: 1 customer, 0 relations; 1 new
	// c1 [FR]
	// c1 warning country_code_lowercase: customers[0]: nationality_code "fr" is lower case; stored as "FR"
	// c2 error company_name_missing: customers[1]: company_name is required for a firm (account_type "F")
	// r1 error relation_customer_rejected: relations[0]: parent_customer_external_id "c2" names a customer that this request rejected and that is not stored
}
