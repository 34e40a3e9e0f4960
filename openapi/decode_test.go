package openapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// TestDecodeSaveCustomersAgrees runs hand-picked bodies, one per corner of the
// grammar and of the schema, through the differential property (checkDecode).
func TestDecodeSaveCustomersAgrees(t *testing.T) {
	tests := []struct{ name, body string }{
		{"empty body", ``},
		{"white space only", ` `},
		{"trailing garbage", `{} x`},
		{"top-level array", `[]`},
		{"top-level null", `null`},
		{"top-level huge number", `1e400`},
		{"valid with every conversion", `{"customers":[{"external_id":"a","kyc_level":1e2,"contacts":"a; b,,c","zz":1e400,"fields":{"x":[1,{"y":null}]}}],"relations":[{"relation_type":1e300}],"verify_input":true}`},
		{"string list with a number item", `{"customers":[{"contacts":["a",1]}]}`},
		{"customers an object", `{"customers":{}}`},
		{"customers items of wrong types", `{"customers":[null,1,"a"]}`},
		{"every customer field wrong", `{"customers":[{"kyc_level":"1","contacts":5,"review_groups":[1,"a",null],"fields":[],"variations":[null,{"_op":1}], "alias_ids":"x","disabled":"true"}]}`},
		{"numbers out of range", `{"customers":[{"kyc_level":1e400,"kyc_level_requested":1.5,"contacts":null,"review_groups":{}}],"relations":[{"relation_type":1e300,"fields":{"a":1e400}}]}`},
		{"tiny and nearly whole numbers", `{"customers":[{"kyc_level":1e-400,"kyc_level_requested":1.00000000000000000001}],"verify_input":1,"disable_risk_scan":null}`},
		{"repeated key, last null", `{"customers":[{"a":1}], "customers":null}`},
		{"repeated key, last wins", `{"customers":[{"kyc_level":"x"}], "customers":[{"phone":2}]}`},
		{"repeated field, first wrong", `{"customers":[{"kyc_level":"x","kyc_level":3}]}`},
		{"variations and relations objects", `{"customers":[{"variations":{}}],"relations":{}}`},
		{"escaped and odd keys", `{"customers":[{"first\u005fname":3, "Phone": 4, "x\ud800":"\xff\ud800"}]}`},
		{"string list huge number", `{"customers":[{"contacts":1e400}]}`},
		{"big integer saturates", `{"customers":[{"kyc_level":99999999999999999999999,"kyc_level_requested":-99999999999999999999999}]}`},
		{"unterminated array", `[1,`},
		{"truncated literal", `{"a":tru`},
		{"lone minus", `{"a":-`},
		{"truncated unicode escape", `{"a":"\u12`},
		{"truncated escape", `{"a":"\`},
		{"missing colon", `{"a" 1}`},
		{"trailing comma", `{"a":1,}`},
		{"leading zero", `[01]`},
		{"control character in string", "{\"a\":\"x\ty\"}"},
		{"bad escape", `{"a":"\x"}`},
		{"byte order mark", "\xef\xbb\xbf{}"},
		{"surrogate pair and escapes", `{"customers":[{"last_name":"\ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t","first_name":"é\u00e9"}]}`},
		{"invalid UTF-8 in values and list", "{\"customers\":[{\"last_name\":\"a\xffb\",\"contacts\":\"x\xfe;y\"}]}"},
		{"unknown top-level keys dropped", `{"x":[1,{"y":2}],"customers":[]}`},
		{"empty lists stay empty", `{"customers":[{"alias_ids":[],"contacts":[],"review_groups":"","fields":{},"variations":[]}],"relations":[]}`},
		{"relations fields and extra", `{"relations":[{"relation_type":2.0,"disabled":false,"fields":{"a":[]},"note":"x"}]}`},
		{"array item null in plain string array", `{"customers":[{"nationality_codes":["FR",null,3]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkDecode(t, []byte(tt.body))
		})
	}
}

func TestDecodeSaveCustomersRealistic(t *testing.T) {
	for _, n := range []int{1, 3, 100} {
		checkDecode(t, realisticBody(t, uint64(n), n))
	}
}

// TestDecodeSaveCustomersValues pins the documented conversions.
func TestDecodeSaveCustomersValues(t *testing.T) {
	got, err := DecodeSaveCustomers([]byte(`{"customers":[{"external_id":"a","kyc_level":9223372036854775808,"kyc_level_requested":-9.223372036854775808e18,
		"contacts":" a ;b,, c ","review_groups":[" x ",""],"phone":null,"fist_name":"M","fields":{"n":1,"big":1e400}}],
		"relations":[{"relation_type":2.0,"relation_external_id":"r","ref":null}],"other":1,"verify_input":false}`))
	if err != nil {
		t.Fatal(err)
	}
	c := got.Customers[0]
	if *c.KYCLevel != math.MaxInt64 || *c.KYCLevelRequested != math.MinInt64 {
		t.Errorf("got kyc %d %d, want ±2^63 saturated", *c.KYCLevel, *c.KYCLevelRequested)
	}
	if want := (StringList{"a", "b", "c"}); !reflect.DeepEqual(c.Contacts, want) {
		t.Errorf("got contacts %q, want %q", c.Contacts, want)
	}
	if want := (StringList{"x"}); !reflect.DeepEqual(c.ReviewGroups, want) {
		t.Errorf("got review_groups %q, want %q", c.ReviewGroups, want)
	}
	if c.Phone != nil {
		t.Errorf("got phone %q, want nil (null means absent)", *c.Phone)
	}
	if want := map[string]any{"fist_name": "M"}; !reflect.DeepEqual(c.Extra, want) {
		t.Errorf("got extra %v, want %v", c.Extra, want)
	}
	if got, want := c.Fields["n"], any(1.0); got != want {
		t.Errorf("got fields.n %#v, want %#v", got, want)
	}
	if got, want := c.Fields["big"], any(json.Number("1e400")); got != want {
		t.Errorf("got fields.big %#v, want %#v", got, want)
	}
	r := got.Relations[0]
	if *r.RelationType != 2 || !reflect.DeepEqual(r.Extra, map[string]any{"ref": nil}) {
		t.Errorf("got relation %+v", r)
	}
	if got.VerifyInput == nil || *got.VerifyInput || got.DisableRiskScan != nil {
		t.Errorf("got verify_input %v, disable_risk_scan %v", got.VerifyInput, got.DisableRiskScan)
	}
}

func TestDecodeSaveCustomersErrors(t *testing.T) {
	t.Run("syntax error names the offset", func(t *testing.T) {
		_, err := DecodeSaveCustomers([]byte(`{"customers":[}`))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("got %v, want *SyntaxError", err)
		}
		if se.Offset != 15 || !strings.Contains(se.Error(), "offset 15") {
			t.Errorf("got %q (offset %d), want offset 15", se.Error(), se.Offset)
		}
	})
	t.Run("every violation is listed", func(t *testing.T) {
		_, err := DecodeSaveCustomers([]byte(`{"customers":[{"kyc_level":"1"},{"fields":[]},{"contacts":7}]}`))
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Kind != "request" {
			t.Fatalf("got %v, want a request *ValidationError", err)
		}
		want := []Violation{
			{"/customers/0/kyc_level", "value must be an integer"},
			{"/customers/1/fields", "value must be an object"},
			{"/customers/2/contacts", "value must be a string or an array of strings"},
		}
		if !reflect.DeepEqual(ve.Violations, want) {
			t.Errorf("got %v, want %v", ve.Violations, want)
		}
	})
}

// TestDecodeSaveCustomersDepth checks the nesting limit: MaxDepth levels are
// read, one more is a syntax error, and neither overflows the stack.
func TestDecodeSaveCustomersDepth(t *testing.T) {
	nest := func(n int) []byte {
		// The body and customers array and customer object are 3 levels.
		return []byte(`{"customers":[{"fields":{"a":` + strings.Repeat("[", n-4) + strings.Repeat("]", n-4) + `}}]}`)
	}
	for _, tt := range []struct {
		name    string
		depth   int
		wantErr bool
	}{
		{"at the limit", MaxDepth, false},
		{"one beyond", MaxDepth + 1, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := nest(tt.depth)
			_, err := DecodeSaveCustomers(body)
			var se *SyntaxError
			if got := errors.As(err, &se); got != tt.wantErr {
				t.Fatalf("got error %v, want a syntax error: %v", err, tt.wantErr)
			}
			checkDecode(t, body)
		})
	}
	t.Run("deep unknown value", func(t *testing.T) {
		checkDecode(t, []byte(`{"x":`+strings.Repeat(`{"a":`, MaxDepth)+`1`+strings.Repeat(`}`, MaxDepth)+`}`))
	})
}

