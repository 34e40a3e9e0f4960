package openapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// modelSchemas pairs each type of the model with its schema in the document.
var modelSchemas = []struct {
	typ    reflect.Type
	schema string
}{
	{reflect.TypeFor[SaveCustomersRequest](), "SaveCustomersRequest"},
	{reflect.TypeFor[Customer](), "Customer"},
	{reflect.TypeFor[Variation](), "Variation"},
	{reflect.TypeFor[Relation](), "Relation"},
	{reflect.TypeFor[SaveCustomersResponse](), "SaveCustomersResponse"},
	{reflect.TypeFor[AddedCustomer](), "AddedCustomer"},
	{reflect.TypeFor[RecordDetail](), "RecordDetail"},
	{reflect.TypeFor[Message](), "Message"},
	{reflect.TypeFor[TokenRequest](), "TokenRequest"},
	{reflect.TypeFor[TokenResponse](), "TokenResponse"},
	{reflect.TypeFor[OAuthError](), "OAuthError"},
	{reflect.TypeFor[Problem](), "Problem"},
	{reflect.TypeFor[Violation](), "Violation"},
	{reflect.TypeFor[Health](), "Health"},
	{reflect.TypeFor[CustomerPage](), "CustomerPage"},
	{reflect.TypeFor[RelationPage](), "RelationPage"},
	{reflect.TypeFor[WebhookEventPage](), "WebhookEventPage"},
	{reflect.TypeFor[BusinessPage](), "BusinessPage"},
	{reflect.TypeFor[BusinessCount](), "BusinessCount"},
	{reflect.TypeFor[ResetAll](), "ResetAll"},
	{reflect.TypeFor[AccountPage](), "AccountPage"},
	{reflect.TypeFor[Account](), "Account"},
	{reflect.TypeFor[WebhookDelivery](), "WebhookDelivery"},
	{reflect.TypeFor[StoredCustomer](), "StoredCustomer"},
	{reflect.TypeFor[StoredVariation](), "StoredVariation"},
	{reflect.TypeFor[StoredRelation](), "StoredRelation"},
	{reflect.TypeFor[FaultRule](), "FaultRule"},
	{reflect.TypeFor[FaultLatency](), "FaultLatency"},
	{reflect.TypeFor[FaultRuleList](), "FaultRuleList"},
	{reflect.TypeFor[JournalPage](), "JournalPage"},
	{reflect.TypeFor[JournalCount](), "JournalCount"},
	{reflect.TypeFor[JournalEntry](), "JournalEntry"},
}

// drift lists the differences between the json tags of struct t and the
// properties of schema s, in both directions, and between their JSON types.
func drift(t reflect.Type, s *openapi3.Schema) []string {
	var out []string
	tags := map[string]reflect.Type{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		tags[name] = f.Type
	}
	for name, ft := range tags {
		p, ok := s.Properties[name]
		if !ok {
			out = append(out, fmt.Sprintf("%s.%s: not in the document", t.Name(), name))
			continue
		}
		if want := jsonTypeOf(ft); want != schemaTypeOf(p.Value) {
			out = append(out, fmt.Sprintf("%s.%s: Go encodes %s, the document says %s", t.Name(), name, want, schemaTypeOf(p.Value)))
		}
	}
	for name := range s.Properties {
		if _, ok := tags[name]; !ok {
			out = append(out, fmt.Sprintf("%s: property %q has no field", t.Name(), name))
		}
	}
	sort.Strings(out)
	return out
}

// jsonTypeOf names the JSON type a Go type encodes as.
func jsonTypeOf(t reflect.Type) string {
	if t == reflect.TypeFor[StringList]() {
		return "string|array"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "integer"
	case reflect.Float64:
		return "number"
	case reflect.Slice:
		return "array"
	case reflect.Map:
		return "object"
	case reflect.Struct:
		if t == reflect.TypeFor[time.Time]() {
			return "string"
		}
		return "object"
	}
	return t.Kind().String()
}

// schemaTypeOf names the JSON type of a schema ("string|array" for a oneOf).
func schemaTypeOf(s *openapi3.Schema) string {
	if len(s.OneOf) > 0 {
		var parts []string
		for _, b := range s.OneOf {
			parts = append(parts, schemaTypeOf(b.Value))
		}
		return strings.Join(parts, "|")
	}
	if s.Type == nil || len(*s.Type) != 1 {
		return "?"
	}
	return (*s.Type)[0]
}

