package rules

import "github.com/algoreg-kit/algoreg-kit/openapi"

// customer merges customers[i] into the record it updates and checks the
// result. It returns the merged record and whether it is new. The steps run
// in a fixed order, which is the order of the record's messages.
func (e *evaluation) customer(i int, in *openapi.Customer, m *msgs) (*Customer, bool) {
	eid := deref(in.ExternalID)
	prev, dup := e.checkExternalID(i, eid, m)
	c, exists := e.base(&e.records[i], eid, prev)
	mergeAccountType(c, in.AccountType, exists, m)
	mergePlain(c, in)
	checkNames(c, m)
	checkDateOfBirth(c, e.env.Today, m)

	// The new string lists of this customer (countries, review groups) share
	// one backing array, sized exactly, so that each list costs no allocation
	// of its own. Each list is capped at its own length.
	arena := make([]string, 0, listLen(in.NationalityCode, in.NationalityCodes)+listLen(in.DomicileCode, in.DomicileCodes)+len(in.ReviewGroups))
	if in.NationalityCode != nil || in.NationalityCodes != nil {
		c.NationalityCodes = mergeCountries(m, &arena, "nationality_code", in.NationalityCode, in.NationalityCodes)
	}
	if in.DomicileCode != nil || in.DomicileCodes != nil {
		c.DomicileCodes = mergeCountries(m, &arena, "domicile_code", in.DomicileCode, in.DomicileCodes)
	}
	checkPhone(c, m)
	e.checkKYC(c, m)
	if in.ReviewGroups != nil {
		start := len(arena)
		arena = append(arena, in.ReviewGroups...)
		c.ReviewGroups = arena[start:len(arena):len(arena)]
	}
	e.checkReviewGroups(c, m)
	if in.Fields != nil {
		c.Fields = e.mergeFields(m, "fields", c.Fields, in.Fields)
	}
	if len(in.Variations) > 0 {
		c.Variations = variations(m, c.Variations, in.Variations)
	}
	unknownKeys(m, "", in.Extra, openapi.CustomerKeys)
	settleNotApplicable(m)

	if eid != "" && !dup {
		s := seenCustomer{first: i}
		if !m.hasErrors() {
			s.saved = c
		}
		e.seen[eid] = s
	}
	return c, !exists
}

// checkExternalID checks the customer's external_id, and returns what an
// earlier customer of the request did with it (dup is true when there was
// one).
func (e *evaluation) checkExternalID(i int, eid string, m *msgs) (prev seenCustomer, dup bool) {
	if eid == "" {
		m.err(ExternalIDMissing, "external_id is missing or empty; give every customer your own identifier, unique within your business")
	} else if prev, dup = e.seen[eid]; dup {
		m.err(ExternalIDDuplicate, "external_id %q was already given by customers[%d]; send each customer once per request", eid, prev.first)
	}
	return prev, dup
}

// base sets c to a copy of the customer as the request has left it so far:
// saved by an earlier customer of the request, or stored, or else a new
// record, and returns it; exists is false for a new record.
func (e *evaluation) base(c *Customer, eid string, prev seenCustomer) (_ *Customer, exists bool) {
	if prev.saved != nil {
		*c, exists = *prev.saved, true
	} else if eid != "" {
		var stored Customer
		if stored, exists = e.stored(eid); exists {
			*c = stored
		}
	}
	if !exists {
		*c = Customer{ExternalID: eid, CreatedAt: e.env.NowNanos}
	}
	c.UpdatedAt = e.env.NowNanos
	return c, exists
}

// mergeAccountType sets the account type; a value that is neither F nor N
// keeps the stored one.
func mergeAccountType(c *Customer, in *string, exists bool, m *msgs) {
	switch {
	case in == nil && !exists:
		m.err(AccountTypeMissing, "account_type is required when creating a customer; give \"F\" (firm) or \"N\" (individual)")
	case in == nil:
	case *in == "F":
		c.AccountType = "F"
	case *in == "N":
		c.AccountType = "N"
	default:
		m.err(AccountTypeInvalid, "account_type %q is neither \"F\" (firm) nor \"N\" (individual)", *in)
	}
}

