package sqlstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/google/uuid"
)

// customerColumns are the columns of customers after business, in the
// order of customerArgs and scanCustomer.
var customerColumns = []string{"external_id", "customer_id", "account_type", "first_name", "middle_name",
	"last_name", "company_name", "trading_name", "kyc_level", "kyc_level_requested", "disabled",
	"risk_scan_disabled", "created_at", "updated_at", "data"}

// relationColumns are the columns of relations after business, in the order
// of relationArgs and scanRelation.
var relationColumns = []string{"relation_external_id", "parent", "child", "relation_type", "disabled",
	"created_at", "updated_at", "fields"}

// customerData is the data column: the fields of a customer that have no
// column of their own. A nil list is left out and an empty one is [], so that
// the two stay apart.
type customerData struct {
	RegistrationNumber string      `json:"registration_number,omitempty"`
	DateOfBirth        string      `json:"date_of_birth,omitempty"`
	Phone              string      `json:"phone,omitempty"`
	Comment            string      `json:"comment,omitempty"`
	NationalityCodes   []string    `json:"nationality_codes,omitzero"`
	DomicileCodes      []string    `json:"domicile_codes,omitzero"`
	ReviewGroups       []string    `json:"review_groups,omitzero"`
	Contacts           []string    `json:"contacts,omitzero"`
	AliasIDs           []string    `json:"alias_ids,omitzero"`
	Fields             fieldList   `json:"fields,omitzero"`
	Variations         []variation `json:"variations,omitzero"`
}

// variation is rules.Variation with the API's names.
type variation struct {
	FirstName   string `json:"first_name,omitempty"`
	MiddleName  string `json:"middle_name,omitempty"`
	LastName    string `json:"last_name,omitempty"`
	CompanyName string `json:"company_name,omitempty"`
	TradingName string `json:"trading_name,omitempty"`
}

// customerArgs returns the values of the columns of c, after business.
// kyc_level, kyc_level_requested and disabled are NULL when c has none (a
// value without its Has flag is not kept).
func customerArgs(business string, c *rules.Customer) ([]any, error) {
	data, err := customerDataJSON(c)
	if err != nil {
		return nil, err
	}
	// Pointers into c, which the caller keeps unchanged (store.Tx.PutCustomer),
	// rather than copies: a string or a large int64 in an interface is an
	// allocation, a pointer is not, and both engines' drivers take either.
	return []any{business, &c.ExternalID, c.CustomerID.String(), &c.AccountType, &c.FirstName, &c.MiddleName,
		&c.LastName, &c.CompanyName, &c.TradingName, nullable(c.HasKYCLevel, c.KYCLevel),
		nullable(c.HasKYCRequested, c.KYCLevelRequested), nullable(c.HasDisabled, c.Disabled),
		c.RiskScanDisabled, &c.CreatedAt, &c.UpdatedAt, data}, nil
}

// customerDataJSON returns the data column of c.
func customerDataJSON(c *rules.Customer) (string, error) {
	d := customerData{RegistrationNumber: c.RegistrationNumber, DateOfBirth: c.DateOfBirth, Phone: c.Phone,
		Comment: c.Comment, NationalityCodes: c.NationalityCodes, DomicileCodes: c.DomicileCodes,
		ReviewGroups: c.ReviewGroups, Contacts: c.Contacts, AliasIDs: c.AliasIDs, Fields: c.Fields}
	if c.Variations != nil {
		d.Variations = make([]variation, len(c.Variations))
		for i, v := range c.Variations {
			d.Variations[i] = variation(v)
		}
	}
	b, err := appendCustomerData(make([]byte, 0, 512), &d)
	if err != nil {
		return "", fmt.Errorf("customer %q: %w", c.ExternalID, err)
	}
	return string(b), nil
}

// storedCustomer is a customer as read, with its data column as it is
// stored, so that a save can tell that it would write the row unchanged
// but for updated_at (customerUnchanged).
type storedCustomer struct {
	rules.Customer
	data string
}

