package rules_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// mapState is a rules.State over maps.
type mapState struct {
	customers map[string]rules.Customer
	relations map[string]rules.Relation
}

func (s mapState) Customer(id string) (rules.Customer, bool, error) {
	c, ok := s.customers[id]
	return c, ok, nil
}

func (s mapState) Relation(id string) (rules.Relation, bool, error) {
	r, ok := s.relations[id]
	return r, ok, nil
}

// evaluate is rules.Evaluate with a state that never fails.
func evaluate(tb testing.TB, cfg *rules.Compiled, state rules.State, req *openapi.SaveCustomersRequest) rules.Outcome {
	tb.Helper()
	out, err := rules.Evaluate(cfg, testEnv, state, req)
	if err != nil {
		tb.Fatalf("Evaluate: %v", err)
	}
	return out
}

var testEnv = rules.Env{Today: rules.MakeDate(2026, 6, 15), NowNanos: 1_000}

func compile(tb testing.TB, edit func(*rules.Config)) *rules.Compiled {
	tb.Helper()
	cfg := rules.DefaultConfig()
	if edit != nil {
		edit(&cfg)
	}
	cc, err := cfg.Compile()
	if err != nil {
		tb.Fatal(err)
	}
	return cc
}

func s(v string) *string { return &v }
func n(v int64) *int64   { return &v }
func b(v bool) *bool     { return &v }

func person(id string) openapi.Customer {
	return openapi.Customer{ExternalID: s(id), AccountType: s("N"), FirstName: s("Ada"), LastName: s("Lovelace")}
}

func firm(id string) openapi.Customer {
	return openapi.Customer{ExternalID: s(id), AccountType: s("F"), CompanyName: s("Acme SAS")}
}

func relation(id, parent, child string) openapi.Relation {
	return openapi.Relation{RelationExternalID: s(id), ParentCustomerExternalID: s(parent), ChildCustomerExternalID: s(child), RelationType: n(1)}
}

// summary writes an outcome's detail as "id E[codes] W[codes]" lines.
func summary(out rules.Outcome) []string {
	var lines []string
	for _, d := range out.Detail {
		lines = append(lines, fmt.Sprintf("%s E%v W%v", d.ExternalID, codesOf(d.Errors), codesOf(d.Warnings)))
	}
	return lines
}

func codesOf(ms []openapi.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Code)
	}
	return out
}

