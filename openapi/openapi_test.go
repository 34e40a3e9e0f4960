package openapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/internal/golden"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

func TestLoad(t *testing.T) {
	doc, err := Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"saveCustomers", "createToken"} {
		found := false
		for _, item := range doc.Paths.Map() {
			for _, op := range item.Operations() {
				found = found || op.OperationID == id
			}
		}
		if !found {
			t.Errorf("operation %s missing", id)
		}
	}
	for _, s := range doc.Servers {
		if strings.Contains(s.URL, "://") {
			t.Errorf("server URL %q has a host; the router would match it", s.URL)
		}
	}
}

// TestExamplesValidate walks every named example of the document (request
// bodies and responses, the shared responses included) and validates it
// against its own schema; request examples also go through
// DecodeSaveCustomers.
func TestExamplesValidate(t *testing.T) {
	doc := newTestValidator(t).Doc()
	opts := append([]openapi3.SchemaValidationOption{openapi3.MultiErrors()}, schemaOptions...)
	count := 0
	check := func(t *testing.T, where string, mt *openapi3.MediaType, asRequest bool) {
		for _, name := range sortedKeys(mt.Examples) {
			ex := mt.Examples[name]
			count++
			t.Run(where+"/"+name, func(t *testing.T) {
				o := append(opts, openapi3.VisitAsResponse())
				if asRequest {
					o = append(opts, openapi3.VisitAsRequest())
				}
				if err := mt.Schema.Value.VisitJSON(ex.Value.Value, o...); err != nil {
					t.Fatalf("example does not match its schema: %v", err)
				}
				if asRequest && mt.Schema.Ref == "#/components/schemas/SaveCustomersRequest" {
					b, _ := json.Marshal(ex.Value.Value)
					if _, err := DecodeSaveCustomers(b); err != nil {
						t.Errorf("DecodeSaveCustomers: %v", err)
					}
				}
			})
		}
	}
	for _, path := range doc.Paths.InMatchingOrder() {
		for method, op := range doc.Paths.Value(path).Operations() {
			where := method + " " + path
			if op.RequestBody != nil {
				for ct, mt := range op.RequestBody.Value.Content {
					check(t, where+" request "+ct, mt, true)
				}
			}
			for status, resp := range op.Responses.Map() {
				for ct, mt := range resp.Value.Content {
					check(t, where+" "+status+" "+ct, mt, false)
				}
			}
		}
	}
	if count < 10 {
		t.Errorf("walked %d examples, want at least 10 (the walk misses some)", count)
	}
}

