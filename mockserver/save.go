package mockserver

import (
	"context"
	"crypto/rand"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/google/uuid"
)

// SaveStats counts what one save did, for the request log.
type SaveStats struct {
	Customers, Relations int // records in the request
	Added                int // customers created
	Errors, Warnings     int // records with errors, with warnings
}

// Save applies a decoded Save customers request to business, exactly as POST
// /api/v1/customers/save does after authentication and decoding, and returns
// the response body. It is how the mock preloads data, and how Go tests can
// drive the rules without HTTP. It is safe for concurrent use; one call is one
// atomic step for the business.
func (s *Server) Save(ctx context.Context, business string, req *openapi.SaveCustomersRequest) (*openapi.SaveCustomersResponse, SaveStats, error) {
	verify := req.VerifyInput != nil && *req.VerifyInput
	resp := openapi.NewSaveCustomersResponse(verify)
	now := s.now().UTC()
	y, m, d := now.Date()
	run := saveRun{
		cfg:      s.rules,
		req:      req,
		resp:     resp,
		verify:   verify,
		today:    rules.MakeDate(y, int(m), d),
		nowNanos: now.UnixNano(),
		stats:    SaveStats{Customers: len(req.Customers), Relations: len(req.Relations)},
	}
	err := s.store.Update(ctx, business, run.apply)
	if err != nil {
		return nil, run.stats, err
	}
	if s.webhooks != nil && !verify {
		if ev, ok := s.customersUpdated(business, &run); ok {
			s.webhooks.send(ev)
		}
	}
	return resp, run.stats, nil
}

// saveRun is the state of one save request.
type saveRun struct {
	cfg      *rules.Compiled
	req      *openapi.SaveCustomersRequest
	resp     *openapi.SaveCustomersResponse
	verify   bool
	today    rules.Date
	nowNanos int64
	stats    SaveStats

	tx     Tx
	seen   map[string]seenCustomer // external_ids of this request's customers
	saved  int                     // records saved
	failed int                     // records rejected
}

// seenCustomer is what a request did with an external_id.
type seenCustomer struct {
	first int       // index of the first occurrence
	saved *Customer // the merged record, when it was saved (or would be, with verify_input); nil when rejected
}

// msgs gathers the messages of one record.
type msgs struct {
	kind     string // "customers" or "relations"
	index    int
	errors   []openapi.Message
	warnings []openapi.Message
}

// text prefixes a message with its record, e.g. "customers[3]: ".
func (m *msgs) text(format string, args []any) string {
	return m.kind + "[" + strconv.Itoa(m.index) + "]: " + fmt.Sprintf(format, args...)
}

func (m *msgs) err(code, format string, args ...any) {
	m.errors = append(m.errors, openapi.Message{Code: code, Detail: m.text(format, args)})
}

func (m *msgs) warn(code, format string, args ...any) {
	m.warnings = append(m.warnings, openapi.Message{Code: code, Detail: m.text(format, args)})
}

func (r *saveRun) report(externalID string, m *msgs) {
	if len(m.errors) > 0 {
		r.stats.Errors++
	}
	if len(m.warnings) > 0 {
		r.stats.Warnings++
	}
	if len(m.errors) == 0 && len(m.warnings) == 0 {
		return
	}
	e, w := m.errors, m.warnings
	if e == nil {
		e = []openapi.Message{}
	}
	if w == nil {
		w = []openapi.Message{}
	}
	r.resp.Detail = append(r.resp.Detail, openapi.RecordDetail{ExternalID: externalID, Errors: e, Warnings: w})
}

