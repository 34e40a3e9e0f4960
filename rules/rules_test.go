package rules_test

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/getkin/kin-openapi/openapi3"
)

// property returns the schema of the property prop of the document's schema
// name.
func property(tb testing.TB, name, prop string) *openapi3.Schema {
	tb.Helper()
	doc, err := openapi.Load(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	s := doc.Components.Schemas[name]
	if s == nil || s.Value.Properties[prop] == nil {
		tb.Fatalf("the document has no property %s.%s", name, prop)
	}
	return s.Value.Properties[prop].Value
}

// The document's Message.error enum and the catalogue list the same codes in the
// same order, so neither can gain a code the other lacks.
func TestCatalogueEqualsDocumentEnum(t *testing.T) {
	code := property(t, "Message", "error")
	var got []string
	for _, v := range code.Enum {
		got = append(got, v.(string))
	}
	var want []string
	for _, c := range rules.Catalogue {
		want = append(want, c.Code)
	}
	if !slices.Equal(got, want) {
		t.Errorf("document enum and rules.Catalogue differ:\n got %v\nwant %v", got, want)
	}
	for _, c := range rules.Catalogue {
		if !regexp.MustCompile("\\| `" + c.Code + "` \\|").MatchString(code.Description) {
			t.Errorf("code %s has no row in the Message.error description table", c.Code)
		}
	}
}

func TestDefaultRelationTypesEqualDocument(t *testing.T) {
	desc := property(t, "Relation", "relation_type").Description
	var got []rules.RelationType
	for _, m := range regexp.MustCompile(`(?m)^\| (\d+) \| (.+?) \|$`).FindAllStringSubmatch(desc, -1) {
		v, _ := strconv.ParseInt(m[1], 10, 64)
		got = append(got, rules.RelationType{Value: v, Name: m[2]})
	}
	if !slices.Equal(got, rules.DefaultRelationTypes) {
		t.Errorf("relation-type table:\n document %v\n rules    %v", got, rules.DefaultRelationTypes)
	}
	if want := rules.DefaultConfig().RelationTypes; !slices.Equal(want, rules.DefaultRelationTypes) {
		t.Errorf("DefaultConfig().RelationTypes = %v, want %v", want, rules.DefaultRelationTypes)
	}
}

func TestCountries(t *testing.T) {
	all := rules.Countries()
	if got, want := len(all), 250; got != want {
		t.Errorf("len(Countries()) = %d, want %d (249 ISO 3166-1 codes and XK)", got, want)
	}
	seen := map[string]bool{}
	for i, c := range all {
		if i > 0 && all[i-1].Alpha2 >= c.Alpha2 {
			t.Errorf("Countries() not ordered by alpha-2 at %d: %s after %s", i, c.Alpha2, all[i-1].Alpha2)
		}
		if len(c.Alpha2) != 2 || len(c.Alpha3) != 3 || c.Name == "" || c.CallingCode == "" {
			t.Errorf("incomplete country %+v", c)
		}
		if seen[c.Alpha2] || seen[c.Alpha3] {
			t.Errorf("code of %+v listed twice", c)
		}
		seen[c.Alpha2], seen[c.Alpha3] = true, true
		for _, code := range []string{c.Alpha2, c.Alpha3} {
			if got, ok := rules.LookupCountry(code); !ok || got != c {
				t.Errorf("LookupCountry(%q) = %+v, %v; want %+v", code, got, ok, c)
			}
		}
	}
	tests := []struct {
		code, alpha2, calling string
		ok                    bool
	}{
		{"FR", "FR", "33", true},
		{"FRA", "FR", "33", true},
		{"US", "US", "1", true},
		{"AG", "AG", "1", true},   // the library gives +1268
		{"GG", "GG", "44", true},  // +441481
		{"VA", "VA", "39", true},  // +3906698
		{"AX", "AX", "358", true}, // +35818
		{"KZ", "KZ", "7", true},
		{"XK", "XK", "383", true},
		{"fr", "", "", false},
		{"fra", "", "", false},
		{"AN", "", "", false}, // withdrawn: Netherlands Antilles
		{"YU", "", "", false}, // withdrawn: Yugoslavia
		{"ZZ", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			got, ok := rules.LookupCountry(tt.code)
			if ok != tt.ok || got.Alpha2 != tt.alpha2 || got.CallingCode != tt.calling {
				t.Errorf("LookupCountry(%q) = %+v, %v; want alpha-2 %q calling %q, %v", tt.code, got, ok, tt.alpha2, tt.calling, tt.ok)
			}
		})
	}
}