// invalidBodies are structurally invalid request bodies, each with the
// pointers of its violations.
var invalidBodies = []struct {
	name string
	body string
	want []string
}{
	{"empty body", ``, []string{""}},
	{"top-level array", `[]`, []string{""}},
	{"top-level string", `"customers"`, []string{""}},
	{"top-level null", `null`, []string{""}},
	{"customers an object", `{"customers":{}}`, []string{"/customers"}},
	{"customers a string", `{"customers":"a"}`, []string{"/customers"}},
	{"relations a number", `{"relations":1}`, []string{"/relations"}},
	{"customer null", `{"customers":[null]}`, []string{"/customers/0"}},
	{"customer an array", `{"customers":[{},[]]}`, []string{"/customers/1"}},
	{"relation a string", `{"relations":["r"]}`, []string{"/relations/0"}},
	{"verify_input a string", `{"verify_input":"true"}`, []string{"/verify_input"}},
	{"disable_risk_scan a number", `{"disable_risk_scan":1}`, []string{"/disable_risk_scan"}},
	{"external_id a number", `{"customers":[{"external_id":42}]}`, []string{"/customers/0/external_id"}},
	{"kyc_level a string", `{"customers":[{"kyc_level":"1"}]}`, []string{"/customers/0/kyc_level"}},
	{"kyc_level_requested a fraction", `{"customers":[{"kyc_level_requested":1.5}]}`, []string{"/customers/0/kyc_level_requested"}},
	{"kyc_level beyond float64", `{"customers":[{"kyc_level":1e400}]}`, []string{"/customers/0/kyc_level"}},
	{"disabled a string", `{"customers":[{"disabled":"no"}]}`, []string{"/customers/0/disabled"}},
	{"fields an array", `{"customers":[{"fields":[]}]}`, []string{"/customers/0/fields"}},
	{"fields a string", `{"customers":[{"fields":"a=b"}]}`, []string{"/customers/0/fields"}},
	{"contacts a number", `{"customers":[{"contacts":5}]}`, []string{"/customers/0/contacts"}},
	{"review_groups an object", `{"customers":[{"review_groups":{"a":1}}]}`, []string{"/customers/0/review_groups"}},
	{"review_groups with a number and a null", `{"customers":[{"review_groups":["a",1,null]}]}`, []string{"/customers/0/review_groups/1", "/customers/0/review_groups/2"}},
	{"alias_ids a string", `{"customers":[{"alias_ids":"crm-1"}]}`, []string{"/customers/0/alias_ids"}},
	{"nationality_codes with a number", `{"customers":[{"nationality_codes":["FR",250]}]}`, []string{"/customers/0/nationality_codes/1"}},
	{"domicile_codes with a null", `{"customers":[{"domicile_codes":[null]}]}`, []string{"/customers/0/domicile_codes/0"}},
	{"date_of_birth a number", `{"customers":[{"date_of_birth":19840312}]}`, []string{"/customers/0/date_of_birth"}},
	{"variations an object", `{"customers":[{"variations":{"_op":"add"}}]}`, []string{"/customers/0/variations"}},
	{"variation null", `{"customers":[{"variations":[null]}]}`, []string{"/customers/0/variations/0"}},
	{"variation _op a boolean", `{"customers":[{"variations":[{"_op":true}]}]}`, []string{"/customers/0/variations/0/_op"}},
	{"variation name an array", `{"customers":[{"variations":[{},{"last_name":["a"]}]}]}`, []string{"/customers/0/variations/1/last_name"}},
	{"relation_type a string", `{"relations":[{"relation_type":"1"}]}`, []string{"/relations/0/relation_type"}},
	{"relation fields an array", `{"relations":[{"fields":[1]}]}`, []string{"/relations/0/fields"}},
	{"relation parent a number", `{"relations":[{"parent_customer_external_id":1}]}`, []string{"/relations/0/parent_customer_external_id"}},
	{"relation disabled null in array position", `{"relations":[{"disabled":[]}]}`, []string{"/relations/0/disabled"}},
	{"several at every level", `{"customers":[{"kyc_level":"x"},{"fields":[],"variations":[1]}],"relations":[{"relation_type":true}],"verify_input":0}`,
		[]string{"/customers/0/kyc_level", "/customers/1/fields", "/customers/1/variations/0", "/relations/0/relation_type", "/verify_input"}},
}

// TestInvalidRequestBodies rejects each structurally invalid body, with the
// expected pointers, through both ValidateRequest and DecodeSaveCustomers.
func TestInvalidRequestBodies(t *testing.T) {
	v := newTestValidator(t)
	for _, tt := range invalidBodies {
		t.Run(tt.name, func(t *testing.T) {
			kin := violationsOf(t, v.ValidateRequest(saveRequest(t, []byte(tt.body))))
			if got := pointersOf(kin); !slices.Equal(got, tt.want) {
				t.Errorf("ValidateRequest: got pointers %q, want %q (%v)", got, tt.want, kin)
			}
			_, err := DecodeSaveCustomers([]byte(tt.body))
			dec := violationsOf(t, err)
			if got := pointersOf(dec); !slices.Equal(got, tt.want) {
				t.Errorf("DecodeSaveCustomers: got pointers %q, want %q (%v)", got, tt.want, dec)
			}
			if !reflect.DeepEqual(dec, kin) {
				t.Errorf("messages differ:\nDecodeSaveCustomers %v\nValidateRequest     %v", dec, kin)
			}
		})
	}
	if len(invalidBodies) < 25 {
		t.Errorf("%d invalid bodies, want at least 25", len(invalidBodies))
	}
}