// provocations provoke each code of the catalogue through rules alone.
var provocations = []struct {
	code    string
	id      string // the record whose detail has the code
	req     openapi.SaveCustomersRequest
	stored  []rules.Customer
	configs func(*rules.Config)
}{
	{code: rules.ExternalIDMissing, id: "", req: openapi.SaveCustomersRequest{Customers: []openapi.Customer{{AccountType: s("N"), LastName: s("Doe")}}}},
	{code: rules.ExternalIDDuplicate, id: "c1", req: openapi.SaveCustomersRequest{Customers: []openapi.Customer{person("c1"), person("c1")}}},
	{code: rules.AccountTypeMissing, id: "c1", req: openapi.SaveCustomersRequest{Customers: []openapi.Customer{{ExternalID: s("c1"), LastName: s("Doe")}}}},
	{code: rules.AccountTypeInvalid, id: "c1", req: openapi.SaveCustomersRequest{Customers: []openapi.Customer{{ExternalID: s("c1"), AccountType: s("P"), LastName: s("Doe")}}}},
	{code: rules.LastNameMissing, id: "c1", req: openapi.SaveCustomersRequest{Customers: []openapi.Customer{{ExternalID: s("c1"), AccountType: s("N")}}}},
	{code: rules.CompanyNameMissing, id: "c1", req: openapi.SaveCustomersRequest{Customers: []openapi.Customer{{ExternalID: s("c1"), AccountType: s("F")}}}},
	{code: rules.DateOfBirthInvalid, id: "c1", req: one(func(c *openapi.Customer) { c.DateOfBirth = s("1984-02-30") })},
	{code: rules.DateOfBirthInFuture, id: "c1", req: one(func(c *openapi.Customer) { c.DateOfBirth = s("2026-06-16") })},
	{code: rules.CountryCodeUnknown, id: "c1", req: one(func(c *openapi.Customer) { c.NationalityCodes = []string{"FR", "ZZ"} })},
	{code: rules.KYCLevelOutOfRange, id: "c1", req: one(func(c *openapi.Customer) { c.KYCLevelRequested = n(4) })},
	{code: rules.VariationOpInvalid, id: "c1", req: one(func(c *openapi.Customer) {
		c.Variations = []openapi.Variation{{Op: s("delete"), LastName: s("X")}}
	})},
	{code: rules.VariationNameMissing, id: "c1", req: one(func(c *openapi.Customer) { c.Variations = []openapi.Variation{{Op: s("add")}} })},
	{code: rules.RelationExternalIDMissing, id: "", req: withRelation(func(r *openapi.Relation) { r.RelationExternalID = s("") })},
	{code: rules.RelationExternalIDDuplicate, id: "r1", req: func() openapi.SaveCustomersRequest {
		req := withRelation(nil)
		req.Relations = append(req.Relations, req.Relations[0])
		return req
	}()},
	{code: rules.RelationCustomerMissing, id: "r1", req: withRelation(func(r *openapi.Relation) { r.ChildCustomerExternalID = nil })},
	{code: rules.RelationCustomerUnknown, id: "r1", req: withRelation(func(r *openapi.Relation) { r.ChildCustomerExternalID = s("nobody") })},
	{code: rules.RelationCustomerRejected, id: "r1", req: func() openapi.SaveCustomersRequest {
		req := withRelation(nil)
		req.Customers[1].LastName = nil
		return req
	}()},
	{code: rules.RelationSelfReference, id: "r1", req: withRelation(func(r *openapi.Relation) { r.ChildCustomerExternalID = s("f1") })},
	{code: rules.RelationTypeInvalid, id: "r1", req: withRelation(func(r *openapi.Relation) { r.RelationType = n(99) })},
	{code: rules.UnknownKey, id: "c1", req: one(func(c *openapi.Customer) { c.Extra = map[string]any{"fist_name": "Ada"} })},
	{code: rules.FieldNotApplicable, id: "c1", req: one(func(c *openapi.Customer) { c.TradingName = s("Ada's") })},
	{code: rules.CountryCodeLowercase, id: "c1", req: one(func(c *openapi.Customer) { c.DomicileCode = s("fr") })},
	{code: rules.PhoneNotE164, id: "c1", req: one(func(c *openapi.Customer) { c.Phone = s("06 12 34 56 78") })},
	{code: rules.KYCLevelRequestedBelowCurrent, id: "c1", req: one(func(c *openapi.Customer) { c.KYCLevel, c.KYCLevelRequested = n(2), n(1) })},
	{code: rules.ReviewGroupUnknown, id: "c1", req: one(func(c *openapi.Customer) { c.ReviewGroups = openapi.StringList{"vip"} }),
		configs: func(c *rules.Config) { c.ReviewGroups = []string{"retail"} }},
	{code: rules.CustomFieldUnknown, id: "r1", req: withRelation(func(r *openapi.Relation) { r.Fields = map[string]any{"colour": "red"} }),
		configs: func(c *rules.Config) { c.CustomFields = []string{"segment"} }},
	{code: rules.VariationNotFound, id: "c1", req: one(func(c *openapi.Customer) {
		c.Variations = []openapi.Variation{{Op: s("remove"), LastName: s("Byron")}}
	})},
}

// one is a request of one valid individual c1, edited.
func one(edit func(*openapi.Customer)) openapi.SaveCustomersRequest {
	c := person("c1")
	edit(&c)
	return openapi.SaveCustomersRequest{Customers: []openapi.Customer{c}}
}