// sameCustomerColumns reports whether the columns of a row of c but data
// would hold what the row of s holds, updated_at aside: the columns of
// customerArgs, compared as they are stored.
func sameCustomerColumns(s, c *rules.Customer) bool {
	return s.ExternalID == c.ExternalID && s.CustomerID == c.CustomerID && s.AccountType == c.AccountType &&
		s.FirstName == c.FirstName && s.MiddleName == c.MiddleName && s.LastName == c.LastName &&
		s.CompanyName == c.CompanyName && s.TradingName == c.TradingName &&
		sameNullable(s.HasKYCLevel, s.KYCLevel, c.HasKYCLevel, c.KYCLevel) &&
		sameNullable(s.HasKYCRequested, s.KYCLevelRequested, c.HasKYCRequested, c.KYCLevelRequested) &&
		sameNullable(s.HasDisabled, s.Disabled, c.HasDisabled, c.Disabled) &&
		s.RiskScanDisabled == c.RiskScanDisabled && s.CreatedAt == c.CreatedAt
}

// sameNullable reports whether two values of a nullable column are stored
// alike: both NULL, or both the same value.
func sameNullable[T comparable](hasA bool, a T, hasB bool, b T) bool {
	return hasA == hasB && (!hasA || a == b)
}

// nullable returns v when has, else nil (NULL).
func nullable[T any](has bool, v T) any {
	if has {
		return v
	}
	return nil
}

// scanCustomer reads one row of customerColumns into c.
func scanCustomer(scan func(dest ...any) error, c *rules.Customer) error {
	_, err := scanCustomerRow(scan, c)
	return err
}

// scanStoredCustomer reads one row of customerColumns into s, its data
// column too.
func scanStoredCustomer(scan func(dest ...any) error, s *storedCustomer) (err error) {
	s.data, err = scanCustomerRow(scan, &s.Customer)
	return err
}

// scanCustomerRow reads one row of customerColumns into c (which the
// caller gives, so that a list of them is one allocation) and returns its
// data column.
func scanCustomerRow(scan func(dest ...any) error, c *rules.Customer) (string, error) {
	var (
		customerID        string
		kyc, kycRequested *int64
		disabled          *bool
		data              string
	)
	err := scan(&c.ExternalID, &customerID, &c.AccountType, &c.FirstName, &c.MiddleName, &c.LastName,
		&c.CompanyName, &c.TradingName, &kyc, &kycRequested, &disabled, &c.RiskScanDisabled,
		&c.CreatedAt, &c.UpdatedAt, &data)
	if err != nil {
		return "", err
	}
	if c.CustomerID, err = uuid.Parse(customerID); err != nil {
		return "", fmt.Errorf("customer %q: customer_id: %w", c.ExternalID, err)
	}
	if kyc != nil {
		c.KYCLevel, c.HasKYCLevel = *kyc, true
	}
	if kycRequested != nil {
		c.KYCLevelRequested, c.HasKYCRequested = *kycRequested, true
	}
	if disabled != nil {
		c.Disabled, c.HasDisabled = *disabled, true
	}
	var d customerData
	if decodeCustomerData(data, &d) != nil { // not the usual form: encoding/json reads it
		slow := new(customerData)
		if err := json.Unmarshal([]byte(data), slow); err != nil {
			return "", fmt.Errorf("customer %q: data: %w", c.ExternalID, err)
		}
		d = *slow
	}
	c.RegistrationNumber, c.DateOfBirth, c.Phone, c.Comment = d.RegistrationNumber, d.DateOfBirth, d.Phone, d.Comment
	c.NationalityCodes, c.DomicileCodes, c.ReviewGroups = d.NationalityCodes, d.DomicileCodes, d.ReviewGroups
	c.Contacts, c.AliasIDs, c.Fields = d.Contacts, d.AliasIDs, d.Fields
	if d.Variations != nil {
		c.Variations = make([]rules.Variation, len(d.Variations))
		for i, v := range d.Variations {
			c.Variations[i] = rules.Variation(v)
		}
	}
	return data, nil
}

// relationArgs returns the values of the columns of r, after business.
func relationArgs(business string, r *rules.Relation) ([]any, error) {
	fields, err := relationFieldsJSON(r)
	if err != nil {
		return nil, err
	}
	return []any{business, r.RelationExternalID, r.ParentExternalID, r.ChildExternalID, r.RelationType,
		r.Disabled, r.CreatedAt, r.UpdatedAt, fields}, nil
}

