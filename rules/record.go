package rules

import "github.com/google/uuid"

// Customer is a customer as a server stores it, after every delta was merged.
// An empty string means "not stored". Its slices are never modified once
// stored: a merge builds new slices for the fields it changes, so a copy of a
// Customer is safe to keep.
type Customer struct {
	CustomerID         uuid.UUID // given by the server when it creates the customer; Evaluate leaves it zero
	ExternalID         string
	AccountType        string // "F" or "N"
	FirstName          string
	MiddleName         string
	LastName           string
	CompanyName        string
	TradingName        string
	RegistrationNumber string
	DateOfBirth        string
	Phone              string
	Comment            string
	NationalityCodes   []string // upper case
	DomicileCodes      []string // upper case
	ReviewGroups       []string
	Contacts           []string
	AliasIDs           []string
	Fields             []Field // ordered by key
	Variations         []Variation
	KYCLevel           int64
	KYCLevelRequested  int64
	CreatedAt          int64 // Unix nanoseconds
	UpdatedAt          int64 // Unix nanoseconds
	HasKYCLevel        bool
	HasKYCRequested    bool
	HasDisabled        bool
	Disabled           bool
	RiskScanDisabled   bool
}

// Field is one custom field.
type Field struct {
	Key   string
	Value any
}

// Variation is a stored name variation. Two variations are the same when all
// five names are equal.
type Variation struct {
	FirstName, MiddleName, LastName, CompanyName, TradingName string
}

// Relation is a relation as a server stores it.
type Relation struct {
	RelationExternalID string
	ParentExternalID   string
	ChildExternalID    string
	RelationType       int64
	Fields             []Field
	Disabled           bool
	CreatedAt          int64 // Unix nanoseconds
	UpdatedAt          int64 // Unix nanoseconds
}

// nameField returns the stored value of one of the fields of NotApplicable.
func (c *Customer) nameField(field string) string {
	switch field {
	case "first_name":
		return c.FirstName
	case "middle_name":
		return c.MiddleName
	case "last_name":
		return c.LastName
	case "company_name":
		return c.CompanyName
	case "trading_name":
		return c.TradingName
	case "date_of_birth":
		return c.DateOfBirth
	}
	panic("rules: no stored name field " + field)
}