// withRelation is a request of a firm f1, an individual p1, and the relation
// r1 "p1 is director of f1", edited.
func withRelation(edit func(*openapi.Relation)) openapi.SaveCustomersRequest {
	r := relation("r1", "f1", "p1")
	if edit != nil {
		edit(&r)
	}
	return openapi.SaveCustomersRequest{Customers: []openapi.Customer{firm("f1"), person("p1")}, Relations: []openapi.Relation{r}}
}

func TestEvaluateProvokesEveryCode(t *testing.T) {
	covered := map[string]bool{}
	for _, tt := range provocations {
		covered[tt.code] = true
		t.Run(tt.code, func(t *testing.T) {
			code, _ := rules.Lookup(tt.code)
			out := evaluate(t, compile(t, tt.configs), rules.EmptyState, &tt.req)
			var got []openapi.Message
			for _, d := range out.Detail {
				if d.ExternalID == tt.id {
					got = d.Errors
					if code.Severity == rules.Warning {
						got = d.Warnings
					}
				}
			}
			i := slices.IndexFunc(got, func(m openapi.Message) bool { return m.Code == tt.code })
			if i < 0 {
				t.Fatalf("no %s %s for %q; detail %v", code.Severity, tt.code, tt.id, summary(out))
			}
			if strings.TrimSpace(got[i].Detail) == "" {
				t.Errorf("%s has no sentence", tt.code)
			}
			if code.Severity == rules.Error && out.Status == openapi.StatusOK {
				t.Errorf("status ok with the error %s", tt.code)
			}
			// The same request on a server without the configured lists
			// never gives the codes that need them.
			if code.NeedsConfig {
				out := evaluate(t, compile(t, nil), rules.EmptyState, &tt.req)
				if len(out.Detail) != 0 {
					t.Errorf("without a list: got %v, want no detail", summary(out))
				}
			}
		})
	}
	for _, c := range rules.Catalogue {
		if !covered[c.Code] {
			t.Errorf("no provocation of %s in the table", c.Code)
		}
	}
}

func TestEvaluateDetailAndStatus(t *testing.T) {
	tests := []struct {
		name       string
		req        openapi.SaveCustomersRequest
		wantDetail []string
		wantStatus openapi.Status
		wantSaved  []string // external_ids of Outcome.Customers, then relation ids
	}{
		{name: "empty request", wantStatus: openapi.StatusOK},
		{name: "valid", req: withRelation(nil), wantStatus: openapi.StatusOK, wantSaved: []string{"f1", "p1", "r1"}},
		{
			name: "partial", req: openapi.SaveCustomersRequest{Customers: []openapi.Customer{person("a"), {ExternalID: s("b")}}},
			wantDetail: []string{"b E[account_type_missing] W[]"}, wantStatus: openapi.StatusPartial, wantSaved: []string{"a"},
		},
		{
			name: "failed", req: openapi.SaveCustomersRequest{Customers: []openapi.Customer{{ExternalID: s("b")}}, Relations: []openapi.Relation{relation("r", "b", "x")}},
			wantDetail: []string{"b E[account_type_missing] W[]", "r E[relation_customer_rejected relation_customer_unknown] W[]"},
			wantStatus: openapi.StatusFailed,
		},
		{
			name:       "a duplicate is merged onto the first copy",
			req:        openapi.SaveCustomersRequest{Customers: []openapi.Customer{person("a"), {ExternalID: s("a"), CompanyName: s("X")}}},
			wantDetail: []string{"a E[external_id_duplicate] W[field_not_applicable]"}, wantStatus: openapi.StatusPartial, wantSaved: []string{"a"},
		},
		{
			name: "messages of one record in rule order",
			req: one(func(c *openapi.Customer) {
				c.AccountType, c.DateOfBirth, c.NationalityCode, c.Phone = s("F"), s("1990-02-30"), s("fr"), s("0612")
				c.Extra = map[string]any{"zz": 1, "aa": 2}
			}),
			wantDetail: []string{"c1 E[company_name_missing date_of_birth_invalid] W[field_not_applicable field_not_applicable field_not_applicable country_code_lowercase phone_not_e164 unknown_key unknown_key]"},
			wantStatus: openapi.StatusFailed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := evaluate(t, compile(t, nil), rules.EmptyState, &tt.req)
			if got := summary(out); !slices.Equal(got, tt.wantDetail) {
				t.Errorf("detail: got %v, want %v", got, tt.wantDetail)
			}
			if out.Status != tt.wantStatus {
				t.Errorf("status: got %q, want %q", out.Status, tt.wantStatus)
			}
			var saved []string
			for _, c := range out.Customers {
				saved = append(saved, c.ExternalID)
			}
			for _, r := range out.Relations {
				saved = append(saved, r.RelationExternalID)
			}
			if !slices.Equal(saved, tt.wantSaved) {
				t.Errorf("saved: got %v, want %v", saved, tt.wantSaved)
			}
			for k, d := range out.Detail {
				msgs := append(append([]openapi.Message{}, d.Errors...), d.Warnings...)
				if kind := "customers["; k >= out.CustomerDetails && !strings.HasPrefix(msgs[0].Detail, "relations[") ||
					k < out.CustomerDetails && !strings.HasPrefix(msgs[0].Detail, kind) {
					t.Errorf("entry %d (CustomerDetails %d) is %q", k, out.CustomerDetails, msgs[0].Detail)
				}
			}
			if errs := strings.Count(strings.Join(summary(out), "\n"), "E[]"); out.Errors != len(out.Detail)-errs {
				t.Errorf("Errors = %d, want %d", out.Errors, len(out.Detail)-errs)
			}
		})
	}
}

