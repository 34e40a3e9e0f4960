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
		return nil, fmt.Errorf("customer %q: %w", c.ExternalID, err)
	}
	data := string(b)
	// Pointers into c, which the caller keeps unchanged (store.Tx.PutCustomer),
	// rather than copies: a string or a large int64 in an interface is an
	// allocation, a pointer is not, and both engines' drivers take either.
	return []any{business, &c.ExternalID, c.CustomerID.String(), &c.AccountType, &c.FirstName, &c.MiddleName,
		&c.LastName, &c.CompanyName, &c.TradingName, nullable(c.HasKYCLevel, c.KYCLevel),
		nullable(c.HasKYCRequested, c.KYCLevelRequested), nullable(c.HasDisabled, c.Disabled),
		c.RiskScanDisabled, &c.CreatedAt, &c.UpdatedAt, data}, nil
}

// nullable returns v when has, else nil (NULL).
func nullable[T any](has bool, v T) any {
	if has {
		return v
	}
	return nil
}

// scanCustomer reads one row of customerColumns.
func scanCustomer(scan func(dest ...any) error) (rules.Customer, error) {
	var (
		c                   rules.Customer
		customerID          string
		kyc, kycRequested   *int64
		disabled            *bool
		data                string
		customerDataDecoded customerData
	)
	err := scan(&c.ExternalID, &customerID, &c.AccountType, &c.FirstName, &c.MiddleName, &c.LastName,
		&c.CompanyName, &c.TradingName, &kyc, &kycRequested, &disabled, &c.RiskScanDisabled,
		&c.CreatedAt, &c.UpdatedAt, &data)
	if err != nil {
		return rules.Customer{}, err
	}
	if c.CustomerID, err = uuid.Parse(customerID); err != nil {
		return rules.Customer{}, fmt.Errorf("customer %q: customer_id: %w", c.ExternalID, err)
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
	d := &customerDataDecoded
	if decodeCustomerData(data, d) != nil { // not the usual form: encoding/json reads it
		*d = customerData{}
		if err := json.Unmarshal([]byte(data), d); err != nil {
			return rules.Customer{}, fmt.Errorf("customer %q: data: %w", c.ExternalID, err)
		}
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
	return c, nil
}

// relationArgs returns the values of the columns of r, after business.
func relationArgs(business string, r *rules.Relation) ([]any, error) {
	var fields any // NULL when r has no fields
	if r.Fields != nil {
		b, err := appendFieldsJSON(nil, r.Fields)
		if err != nil {
			return nil, fmt.Errorf("relation %q: %w", r.RelationExternalID, err)
		}
		fields = string(b) // TEXT, as data (a []byte would be stored as a BLOB)
	}
	return []any{business, r.RelationExternalID, r.ParentExternalID, r.ChildExternalID, r.RelationType,
		r.Disabled, r.CreatedAt, r.UpdatedAt, fields}, nil
}

// scanRelation reads one row of relationColumns.
func scanRelation(scan func(dest ...any) error) (rules.Relation, error) {
	var (
		r      rules.Relation
		fields []byte
	)
	err := scan(&r.RelationExternalID, &r.ParentExternalID, &r.ChildExternalID, &r.RelationType, &r.Disabled,
		&r.CreatedAt, &r.UpdatedAt, &fields)
	if err != nil {
		return rules.Relation{}, err
	}
	if fields != nil {
		var fl fieldList
		if err := fl.UnmarshalJSON(fields); err != nil {
			return rules.Relation{}, fmt.Errorf("relation %q: fields: %w", r.RelationExternalID, err)
		}
		r.Fields = fl
	}
	return r, nil
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