// When the machine has Debian's iso-codes, the table equals its ISO 3166-1 list
// plus XK.
func TestCountriesEqualIsoCodes(t *testing.T) {
	b, err := os.ReadFile("/usr/share/iso-codes/json/iso_3166-1.json")
	if err != nil {
		t.Skipf("Debian iso-codes not installed (apt-get install iso-codes): %v", err)
	}
	var data struct {
		List []struct {
			Alpha2 string `json:"alpha_2"`
			Alpha3 string `json:"alpha_3"`
		} `json:"3166-1"`
	}
	if err := json.Unmarshal(b, &data); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"XK": "XKX"}
	for _, c := range data.List {
		want[c.Alpha2] = c.Alpha3
	}
	got := map[string]string{}
	for _, c := range rules.Countries() {
		got[c.Alpha2] = c.Alpha3
	}
	for a2, a3 := range want {
		if got[a2] != a3 {
			t.Errorf("iso-codes has %s/%s, table has %q", a2, a3, got[a2])
		}
	}
	for a2 := range got {
		if _, ok := want[a2]; !ok {
			t.Errorf("table has %s, iso-codes does not", a2)
		}
	}
}

func TestNormalizeCountryCode(t *testing.T) {
	tests := []struct {
		in, want string
		res      rules.CountryResult
	}{
		{"FR", "FR", rules.CountryOK},
		{"DEU", "DEU", rules.CountryOK},
		{"fr", "FR", rules.CountryLowercase},
		{"Fr", "FR", rules.CountryLowercase},
		{"deu", "DEU", rules.CountryLowercase},
		{"XX", "XX", rules.CountryUnknown},
		{"xx", "xx", rules.CountryUnknown},
		{"FRAN", "FRAN", rules.CountryUnknown},
		{"", "", rules.CountryUnknown},
		{"F", "F", rules.CountryUnknown},
		{"F1", "F1", rules.CountryUnknown},
		{"é", "é", rules.CountryUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, res := rules.NormalizeCountryCode(tt.in)
			if got != tt.want || res != tt.res {
				t.Errorf("NormalizeCountryCode(%q) = %q, %v; want %q, %v", tt.in, got, res, tt.want, tt.res)
			}
		})
	}
	if !rules.SameCountry("FR", "FRA") || rules.SameCountry("FR", "DEU") || rules.SameCountry("FR", "fr") {
		t.Error("SameCountry is wrong")
	}
}