// A stored record merged with a delta: given keys replace, absent keys keep,
// lists are replaced, fields merge key by key, variations are operations.
func TestEvaluateMergesIntoStored(t *testing.T) {
	stored := rules.Customer{
		ExternalID: "c1", AccountType: "N", FirstName: "Ada", LastName: "Lovelace", Phone: "+33612345678",
		NationalityCodes: []string{"GB"}, ReviewGroups: []string{"retail"}, KYCLevel: 1, HasKYCLevel: true,
		Fields:     []rules.Field{{Key: "a", Value: "1"}, {Key: "c", Value: "3"}},
		Variations: []rules.Variation{{LastName: "Byron"}, {LastName: "King"}},
		CreatedAt:  5, UpdatedAt: 6,
	}
	state := mapState{customers: map[string]rules.Customer{"c1": stored}}
	req := openapi.SaveCustomersRequest{Customers: []openapi.Customer{{
		ExternalID: s("c1"), Phone: s("+33700000000"), NationalityCode: s("FRA"), NationalityCodes: []string{"FR", "DE"},
		KYCLevelRequested: n(2), Fields: map[string]any{"b": "2", "c": "three"},
		Variations: []openapi.Variation{{Op: s("remove"), LastName: s("Byron")}, {FirstName: s("Augusta")}},
	}}}
	out := evaluate(t, compile(t, nil), state, &req)
	if len(out.Detail) != 0 || len(out.Customers) != 1 || len(out.New) != 0 {
		t.Fatalf("got detail %v, %d saved, %d new; want one update without messages", summary(out), len(out.Customers), len(out.New))
	}
	want := stored
	want.Phone = "+33700000000"
	want.NationalityCodes = []string{"FRA", "DE"} // FR is FRA again
	want.KYCLevelRequested, want.HasKYCRequested = 2, true
	want.Fields = []rules.Field{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: "c", Value: "three"}}
	want.Variations = []rules.Variation{{LastName: "King"}, {FirstName: "Augusta"}}
	want.UpdatedAt = testEnv.NowNanos
	if got := *out.Customers[0]; !reflect.DeepEqual(got, want) {
		t.Errorf("merged record:\n got %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(state.customers["c1"], stored) || stored.Fields[1].Value != "3" || stored.Variations[0].LastName != "Byron" {
		t.Errorf("Evaluate changed the stored record: %+v", state.customers["c1"])
	}

	// The stored type and names count: an update without account_type of a
	// stored individual that removes nothing needs no last_name, but one
	// that empties it is rejected; a stored firm gets the warnings of its
	// type.
	for _, tt := range []struct {
		in   openapi.Customer
		want string
	}{
		{openapi.Customer{ExternalID: s("c1"), Comment: s("x")}, ""},
		{openapi.Customer{ExternalID: s("c1"), LastName: s("")}, "c1 E[last_name_missing] W[]"},
		{openapi.Customer{ExternalID: s("c1"), AccountType: s("F"), CompanyName: s("Acme")}, "c1 E[] W[field_not_applicable field_not_applicable]"},
		{openapi.Customer{ExternalID: s("c1"), KYCLevelRequested: n(0)}, "c1 E[] W[kyc_level_requested_below_current]"},
	} {
		req := openapi.SaveCustomersRequest{Customers: []openapi.Customer{tt.in}}
		got := strings.Join(summary(evaluate(t, compile(t, nil), state, &req)), "; ")
		if got != tt.want {
			t.Errorf("update %s: got %q, want %q", show(tt.in), got, tt.want)
		}
	}
}