// TestDecodeSaveCustomersStringScan puts each kind of special byte at every
// position of strings around the scanner's 8-byte steps.
func TestDecodeSaveCustomersStringScan(t *testing.T) {
	specials := []string{`\"`, `\\`, `\u00e9`, "\x01", "\x1f", "\x7f", "\xff", "é", " ", "\"x"}
	for n := 0; n < 18; n++ {
		for _, special := range specials {
			for at := 0; at <= n; at++ {
				s := strings.Repeat("a", at) + special + strings.Repeat("b", n-at)
				checkDecode(t, []byte(`{"customers":[{"last_name":"`+s+`"}]}`))
			}
		}
	}
}

// TestDecodeSaveCustomersCopies: the result shares no memory with the body, so
// a caller may reuse the body's buffer (the mock pools them).
func TestDecodeSaveCustomersCopies(t *testing.T) {
	body := append(realisticBody(t, 5, 20), []byte(`    `)...)
	copy(body[len(body)-4:], "    ")
	want, err := DecodeSaveCustomers(append([]byte(nil), body...))
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeSaveCustomers(body)
	if err != nil {
		t.Fatal(err)
	}
	for i := range body {
		body[i] = 'X'
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the result changed when the body's buffer was overwritten")
	}
}

// TestDecodeSaveCustomersRepeatedKeysLinear: repeated keys next to many
// violations cost linear time (a quadratic drop would take minutes here).
func TestDecodeSaveCustomersRepeatedKeysLinear(t *testing.T) {
	n := 200_000
	if raceEnabled {
		n = 50_000
	}
	body := `{"customers":[{"alias_ids":[` + strings.Repeat(`1,`, n) + `1]` + strings.Repeat(`,"phone":1`, n) + `}]}`
	_, err := DecodeSaveCustomers([]byte(body))
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Violations) != n+2 {
		t.Fatalf("got %v, want %d violations", err, n+2)
	}
	if ve.Violations[n+1].Pointer != "/customers/0/phone" {
		t.Errorf("got last violation %v, want the last phone", ve.Violations[n+1])
	}
}