func (r *saveRun) apply(tx Tx) error {
	r.tx = tx
	n := len(r.req.Customers)
	r.seen = make(map[string]seenCustomer, n)
	pending := make([]*Customer, 0, n)
	added := make([]*Customer, 0, n)
	var m msgs
	for i := range r.req.Customers {
		m = msgs{kind: "customers", index: i}
		c, isNew := r.customer(i, &r.req.Customers[i], &m)
		eid := ""
		if r.req.Customers[i].ExternalID != nil {
			eid = *r.req.Customers[i].ExternalID
		}
		r.report(eid, &m)
		if len(m.errors) > 0 {
			r.failed++
			continue
		}
		r.saved++
		pending = append(pending, c)
		if isNew {
			added = append(added, c)
		}
	}
	forceNoScan := len(pending) > r.cfg.RiskScanLimit
	noScan := forceNoScan || (r.req.DisableRiskScan != nil && *r.req.DisableRiskScan)
	for _, c := range pending {
		c.RiskScanDisabled = noScan
	}

	relations := make([]Relation, 0, len(r.req.Relations))
	seenRel := make(map[string]int, len(r.req.Relations))
	for i := range r.req.Relations {
		m = msgs{kind: "relations", index: i}
		rel := r.relation(i, &r.req.Relations[i], seenRel, &m)
		rid := ""
		if r.req.Relations[i].RelationExternalID != nil {
			rid = *r.req.Relations[i].RelationExternalID
		}
		r.report(rid, &m)
		if len(m.errors) > 0 {
			r.failed++
			continue
		}
		r.saved++
		relations = append(relations, rel)
	}

	switch {
	case r.failed == 0:
		r.resp.Status = openapi.StatusOK
	case r.saved > 0:
		r.resp.Status = openapi.StatusPartial
	default:
		r.resp.Status = openapi.StatusFailed
	}
	if r.verify {
		return nil
	}
	ids, err := newUUIDs(len(added))
	if err != nil {
		return err
	}
	r.resp.Added = make([]openapi.AddedCustomer, len(added))
	for j, c := range added {
		c.CustomerID = ids[j]
		r.resp.Added[j] = openapi.AddedCustomer{CustomerID: c.CustomerID.String(), ExternalID: c.ExternalID}
	}
	r.stats.Added = len(added)
	for _, c := range pending {
		tx.PutCustomer(c)
	}
	for _, rel := range relations {
		tx.PutRelation(rel)
	}
	return nil
}

// newUUIDs returns n random (version 4) UUIDs from one read of crypto/rand.
func newUUIDs(n int) ([]uuid.UUID, error) {
	if n == 0 {
		return nil, nil
	}
	buf := make([]byte, 16*n)
	if _, err := rand.Read(buf); err != nil {
		return nil, fmt.Errorf("customer_id: %w", err)
	}
	ids := make([]uuid.UUID, n)
	for i := range ids {
		copy(ids[i][:], buf[16*i:])
		ids[i][6] = (ids[i][6] & 0x0f) | 0x40 // version 4
		ids[i][8] = (ids[i][8] & 0x3f) | 0x80 // variant RFC 9562
	}
	return ids, nil
}

// exists reports whether eid is a customer once this request's customers
// are applied.
func (r *saveRun) exists(eid string) bool {
	if r.seen[eid].saved != nil {
		return true
	}
	_, ok := r.tx.Customer(eid)
	return ok
}

// rejected reports whether this request rejected every occurrence of eid.
func (r *saveRun) rejected(eid string) bool {
	e, ok := r.seen[eid]
	return ok && e.saved == nil
}