func show(v any) string { return fmt.Sprintf("%+v", v) }

// Relations see the customers the same request saves and rejects, and the
// stored ones; a stored relation is updated in place.
func TestEvaluateRelationReferences(t *testing.T) {
	state := mapState{
		customers: map[string]rules.Customer{"old": {ExternalID: "old", AccountType: "N", LastName: "Old"}},
		relations: map[string]rules.Relation{"r-old": {RelationExternalID: "r-old", ParentExternalID: "old", ChildExternalID: "old2", RelationType: 2, CreatedAt: 1}},
	}
	bad := openapi.Customer{ExternalID: s("bad"), AccountType: s("N")}
	tests := []struct {
		name string
		rel  openapi.Relation
		want string
	}{
		{"saved in the request", relation("r", "new", "old"), ""},
		{"rejected in the request", relation("r", "bad", "old"), "r E[relation_customer_rejected] W[]"},
		{"rejected but stored", relation("r", "old", "bad-but-stored"), ""},
		{"unknown", relation("r", "new", "ghost"), "r E[relation_customer_unknown] W[]"},
		{"self", relation("r", "new", "new"), "r E[relation_self_reference] W[]"},
		{"stored relation updated without its ends", openapi.Relation{RelationExternalID: s("r-old"), ChildCustomerExternalID: s("new")}, ""},
		{"new relation without type", openapi.Relation{RelationExternalID: s("r"), ParentCustomerExternalID: s("new"), ChildCustomerExternalID: s("old")}, "r E[relation_type_invalid] W[]"},
		{"stored relation with an unknown end", openapi.Relation{RelationExternalID: s("r-old"), Disabled: b(true)}, "r-old E[relation_customer_unknown] W[]"},
	}
	st := state
	st.customers = map[string]rules.Customer{"old": state.customers["old"], "bad-but-stored": {ExternalID: "bad-but-stored", AccountType: "N", LastName: "S"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			badStored := bad
			badStored.ExternalID = s("bad-but-stored")
			badStored.LastName = s("")
			req := openapi.SaveCustomersRequest{Customers: []openapi.Customer{person("new"), bad, badStored}, Relations: []openapi.Relation{tt.rel}}
			out := evaluate(t, compile(t, nil), st, &req)
			var got []string
			for _, line := range summary(out) {
				if !strings.HasPrefix(line, "bad") {
					got = append(got, line)
				}
			}
			if strings.Join(got, "; ") != tt.want {
				t.Errorf("got %v, want %q", got, tt.want)
			}
		})
	}
	req := openapi.SaveCustomersRequest{Customers: []openapi.Customer{person("old2")}, Relations: []openapi.Relation{{RelationExternalID: s("r-old"), Disabled: b(true)}}}
	out := evaluate(t, compile(t, nil), state, &req)
	want := rules.Relation{RelationExternalID: "r-old", ParentExternalID: "old", ChildExternalID: "old2", RelationType: 2, Disabled: true, CreatedAt: 1, UpdatedAt: testEnv.NowNanos}
	if len(out.Relations) != 1 || !reflect.DeepEqual(out.Relations[0], want) {
		t.Errorf("updated relation: got %+v (detail %v), want %+v", out.Relations, summary(out), want)
	}
}

