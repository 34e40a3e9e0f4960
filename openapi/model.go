package openapi

import (
	"encoding/json"
	"strings"
)

// The request model. Every optional field is a pointer (or a nil slice or map) so
// that "absent" and "given" differ: a save is a delta, and only the fields present
// in the request replace stored values. A JSON null decodes as absent.

// SaveCustomersRequest is the body of POST /api/v1/customers/save.
type SaveCustomersRequest struct {
	Customers       []Customer `json:"customers,omitempty"`
	DisableRiskScan *bool      `json:"disable_risk_scan,omitempty"`
	Relations       []Relation `json:"relations,omitempty"`
	VerifyInput     *bool      `json:"verify_input,omitempty"`
}

// Customer is one customer of a save request: an individual (account type N) or
// a firm (account type F).
type Customer struct {
	AccountType        *string        `json:"account_type,omitempty"`
	AliasIDs           []string       `json:"alias_ids,omitempty"`
	Comment            *string        `json:"comment,omitempty"`
	CompanyName        *string        `json:"company_name,omitempty"`
	Contacts           StringList     `json:"contacts,omitempty"`
	DateOfBirth        *string        `json:"date_of_birth,omitempty"`
	Disabled           *bool          `json:"disabled,omitempty"`
	DomicileCode       *string        `json:"domicile_code,omitempty"`
	DomicileCodes      []string       `json:"domicile_codes,omitempty"`
	ExternalID         *string        `json:"external_id,omitempty"`
	Fields             map[string]any `json:"fields,omitempty"`
	FirstName          *string        `json:"first_name,omitempty"`
	KYCLevel           *int64         `json:"kyc_level,omitempty"`
	KYCLevelRequested  *int64         `json:"kyc_level_requested,omitempty"`
	LastName           *string        `json:"last_name,omitempty"`
	MiddleName         *string        `json:"middle_name,omitempty"`
	NationalityCode    *string        `json:"nationality_code,omitempty"`
	NationalityCodes   []string       `json:"nationality_codes,omitempty"`
	Phone              *string        `json:"phone,omitempty"`
	RegistrationNumber *string        `json:"registration_number,omitempty"`
	ReviewGroups       StringList     `json:"review_groups,omitempty"`
	TradingName        *string        `json:"trading_name,omitempty"`
	Variations         []Variation    `json:"variations,omitempty"`

	// Extra holds the keys of the record that the document does not define
	// (typos such as "fist_name"). Decoding fills it; MarshalJSON writes it out
	// after the defined keys, so fixtures can send such keys on purpose.
	Extra map[string]any `json:"-"`
}

// Variation is a name variation of a customer. Op is "add" (the default when
// absent) or "remove".
type Variation struct {
	Op          *string `json:"_op,omitempty"`
	CompanyName *string `json:"company_name,omitempty"`
	FirstName   *string `json:"first_name,omitempty"`
	LastName    *string `json:"last_name,omitempty"`
	MiddleName  *string `json:"middle_name,omitempty"`
	TradingName *string `json:"trading_name,omitempty"`

	// Extra holds keys the document does not define; see Customer.Extra.
	Extra map[string]any `json:"-"`
}

// Relation links two customers of the same business: the child is <relation
// type> of the parent.
type Relation struct {
	ChildCustomerExternalID  *string        `json:"child_customer_external_id,omitempty"`
	Disabled                 *bool          `json:"disabled,omitempty"`
	Fields                   map[string]any `json:"fields,omitempty"`
	ParentCustomerExternalID *string        `json:"parent_customer_external_id,omitempty"`
	RelationExternalID       *string        `json:"relation_external_id,omitempty"`
	RelationType             *int64         `json:"relation_type,omitempty"`

	// Extra holds keys the document does not define; see Customer.Extra.
	Extra map[string]any `json:"-"`
}

// StringList is the seed's "string or array of strings" type (review_groups,
// contacts). It decodes either form: a string is split on ';' and ',', items are
// trimmed and empty items dropped. A decoded StringList is never nil, even when
// empty, so that nil keeps meaning "absent". It encodes as an array.
type StringList []string

