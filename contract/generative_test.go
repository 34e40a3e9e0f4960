package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// TestPredict pins the mutation oracle to the document's rules: a mutation
// of a valid firm, individual and relation is either off the request schema,
// or predicted with the codes the rules give the mutated record.
func TestPredict(t *testing.T) {
	v := openapi.MustNewValidator()
	cfg, err := rules.DefaultConfig().Compile()
	if err != nil {
		t.Fatal(err)
	}
	const schema = "off the request schema"
	tests := []struct {
		key    string
		value  any
		person bool
		want   string // the mutated record's codes, or schema
	}{
		{"external_id", nil, true, "errors [external_id_missing] warnings []"},
		{"external_id", "", true, "errors [external_id_missing] warnings []"},
		{"external_id", "ct1-x", true, "none"}, // a new id: the relation's child is then unknown
		{"relation_external_id", "", false, "errors [relation_external_id_missing] warnings []"},
		{"account_type", nil, true, "errors [account_type_missing] warnings []"},
		{"account_type", "N;F", true, "errors [account_type_invalid] warnings []"},
		{"account_type", "", true, "errors [account_type_invalid] warnings []"},
		{"account_type", "F", true, "errors [company_name_missing] warnings [field_not_applicable field_not_applicable field_not_applicable]"},
		{"last_name", nil, true, "errors [last_name_missing] warnings []"},
		{"last_name", nil, false, "none"}, // a firm needs no last name
		{"company_name", "", false, "errors [company_name_missing] warnings []"},
		{"company_name", "X", true, "errors [] warnings [field_not_applicable]"},
		{"date_of_birth", "1984-02-30", true, "errors [date_of_birth_invalid] warnings []"},
		{"date_of_birth", "9999-12-31", true, "errors [date_of_birth_in_future] warnings []"},
		{"date_of_birth", "1984-02-29", true, "none"},
		{"domicile_code", "ZZ", true, "errors [country_code_unknown] warnings []"},
		{"domicile_code", "fr", true, "errors [] warnings [country_code_lowercase]"},
		{"nationality_code", "FRA", true, "none"},
		{"nationality_codes", []any{"FR", "XX"}, true, "errors [country_code_unknown] warnings []"},
		{"kyc_level", 99, true, "errors [kyc_level_out_of_range] warnings [kyc_level_requested_below_current]"},
		{"kyc_level", -1, true, "errors [kyc_level_out_of_range] warnings []"},
		{"kyc_level", 1e20, true, schema}, // beyond int64 (format: int64), as 1e400
		{"kyc_level", json.Number("99999999999999999999999"), true, schema},
		{"kyc_level", json.Number("9223372036854775808"), true, "errors [kyc_level_out_of_range] warnings [kyc_level_requested_below_current]"},
		{"kyc_level", json.Number("-9223372036854775809"), true, "errors [kyc_level_out_of_range] warnings []"},
		{"kyc_level", 0, true, "none"},
		{"kyc_level", 1.5, true, schema}, // a schema violation, not a rule
		{"kyc_level", "1", true, schema},
		{"kyc_level_requested", 0, true, "errors [] warnings [kyc_level_requested_below_current]"},
		{"relation_type", 99, false, "errors [relation_type_invalid] warnings []"},
		{"relation_type", nil, false, "errors [relation_type_invalid] warnings []"},
		{"relation_type", 1e20, false, schema},
		{"variations/0/_op", "delete", true, "errors [variation_op_invalid] warnings []"},
		{"variations/0/_op", "remove", true, "errors [] warnings [variation_not_found]"},
		{"variations/0/company_name", "", true, "none"},
		{"phone", "+33 6 12 34 56 78", true, "errors [] warnings [phone_not_e164]"},
		{"fist_name", "x", true, "errors [] warnings [unknown_key]"},
		{"fields", map[string]any{"a": 1}, true, "none"}, // no custom-field list
		{"comment", "x", true, "none"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s=%v", tc.key, tc.value), func(t *testing.T) {
			body := mutationPair()
			var target map[string]any
			switch {
			case tc.key == "relation_type" || tc.key == "relation_external_id":
				target = body["relations"].([]any)[0].(map[string]any)
			case tc.person:
				target = body["customers"].([]any)[1].(map[string]any)
			default:
				target = body["customers"].([]any)[0].(map[string]any)
			}
			setPath(target, tc.key, tc.value)
			raw, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodPost, savePath, bytes.NewReader(raw))
			req.Header.Set("Content-Type", "application/json")
			if valid := v.ValidateRequest(req) == nil; valid != (tc.want != schema) {
				t.Fatalf("schema-valid %v, want %v", valid, tc.want != schema)
			}
			if tc.want == schema {
				return
			}
			out, err := predict(cfg, raw)
			if err != nil {
				t.Fatal(err)
			}
			id, _ := target["external_id"].(string)
			if _, isRel := target["relation_external_id"]; isRel {
				id, _ = target["relation_external_id"].(string)
			}
			got := "none"
			for _, d := range out.Detail {
				if d.ExternalID == id {
					got = fmt.Sprintf("errors %v warnings %v", codes(d.Errors), codes(d.Warnings))
				}
			}
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// mutationPair is a valid save body: a firm, an individual, and the relation
// "the individual is director of the firm".
func mutationPair() map[string]any {
	return map[string]any{
		"customers": []any{
			map[string]any{"external_id": "ct1-f", "account_type": "F", "company_name": "Acme SAS", "domicile_code": "FR"},
			map[string]any{"external_id": "ct1-p", "account_type": "N", "first_name": "Ada", "last_name": "Lovelace",
				"date_of_birth": "1980-12-10", "kyc_level": 1, "kyc_level_requested": 1, "phone": "+33612345678"},
		},
		"relations": []any{
			map[string]any{"relation_external_id": "ct1-r", "parent_customer_external_id": "ct1-f", "child_customer_external_id": "ct1-p", "relation_type": 1},
		},
	}
}