// verify_input changes nothing of what Evaluate decides: a dry run answers as
// the real save would, and the caller stores nothing.
func TestEvaluateVerifyInput(t *testing.T) {
	for _, tt := range provocations {
		real, dry := tt.req, tt.req
		real.VerifyInput, dry.VerifyInput = b(false), b(true)
		cfg := compile(t, tt.configs)
		a, d := evaluate(t, cfg, rules.EmptyState, &real), evaluate(t, cfg, rules.EmptyState, &dry)
		if !reflect.DeepEqual(a, d) {
			t.Errorf("%s: verify_input changed the outcome:\n real %+v\n dry  %+v", tt.code, a, d)
		}
	}
}

// field_not_applicable says "stored anyway" only when the record is saved.
func TestEvaluateNotApplicableStoredAnyway(t *testing.T) {
	for _, tt := range []struct {
		name string
		c    openapi.Customer
		want string
	}{
		{"saved", openapi.Customer{ExternalID: s("c"), AccountType: s("N"), LastName: s("Doe"), TradingName: s("T")},
			`customers[0]: trading_name does not apply to an individual (account_type "N"); stored anyway`},
		{"rejected", openapi.Customer{ExternalID: s("c"), AccountType: s("N"), TradingName: s("T")},
			`customers[0]: trading_name does not apply to an individual (account_type "N")`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := openapi.SaveCustomersRequest{Customers: []openapi.Customer{tt.c}}
			out := evaluate(t, compile(t, nil), rules.EmptyState, &req)
			if len(out.Detail) != 1 || len(out.Detail[0].Warnings) != 1 || out.Detail[0].Warnings[0].Detail != tt.want {
				t.Errorf("got %+v, want the warning %q", out.Detail, tt.want)
			}
		})
	}
}

func TestEvaluateRiskScan(t *testing.T) {
	cfg := compile(t, func(c *rules.Config) { c.RiskScanLimit = 2 })
	for _, tt := range []struct {
		n                    int
		disable              *bool
		wantDisabled, forced bool
	}{
		{2, nil, false, false},
		{2, b(true), true, false},
		{3, b(false), true, true},
	} {
		req := openapi.SaveCustomersRequest{DisableRiskScan: tt.disable}
		for i := range tt.n {
			req.Customers = append(req.Customers, person(fmt.Sprint("c", i)))
		}
		out := evaluate(t, cfg, rules.EmptyState, &req)
		if out.RiskScanDisabled != tt.wantDisabled || out.RiskScanForced != tt.forced {
			t.Errorf("%d customers, disable %v: got disabled %v forced %v, want %v %v", tt.n, tt.disable, out.RiskScanDisabled, out.RiskScanForced, tt.wantDisabled, tt.forced)
		}
		for _, c := range out.Customers {
			if c.RiskScanDisabled != tt.wantDisabled {
				t.Errorf("%s: RiskScanDisabled %v, want %v", c.ExternalID, c.RiskScanDisabled, tt.wantDisabled)
			}
		}
		if len(out.New) != tt.n || out.New[0].CreatedAt != testEnv.NowNanos {
			t.Errorf("New: got %d customers, want %d created now", len(out.New), tt.n)
		}
	}
}

// failingState fails every read after the first ok ones.
type failingState struct {
	mapState
	ok *int
}

var errStoreDown = errors.New("store down")