// customer merges one request customer into its stored record and checks the
// result. It returns the merged record and whether it is new.
func (r *saveRun) customer(i int, in *openapi.Customer, m *msgs) (*Customer, bool) {
	eid := ""
	if in.ExternalID != nil {
		eid = *in.ExternalID
	}
	var prev seenCustomer
	dup := false
	if eid == "" {
		m.err(rules.ExternalIDMissing, "external_id is missing or empty; give every customer your own identifier, unique within your business")
	} else if prev, dup = r.seen[eid]; dup {
		m.err(rules.ExternalIDDuplicate, "external_id %q was already given by customers[%d]; send each customer once per request", eid, prev.first)
	}

	// the customer as this request has left it so far: saved earlier in the
	// request, or stored
	c := new(Customer)
	exists := false
	if prev.saved != nil {
		*c, exists = *prev.saved, true
	} else if eid != "" {
		var stored Customer
		if stored, exists = r.tx.Customer(eid); exists {
			*c = stored
		}
	}
	if !exists {
		*c = Customer{ExternalID: eid, CreatedAt: r.nowNanos}
	}
	c.UpdatedAt = r.nowNanos

	// account type
	if in.AccountType != nil {
		switch *in.AccountType {
		case "F":
			c.AccountType = "F"
		case "N":
			c.AccountType = "N"
		default:
			m.err(rules.AccountTypeInvalid, "account_type %q is neither \"F\" (firm) nor \"N\" (individual)", *in.AccountType)
		}
	} else if !exists {
		m.err(rules.AccountTypeMissing, "account_type is required when creating a customer; give \"F\" (firm) or \"N\" (individual)")
	}

	// plain stored fields
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

	// names per account type, on the merged record
	switch c.AccountType {
	case "N":
		if c.LastName == "" {
			m.err(rules.LastNameMissing, "last_name is required for an individual (account_type \"N\")")
		}
	case "F":
		if c.CompanyName == "" {
			m.err(rules.CompanyNameMissing, "company_name is required for a firm (account_type \"F\")")
		}
	}
	for _, field := range rules.NotApplicable[c.AccountType] {
		if c.nameField(field) != "" {
			m.warn(rules.FieldNotApplicable, "%s does not apply to %s; stored anyway", field, accountKind[c.AccountType])
		}
	}

	// date of birth
	if c.DateOfBirth != "" {
		switch rules.CheckDateOfBirth(c.DateOfBirth, r.today) {
		case rules.DateInvalid:
			m.err(rules.DateOfBirthInvalid, "date_of_birth %q is not a real YYYY-MM-DD date", c.DateOfBirth)
		case rules.DateInFuture:
			m.err(rules.DateOfBirthInFuture, "date_of_birth %q is in the future", c.DateOfBirth)
		}
	}

	// The new string lists of this customer (countries, review groups) share
	// one backing array, sized exactly, so that each list costs no allocation
	// of its own. Each list is capped at its own length.
	arena := make([]string, 0, listLen(in.NationalityCode, in.NationalityCodes)+listLen(in.DomicileCode, in.DomicileCodes)+len(in.ReviewGroups))

	// country codes
	if in.NationalityCode != nil || in.NationalityCodes != nil {
		c.NationalityCodes = countries(m, &arena, "nationality_code", in.NationalityCode, in.NationalityCodes)
	}
	if in.DomicileCode != nil || in.DomicileCodes != nil {
		c.DomicileCodes = countries(m, &arena, "domicile_code", in.DomicileCode, in.DomicileCodes)
	}

	// phone
	if c.Phone != "" && !rules.PhonePlausibleE164(c.Phone) {
		m.warn(rules.PhoneNotE164, "phone %q is not a plausible E.164 number such as \"+33612345678\"; stored as given", c.Phone)
	}

	// kyc
	if c.HasKYCLevel && !r.cfg.KYCInRange(c.KYCLevel) {
		m.err(rules.KYCLevelOutOfRange, "kyc_level %d is outside the range %d to %d", c.KYCLevel, r.cfg.KYCMin, r.cfg.KYCMax)
	}
	if c.HasKYCRequested && !r.cfg.KYCInRange(c.KYCLevelRequested) {
		m.err(rules.KYCLevelOutOfRange, "kyc_level_requested %d is outside the range %d to %d", c.KYCLevelRequested, r.cfg.KYCMin, r.cfg.KYCMax)
	}
	if c.HasKYCLevel && c.HasKYCRequested && c.KYCLevelRequested < c.KYCLevel {
		m.warn(rules.KYCLevelRequestedBelowCurrent, "kyc_level_requested %d is below kyc_level %d", c.KYCLevelRequested, c.KYCLevel)
	}

	// review groups
	if in.ReviewGroups != nil {
		start := len(arena)
		arena = append(arena, in.ReviewGroups...)
		c.ReviewGroups = arena[start:len(arena):len(arena)]
	}
	for _, g := range c.ReviewGroups {
		if !r.cfg.ReviewGroupKnown(g) {
			m.warn(rules.ReviewGroupUnknown, "review_groups item %q is not one of the configured review groups; stored", g)
		}
	}

	// custom fields
	if in.Fields != nil {
		c.Fields = r.mergeFields(m, "fields", c.Fields, in.Fields)
	}

	// variations
	if len(in.Variations) > 0 {
		c.Variations = variations(m, c.Variations, in.Variations)
	}

	unknownKeys(m, "", in.Extra, rules.CustomerKeys)
	if eid != "" && !dup {
		e := seenCustomer{first: i}
		if len(m.errors) == 0 {
			e.saved = c
		}
		r.seen[eid] = e
	}
	return c, !exists
}