// relationFieldsJSON returns the fields column of r: a string, TEXT as data
// is (a []byte would be stored as a BLOB), or nil (NULL) when r has no
// fields.
func relationFieldsJSON(r *rules.Relation) (any, error) {
	if r.Fields == nil {
		return nil, nil
	}
	b, err := appendFieldsJSON(nil, r.Fields)
	if err != nil {
		return nil, fmt.Errorf("relation %q: %w", r.RelationExternalID, err)
	}
	return string(b), nil
}

// storedRelation is a relation as read, with its fields column as stored
// (nil for NULL), as storedCustomer is.
type storedRelation struct {
	rules.Relation
	fields []byte
}

// relationUnchanged reports whether r would be written as the row of s
// holds it, but for updated_at: the columns of relationArgs.
func relationUnchanged(s *storedRelation, r rules.Relation) bool {
	if s.RelationExternalID != r.RelationExternalID || s.ParentExternalID != r.ParentExternalID ||
		s.ChildExternalID != r.ChildExternalID || s.RelationType != r.RelationType ||
		s.Disabled != r.Disabled || s.CreatedAt != r.CreatedAt {
		return false
	}
	fields, err := relationFieldsJSON(&r)
	if err != nil || (fields == nil) != (s.fields == nil) {
		return false // an error is PutRelations' to report
	}
	return fields == nil || fields.(string) == string(s.fields)
}

// customerUnchanged reports whether c would be written as the row of s
// holds it, but for updated_at.
func customerUnchanged(s *storedCustomer, c *rules.Customer) bool {
	if !sameCustomerColumns(&s.Customer, c) {
		return false
	}
	data, err := customerDataJSON(c)
	return err == nil && data == s.data // an error is PutCustomers' to report
}

// scanRelation reads one row of relationColumns into r.
func scanRelation(scan func(dest ...any) error, r *rules.Relation) error {
	_, err := scanRelationRow(scan, r)
	return err
}

// scanStoredRelation reads one row of relationColumns into s, its fields
// column too.
func scanStoredRelation(scan func(dest ...any) error, s *storedRelation) (err error) {
	s.fields, err = scanRelationRow(scan, &s.Relation)
	return err
}

// scanRelationRow reads one row of relationColumns into r and returns its
// fields column (nil for NULL).
func scanRelationRow(scan func(dest ...any) error, r *rules.Relation) ([]byte, error) {
	var fields []byte
	err := scan(&r.RelationExternalID, &r.ParentExternalID, &r.ChildExternalID, &r.RelationType, &r.Disabled,
		&r.CreatedAt, &r.UpdatedAt, &fields)
	if err != nil {
		return nil, err
	}
	if fields != nil {
		var fl fieldList
		if err := fl.UnmarshalJSON(fields); err != nil {
			return nil, fmt.Errorf("relation %q: fields: %w", r.RelationExternalID, err)
		}
		r.Fields = fl
	}
	return fields, nil
}

// fieldList is custom fields as one JSON object, keys in the order of the
// list, so that a query can read them (data->'fields'->>'risk').
type fieldList []rules.Field

func (fl fieldList) MarshalJSON() ([]byte, error) { return appendFieldsJSON(nil, fl) }

// UnmarshalJSON reads the object in its order. Values decode as
// encoding/json decodes into any, except that a number beyond float64's range
// stays a json.Number, as the request decoder gives it.
func (fl *fieldList) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("custom fields are not a JSON object: %s", b)
	}
	list := fieldList{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return err
		}
		list = append(list, rules.Field{Key: key, Value: numbers(v)})
	}
	*fl = list
	return nil
}

// numbers turns the json.Numbers of v into float64 where they fit.
func numbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if f, err := strconv.ParseFloat(string(v), 64); err == nil {
			return f
		}
	case []any:
		for i, item := range v {
			v[i] = numbers(item)
		}
	case map[string]any:
		for k, item := range v {
			v[k] = numbers(item)
		}
	}
	return v
}

var encoders = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// marshal returns the JSON of v as a string, without HTML escapes, so that a
// person reading the database sees "<" as it was.
func marshal(v any) (string, error) {
	buf := encoders.Get().(*bytes.Buffer)
	defer encoders.Put(buf)
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}