func TestCheckDateOfBirth(t *testing.T) {
	today := rules.MakeDate(2026, 11, 23)
	tests := []struct {
		in   string
		want rules.DateResult
	}{
		{"1984-03-12", rules.DateOK},
		{"2000-02-29", rules.DateOK}, // divisible by 400
		{"2024-02-29", rules.DateOK},
		{"1900-02-29", rules.DateInvalid}, // divisible by 100
		{"2023-02-29", rules.DateInvalid},
		{"1984-02-30", rules.DateInvalid},
		{"1984-04-31", rules.DateInvalid},
		{"1984-13-01", rules.DateInvalid},
		{"1984-00-10", rules.DateInvalid},
		{"1984-01-00", rules.DateInvalid},
		{"0000-01-01", rules.DateInvalid},
		{"1984-3-12", rules.DateInvalid},
		{"12/03/1984", rules.DateInvalid},
		{"1984-03-12T00:00:00Z", rules.DateInvalid},
		{"", rules.DateInvalid},
		{"19a4-03-12", rules.DateInvalid},
		{"2026-11-23", rules.DateOK},
		{"2026-11-24", rules.DateInFuture},
		{"2999-01-01", rules.DateInFuture},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := rules.CheckDateOfBirth(tt.in, today); got != tt.want {
				t.Errorf("CheckDateOfBirth(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestPhonePlausibleE164(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"+33612345678", true},
		{"+14155550123", true},
		{"+6834002", true}, // Niue, 7 digits
		{"+447911123456", true},
		{"+861234567890123", true}, // 15 digits
		{"+8612345678901234", false},
		{"+683400", false},
		{"0612345678", false},
		{"+33 6 12 34 56 78", false},
		{"+0612345678", false},
		{"+33-612345678", false},
		{"+", false},
		{"", false},
		{"+999123456789", false}, // 999 is not assigned
		{"33612345678", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := rules.PhonePlausibleE164(tt.in); got != tt.want {
				t.Errorf("PhonePlausibleE164(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*rules.Config)
		ok     bool
	}{
		{"default", func(*rules.Config) {}, true},
		{"kyc range inverted", func(c *rules.Config) { c.KYCMin, c.KYCMax = 3, 1 }, false},
		{"no relation types", func(c *rules.Config) { c.RelationTypes = nil }, false},
		{"relation type twice", func(c *rules.Config) { c.RelationTypes = append(c.RelationTypes, rules.RelationType{Value: 1}) }, false},
		{"negative risk-scan limit", func(c *rules.Config) { c.RiskScanLimit = -1 }, false},
		{"zero batch", func(c *rules.Config) { c.MaxBatch = 0 }, false},
		{"zero body", func(c *rules.Config) { c.MaxBody = 0 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rules.DefaultConfig()
			tt.modify(&c)
			_, err := c.Compile()
			if got := err == nil; got != tt.ok {
				t.Errorf("Compile() error = %v, want ok %v", err, tt.ok)
			}
		})
	}
	c := rules.DefaultConfig()
	c.ReviewGroups = []string{"retail"}
	c.CustomFields = []string{"segment"}
	cc, err := c.Compile()
	if err != nil {
		t.Fatal(err)
	}
	if !cc.KYCInRange(0) || !cc.KYCInRange(3) || cc.KYCInRange(4) || cc.KYCInRange(-1) {
		t.Error("KYCInRange is wrong")
	}
	if !cc.RelationTypeKnown(10) || cc.RelationTypeKnown(11) || cc.RelationTypeKnown(0) {
		t.Error("RelationTypeKnown is wrong")
	}
	if !cc.ReviewGroupKnown("retail") || cc.ReviewGroupKnown("eu") || !cc.CustomFieldKnown("segment") || cc.CustomFieldKnown("x") {
		t.Error("configured lists are not honoured")
	}
	open, _ := rules.DefaultConfig().Compile()
	if !open.ReviewGroupKnown("anything") || !open.CustomFieldKnown("anything") {
		t.Error("with no list configured, every group and field must be known")
	}
}

func TestCatalogueLookup(t *testing.T) {
	for _, c := range rules.Catalogue {
		got, ok := rules.Lookup(c.Code)
		if !ok || got != c {
			t.Errorf("Lookup(%q) = %+v, %v", c.Code, got, ok)
		}
	}
	if _, ok := rules.Lookup("nope"); ok {
		t.Error("Lookup(nope) found something")
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"1984-03-12", "2000-02-29", "1900-02-29", "0001-01-01", "9999-12-31", "1984-3-12", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := rules.ParseDate(s)
		tm, err := time.Parse("2006-01-02", s)
		wantOK := err == nil && tm.Year() >= 1
		if ok != wantOK {
			t.Fatalf("ParseDate(%q) ok = %v, time.Parse says %v (%v)", s, ok, wantOK, err)
		}
		if ok && d != rules.MakeDate(tm.Year(), int(tm.Month()), tm.Day()) {
			t.Fatalf("ParseDate(%q) = %d, time.Parse gives %v", s, d, tm)
		}
	})
}

func FuzzNormalizeCountryCode(f *testing.F) {
	for _, s := range []string{"FR", "fra", "Xk", "ZZ", "", "é1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, res := rules.NormalizeCountryCode(s)
		_, known := rules.LookupCountry(got)
		switch res {
		case rules.CountryOK:
			if got != s || !known {
				t.Fatalf("NormalizeCountryCode(%q) = %q OK but lookup says %v", s, got, known)
			}
		case rules.CountryLowercase:
			if !known || got == s {
				t.Fatalf("NormalizeCountryCode(%q) = %q lowercase but lookup says %v", s, got, known)
			}
		case rules.CountryUnknown:
			if got != s {
				t.Fatalf("NormalizeCountryCode(%q) changed an unknown code to %q", s, got)
			}
		}
	})
}
