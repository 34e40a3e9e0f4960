package mockserver_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
)

// behaviourCase is one save scenario: requests saved first, the request under
// test, and what the answer and the stored state must be.
type behaviourCase struct {
	name       string
	rules      func(*rules.Config) // nil: the defaults
	before     []string            // saved first; each must answer 200
	body       string
	wantStatus openapi.Status
	wantAdded  []string // the external_ids added, in order; nil: none
	wantDetail []string // summary lines, see summary; nil: no detail
	check      func(t *testing.T, ts *mocktest.Server, resp *openapi.SaveCustomersResponse)
}

const (
	indiv = `"account_type":"N","last_name":"Dupont"`
	firm  = `"account_type":"F","company_name":"Acme SAS"`
)

var behaviourCases = []behaviourCase{
	// upsert
	{
		name:       "create an individual and a firm",
		body:       `{"customers":[{"external_id":"c1",` + indiv + `,"first_name":"Marie","middle_name":"L","date_of_birth":"1984-03-12","nationality_code":"FR","domicile_codes":["FRA"],"phone":"+33612345678","kyc_level":1,"kyc_level_requested":2,"review_groups":"retail; eu,,","contacts":["a@example.com"],"alias_ids":["crm-1"],"comment":"hi","disabled":false,"fields":{"segment":"premium"},"registration_number":"123"},{"external_id":"c2",` + firm + `,"trading_name":"Acme"}]}`,
		wantStatus: openapi.StatusOK,
		wantAdded:  []string{"c1", "c2"},
		check: func(t *testing.T, ts *mocktest.Server, resp *openapi.SaveCustomersResponse) {
			for _, a := range resp.Added {
				if !uuidRE.MatchString(a.CustomerID) || len(a.CustomerID) != 36 {
					t.Errorf("customer_id %q is not a version 4 UUID", a.CustomerID)
				}
			}
			if resp.Added[0].CustomerID == resp.Added[1].CustomerID {
				t.Error("two customers got the same customer_id")
			}
			c := mustGetCustomer(t, ts, "c1")
			if c.CustomerID != resp.Added[0].CustomerID || c.AccountType != "N" || c.FirstName != "Marie" || c.LastName != "Dupont" ||
				c.DateOfBirth != "1984-03-12" || c.Phone != "+33612345678" || *c.KYCLevel != 1 || *c.KYCLevelRequested != 2 ||
				c.Comment != "hi" || c.RegistrationNumber != "123" || *c.Disabled || c.Fields["segment"] != "premium" {
				t.Errorf("stored c1 = %+v", c)
			}
			for _, tt := range []struct {
				name      string
				got, want []string
			}{
				{"nationality_codes", c.NationalityCodes, []string{"FR"}},
				{"domicile_codes", c.DomicileCodes, []string{"FRA"}},
				{"review_groups", c.ReviewGroups, []string{"retail", "eu"}},
				{"contacts", c.Contacts, []string{"a@example.com"}},
				{"alias_ids", c.AliasIDs, []string{"crm-1"}},
			} {
				if !slices.Equal(tt.got, tt.want) {
					t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
				}
			}
			if !c.CreatedAt.Equal(testNow) || !c.UpdatedAt.Equal(testNow) {
				t.Errorf("times: got %v %v, want %v", c.CreatedAt, c.UpdatedAt, testNow)
			}
			if f := mustGetCustomer(t, ts, "c2"); f.CompanyName != "Acme SAS" || f.TradingName != "Acme" || f.AccountType != "F" {
				t.Errorf("stored c2 = %+v", f)
			}
		},
	},
	{
		name:       "update as a delta keeps absent and null fields",
		before:     []string{`{"customers":[{"external_id":"c1",` + indiv + `,"first_name":"Marie","phone":"+33612345678","kyc_level":1}]}`},
		body:       `{"customers":[{"external_id":"c1","phone":"+33698765432","first_name":null,"kyc_level":null}]}`,
		wantStatus: openapi.StatusOK,
		check: func(t *testing.T, ts *mocktest.Server, _ *openapi.SaveCustomersResponse) {
			c := mustGetCustomer(t, ts, "c1")
			if c.Phone != "+33698765432" || c.FirstName != "Marie" || c.LastName != "Dupont" || c.KYCLevel == nil || *c.KYCLevel != 1 || c.AccountType != "N" {
				t.Errorf("stored c1 after delta = %+v", c)
			}
		},
	},
	{
		name:       "saving the same body twice creates once",
		before:     []string{`{"customers":[{"external_id":"c1",` + indiv + `}]}`},
		body:       `{"customers":[{"external_id":"c1",` + indiv + `}]}`,
		wantStatus: openapi.StatusOK,
		check: func(t *testing.T, ts *mocktest.Server, _ *openapi.SaveCustomersResponse) {
			if got := total(t, ts, ts.Client, "customers"); got != 1 {
				t.Errorf("customers stored: got %d, want 1", got)
			}
		},
	},
	{
		name:       "an empty request is ok",
		body:       `{}`,
		wantStatus: openapi.StatusOK,
	},
	// external_id
	{
		name:       "external_id missing or empty",
		body:       `{"customers":[{` + indiv + `},{"external_id":"",` + indiv + `}]}`,
		wantStatus: openapi.StatusFailed,
		wantDetail: []string{" E[external_id_missing] W[]", " E[external_id_missing] W[]"},
	},
	{
		name:       "external_id duplicate: every later occurrence",
		body:       `{"customers":[{"external_id":"c1",` + indiv + `},{"external_id":"c1",` + indiv + `},{"external_id":"c1","phone":"+33612345678"}]}`,
		wantStatus: openapi.StatusPartial,
		wantAdded:  []string{"c1"},
		wantDetail: []string{"c1 E[external_id_duplicate] W[]", "c1 E[external_id_duplicate] W[]"},
	},
	{
		name:       "external_id duplicate after an invalid first occurrence",
		body:       `{"customers":[{"external_id":"c1","account_type":"N"},{"external_id":"c1",` + indiv + `}]}`,
		wantStatus: openapi.StatusFailed,
		wantDetail: []string{"c1 E[last_name_missing] W[]", "c1 E[external_id_duplicate] W[]"},
		check: func(t *testing.T, ts *mocktest.Server, _ *openapi.SaveCustomersResponse) {
			if _, ok := getCustomer(t, ts, ts.Client, "c1"); ok {
				t.Error("c1 was stored")
			}
		},
	},
	// account type and names
	{
		name:       "account_type missing when creating",
		body:       `{"customers":[{"external_id":"c1","last_name":"Dupont"}]}`,
		wantStatus: openapi.StatusFailed,
		wantDetail: []string{"c1 E[account_type_missing] W[]"},
	},
	{
		name:       "account_type optional when updating",
		before:     []string{`{"customers":[{"external_id":"c1",` + firm + `}]}`},
		body:       `{"customers":[{"external_id":"c1","comment":"x"}]}`,
		wantStatus: openapi.StatusOK,
	},
	{
		name:       "account_type invalid",
		body:       `{"customers":[{"external_id":"c1","account_type":"X","last_name":"D"},{"external_id":"c2","account_type":"n","last_name":"D"}]}`,
		wantStatus: openapi.StatusFailed,
		wantDetail: []string{"c1 E[account_type_invalid] W[]", "c2 E[account_type_invalid] W[]"},
	},
	{
		name:       "account_type invalid on update keeps the stored type",
		before:     []string{`{"customers":[{"external_id":"c1",` + indiv + `}]}`},
		body:       `{"customers":[{"external_id":"c1","account_type":"Z"}]}`,
		wantStatus: openapi.StatusFailed,
		wantDetail: []string{"c1 E[account_type_invalid] W[]"},
		check: func(t *testing.T, ts *mocktest.Server, _ *openapi.SaveCustomersResponse) {
			if c := mustGetCustomer(t, ts, "c1"); c.AccountType != "N" {
				t.Errorf("account_type: got %q, want N", c.AccountType)
			}
		},
	},
	{
		name:       "an individual needs last_name",
		body:       `{"customers":[{"external_id":"c1","account_type":"N","first_name":"Marie"},{"external_id":"c2","account_type":"N","last_name":""}]}`,
		wantStatus: openapi.StatusFailed,
		wantDetail: []string{"c1 E[last_name_missing] W[]", "c2 E[last_name_missing] W[]"},
	},
	{
		name:       "a firm turned individual needs last_name (merged record)",
		before:     []string{`{"customers":[{"external_id":"c1",` + firm + `}]}`},
		body:       `{"customers":[{"external_id":"c1","account_type":"N"}]}`,
		wantStatus: openapi.StatusFailed,
		wantDetail: []string{"c1 E[last_name_missing] W[field_not_applicable]"},
	},
	{
		name:       "a firm needs company_name",
		body:       `{"customers":[{"external_id":"c1","account_type":"F","trading_name":"Acme"}]}`,
		wantStatus: openapi.StatusFailed,
		wantDetail: []string{"c1 E[company_name_missing] W[]"},
	},
	{
		name:       "fields that do not fit the account type are stored with warnings",
		body:       `{"customers":[{"external_id":"c1",` + indiv + `,"company_name":"X","trading_name":"Y"},{"external_id":"c2",` + firm + `,"first_name":"A","middle_name":"B","last_name":"C","date_of_birth":"1990-01-01"}]}`,
		wantStatus: openapi.StatusOK,
		wantAdded:  []string{"c1", "c2"},
		wantDetail: []string{"c1 E[] W[field_not_applicable field_not_applicable]", "c2 E[] W[field_not_applicable field_not_applicable field_not_applicable field_not_applicable]"},
		check: func(t *testing.T, ts *mocktest.Server, _ *openapi.SaveCustomersResponse) {
			if c := mustGetCustomer(t, ts, "c1"); c.CompanyName != "X" || c.TradingName != "Y" {
				t.Errorf("c1 = %+v", c)
			}
			if c := mustGetCustomer(t, ts, "c2"); c.FirstName != "A" || c.DateOfBirth != "1990-01-01" {
				t.Errorf("c2 = %+v", c)
			}
		},
	},
	// date of birth
	{
		name:       "date_of_birth not a real date",
		body:       `{"customers":[{"external_id":"c1",` + indiv + `,"date_of_birth":"1984-02-30"},{"external_id":"c2",` + indiv + `,"date_of_birth":"12/03/1984"},{"external_id":"c3",` + indiv + `,"date_of_birth":"2024-02-29"}]}`,
		wantStatus: openapi.StatusPartial,
		wantAdded:  []string{"c3"},
		wantDetail: []string{"c1 E[date_of_birth_invalid] W[]", "c2 E[date_of_birth_invalid] W[]"},
	},
	{
		name:       "date_of_birth in the future",
		body:       `{"customers":[{"external_id":"c1",` + indiv + `,"date_of_birth":"2026-11-24"},{"external_id":"c2",` + indiv + `,"date_of_birth":"2026-11-23"}]}`,
		wantStatus: openapi.StatusPartial,
		wantAdded:  []string{"c2"},
		wantDetail: []string{"c1 E[date_of_birth_in_future] W[]"},
	},
	// country codes
	{
		name:       "country codes unknown",
		body:       `{"customers":[{"external_id":"c1",` + indiv + `,"nationality_code":"ZZ"},{"external_id":"c2",` + indiv + `,"domicile_codes":["FR","France"]},{"external_id":"c3",` + indiv + `,"domicile_code":"AN","nationality_codes":["XXX"]}]}`,
		wantStatus: openapi.StatusFailed,
		wantDetail: []string{"c1 E[country_code_unknown] W[]", "c2 E[country_code_unknown] W[]", "c3 E[country_code_unknown country_code_unknown] W[]"},
	},
	{
		name:       "lower-case country codes are stored upper case; singular and plural merge",
		body:       `{"customers":[{"external_id":"c1",` + indiv + `,"nationality_code":"fr","nationality_codes":["DEU","FRA","it"],"domicile_code":"Gb"}]}`,
		wantStatus: openapi.StatusOK,
		wantAdded:  []string{"c1"},
		wantDetail: []string{"c1 E[] W[country_code_lowercase country_code_lowercase country_code_lowercase]"},
		check: func(t *testing.T, ts *mocktest.Server, _ *openapi.SaveCustomersResponse) {
			c := mustGetCustomer(t, ts, "c1")
			if !slices.Equal(c.NationalityCodes, []string{"FR", "DEU", "IT"}) || !slices.Equal(c.DomicileCodes, []string{"GB"}) {
				t.Errorf("codes: got %v %v, want [FR DEU IT] [GB]", c.NationalityCodes, c.DomicileCodes)
			}
		},
	},
	// kyc
	{
		name:       "kyc levels out of the default range 0-3",
		body:       `{"customers":[{"external_id":"c1",` + indiv + `,"kyc_level":4},{"external_id":"c2",` + indiv + `,"kyc_level":-1},{"external_id":"c3",` + indiv + `,"kyc_level_requested":9},{"external_id":"c4",` + indiv + `,"kyc_level":0,"kyc_level_requested":3}]}`,
		wantStatus: openapi.StatusPartial,
		wantAdded:  []string{"c4"},
		wantDetail: []string{"c1 E[kyc_level_out_of_range] W[]", "c2 E[kyc_level_out_of_range] W[]", "c3 E[kyc_level_out_of_range] W[]"},
	},
	{
		name:       "kyc range is configurable",
		rules:      func(c *rules.Config) { c.KYCMin, c.KYCMax = 1, 5 },
		body:       `{"customers":[{"external_id":"c1",` + indiv + `,"kyc_level":5},{"external_id":"c2",` + indiv + `,"kyc_level":0}]}`,
		wantStatus: openapi.StatusPartial,
		wantAdded:  []string{"c1"},
		wantDetail: []string{"c2 E[kyc_level_out_of_range] W[]"},
	},
	{
		name:       "kyc_level_requested below kyc_level, also against the stored level",
		before:     []string{`{"customers":[{"external_id":"c2",` + indiv + `,"kyc_level":3}]}`},
		body:       `{"customers":[{"external_id":"c1",` + indiv + `,"kyc_level":2,"kyc_level_requested":1},{"external_id":"c2","kyc_level_requested":2}]}`,
		wantStatus: openapi.StatusOK,
		wantAdded:  []string{"c1"},
		wantDetail: []string{"c1 E[] W[kyc_level_requested_below_current]", "c2 E[] W[kyc_level_requested_below_current]"},
	},
	// phone
	{
		name:       "phone not plausible E.164 is stored as given",
		body:       `{"customers":[{"external_id":"c1",` + indiv + `,"phone":"06 12 34 56 78"},{"external_id":"c2",` + indiv + `,"phone":"+14155550123"}]}`,
		wantStatus: openapi.StatusOK,
		wantAdded:  []string{"c1", "c2"},
		wantDetail: []string{"c1 E[] W[phone_not_e164]"},
		check: func(t *testing.T, ts *mocktest.Server, _ *openapi.SaveCustomersResponse) {
			if c := mustGetCustomer(t, ts, "c1"); c.Phone != "06 12 34 56 78" {
				t.Errorf("phone: got %q", c.Phone)
			}
		},
	},
	// review groups and contacts
	{
		name:       "review groups not in the configured list",
		rules:      func(c *rules.Config) { c.ReviewGroups = []string{"retail", "eu"} },
		body:       `{"customers":[{"external_id":"c1",` + indiv + `,"review_groups":"retail;vip, eu"},{"external_id":"c2",` + indiv + `,"review_groups":["eu"]}]}`,
		wantStatus: openapi.StatusOK,
		wantAdded:  []string{"c1", "c2"},
		wantDetail: []string{"c1 E[] W[review_group_unknown]"},
		check: func(t *testing.T, ts *mocktest.Server, _ *openapi.SaveCustomersResponse) {
			if c := mustGetCustomer(t, ts, "c1"); !slices.Equal(c.ReviewGroups, []string{"retail", "vip", "eu"}) {
				t.Errorf("review_groups: got %v", c.ReviewGroups)
			}
		},
	},
	{
		name:       "review groups and contacts: string or array, stored as an array",
		body:       `{"customers":[{"external_id":"c1",` + indiv + `,"review_groups":" A ;B,,C ","contacts":"x@example.com; y@example.com"}]}`,
		wantStatus: openapi.StatusOK,
		wantAdded:  []string{"c1"},
		check: func(t *testing.T, ts *mocktest.Server, _ *openapi.SaveCustomersResponse) {
			c := mustGetCustomer(t, ts, "c1")
			if !slices.Equal(c.ReviewGroups, []string{"A", "B", "C"}) || !slices.Equal(c.Contacts, []string{"x@example.com", "y@example.com"}) {
				t.Errorf("got %v %v", c.ReviewGroups, c.Contacts)
			}
		},
	},
	// custom fields
	{
		name:       "custom fields not in the configured list are dropped",
		rules:      func(c *rules.Config) { c.CustomFields = []string{"segment", "score"} },
		before:     []string{`{"customers":[{"external_id":"c1",` + indiv + `,"fields":{"segment":"retail","score":1}}]}`},
		body:       `{"customers":[{"external_id":"c1","fields":{"segment":"premium","colour":"red"}}]}`,
		wantStatus: openapi.StatusOK,
		wantDetail: []string{"c1 E[] W[custom_field_unknown]"},
		check: func(t *testing.T, ts *mocktest.Server, _ *openapi.SaveCustomersResponse) {
			c := mustGetCustomer(t, ts, "c1")
			if len(c.Fields) != 2 || c.Fields["segment"] != "premium" || c.Fields["score"] != float64(1) {
				t.Errorf("fields: got %v, want segment=premium score=1 (merged key by key)", c.Fields)
			}
		},
	},
	// variations
	{
		name:       "variations: add, remove, remove of a missing one",
		before:     []string{`{"customers":[{"external_id":"c1",` + indiv + `,"variations":[{"first_name":"Marie","last_name":"Martin"},{"_op":"add","last_name":"Durand"}]}]}`},
		body:       `{"customers":[{"external_id":"c1","variations":[{"_op":"remove","first_name":"Marie","last_name":"Martin"},{"_op":"remove","last_name":"Nobody"},{"_op":"add","last_name":"Durand"}]}]}`,
		wantStatus: openapi.StatusOK,
		wantDetail: []string{"c1 E[] W[variation_not_found]"},
		check: func(t *testing.T, ts *mocktest.Server, _ *openapi.SaveCustomersResponse) {
			c := mustGetCustomer(t, ts, "c1")
			if len(c.Variations) != 1 || c.Variations[0].LastName != "Durand" {
				t.Errorf("variations: got %v, want only Durand", c.Variations)
			}
		},
	},
	{
		name:       "variations: unknown _op and a variation without names",
		body:       `{"customers":[{"external_id":"c1",` + indiv + `,"variations":[{"_op":"replace","last_name":"X"}]},{"external_id":"c2",` + indiv + `,"variations":[{"_op":"add"}]},{"external_id":"c3",` + indiv + `,"variations":[{"first_name":""}]}]}`,
		wantStatus: openapi.StatusFailed,
		wantDetail: []string{"c1 E[variation_op_invalid] W[]", "c2 E[variation_name_missing] W[]", "c3 E[variation_name_missing] W[]"},
	},
	// unknown keys
	{
		name:       "unknown keys are warned about and ignored",
		body:       `{"customers":[{"external_id":"c1",` + indiv + `,"fist_name":"Marie","Phone":"+33612345678"}],"relations":[{"relation_external_id":"r1","parent_customer_external_id":"c1","child_customer_external_id":"c1x","relation_typ":1}]}`,
		before:     []string{`{"customers":[{"external_id":"c1x",` + indiv + `}]}`},
		wantStatus: openapi.StatusPartial,
		wantAdded:  []string{"c1"},
		wantDetail: []string{"c1 E[] W[unknown_key unknown_key]", "r1 E[relation_type_invalid] W[unknown_key]"},
		check: func(t *testing.T, ts *mocktest.Server, resp *openapi.SaveCustomersResponse) {
			if c := mustGetCustomer(t, ts, "c1"); c.FirstName != "" || c.Phone != "" {
				t.Errorf("unknown keys were stored: %+v", c)
			}
			want := `customers[0]: key "fist_name" is not defined by the API and was ignored; did you mean "first_name"?`
			if got := resp.Detail[0].Warnings[1].Detail; got != want {
				t.Errorf("detail: got %q, want %q", got, want)
			}
		},
	},
	{
		name:       "an unknown key inside a variation is warned about and ignored; the variation is stored",
		body:       `{"customers":[{"external_id":"c1",` + indiv + `,"variations":[{"_op":"add","last_nme":"Martin","first_name":"Marie"}]}]}`,
		wantStatus: openapi.StatusOK,
		wantAdded:  []string{"c1"},
		wantDetail: []string{"c1 E[] W[unknown_key]"},
		check: func(t *testing.T, ts *mocktest.Server, resp *openapi.SaveCustomersResponse) {
			want := `customers[0]: variations[0]: key "last_nme" is not defined by the API and was ignored; did you mean "last_name"?`
			if got := resp.Detail[0].Warnings[0].Detail; got != want {
				t.Errorf("detail: got %q, want %q", got, want)
			}
			c := mustGetCustomer(t, ts, "c1")
			if len(c.Variations) != 1 || c.Variations[0] != (openapi.StoredVariation{FirstName: "Marie"}) {
				t.Errorf("variations: got %+v, want one with first_name Marie and no last_name", c.Variations)
			}
			// No other key, not even an empty one.
			if r := do(t, ts.Client, http.MethodGet, ts.URL+"/__admin/customers/c1", "", ""); !strings.Contains(string(r.body), `"variations":[{"first_name":"Marie"}]`) {
				t.Errorf("variations: got %s, want exactly [{\"first_name\":\"Marie\"}]", r.body)
			}
		},
	},
	// relations
	{
		name:       "relation to customers created by the same request",
		body:       `{"customers":[{"external_id":"p",` + firm + `},{"external_id":"c",` + indiv + `}],"relations":[{"relation_external_id":"r1","parent_customer_external_id":"p","child_customer_external_id":"c","relation_type":1,"fields":{"share":0.5},"disabled":false}]}`,
		wantStatus: openapi.StatusOK,
		wantAdded:  []string{"p", "c"},
		check: func(t *testing.T, ts *mocktest.Server, _ *openapi.SaveCustomersResponse) {
			c := mustGetCustomer(t, ts, "c")
			if len(c.Relations) != 1 || c.Relations[0].ParentCustomerExternalID != "p" || c.Relations[0].RelationType != 1 || c.Relations[0].Fields["share"] != 0.5 {
				t.Errorf("relations of c: got %+v", c.Relations)
			}
			if got := total(t, ts, ts.Client, "relations"); got != 1 {
				t.Errorf("relations stored: got %d, want 1", got)
			}
		},
	},
	{
		name:       "relation upsert as a delta",
		before:     []string{`{"customers":[{"external_id":"p",` + firm + `},{"external_id":"c",` + indiv + `},{"external_id":"d",` + indiv + `}],"relations":[{"relation_external_id":"r1","parent_customer_external_id":"p","child_customer_external_id":"c","relation_type":1}]}`},
		body:       `{"relations":[{"relation_external_id":"r1","child_customer_external_id":"d","disabled":true}]}`,
		wantStatus: openapi.StatusOK,
		check: func(t *testing.T, ts *mocktest.Server, _ *openapi.SaveCustomersResponse) {
			d := mustGetCustomer(t, ts, "d")
			if len(d.Relations) != 1 || d.Relations[0].ParentCustomerExternalID != "p" || d.Relations[0].RelationType != 1 || !d.Relations[0].Disabled {
				t.Errorf("relations of d: got %+v", d.Relations)
			}
			if c := mustGetCustomer(t, ts, "c"); len(c.Relations) != 0 {
				t.Errorf("c still has relations %+v", c.Relations)
			}
		},
	},
	{
		name:       "relation_external_id missing and duplicate",
		before:     []string{`{"customers":[{"external_id":"p",` + firm + `},{"external_id":"c",` + indiv + `}]}`},
		body:       `{"relations":[{"parent_customer_external_id":"p","child_customer_external_id":"c","relation_type":1},{"relation_external_id":"r1","parent_customer_external_id":"p","child_customer_external_id":"c","relation_type":1},{"relation_external_id":"r1","parent_customer_external_id":"p","child_customer_external_id":"c","relation_type":2}]}`,
		wantStatus: openapi.StatusPartial,
		wantDetail: []string{" E[relation_external_id_missing] W[]", "r1 E[relation_external_id_duplicate] W[]"},
	},
	{
		name:       "relation customers missing, unknown, the same",
		before:     []string{`{"customers":[{"external_id":"p",` + firm + `}]}`},
		body:       `{"relations":[{"relation_external_id":"r1","child_customer_external_id":"p","relation_type":1},{"relation_external_id":"r2","parent_customer_external_id":"p","child_customer_external_id":"ghost","relation_type":1},{"relation_external_id":"r3","parent_customer_external_id":"p","child_customer_external_id":"p","relation_type":1}]}`,
		wantStatus: openapi.StatusFailed,
		wantDetail: []string{"r1 E[relation_customer_missing] W[]", "r2 E[relation_customer_unknown] W[]", "r3 E[relation_self_reference] W[]"},
	},
	{
		name:       "relation to a customer rejected by the same request, unless it is stored",
		before:     []string{`{"customers":[{"external_id":"old",` + indiv + `}]}`},
		body:       `{"customers":[{"external_id":"p",` + firm + `},{"external_id":"bad","account_type":"N"},{"external_id":"old","date_of_birth":"nope"}],"relations":[{"relation_external_id":"r1","parent_customer_external_id":"p","child_customer_external_id":"bad","relation_type":1},{"relation_external_id":"r2","parent_customer_external_id":"p","child_customer_external_id":"old","relation_type":1}]}`,
		wantStatus: openapi.StatusPartial,
		wantAdded:  []string{"p"},
		wantDetail: []string{"bad E[last_name_missing] W[]", "old E[date_of_birth_invalid] W[]", "r1 E[relation_customer_rejected] W[]"},
	},
	{
		name:       "relation_type absent when creating, not in the table, absent when updating",
		before:     []string{`{"customers":[{"external_id":"p",` + firm + `},{"external_id":"c",` + indiv + `}],"relations":[{"relation_external_id":"r0","parent_customer_external_id":"p","child_customer_external_id":"c","relation_type":3}]}`},
		body:       `{"relations":[{"relation_external_id":"r1","parent_customer_external_id":"p","child_customer_external_id":"c"},{"relation_external_id":"r2","parent_customer_external_id":"p","child_customer_external_id":"c","relation_type":99},{"relation_external_id":"r0","disabled":true}]}`,
		wantStatus: openapi.StatusPartial,
		wantDetail: []string{"r1 E[relation_type_invalid] W[]", "r2 E[relation_type_invalid] W[]"},
	},
	{
		name:       "relation types are configurable",
		rules:      func(c *rules.Config) { c.RelationTypes = []rules.RelationType{{Value: 42, Name: "x"}} },
		body:       `{"customers":[{"external_id":"p",` + firm + `},{"external_id":"c",` + indiv + `}],"relations":[{"relation_external_id":"r1","parent_customer_external_id":"p","child_customer_external_id":"c","relation_type":42},{"relation_external_id":"r2","parent_customer_external_id":"p","child_customer_external_id":"c","relation_type":1}]}`,
		wantStatus: openapi.StatusPartial,
		wantAdded:  []string{"p", "c"},
		wantDetail: []string{"r2 E[relation_type_invalid] W[]"},
	},
	{
		name:       "custom fields of a relation",
		rules:      func(c *rules.Config) { c.CustomFields = []string{"share"} },
		body:       `{"customers":[{"external_id":"p",` + firm + `},{"external_id":"c",` + indiv + `}],"relations":[{"relation_external_id":"r1","parent_customer_external_id":"p","child_customer_external_id":"c","relation_type":2,"fields":{"share":0.3,"note":"x"}}]}`,
		wantStatus: openapi.StatusOK,
		wantAdded:  []string{"p", "c"},
		wantDetail: []string{"r1 E[] W[custom_field_unknown]"},
	},
	// verify_input, risk scan, status
	{
		name:       "verify_input persists nothing and answers what a save would",
		before:     []string{`{"customers":[{"external_id":"old",` + indiv + `,"phone":"+33612345678"}]}`},
		body:       `{"verify_input":true,"customers":[{"external_id":"new",` + indiv + `},{"external_id":"old","phone":"+33698765432"},{"external_id":"bad","account_type":"F"}],"relations":[{"relation_external_id":"r1","parent_customer_external_id":"new","child_customer_external_id":"old","relation_type":1}]}`,
		wantStatus: openapi.StatusPartial,
		wantDetail: []string{"bad E[company_name_missing] W[]"},
		check: func(t *testing.T, ts *mocktest.Server, resp *openapi.SaveCustomersResponse) {
			if !resp.VerifyInput {
				t.Error("verify_input not echoed")
			}
			if _, ok := getCustomer(t, ts, ts.Client, "new"); ok {
				t.Error("verify_input stored a new customer")
			}
			if c := mustGetCustomer(t, ts, "old"); c.Phone != "+33612345678" {
				t.Errorf("verify_input updated a customer: phone %q", c.Phone)
			}
			if n := total(t, ts, ts.Client, "relations"); n != 0 {
				t.Errorf("verify_input stored %d relations", n)
			}
		},
	},
	{
		name:       "disable_risk_scan is stored per customer",
		body:       `{"disable_risk_scan":true,"customers":[{"external_id":"c1",` + indiv + `}]}`,
		wantStatus: openapi.StatusOK,
		wantAdded:  []string{"c1"},
		check: func(t *testing.T, ts *mocktest.Server, _ *openapi.SaveCustomersResponse) {
			if c := mustGetCustomer(t, ts, "c1"); !c.RiskScanDisabled {
				t.Error("risk_scan_disabled: got false, want true")
			}
			save(t, ts, `{"customers":[{"external_id":"c1"}]}`)
			if c := mustGetCustomer(t, ts, "c1"); c.RiskScanDisabled {
				t.Error("risk_scan_disabled after a save with the scan: got true, want false")
			}
		},
	},
	{
		name:       "disable_risk_scan is forced above the risk-scan limit",
		rules:      func(c *rules.Config) { c.RiskScanLimit = 2 },
		before:     []string{`{"customers":[{"external_id":"a",` + indiv + `},{"external_id":"b",` + indiv + `}]}`},
		body:       `{"disable_risk_scan":false,"customers":[{"external_id":"a"},{"external_id":"b"},{"external_id":"c",` + indiv + `}]}`,
		wantStatus: openapi.StatusOK,
		wantAdded:  []string{"c"},
		check: func(t *testing.T, ts *mocktest.Server, _ *openapi.SaveCustomersResponse) {
			for _, id := range []string{"a", "b", "c"} {
				if c := mustGetCustomer(t, ts, id); !c.RiskScanDisabled {
					t.Errorf("%s: risk_scan_disabled false; 3 customers are above the limit of 2", id)
				}
			}
		},
	},
}