func (s failingState) Customer(id string) (rules.Customer, bool, error) {
	if *s.ok--; *s.ok < 0 {
		return rules.Customer{}, false, errStoreDown
	}
	return s.mapState.Customer(id)
}

func (s failingState) Relation(id string) (rules.Relation, bool, error) {
	if *s.ok--; *s.ok < 0 {
		return rules.Relation{}, false, errStoreDown
	}
	return s.mapState.Relation(id)
}

// A read of the state that fails stops Evaluate, whichever read it is: the
// error comes back wrapped, with no outcome to store.
func TestEvaluateStateError(t *testing.T) {
	req := openapi.SaveCustomersRequest{
		Customers: []openapi.Customer{person("c1"), person("c2")},
		Relations: []openapi.Relation{relation("r1", "c1", "c0")},
	}
	state := mapState{customers: map[string]rules.Customer{"c0": {ExternalID: "c0", AccountType: "N", LastName: "Doe"}}}
	// c1, c2, then r1 and its ends c1 and c2 (seen in the request) and c0.
	reads := 0
	for ok := 0; ; ok++ {
		left := ok
		out, err := rules.Evaluate(compile(t, nil), testEnv, failingState{state, &left}, &req)
		if err == nil {
			reads = ok
			if out.Status != openapi.StatusOK {
				t.Fatalf("with every read answered: status %s, detail %+v", out.Status, out.Detail)
			}
			break
		}
		if !errors.Is(err, errStoreDown) || !strings.Contains(err.Error(), "read stored") {
			t.Fatalf("after %d reads: got %v, want the store's error wrapped", ok, err)
		}
		if out.Customers != nil || out.Relations != nil || out.Detail != nil {
			t.Fatalf("after %d reads: got an outcome with the error: %+v", ok, out)
		}
	}
	if reads != 4 {
		t.Errorf("Evaluate read the state %d times, want 4 (c1, c2, r1, c0)", reads)
	}
}

// TestEvaluateDetailBudget: with a budget, messages are listed in order
// while their JSON text fits, the rest only counted; every record is judged
// all the same.
func TestEvaluateDetailBudget(t *testing.T) {
	cfg, err := rules.DefaultConfig().Compile()
	if err != nil {
		t.Fatal(err)
	}
	body := `{"customers":[{"external_id":"ok","account_type":"N","last_name":"X"}` + strings.Repeat(`,{}`, 500) + `],"relations":[` + strings.Repeat(`{},`, 499) + `{}]}`
	req, err := openapi.DecodeSaveCustomers([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	full, err := rules.Evaluate(cfg, rules.Env{}, rules.EmptyState, req)
	if err != nil {
		t.Fatal(err)
	}
	budget := rules.DetailBudget(len(body))
	out, err := rules.Evaluate(cfg, rules.Env{DetailBudget: budget}, rules.EmptyState, req)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := json.Marshal(out.Detail)
	listed := 0
	for _, d := range out.Detail {
		listed += len(d.Errors) + len(d.Warnings)
	}
	total := 0
	for _, d := range full.Detail {
		total += len(d.Errors) + len(d.Warnings)
	}
	if len(text) > budget+1024 || out.DetailOmitted == 0 || listed+out.DetailOmitted != total || full.DetailOmitted != 0 {
		t.Errorf("detail of %d bytes for a budget of %d; %d listed + %d omitted, want %d in all", len(text), budget, listed, out.DetailOmitted, total)
	}
	if n := len(out.Detail) - 1; n < 1 || !reflect.DeepEqual(out.Detail[:n], full.Detail[:n]) { // the last may be cut
		t.Errorf("the listed entries are not the first ones of the full answer")
	}
	if out.Errors != full.Errors || out.Status != full.Status || len(out.Customers) != 1 || len(out.New) != 1 {
		t.Errorf("got %d errors, status %s, %d customers; want %d, %s, 1", out.Errors, out.Status, len(out.Customers), full.Errors, full.Status)
	}
}