// TestValueRulesPassSchema: value rules are checked per record by the mock, so
// bodies that break only them must pass the schema.
func TestValueRulesPassSchema(t *testing.T) {
	v := newTestValidator(t)
	tests := []struct{ name, body string }{
		{"bad account_type", `{"customers":[{"external_id":"a","account_type":"X","last_name":"L"}]}`},
		{"impossible date", `{"customers":[{"external_id":"a","account_type":"N","last_name":"L","date_of_birth":"1984-02-30"}]}`},
		{"date not YYYY-MM-DD", `{"customers":[{"external_id":"a","account_type":"N","last_name":"L","date_of_birth":"12/03/1984"}]}`},
		{"missing external_id", `{"customers":[{"account_type":"N","last_name":"L"}]}`},
		{"empty external_id", `{"customers":[{"external_id":"","account_type":"N","last_name":"L"}]}`},
		{"unknown country", `{"customers":[{"external_id":"a","account_type":"N","last_name":"L","nationality_code":"XX","domicile_codes":["ZZZ"]}]}`},
		{"kyc 99", `{"customers":[{"external_id":"a","account_type":"N","last_name":"L","kyc_level":99,"kyc_level_requested":-1}]}`},
		{"unknown _op", `{"customers":[{"external_id":"a","account_type":"N","last_name":"L","variations":[{"_op":"replace","first_name":"A"}]}]}`},
		{"variation without a name", `{"customers":[{"external_id":"a","variations":[{"_op":"add"}]}]}`},
		{"relation type 999", `{"relations":[{"relation_external_id":"r","parent_customer_external_id":"a","child_customer_external_id":"b","relation_type":999}]}`},
		{"relation to itself", `{"relations":[{"relation_external_id":"r","parent_customer_external_id":"a","child_customer_external_id":"a","relation_type":1}]}`},
		{"firm without company_name", `{"customers":[{"external_id":"a","account_type":"F"}]}`},
		{"duplicate external_id", `{"customers":[{"external_id":"a"},{"external_id":"a"}]}`},
		{"unknown key", `{"customers":[{"external_id":"a","fist_name":"M"}]}`},
		{"phone not E.164", `{"customers":[{"external_id":"a","phone":"call me"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := v.ValidateRequest(saveRequest(t, []byte(tt.body))); err != nil {
				t.Errorf("ValidateRequest: %v", err)
			}
			if _, err := DecodeSaveCustomers([]byte(tt.body)); err != nil {
				t.Errorf("DecodeSaveCustomers: %v", err)
			}
		})
	}
}

func TestValidBodies(t *testing.T) {
	v := newTestValidator(t)
	for _, n := range []int{1, 1000} {
		body := realisticBody(t, 3, n)
		if err := v.ValidateRequest(saveRequest(t, body)); err != nil {
			t.Errorf("%d customers: ValidateRequest: %v", n, err)
		}
		req, err := DecodeSaveCustomers(body)
		if err != nil {
			t.Fatalf("%d customers: DecodeSaveCustomers: %v", n, err)
		}
		if len(req.Customers) != n {
			t.Errorf("got %d customers, want %d", len(req.Customers), n)
		}
	}
}

func TestValidateRequestKeepsBody(t *testing.T) {
	body := realisticBody(t, 3, 2)
	r := saveRequest(t, body)
	if err := newTestValidator(t).ValidateRequest(r); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, r.Body); string(got) != string(body) {
		t.Errorf("the handler reads %d bytes, want the %d of the body", len(got), len(body))
	}
}

func TestValidateResponse(t *testing.T) {
	v := newTestValidator(t)
	save := httptest.NewRequest(http.MethodPost, "https://api.algoreg.com/api/v1/customers/save", nil)
	token := httptest.NewRequest(http.MethodPost, "/api/v1/token", nil)
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	problemCT := http.Header{"Content-Type": {ProblemContentType}}
	ok := `{"added":[{"customer_id":"3f1c9e2a-7b4d-4e0f-9a61-2d8c5b7e4f10","external_id":"a"}],"detail":[{"external_id":"b","errors":[{"error":"account_type_invalid","detail":"d"}],"warnings":[]}],"status":"partial","verify_input":false}`
	tests := []struct {
		name    string
		req     *http.Request
		status  int
		header  http.Header
		body    string
		wantErr bool
	}{
		{"valid 200", save, 200, jsonCT, ok, false},
		{"valid 422", save, 422, problemCT, `{"type":"urn:algoreg-kit:problem:schema-violation","title":"t","status":422,"detail":"d","violations":[{"pointer":"/customers","message":"m"}]}`, false},
		{"valid token", token, 200, jsonCT, `{"access_token":"x","token_type":"Bearer","expires_in":3600}`, false},
		{"status not in the enum", save, 200, jsonCT, strings.Replace(ok, `"partial"`, `"done"`, 1), true},
		{"added null", save, 200, jsonCT, strings.Replace(ok, `"added":[{"customer_id":"3f1c9e2a-7b4d-4e0f-9a61-2d8c5b7e4f10","external_id":"a"}]`, `"added":null`, 1), true},
		{"customer_id not a UUID", save, 200, jsonCT, strings.Replace(ok, "3f1c9e2a-7b4d-4e0f-9a61-2d8c5b7e4f10", "42", 1), true},
		{"detail missing", save, 200, jsonCT, `{"added":[],"status":"ok","verify_input":false}`, true},
		{"verify_input a string", save, 200, jsonCT, strings.Replace(ok, `"verify_input":false`, `"verify_input":"false"`, 1), true},
		{"undocumented property", save, 200, jsonCT, strings.Replace(ok, `"status"`, `"extra":1,"status"`, 1), true},
		{"unknown error code", save, 200, jsonCT, strings.Replace(ok, "account_type_invalid", "oops", 1), true},
		{"warnings missing", save, 200, jsonCT, strings.Replace(ok, `,"warnings":[]`, "", 1), true},
		{"problem status a string", save, 422, problemCT, `{"type":"t","title":"t","status":"422","detail":"d"}`, true},
		{"problem pointer missing", save, 400, problemCT, `{"type":"t","title":"t","status":400,"detail":"d","violations":[{"message":"m"}]}`, true},
		{"wrong content type", save, 200, http.Header{"Content-Type": {"text/plain"}}, ok, true},
		{"undocumented status", save, 404, problemCT, `{"type":"t","title":"t","status":404,"detail":"d"}`, true},
		{"token without expires_in", token, 200, jsonCT, `{"access_token":"x","token_type":"Bearer"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.ValidateResponse(tt.req, tt.status, tt.header, []byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error: %v", err, tt.wantErr)
			}
			var ve *ValidationError
			if err != nil && (!errors.As(err, &ve) || ve.Kind != "response" || len(ve.Violations) == 0) {
				t.Errorf("got %#v, want a response *ValidationError with violations", err)
			}
		})
	}
}