// mergePlain merges the fields that are stored as given.
func mergePlain(c *Customer, in *openapi.Customer) {
	setString(&c.FirstName, in.FirstName)
	setString(&c.MiddleName, in.MiddleName)
	setString(&c.LastName, in.LastName)
	setString(&c.CompanyName, in.CompanyName)
	setString(&c.TradingName, in.TradingName)
	setString(&c.RegistrationNumber, in.RegistrationNumber)
	setString(&c.DateOfBirth, in.DateOfBirth)
	setString(&c.Phone, in.Phone)
	setString(&c.Comment, in.Comment)
	if in.Disabled != nil {
		c.Disabled, c.HasDisabled = *in.Disabled, true
	}
	if in.AliasIDs != nil {
		c.AliasIDs = in.AliasIDs
	}
	if in.Contacts != nil {
		c.Contacts = []string(in.Contacts)
	}
	if in.KYCLevel != nil {
		c.KYCLevel, c.HasKYCLevel = *in.KYCLevel, true
	}
	if in.KYCLevelRequested != nil {
		c.KYCLevelRequested, c.HasKYCRequested = *in.KYCLevelRequested, true
	}
}

var accountKind = map[string]string{"N": "an individual (account_type \"N\")", "F": "a firm (account_type \"F\")"}

// checkNames checks the names the merged record's account type needs, and
// warns of the fields that do not fit it.
func checkNames(c *Customer, m *msgs) {
	switch c.AccountType {
	case "N":
		if c.LastName == "" {
			m.err(LastNameMissing, "last_name is required for an individual (account_type \"N\")")
		}
	case "F":
		if c.CompanyName == "" {
			m.err(CompanyNameMissing, "company_name is required for a firm (account_type \"F\")")
		}
	}
	for _, field := range NotApplicable[c.AccountType] {
		if c.nameField(field) != "" {
			m.warn(FieldNotApplicable, "%s does not apply to %s", field, accountKind[c.AccountType])
		}
	}
}

// settleNotApplicable ends the field_not_applicable warnings of a record that
// is saved with "; stored anyway": only once every check has run is it known
// whether the record is saved.
func settleNotApplicable(m *msgs) {
	if m.hasErrors() {
		return
	}
	for j := range m.warnings {
		if m.warnings[j].Code == FieldNotApplicable {
			m.warnings[j].Detail += "; stored anyway"
		}
	}
}

func checkDateOfBirth(c *Customer, today Date, m *msgs) {
	if c.DateOfBirth == "" {
		return
	}
	switch CheckDateOfBirth(c.DateOfBirth, today) {
	case DateInvalid:
		m.err(DateOfBirthInvalid, "date_of_birth %q is not a real YYYY-MM-DD date", c.DateOfBirth)
	case DateInFuture:
		m.err(DateOfBirthInFuture, "date_of_birth %q is in the future", c.DateOfBirth)
	}
}

func checkPhone(c *Customer, m *msgs) {
	if c.Phone != "" && !PhonePlausibleE164(c.Phone) {
		m.warn(PhoneNotE164, "phone %q is not a plausible E.164 number such as \"+33612345678\"; stored as given", c.Phone)
	}
}

func (e *evaluation) checkKYC(c *Customer, m *msgs) {
	cfg := e.cfg
	if c.HasKYCLevel && !cfg.KYCInRange(c.KYCLevel) {
		m.err(KYCLevelOutOfRange, "kyc_level %d is outside the range %d to %d", c.KYCLevel, cfg.KYCMin, cfg.KYCMax)
	}
	if c.HasKYCRequested && !cfg.KYCInRange(c.KYCLevelRequested) {
		m.err(KYCLevelOutOfRange, "kyc_level_requested %d is outside the range %d to %d", c.KYCLevelRequested, cfg.KYCMin, cfg.KYCMax)
	}
	if c.HasKYCLevel && c.HasKYCRequested && c.KYCLevelRequested < c.KYCLevel {
		m.warn(KYCLevelRequestedBelowCurrent, "kyc_level_requested %d is below kyc_level %d", c.KYCLevelRequested, c.KYCLevel)
	}
}

func (e *evaluation) checkReviewGroups(c *Customer, m *msgs) {
	for _, g := range c.ReviewGroups {
		if !e.cfg.ReviewGroupKnown(g) {
			m.warn(ReviewGroupUnknown, "review_groups item %q is not one of the configured review groups; stored", g)
		}
	}
}
