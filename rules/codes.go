package rules

// Severity says whether a message stops a record from being saved.
type Severity string

// The severities.
const (
	Error   Severity = "error"   // the record is not saved
	Warning Severity = "warning" // the record is saved
)

// Record says which kind of record a code applies to.
type Record string

// The record kinds.
const (
	CustomerRecord Record = "customer"
	RelationRecord Record = "relation"
	AnyRecord      Record = "any" // customers and relations
)

// The message codes of the Save customers endpoint. The document's Message.error
// enum lists exactly these (a test keeps them equal).
const (
	ExternalIDMissing             = "external_id_missing"
	ExternalIDDuplicate           = "external_id_duplicate"
	AccountTypeMissing            = "account_type_missing"
	AccountTypeInvalid            = "account_type_invalid"
	LastNameMissing               = "last_name_missing"
	CompanyNameMissing            = "company_name_missing"
	DateOfBirthInvalid            = "date_of_birth_invalid"
	DateOfBirthInFuture           = "date_of_birth_in_future"
	CountryCodeUnknown            = "country_code_unknown"
	KYCLevelOutOfRange            = "kyc_level_out_of_range"
	VariationOpInvalid            = "variation_op_invalid"
	VariationNameMissing          = "variation_name_missing"
	RelationExternalIDMissing     = "relation_external_id_missing"
	RelationExternalIDDuplicate   = "relation_external_id_duplicate"
	RelationCustomerMissing       = "relation_customer_missing"
	RelationCustomerUnknown       = "relation_customer_unknown"
	RelationCustomerRejected      = "relation_customer_rejected"
	RelationSelfReference         = "relation_self_reference"
	RelationTypeInvalid           = "relation_type_invalid"
	UnknownKey                    = "unknown_key"
	FieldNotApplicable            = "field_not_applicable"
	CountryCodeLowercase          = "country_code_lowercase"
	PhoneNotE164                  = "phone_not_e164"
	KYCLevelRequestedBelowCurrent = "kyc_level_requested_below_current"
	ReviewGroupUnknown            = "review_group_unknown"
	CustomFieldUnknown            = "custom_field_unknown"
	VariationNotFound             = "variation_not_found"
)

// Code describes one message code.
type Code struct {
	Code     string
	Severity Severity
	Record   Record
	Rule     string // the x-rule name of the document's fields that it enforces
	Summary  string
	// NeedsConfig is true for warnings that only a configured list can trigger
	// (review groups, custom fields): a server without such a list never emits them.
	NeedsConfig bool
}

// Catalogue lists every code, errors first, in the document's order. The mock
// emits them, the fixtures generate a labelled invalid record for each, and the
// contract suite has a check for each.
var Catalogue = []Code{
	{ExternalIDMissing, Error, CustomerRecord, "external-id", "external_id absent or empty", false},
	{ExternalIDDuplicate, Error, CustomerRecord, "external-id", "the same external_id earlier in the request", false},
	{AccountTypeMissing, Error, CustomerRecord, "account-type", "no account_type when creating", false},
	{AccountTypeInvalid, Error, CustomerRecord, "account-type", "account_type is neither F nor N", false},
	{LastNameMissing, Error, CustomerRecord, "name-per-account-type", "an individual created without last_name", false},
	{CompanyNameMissing, Error, CustomerRecord, "name-per-account-type", "a firm created without company_name", false},
	{DateOfBirthInvalid, Error, CustomerRecord, "date-of-birth", "date_of_birth is not a real YYYY-MM-DD date", false},
	{DateOfBirthInFuture, Error, CustomerRecord, "date-of-birth", "date_of_birth is after today", false},
	{CountryCodeUnknown, Error, CustomerRecord, "country-code", "not an ISO 3166-1 alpha-2 or alpha-3 code", false},
	{KYCLevelOutOfRange, Error, CustomerRecord, "kyc-level", "kyc_level or kyc_level_requested out of range", false},
	{VariationOpInvalid, Error, CustomerRecord, "variation-op", "_op is neither add nor remove", false},
	{VariationNameMissing, Error, CustomerRecord, "variation-op", "a variation without any name", false},
	{RelationExternalIDMissing, Error, RelationRecord, "relation-external-id", "relation_external_id absent or empty", false},
	{RelationExternalIDDuplicate, Error, RelationRecord, "relation-external-id", "the same relation_external_id earlier in the request", false},
	{RelationCustomerMissing, Error, RelationRecord, "relation-reference", "parent or child absent when creating", false},
	{RelationCustomerUnknown, Error, RelationRecord, "relation-reference", "parent or child is not a customer of the business", false},
	{RelationCustomerRejected, Error, RelationRecord, "relation-reference", "parent or child rejected by this request and not stored", false},
	{RelationSelfReference, Error, RelationRecord, "relation-reference", "parent and child are the same customer", false},
	{RelationTypeInvalid, Error, RelationRecord, "relation-type", "relation_type absent when creating, or not in the table", false},
	{UnknownKey, Warning, AnyRecord, "", "a key the API does not define; ignored", false},
	{FieldNotApplicable, Warning, CustomerRecord, "name-per-account-type", "a field that does not fit the account type; stored", false},
	{CountryCodeLowercase, Warning, CustomerRecord, "country-code", "a lower-case country code; stored upper case", false},
	{PhoneNotE164, Warning, CustomerRecord, "phone-e164", "not plausible E.164; stored as given", false},
	{KYCLevelRequestedBelowCurrent, Warning, CustomerRecord, "kyc-level", "kyc_level_requested below kyc_level", false},
	{ReviewGroupUnknown, Warning, CustomerRecord, "review-groups", "a review group not in the configured list", true},
	{CustomFieldUnknown, Warning, AnyRecord, "custom-fields", "a custom field not in the configured list; dropped", true},
	{VariationNotFound, Warning, CustomerRecord, "variation-op", "remove of a variation that is not stored", false},
}

// Lookup returns the catalogue entry of code.
func Lookup(code string) (Code, bool) {
	for _, c := range Catalogue {
		if c.Code == code {
			return c, true
		}
	}
	return Code{}, false
}