// TestMostTellingFirst: a response that breaks an enum, a required property
// and a format puts the enum and the required property first, the shallower
// first, and the format detail last; Violations keep body order.
func TestMostTellingFirst(t *testing.T) {
	v := newTestValidator(t)
	save := httptest.NewRequest(http.MethodPost, "/api/v1/customers/save", nil)
	tests := []struct {
		name string
		body string
		want []string // the pointers, most telling first
	}{
		{"a stub of the vendor's page", `{"added":[{"customer_id":"string","external_id":"cust-0001"}],"detail":[{"external_id":"x","errors":[],"warnings":[]}],"status":"OK","verify_input":false}`,
			[]string{"/status", "/added/0/customer_id"}},
		{"required deep, format shallow", `{"added":[{"customer_id":"42","external_id":"a"}],"detail":[{"external_id":"x","errors":[]}],"status":"ok","verify_input":false}`,
			[]string{"/detail/0/warnings", "/added/0/customer_id"}},
		{"a wrong type before a format", `{"added":[{"customer_id":"42","external_id":"a"}],"detail":[],"status":"ok","verify_input":"no"}`,
			[]string{"/verify_input", "/added/0/customer_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.ValidateResponse(save, 200, http.Header{"Content-Type": {"application/json"}}, []byte(tt.body))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a *ValidationError", err)
			}
			pointers := func(vs []Violation) []string {
				var ps []string
				for _, v := range vs {
					ps = append(ps, v.Pointer)
				}
				return ps
			}
			if got := pointers(ve.MostTellingFirst().Violations); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("MostTellingFirst: got %v, want %v", got, tt.want)
			}
			if got := pointers(ve.Violations); !slices.IsSorted(got) {
				t.Errorf("Violations: got %v, want body order", got)
			}
		})
	}
}