// TestSaveBehaviour runs every case on each engine of testStores: one state
// per engine, in which each case is a business of its own (a fresh database
// per case would cost PostgreSQL a CREATE DATABASE each).
func TestSaveBehaviour(t *testing.T) {
	covered := map[string]bool{}
	codeRE := regexp.MustCompile(`[a-z0-9_]+`)
	for _, tt := range behaviourCases {
		for _, line := range tt.wantDetail {
			for _, code := range codeRE.FindAllString(line, -1) {
				covered[code] = true
			}
		}
	}
	forEachStore(t, func(t *testing.T, st testStore) {
		s := st.open(t)
		for i, tt := range behaviourCases {
			t.Run(tt.name, func(t *testing.T) { runBehaviour(t, s, fmt.Sprintf("case-%d", i), tt) })
		}
	})
	t.Run("every catalogue code has a behaviour case", func(t *testing.T) {
		var missing []string
		for _, c := range rules.Catalogue {
			if !covered[c.Code] {
				missing = append(missing, c.Code)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("codes without a behaviour case: %v", missing)
		}
	})
}

// runBehaviour saves the case's requests as business, which has nothing in
// s yet, and checks the answer and the state.
func runBehaviour(t *testing.T, s store.Store, business string, tt behaviourCase) {
	cfg := mockserver.Config{Store: s}
	if tt.rules != nil {
		cfg.Rules = rulesWith(tt.rules)
	}
	ts := newServer(t, cfg, mocktest.WithCredentials(business, "x"))
	for _, b := range tt.before {
		save(t, ts, b)
	}
	resp := save(t, ts, tt.body)
	if resp.Status != tt.wantStatus {
		t.Errorf("status: got %s, want %s", resp.Status, tt.wantStatus)
	}
	if got := addedIDs(resp); !slices.Equal(got, tt.wantAdded) {
		t.Errorf("added: got %v, want %v", got, tt.wantAdded)
	}
	if got := summary(resp); !slices.Equal(got, tt.wantDetail) {
		t.Errorf("detail:\n got %q\nwant %q", got, tt.wantDetail)
	}
	if tt.check != nil {
		tt.check(t, ts, resp)
	}
}