// TestModelMatchesDocument is the drift test: each struct's json tags and the
// properties of its schema are the same set, with the same JSON types, and
// every schema of the document has its Go type. The structs are generated
// from the document, so this tests the generator's mapping of types (a field
// renamed on either side fails it; TestModelDriftDetected shows both by
// mutation).
func TestModelMatchesDocument(t *testing.T) {
	doc := newTestValidator(t).Doc()
	typed := map[string]bool{"StringList": true} // a oneOf: hand-written, tested below
	for _, m := range modelSchemas {
		typed[m.schema] = true
	}
	for _, name := range sortedKeys(doc.Components.Schemas) {
		if !typed[name] {
			t.Errorf("schema %s has no Go type in modelSchemas", name)
		}
	}
	for _, m := range modelSchemas {
		t.Run(m.schema, func(t *testing.T) {
			ref, ok := doc.Components.Schemas[m.schema]
			if !ok {
				t.Fatalf("schema %s not in the document", m.schema)
			}
			if d := drift(m.typ, ref.Value); len(d) > 0 {
				t.Errorf("model and document differ:\n%s", strings.Join(d, "\n"))
			}
		})
	}
}

// TestModelDriftDetected mutates a private copy of the document (a property
// renamed) and a copy of the Customer type (a tag renamed): drift must report
// each.
func TestModelDriftDetected(t *testing.T) {
	doc, err := Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	customer := doc.Components.Schemas["Customer"].Value
	customer.Properties["telephone"] = customer.Properties["phone"]
	delete(customer.Properties, "phone")
	got := drift(reflect.TypeFor[Customer](), customer)
	want := []string{`Customer.phone: not in the document`, `Customer: property "telephone" has no field`}
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("document renamed: got %q, want %q", got, want)
	}

	var fields []reflect.StructField
	for f := range reflect.TypeFor[Customer]().Fields() {
		if f.Name == "Phone" {
			f.Tag = `json:"telephone,omitempty"`
		}
		fields = append(fields, f)
	}
	pristine := newTestValidator(t).Doc().Components.Schemas["Customer"].Value
	got = drift(reflect.StructOf(fields), pristine)
	if len(got) != 2 || !strings.Contains(got[0]+got[1], `"phone" has no field`) || !strings.Contains(got[0]+got[1], "telephone: not in the document") {
		t.Errorf("struct renamed: got %q, want both directions reported", got)
	}
}

// fullRequest returns a request with every field of every type set (both
// forms of the string lists are set by the callers that need them): the
// values below, and a sample (fillRest) for any field they leave out.
func fullRequest(t *testing.T) SaveCustomersRequest {
	t.Helper()
	str := func(s string) *string { return &s }
	yes, no := true, false
	n1, n2 := int64(1), int64(2)
	req := SaveCustomersRequest{
		Customers: []Customer{{
			AccountType: str("N"), AliasIDs: []string{"crm-1"}, Comment: str("c"), CompanyName: str("Co"),
			Contacts: StringList{"a@example.com"}, DateOfBirth: str("1984-03-12"), Disabled: &no,
			DomicileCode: str("FR"), DomicileCodes: []string{"FRA"}, ExternalID: str("cust-1"),
			Fields: map[string]any{"segment": "premium", "score": 3.0}, FirstName: str("Marie"),
			KYCLevel: &n1, KYCLevelRequested: &n2, LastName: str("Dupont"), MiddleName: str("Louise"),
			NationalityCode: str("FR"), NationalityCodes: []string{"FRA", "DE"}, Phone: str("+33612345678"),
			RegistrationNumber: str("852"), ReviewGroups: StringList{"retail", "eu"}, TradingName: str("T"),
			Variations: []Variation{{Op: str("add"), CompanyName: str("C"), FirstName: str("F"), LastName: str("L"), MiddleName: str("M"), TradingName: str("T"), Extra: map[string]any{"last_nme": "X"}}},
			Extra:      map[string]any{"fist_name": "Marie"},
		}},
		DisableRiskScan: &yes,
		Relations: []Relation{{
			ChildCustomerExternalID: str("cust-1"), Disabled: &no, Fields: map[string]any{"since": "2020"},
			ParentCustomerExternalID: str("cust-2"), RelationExternalID: str("rel-1"), RelationType: &n1,
			Extra: map[string]any{"note": "x"},
		}},
		VerifyInput: &no,
	}
	fillRest(t, reflect.ValueOf(&req).Elem(), "req")
	return req
}