func TestPointerLess(t *testing.T) {
	ordered := []string{"", "/customers", "/customers/0", "/customers/0/a", "/customers/0/b", "/customers/2", "/customers/10", "/customers/10/x", "/customers/x", "/relations", "/relations/01", "/relations/1"}
	for i, a := range ordered {
		for j, b := range ordered {
			if got, want := pointerLess(a, b), i < j; got != want {
				t.Errorf("pointerLess(%q, %q) = %v, want %v", a, b, got, want)
			}
		}
	}
}

// TestDecodeSaveCustomersConcurrent decodes from several goroutines at once
// (each call must own its decoder state and results, none shared between calls).
func TestDecodeSaveCustomersConcurrent(t *testing.T) {
	bodies := [][]byte{realisticBody(t, 1, 30), realisticBody(t, 2, 5), []byte(`{"customers":[{"kyc_level":"x"}]}`)}
	want := make([]*SaveCustomersRequest, len(bodies))
	for i, b := range bodies {
		want[i], _ = DecodeSaveCustomers(b)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for k := range 50 {
				i := (g + k) % len(bodies)
				got, _ := DecodeSaveCustomers(bodies[i])
				if !reflect.DeepEqual(got, want[i]) {
					t.Errorf("goroutine %d, body %d: result differs from the sequential one", g, i)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestDecodeSaveCustomersLimits(t *testing.T) {
	five := []byte(`{"customers":[{},{},{},{},{}]}`)
	t.Run("customers at the limit", func(t *testing.T) {
		got, err := DecodeSaveCustomersLimits(five, Limits{MaxCustomers: 5})
		if err != nil || len(got.Customers) != 5 {
			t.Fatalf("got %v, want 5 customers", err)
		}
	})
	t.Run("customers beyond the limit", func(t *testing.T) {
		_, err := DecodeSaveCustomersLimits(five, Limits{MaxCustomers: 4})
		var le *LimitError
		if !errors.As(err, &le) || le.Limit != 4 || le.What != "customers" {
			t.Fatalf("got %v, want a *LimitError of 4 customers", err)
		}
	})
	t.Run("a huge body of empty customers stops early", func(t *testing.T) {
		body := []byte(`{"customers":[` + strings.Repeat(`{},`, 1_000_000) + `{}]}`)
		allocs := testing.AllocsPerRun(1, func() {
			if _, err := DecodeSaveCustomersLimits(body, Limits{MaxCustomers: 100}); err == nil {
				t.Fatal("got no error, want a *LimitError")
			}
		})
		if allocs > 50 {
			t.Errorf("got %v allocations, want few: decoding must stop at the limit", allocs)
		}
	})
	body := []byte(`{"customers":[{"kyc_level":"a","phone":1,"fields":[]},{"disabled":2}],"verify_input":3}`)
	all := violationsOf(t, func() error { _, err := DecodeSaveCustomers(body); return err }())
	for _, tt := range []struct {
		max           int
		wantN         int
		wantTruncated bool
	}{
		{0, 5, false},
		{5, 5, false},
		{6, 5, false},
		{3, 3, true},
		{1, 1, true},
	} {
		t.Run(fmt.Sprintf("max %d violations", tt.max), func(t *testing.T) {
			_, err := DecodeSaveCustomersLimits(body, Limits{MaxViolations: tt.max})
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a *ValidationError", err)
			}
			if len(ve.Violations) != tt.wantN || ve.Truncated != tt.wantTruncated {
				t.Errorf("got %d violations, truncated %v; want %d, %v", len(ve.Violations), ve.Truncated, tt.wantN, tt.wantTruncated)
			}
			if !tt.wantTruncated && !reflect.DeepEqual(ve.Violations, all) {
				t.Errorf("got %v, want %v", ve.Violations, all)
			}
			if tt.wantTruncated && !strings.HasSuffix(ve.Error(), "and more (the list was cut)") {
				t.Errorf("Error() = %q, want it to say the list was cut", ve.Error())
			}
		})
	}
	t.Run("a huge body of violations stops early", func(t *testing.T) {
		body := []byte(`{"customers":[` + strings.Repeat(`1,`, 1_000_000) + `1]}`)
		_, err := DecodeSaveCustomersLimits(body, Limits{MaxViolations: 100})
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Violations) != 100 || !ve.Truncated {
			t.Fatalf("got %v, want 100 violations, truncated", err)
		}
	})
}

// TestDecodeSaveCustomersEveryLimit: each limit stops the decoding at the
// first value beyond it, naming the limit and the value's pointer; at the
// limit the body decodes.
func TestDecodeSaveCustomersEveryLimit(t *testing.T) {
	lim := Limits{MaxCustomers: 2, RecordLimits: RecordLimits{MaxRelations: 2, MaxVariations: 2, MaxAllVariations: 3, MaxItems: 2, MaxKeys: 2, MaxAllKeys: 3, MaxIDLength: 4, MaxStringLength: 8}}
	tests := []struct {
		name, at, over string // a body at the limit, one beyond it
		what, pointer  string
	}{
		{"customers", `{"customers":[{},{}]}`, `{"customers":[{},{},{}]}`, LimitCustomers, "/customers/2"},
		{"relations", `{"relations":[{},{}]}`, `{"relations":[{},{},{}]}`, LimitRelations, "/relations/2"},
		{"variations", `{"customers":[{"variations":[{},{}]}]}`, `{"customers":[{"variations":[{},{},{}]}]}`, LimitVariations, "/customers/0/variations/2"},
		{"all variations", `{"customers":[{"variations":[{},{}]},{"variations":[{}]}]}`, `{"customers":[{"variations":[{},{}]},{"variations":[{},{}]}]}`, LimitAllVariations, "/customers/1/variations/1"},
		{"all keys and items", `{"customers":[{"fields":{"a":[1,2]}}]}`, `{"customers":[{"fields":{"a":[1,[2]]}}]}`, LimitAllKeys, "/customers/0/fields/a/1/0"},
		{"all keys", `{"customers":[{"fields":{"a":1,"b":2}},{"x":1}]}`, `{"customers":[{"fields":{"a":1,"b":2}},{"x":1,"y":2}]}`, LimitAllKeys, "/customers/1"},
		{"alias_ids", `{"customers":[{"alias_ids":["a","b"]}]}`, `{"customers":[{"alias_ids":["a","b","c"]}]}`, LimitItems, "/customers/0/alias_ids/2"},
		{"review_groups string", `{"customers":[{"review_groups":"a;b"}]}`, `{"customers":[{"review_groups":"a;b,c"}]}`, LimitItems, "/customers/0/review_groups"},
		{"array in fields", `{"customers":[{"fields":{"a":[1,2]}}]}`, `{"customers":[{"fields":{"a":[1,2,3]}}]}`, LimitItems, "/customers/0/fields/a/2"},
		{"fields keys", `{"customers":[{"fields":{"a":1,"b":2,"a":3}}]}`, `{"customers":[{"fields":{"a":1,"b":2,"c":3}}]}`, LimitKeys, "/customers/0/fields"},
		{"unknown keys", `{"relations":[{"x":1,"y":2}]}`, `{"relations":[{"x":1,"y":2,"z":3}]}`, LimitKeys, "/relations/0"},
		{"external_id", `{"customers":[{"external_id":"abcd"}]}`, `{"customers":[{"external_id":"abcde"}]}`, LimitIDLength, "/customers/0/external_id"},
		{"relation id", `{"relations":[{"parent_customer_external_id":"abcd"}]}`, `{"relations":[{"parent_customer_external_id":"abcde"}]}`, LimitIDLength, "/relations/0/parent_customer_external_id"},
		{"alias id", `{"customers":[{"alias_ids":["abcd"]}]}`, `{"customers":[{"alias_ids":["abcde"]}]}`, LimitIDLength, "/customers/0/alias_ids/0"},
		{"name", `{"customers":[{"last_name":"abcdefgh"}]}`, `{"customers":[{"last_name":"abcdefghi"}]}`, LimitStringLength, "/customers/0/last_name"},
		{"escaped comment", `{"customers":[{"comment":"\u00e9\u00e9\u00e9\u00e9"}]}`, `{"customers":[{"comment":"\u00e9\u00e9\u00e9\u00e9\u00e9"}]}`, LimitStringLength, "/customers/0/comment"},
		{"field value", `{"customers":[{"fields":{"a":["abcdefgh"]}}]}`, `{"customers":[{"fields":{"a":["abcdefghi"]}}]}`, LimitStringLength, "/customers/0/fields/a/0"},
		{"unknown key name", `{"customers":[{"abcdefgh":1}]}`, `{"customers":[{"abcdefghi":1}]}`, LimitStringLength, "/customers/0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeSaveCustomersLimits([]byte(tt.at), lim); err != nil {
				t.Fatalf("at the limit: got %v, want no error", err)
			}
			_, err := DecodeSaveCustomersLimits([]byte(tt.over), lim)
			var le *LimitError
			if !errors.As(err, &le) || le.What != tt.what || le.Pointer != tt.pointer || le.Limit != limitOf(lim, tt.what) {
				t.Fatalf("beyond the limit: got %#v, want a *LimitError %s at %s", err, tt.what, tt.pointer)
			}
		})
	}
}

// TestDecodeOutOfInt64: a number beyond int64 in an integer field is the
// same violation whether written with digits or an exponent (issue 12, row
// 11).
func TestDecodeOutOfInt64(t *testing.T) {
	for _, n := range []string{"99999999999999999999999", "1e400", "1e23", "-1e30", "-99999999999999999999999", "9223372036854777856"} {
		for _, body := range []string{
			`{"customers":[{"kyc_level":` + n + `}]}`,
			`{"customers":[{"kyc_level_requested":` + n + `}]}`,
			`{"relations":[{"relation_type":` + n + `}]}`,
		} {
			checkDecode(t, []byte(body))
			_, err := DecodeSaveCustomers([]byte(body))
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Violations) != 1 || ve.Violations[0].Message != msgOutOfRange {
				t.Errorf("%s: got %v, want one violation %q", body, err, msgOutOfRange)
			}
		}
	}
}