// SplitStringList splits s on ';' and ',', trims the items and drops empty ones.
// The result is non-nil.
func SplitStringList(s string) StringList {
	out := StringList{}
	for _, item := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' }) {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// UnmarshalJSON accepts a string or an array of strings. A null sets l to nil
// (absent), as encoding/json does for any slice, so that the last of repeated
// keys wins as with every other field.
func (l *StringList) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*l = nil
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*l = SplitStringList(s)
		return nil
	}
	var items []string
	if err := json.Unmarshal(data, &items); err != nil {
		return err
	}
	out := make(StringList, 0, len(items))
	for _, item := range items {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	*l = out
	return nil
}

// customerFields and relationFields let MarshalJSON reuse the default encoding.
type (
	customerFields  Customer
	relationFields  Relation
	variationFields Variation
)

// MarshalJSON writes the defined keys, then the keys of c.Extra.
func (c Customer) MarshalJSON() ([]byte, error) {
	return marshalWithExtra(customerFields(c), c.Extra)
}

// MarshalJSON writes the defined keys, then the keys of r.Extra.
func (r Relation) MarshalJSON() ([]byte, error) {
	return marshalWithExtra(relationFields(r), r.Extra)
}

// MarshalJSON writes the defined keys, then the keys of v.Extra.
func (v Variation) MarshalJSON() ([]byte, error) {
	return marshalWithExtra(variationFields(v), v.Extra)
}

func marshalWithExtra(v any, extra map[string]any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	more, err := json.Marshal(extra)
	if err != nil {
		return nil, err
	}
	if len(b) == 2 { // "{}"
		return more, nil
	}
	b = append(b[:len(b)-1], ',')
	return append(b, more[1:]...), nil
}

// The response model.

// Status is the outcome of a whole batch.
type Status string

// The batch statuses.
const (
	StatusOK      Status = "ok"      // no record has an error
	StatusPartial Status = "partial" // some records saved, some rejected
	StatusFailed  Status = "failed"  // records were sent and none was saved
)

// SaveCustomersResponse is the 200 body of POST /api/v1/customers/save. Added
// and Detail are always encoded as arrays, never null: use NewSaveCustomersResponse
// or set them to empty slices.
type SaveCustomersResponse struct {
	Added       []AddedCustomer `json:"added"`
	Detail      []RecordDetail  `json:"detail"`
	Status      Status          `json:"status"`
	VerifyInput bool            `json:"verify_input"`
}

// NewSaveCustomersResponse returns a response with empty (non-nil) lists.
func NewSaveCustomersResponse(verifyInput bool) *SaveCustomersResponse {
	return &SaveCustomersResponse{Added: []AddedCustomer{}, Detail: []RecordDetail{}, Status: StatusOK, VerifyInput: verifyInput}
}

// AddedCustomer is a customer created by a save.
type AddedCustomer struct {
	CustomerID string `json:"customer_id"`
	ExternalID string `json:"external_id"`
}

// RecordDetail lists the errors and warnings of one record. ExternalID is the
// customer's external_id or the relation's relation_external_id. Errors and
// Warnings are always encoded as arrays.
type RecordDetail struct {
	ExternalID string    `json:"external_id"`
	Errors     []Message `json:"errors"`
	Warnings   []Message `json:"warnings"`
}

// Message is one error or warning: a machine code and a sentence.
type Message struct {
	Code   string `json:"error"`
	Detail string `json:"detail"`
}

// TokenRequest is the body of POST /api/v1/token (OAuth2 password grant).
type TokenRequest struct {
	GrantType string `json:"grant_type"`
	Username  string `json:"username"`
	Password  string `json:"password"`
}

// TokenResponse is the 200 body of POST /api/v1/token.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// OAuthError is an OAuth2 error body (RFC 6749 section 5.2).
type OAuthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
}

// Problem is an RFC 9457 problem-details body, the shape of every error the API
// answers outside the token endpoint.
type Problem struct {
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Status     int         `json:"status"`
	Detail     string      `json:"detail"`
	Instance   string      `json:"instance,omitempty"`
	Offset     *int64      `json:"offset,omitempty"`
	Violations []Violation `json:"violations,omitempty"`
}

// ProblemContentType is the media type of Problem bodies.
const ProblemContentType = "application/problem+json"