// fillRest sets every field of v that is still zero (recursively through
// structs, pointers and slices of structs) to a sample of its type, so that a
// field the document gains is exercised here without an edit. A type it does
// not know fails the test.
func fillRest(tb testing.TB, v reflect.Value, path string) {
	tb.Helper()
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		if v.IsZero() {
			v.Set(reflect.ValueOf(time.Date(2026, 11, 23, 12, 0, 0, 5000, time.UTC)))
		}
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			fillRest(tb, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	case v.Kind() == reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fillRest(tb, v.Elem(), path)
	case v.Kind() == reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem())))
		}
		for i := range v.Len() {
			fillRest(tb, v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case !v.IsZero():
	case v.Kind() == reflect.String:
		v.SetString("x")
	case v.Kind() == reflect.Bool:
		v.SetBool(true)
	case v.Kind() == reflect.Int64:
		v.SetInt(7)
	case v.Type() == reflect.TypeFor[map[string]any]():
		v.Set(reflect.ValueOf(map[string]any{"k": "v"}))
	default:
		tb.Errorf("%s: fillRest knows no sample of %s", path, v.Type())
	}
}

// TestFullyPopulatedRequest marshals a request with every field set and
// validates it, with the string lists as arrays and as strings; decoding it
// gives it back.
func TestFullyPopulatedRequest(t *testing.T) {
	req := fullRequest(t)
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(body, &generic); err != nil {
		t.Fatal(err)
	}
	c := generic["customers"].([]any)[0].(map[string]any)
	c["contacts"], c["review_groups"] = "a@example.com", "retail; eu,"
	stringForm, _ := json.Marshal(generic)
	v := newTestValidator(t)
	for name, b := range map[string][]byte{"arrays": body, "strings": stringForm} {
		t.Run(name, func(t *testing.T) {
			if err := v.ValidateRequest(saveRequest(t, b)); err != nil {
				t.Fatalf("ValidateRequest: %v", err)
			}
			got, err := DecodeSaveCustomers(b)
			if err != nil {
				t.Fatalf("DecodeSaveCustomers: %v", err)
			}
			if !reflect.DeepEqual(*got, req) {
				g, _ := json.Marshal(got)
				t.Errorf("round trip:\ngot  %s\nwant %s", g, body)
			}
		})
	}
}

// TestFullyPopulatedResponses validates a response of each model type with
// every field set (the values below, and samples for the rest).
func TestFullyPopulatedResponses(t *testing.T) {
	v := newTestValidator(t)
	offset := int64(3)
	created := time.Date(2026, 11, 23, 12, 0, 0, 123456789, time.UTC)
	stored := StoredCustomer{
		CustomerID: "3f1c9e2a-7b4d-4e0f-9a61-2d8c5b7e4f10", ExternalID: "a", AccountType: "N", DateOfBirth: "1984-03-12",
		CreatedAt: created, UpdatedAt: created.Add(time.Second),
		Relations: []StoredRelation{{RelationExternalID: "r", CreatedAt: created, UpdatedAt: created}},
	}
	tests := []struct {
		name, path, ct string
		status         int
		body           any
	}{
		{"SaveCustomersResponse", "/api/v1/customers/save", "application/json", 200, SaveCustomersResponse{
			Added:  []AddedCustomer{{CustomerID: "3f1c9e2a-7b4d-4e0f-9a61-2d8c5b7e4f10", ExternalID: "a"}},
			Detail: []RecordDetail{{ExternalID: "b", Errors: []Message{{Code: "account_type_invalid", Detail: "d"}}, Warnings: []Message{{Code: "unknown_key", Detail: "d"}}}},
			Status: StatusPartial, VerifyInput: true,
		}},
		{"Problem", "/api/v1/customers/save", ProblemContentType, 400, Problem{
			Type: "urn:algoreg-kit:problem:malformed-json", Title: "Malformed JSON", Status: 400, Detail: "d",
			Instance: "/api/v1/customers/save", Offset: &offset, Violations: []Violation{{Pointer: "/customers", Message: "m"}},
		}},
		{"TokenResponse", "/api/v1/token", "application/json", 200, TokenResponse{AccessToken: "x", TokenType: "Bearer", ExpiresIn: 3600}},
		{"OAuthError", "/api/v1/token", "application/json", 400, OAuthError{Error: "invalid_grant", ErrorDescription: "d"}},
		{"StoredCustomer", "/__admin/customers/a", "application/json", 200, stored},
		{"CustomerPage", "/__admin/customers", "application/json", 200, CustomerPage{Customers: []StoredCustomer{stored}, Total: 1}},
		{"RelationPage", "/__admin/relations", "application/json", 200, RelationPage{Relations: stored.Relations, Total: 1}},
		{"Health", "/healthz", "application/json", 200, Health{Status: "ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := reflect.New(reflect.TypeOf(tt.body))
			body.Elem().Set(reflect.ValueOf(tt.body))
			fillRest(t, body.Elem(), tt.name)
			b, err := json.Marshal(body.Interface())
			if err != nil {
				t.Fatal(err)
			}
			req := saveRequest(t, nil)
			if !strings.HasPrefix(tt.path, "/api/") {
				req = httptest.NewRequest(http.MethodGet, tt.path, nil)
			}
			req.URL.Path = tt.path
			if err := v.ValidateResponse(req, tt.status, map[string][]string{"Content-Type": {tt.ct}}, b); err != nil {
				t.Errorf("ValidateResponse: %v", err)
			}
		})
	}
	empty, _ := json.Marshal(NewSaveCustomersResponse(false))
	if err := v.ValidateResponse(saveRequest(t, nil), 200, map[string][]string{"Content-Type": {"application/json"}}, empty); err != nil {
		t.Errorf("NewSaveCustomersResponse: %v", err)
	}
}

