package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

var (
	testValidatorOnce sync.Once
	testValidator     *Validator
)

// newTestValidator returns a Validator over the embedded document, built once.
func newTestValidator(tb testing.TB) *Validator {
	tb.Helper()
	testValidatorOnce.Do(func() { testValidator = MustNewValidator() })
	return testValidator
}

// saveRequest builds a POST of body to the Save customers path.
func saveRequest(tb testing.TB, body []byte) *http.Request {
	tb.Helper()
	r := httptest.NewRequest(http.MethodPost, "/api/v1/customers/save", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// violationsOf returns the violations of err, which must be nil or a
// *ValidationError.
func violationsOf(tb testing.TB, err error) []Violation {
	tb.Helper()
	if err == nil {
		return nil
	}
	ve, ok := err.(*ValidationError)
	if !ok {
		tb.Fatalf("got error %T %v, want *ValidationError", err, err)
	}
	return ve.Violations
}

// pointersOf returns the sorted, de-duplicated pointers of vs.
func pointersOf(vs []Violation) []string {
	var ps []string
	for _, v := range vs {
		ps = append(ps, v.Pointer)
	}
	sort.Strings(ps)
	return slices.Compact(ps)
}

// kinPointers validates body with kin-openapi's ValidateRequest and returns the
// violation pointers (nil when valid).
func kinPointers(tb testing.TB, body []byte) []string {
	tb.Helper()
	return pointersOf(violationsOf(tb, newTestValidator(tb).ValidateRequest(saveRequest(tb, body))))
}

// checkDecode is the differential property: DecodeSaveCustomers agrees with the
// reference decoder (encoding/json + kin-openapi's schema walk + a plain walk)
// on the verdict, the syntax error offset and message, every violation (pointer
// and message), and the decoded value; and with kin-openapi's ValidateRequest on
// validity and violation pointers for every well-formed body.
func checkDecode(tb testing.TB, body []byte) {
	tb.Helper()
	got, gotErr := DecodeSaveCustomers(body)
	want, wantErr := decodeReference(body)
	switch we := wantErr.(type) {
	case nil:
		if gotErr != nil {
			tb.Fatalf("body %q:\ngot error %v, want none", body, gotErr)
		}
		if !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			tb.Fatalf("body %q:\ngot  %s\nwant %s", body, g, w)
		}
		if std, stripped, ok := stdDecode(body, got); ok && !reflect.DeepEqual(stripped, std) {
			g, _ := json.Marshal(stripped)
			w, _ := json.Marshal(std)
			tb.Fatalf("body %q:\ngot           %s\nencoding/json %s", body, g, w)
		}
	case *SyntaxError:
		ge, ok := gotErr.(*SyntaxError)
		if !ok || *ge != *we {
			tb.Fatalf("body %q:\ngot error %#v, want %#v", body, gotErr, we)
		}
		return // kin-openapi reads only the first value: it may accept trailing garbage.
	case *ValidationError:
		ge, ok := gotErr.(*ValidationError)
		if !ok {
			tb.Fatalf("body %q:\ngot error %#v, want %v", body, gotErr, we)
		}
		if !reflect.DeepEqual(ge.Violations, we.Violations) {
			tb.Fatalf("body %q:\ngot  %v\nwant %v", body, ge.Violations, we.Violations)
		}
	default:
		tb.Fatalf("reference: %v", wantErr)
	}
	var gotPointers []string
	if gotErr != nil {
		gotPointers = pointersOf(gotErr.(*ValidationError).Violations)
	}
	if kp := kinPointers(tb, body); !slices.Equal(gotPointers, kp) {
		tb.Fatalf("body %q:\ngot pointers %q, kin-openapi's ValidateRequest %q", body, gotPointers, kp)
	}
}

// stdDecode decodes body with encoding/json into the model, and returns it
// with got stripped of Extra (which encoding/json does not fill), for the
// bodies where encoding/json's rules and the documented ones cannot differ. It
// reports false when encoding/json fails (it rejects 1e2 and out-of-range
// integers, which the decoder accepts or saturates), when a key is repeated in
// an object (encoding/json merges the last value into the earlier map or
// struct; the decoder, like kin-openapi, keeps only the last value), and when
// a key differs from a property name only by case (encoding/json matches keys
// case-insensitively; the document does not).
func stdDecode(body []byte, got *SaveCustomersRequest) (std, stripped *SaveCustomersRequest, ok bool) {
	keys, repeated := bodyKeys(body)
	if repeated {
		return nil, nil, false
	}
	for _, k := range keys {
		for _, name := range allKeys {
			if k != name && strings.EqualFold(k, name) {
				return nil, nil, false
			}
		}
	}
	std = &SaveCustomersRequest{}
	if json.Unmarshal(body, std) != nil {
		return nil, nil, false
	}
	s := *got
	s.Customers = slices.Clone(s.Customers)
	for i := range s.Customers {
		s.Customers[i].Extra = nil
		if vs := s.Customers[i].Variations; vs != nil {
			vs = slices.Clone(vs)
			for j := range vs {
				vs[j].Extra = nil
			}
			s.Customers[i].Variations = vs
		}
	}
	s.Relations = slices.Clone(s.Relations)
	for i := range s.Relations {
		s.Relations[i].Extra = nil
	}
	return std, &s, true
}

// allKeys are the property names of the request schemas.
var allKeys = slices.Concat(SaveCustomersRequestKeys, CustomerKeys, VariationKeys, RelationKeys)

// bodyKeys returns every key of every object of body (well-formed JSON), and
// whether an object has a key twice.
func bodyKeys(body []byte) (keys []string, repeated bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		obj  bool
		seen map[string]bool
		key  bool // the next token of an object is a key (or its end)
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return keys, repeated
		}
		if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].key {
			if k, ok := tok.(string); ok {
				top := stack[n-1]
				repeated = repeated || top.seen[k]
				top.seen[k], top.key = true, false
				keys = append(keys, k)
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, seen: map[string]bool{}, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].key = true // a value ended: a key (or the end) follows
		}
	}
}

