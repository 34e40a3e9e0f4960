package contract

import (
	"encoding/json"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/rules"
)

// TestExpectedCode pins the mutation oracle to the document's rules.
func TestExpectedCode(t *testing.T) {
	tt := &checkT{r: &runner{}}
	tests := []struct {
		key    string
		value  any
		person bool
		want   string
	}{
		{"external_id", nil, true, rules.ExternalIDMissing},
		{"external_id", "", true, rules.ExternalIDMissing},
		{"external_id", "ct1-x", true, ""},
		{"relation_external_id", "", false, rules.RelationExternalIDMissing},
		{"account_type", nil, true, rules.AccountTypeMissing},
		{"account_type", "N;F", true, rules.AccountTypeInvalid},
		{"account_type", "", true, ""}, // the document leaves "" open
		{"last_name", nil, true, rules.LastNameMissing},
		{"last_name", nil, false, ""}, // a firm needs no last name
		{"company_name", "", false, rules.CompanyNameMissing},
		{"date_of_birth", "1984-02-30", true, rules.DateOfBirthInvalid},
		{"date_of_birth", "9999-12-31", true, rules.DateOfBirthInFuture},
		{"date_of_birth", "1984-02-29", true, ""},
		{"domicile_code", "ZZ", true, rules.CountryCodeUnknown},
		{"domicile_code", "fr", true, rules.CountryCodeLowercase},
		{"nationality_code", "FRA", true, ""},
		{"nationality_codes", []any{"FR", "XX"}, true, rules.CountryCodeUnknown},
		{"kyc_level", 99, true, rules.KYCLevelOutOfRange},
		{"kyc_level", -1, true, rules.KYCLevelOutOfRange},
		{"kyc_level", 1e20, true, rules.KYCLevelOutOfRange},
		{"kyc_level", json.Number("9223372036854775808"), true, rules.KYCLevelOutOfRange},
		{"kyc_level", 0, true, ""},
		{"kyc_level", 1.5, true, ""}, // a schema violation, not a rule
		{"relation_type", 99, false, rules.RelationTypeInvalid},
		{"relation_type", nil, false, rules.RelationTypeInvalid},
		{"relation_type", 1e20, false, rules.RelationTypeInvalid},
		{"variations/0/_op", "delete", true, rules.VariationOpInvalid},
		{"variations/0/_op", "remove", true, ""},
		{"phone", "+33 6 12 34 56 78", true, rules.PhoneNotE164},
		{"comment", "x", true, ""},
	}
	for _, tc := range tests {
		if got := tt.expectedCode(tc.key, tc.value, tc.person); got != tc.want {
			t.Errorf("expectedCode(%s, %v, person %v): got %q, want %q", tc.key, tc.value, tc.person, got, tc.want)
		}
	}
}