// TestDecoderKnowsSchema holds the decoder's property names equal to the
// document's, and probes every property of the request schemas with values of
// every JSON type: the decoder must give kin-openapi's verdict each time. A
// property added to the document, or a type or nullability changed, without
// the decoder following, fails here.
func TestDecoderKnowsSchema(t *testing.T) {
	doc := newTestValidator(t).Doc()
	schemas := []struct {
		name string
		keys []string
		wrap func(prop, value string) string
	}{
		{"SaveCustomersRequest", SaveCustomersRequestKeys, func(p, v string) string { return `{"` + p + `":` + v + `}` }},
		{"Customer", CustomerKeys, func(p, v string) string { return `{"customers":[{"` + p + `":` + v + `}]}` }},
		{"Variation", VariationKeys, func(p, v string) string { return `{"customers":[{"variations":[{"` + p + `":` + v + `}]}]}` }},
		{"Relation", RelationKeys, func(p, v string) string { return `{"relations":[{"` + p + `":` + v + `}]}` }},
	}
	samples := []string{"null", "true", "7", "1.5", "1e400", `"s"`, `"a;b"`, "[]", `["s"]`, "[null]", "[7]", "[[]]", "{}", "[{}]", `{"a":[1]}`}
	for _, s := range schemas {
		t.Run(s.name, func(t *testing.T) {
			props := sortedKeys(doc.Components.Schemas[s.name].Value.Properties)
			if got := slices.Sorted(slices.Values(s.keys)); !slices.Equal(got, props) {
				t.Fatalf("decoder knows %q, the document defines %q", got, props)
			}
			for _, p := range props {
				for _, v := range samples {
					checkDecode(t, []byte(s.wrap(p, v)))
				}
			}
		})
	}
	t.Run("StringList", func(t *testing.T) {
		// The string-or-array schema is reached through contacts and review_groups.
		for _, p := range []string{"contacts", "review_groups"} {
			if got := doc.Components.Schemas["Customer"].Value.Properties[p].Ref; got != "#/components/schemas/StringList" {
				t.Errorf("%s is %q, want the StringList schema", p, got)
			}
		}
	})
}

func TestSplitStringList(t *testing.T) {
	tests := []struct {
		in   string
		want StringList
	}{
		{"A;B;C,D", StringList{"A", "B", "C", "D"}},
		{" a ; b ,c ", StringList{"a", "b", "c"}},
		{";;,a,, ;", StringList{"a"}},
		{"", StringList{}},
		{" ", StringList{}},
		{"one item", StringList{"one item"}},
		{"\u00a0x\u00a0;y", StringList{"x", "y"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := SplitStringList(tt.in)
			if got == nil || !slices.Equal(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestStringListJSON(t *testing.T) {
	tests := []struct {
		name, in string
		want     StringList
		wantErr  bool
	}{
		{"string", `"a;b,c"`, StringList{"a", "b", "c"}, false},
		{"array", `[" a ","","b"]`, StringList{"a", "b"}, false},
		{"empty array", `[]`, StringList{}, false},
		{"empty string", `""`, StringList{}, false},
		{"null", `null`, nil, false},
		{"number", `5`, nil, true},
		{"array of numbers", `[1]`, nil, true},
		{"object", `{}`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got StringList
			err := json.Unmarshal([]byte(tt.in), &got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error: %v", err, tt.wantErr)
			}
			if !tt.wantErr && (!slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil)) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
	var c Customer
	if err := json.Unmarshal([]byte(`{"contacts":"a","contacts":null}`), &c); err != nil || c.Contacts != nil {
		t.Errorf("got %#v %v, want nil: null after a value means absent, as for any slice", c.Contacts, err)
	}
	b, err := json.Marshal(struct{ L StringList }{StringList{"a", "b"}})
	if err != nil || string(b) != `{"L":["a","b"]}` {
		t.Errorf("got %s %v, want the array form", b, err)
	}
}