// realisticCustomer returns customer i of a realistic shape: about 20 fields,
// two variations, a few custom fields, about 700 bytes of JSON.
func realisticCustomer(r *rand.Rand, i int) Customer {
	first := []string{"Marie", "Jean", "Ana", "Li", "Olusegun", "Zoë", "Björn", "Fatima"}
	last := []string{"Dupont", "Martin", "García", "Nguyen", "Okafor", "Müller", "Rossi", "Haddad"}
	countries := []string{"FR", "DE", "ES", "VN", "NG", "IT", "LB", "GB"}
	pick := func(xs []string) *string { s := xs[r.IntN(len(xs))]; return &s }
	str := func(s string) *string { return &s }
	i64 := func(n int64) *int64 { return &n }
	no := false
	return Customer{
		ExternalID:         str(fmt.Sprintf("cust-%08d", i)),
		AccountType:        str("N"),
		FirstName:          pick(first),
		MiddleName:         pick(first),
		LastName:           pick(last),
		DateOfBirth:        str(fmt.Sprintf("19%02d-%02d-%02d", 40+r.IntN(60), 1+r.IntN(12), 1+r.IntN(28))),
		NationalityCode:    pick(countries),
		NationalityCodes:   []string{*pick(countries), *pick(countries)},
		DomicileCode:       pick(countries),
		DomicileCodes:      []string{*pick(countries)},
		Phone:              str(fmt.Sprintf("+336%08d", r.IntN(1e8))),
		KYCLevel:           i64(int64(r.IntN(4))),
		KYCLevelRequested:  i64(int64(r.IntN(4))),
		ReviewGroups:       StringList{"retail", "eu"},
		Contacts:           StringList{fmt.Sprintf("person%d@example.com", i), "+33 1 23 45 67 89"},
		AliasIDs:           []string{fmt.Sprintf("crm-%06d", r.IntN(1e6))},
		Comment:            str("Onboarded through the partner channel; documents checked."),
		Disabled:           &no,
		RegistrationNumber: str(fmt.Sprintf("%014d", r.IntN(1e14))),
		Fields: map[string]any{
			"segment":  "premium",
			"score":    float64(r.IntN(1000)),
			"verified": true,
		},
		Variations: []Variation{
			{Op: str("add"), FirstName: pick(first), LastName: pick(last)},
			{Op: str("add"), FirstName: pick(first), MiddleName: pick(first), LastName: pick(last)},
		},
	}
}

// realisticBody returns a Save customers body of n realistic customers and
// n/10 relations between them.
func realisticBody(tb testing.TB, seed uint64, n int) []byte {
	tb.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	req := SaveCustomersRequest{Customers: make([]Customer, n)}
	for i := range req.Customers {
		req.Customers[i] = realisticCustomer(r, i)
	}
	for i := 0; i+1 < n && i < n/10*2; i += 2 {
		p, c := fmt.Sprintf("cust-%08d", i), fmt.Sprintf("cust-%08d", i+1)
		id := fmt.Sprintf("rel-%08d", i)
		typ := int64(1 + r.IntN(10))
		req.Relations = append(req.Relations, Relation{
			RelationExternalID: &id, ParentCustomerExternalID: &p, ChildCustomerExternalID: &c,
			RelationType: &typ, Fields: map[string]any{"since": "2020-01-01"},
		})
	}
	b, err := json.Marshal(req)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// readAll is io.ReadAll that fails the test on error.
func readAll(tb testing.TB, r io.Reader) []byte {
	tb.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

var _ = strings.TrimSpace