func setString(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

var accountKind = map[string]string{"N": "an individual (account_type \"N\")", "F": "a firm (account_type \"F\")"}

// nameField returns the stored value of one of the fields of
// rules.NotApplicable.
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
	panic("mockserver: no stored name field " + field)
}

// countries checks and merges the singular and plural forms of a country field
// (singular first), upper-cased, without repeating a country.
func countries(m *msgs, arena *[]string, field string, one *string, many []string) []string {
	start := len(*arena)
	add := func(j int, code string) { // j < 0: the singular form
		norm, res := rules.NormalizeCountryCode(code)
		if res != rules.CountryOK {
			name := field
			if j >= 0 {
				name = field + "s[" + strconv.Itoa(j) + "]"
			}
			if res == rules.CountryUnknown {
				m.err(rules.CountryCodeUnknown, "%s %q is not an ISO 3166-1 alpha-2 or alpha-3 country code (e.g. \"FR\" or \"FRA\")", name, code)
				return
			}
			m.warn(rules.CountryCodeLowercase, "%s %q is lower case; stored as %q", name, code, norm)
		}
		for _, have := range (*arena)[start:] {
			if have == norm || rules.SameCountry(have, norm) {
				return
			}
		}
		*arena = append(*arena, norm)
	}
	if one != nil {
		add(-1, *one)
	}
	for j, code := range many {
		add(j, code)
	}
	a := *arena
	return a[start:len(a):len(a)]
}

// listLen is how many items a singular and plural pair can give.
func listLen(one *string, many []string) int {
	if one != nil {
		return 1 + len(many)
	}
	return len(many)
}