// TestValidationErrorUnwraps: callers can still reach kin-openapi's errors.
func TestValidationErrorUnwraps(t *testing.T) {
	err := newTestValidator(t).ValidateRequest(saveRequest(t, []byte(`{"customers":[{"kyc_level":"x"}]}`)))
	var reqErr *openapi3filter.RequestError
	if !errors.As(err, &reqErr) {
		t.Errorf("errors.As(%v, *openapi3filter.RequestError) = false", err)
	}
	var schemaErr *openapi3.SchemaError
	if !errors.As(err, &schemaErr) {
		t.Errorf("errors.As(%v, *openapi3.SchemaError) = false", err)
	}
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.Contains(ve.Error(), "/customers/0/kyc_level: value must be an integer") {
		t.Errorf("got %v, want the pointer and the message in Error()", err)
	}
}

// TestStringOrArrayMessage: a string-or-array field of the wrong type is one
// violation naming both forms, not one per oneOf branch.
func TestStringOrArrayMessage(t *testing.T) {
	body := []byte(`{"customers":[{"contacts":5,"review_groups":["a",2]}]}`)
	want := []Violation{
		{"/customers/0/contacts", "value must be a string or an array of strings"},
		{"/customers/0/review_groups/1", "value must be a string"},
	}
	got := violationsOf(t, newTestValidator(t).ValidateRequest(saveRequest(t, body)))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ValidateRequest: got %v, want %v", got, want)
	}
	_, err := DecodeSaveCustomers(body)
	if got := violationsOf(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeSaveCustomers: got %v, want %v", got, want)
	}
}

// TestViolationsGolden pins the 422 violation list of one body with many
// errors (testdata/TestViolationsGolden.golden.json; rewrite with -update).
// ValidateRequest and DecodeSaveCustomers must both give it.
func TestViolationsGolden(t *testing.T) {
	body := []byte(`{"customers":[{"external_id":1,"kyc_level":"2","contacts":{},"review_groups":["a",null,3],` +
		`"fields":[],"variations":[null,{"_op":1,"first_name":"A"}]},7,{"alias_ids":"x","disabled":"yes","kyc_level_requested":2.5}],` +
		`"relations":[{"relation_type":1e400,"fields":"x"},null],"verify_input":"no","disable_risk_scan":[]}`)
	got := violationsOf(t, newTestValidator(t).ValidateRequest(saveRequest(t, body)))
	_, err := DecodeSaveCustomers(body)
	if dec := violationsOf(t, err); !reflect.DeepEqual(dec, got) {
		t.Errorf("DecodeSaveCustomers differs from ValidateRequest:\n%v\n%v", dec, got)
	}
	gotJSON, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, t.Name()+".golden.json", append(gotJSON, '\n'))
}