// mergeFields merges custom fields key by key into the stored ones (keys in
// the request replace stored keys), dropping unknown keys with a warning.
func (r *saveRun) mergeFields(m *msgs, field string, stored []Field, in map[string]any) []Field {
	out := make([]Field, len(stored), len(stored)+len(in))
	copy(out, stored)
	var unknown []string
	for k, v := range in {
		if !r.cfg.CustomFieldKnown(k) {
			unknown = append(unknown, k)
			continue
		}
		j := 0
		for j < len(out) && out[j].Key < k {
			j++
		}
		if j < len(out) && out[j].Key == k {
			out[j].Value = v
			continue
		}
		out = append(out, Field{})
		copy(out[j+1:], out[j:])
		out[j] = Field{Key: k, Value: v}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		m.warn(rules.CustomFieldUnknown, "%s key %q is not one of the configured custom fields; dropped", field, k)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// variations applies add and remove operations to the stored set.
func variations(m *msgs, stored []Variation, ops []openapi.Variation) []Variation {
	out := make([]Variation, len(stored), len(stored)+len(ops))
	copy(out, stored)
	for j := range ops {
		in := &ops[j]
		if len(in.Extra) > 0 {
			unknownKeys(m, fmt.Sprintf("variations[%d]: ", j), in.Extra, rules.VariationKeys)
		}
		op := "add"
		if in.Op != nil {
			op = *in.Op
		}
		if op != "add" && op != "remove" {
			m.err(rules.VariationOpInvalid, "variations[%d]._op %q is neither \"add\" nor \"remove\"", j, op)
			continue
		}
		v := Variation{deref(in.FirstName), deref(in.MiddleName), deref(in.LastName), deref(in.CompanyName), deref(in.TradingName)}
		if v == (Variation{}) {
			m.err(rules.VariationNameMissing, "variations[%d] has none of first_name, middle_name, last_name, company_name, trading_name", j)
			continue
		}
		at := -1
		for k := range out {
			if out[k] == v {
				at = k
				break
			}
		}
		switch {
		case op == "add" && at < 0:
			out = append(out, v)
		case op == "remove" && at >= 0:
			out = append(out[:at], out[at+1:]...)
		case op == "remove":
			m.warn(rules.VariationNotFound, "variations[%d]: no stored variation has exactly these names; nothing removed", j)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// relation merges one request relation into its stored record and checks it.
func (r *saveRun) relation(i int, in *openapi.Relation, firstAt map[string]int, m *msgs) Relation {
	rid := deref(in.RelationExternalID)
	if rid == "" {
		m.err(rules.RelationExternalIDMissing, "relation_external_id is missing or empty; give every relation your own identifier, unique within your business")
	} else if first, dup := firstAt[rid]; dup {
		m.err(rules.RelationExternalIDDuplicate, "relation_external_id %q was already given by relations[%d]; send each relation once per request", rid, first)
	} else {
		firstAt[rid] = i
	}
	rel, exists := Relation{}, false
	if rid != "" {
		rel, exists = r.tx.Relation(rid)
	}
	if !exists {
		rel = Relation{RelationExternalID: rid, CreatedAt: r.nowNanos}
	}
	rel.UpdatedAt = r.nowNanos
	setString(&rel.ParentExternalID, in.ParentCustomerExternalID)
	setString(&rel.ChildExternalID, in.ChildCustomerExternalID)
	if in.Disabled != nil {
		rel.Disabled = *in.Disabled
	}
	for _, end := range [2]struct{ field, eid string }{
		{"parent_customer_external_id", rel.ParentExternalID},
		{"child_customer_external_id", rel.ChildExternalID},
	} {
		switch {
		case end.eid == "":
			m.err(rules.RelationCustomerMissing, "%s is missing or empty; a relation needs both a parent and a child customer", end.field)
		case r.exists(end.eid):
		case r.rejected(end.eid):
			m.err(rules.RelationCustomerRejected, "%s %q names a customer that this request rejected and that is not stored", end.field, end.eid)
		default:
			m.err(rules.RelationCustomerUnknown, "%s %q is not a customer of your business; save the customer first or in the same request", end.field, end.eid)
		}
	}
	if rel.ParentExternalID != "" && rel.ParentExternalID == rel.ChildExternalID {
		m.err(rules.RelationSelfReference, "parent_customer_external_id and child_customer_external_id are both %q; a customer cannot be related to itself", rel.ParentExternalID)
	}
	switch {
	case in.RelationType != nil && !r.cfg.RelationTypeKnown(*in.RelationType):
		m.err(rules.RelationTypeInvalid, "relation_type %d is not in the relation-type table (known: %s)", *in.RelationType, r.relationTypeList())
	case in.RelationType != nil:
		rel.RelationType = *in.RelationType
	case !exists:
		m.err(rules.RelationTypeInvalid, "relation_type is required when creating a relation (known: %s)", r.relationTypeList())
	}
	if in.Fields != nil {
		rel.Fields = r.mergeFields(m, "fields", rel.Fields, in.Fields)
	}
	unknownKeys(m, "", in.Extra, rules.RelationKeys)
	return rel
}

func (r *saveRun) relationTypeList() string {
	var b strings.Builder
	for j, v := range r.cfg.RelationTypeValues() {
		if j > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatInt(v, 10))
	}
	return b.String()
}

// unknownKeys warns unknown_key for every key of extra, in key order; where
// names the place inside the record ("" for the record itself).
func unknownKeys(m *msgs, where string, extra map[string]any, known []string) {
	if len(extra) == 0 {
		return
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if s := rules.SuggestKey(k, known); s != "" {
			m.warn(rules.UnknownKey, "%skey %q is not defined by the API and was ignored; did you mean %q?", where, k, s)
		} else {
			m.warn(rules.UnknownKey, "%skey %q is not defined by the API and was ignored", where, k)
		}
	}
}
