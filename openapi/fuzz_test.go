package openapi

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/internal/golden"
)

// update rewrites the golden files and the fuzz seed corpus under testdata/:
// go test ./openapi -run 'Golden|FuzzSeeds' -update

// FuzzDecodeSaveCustomers holds the differential property (checkDecode) on
// arbitrary bytes: DecodeSaveCustomers never panics, and agrees with the
// reference decoder and with kin-openapi's ValidateRequest. The seed corpus is
// testdata/fuzz/FuzzDecodeSaveCustomers (plain go test runs it); to fuzz:
//
//	go test -run '^$' -fuzz=FuzzDecodeSaveCustomers -fuzztime=5m ./openapi/
func FuzzDecodeSaveCustomers(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		checkDecode(t, body)
		checkLimits(t, body)
	})
}

// checkLimits holds DecodeSaveCustomersLimits to DecodeSaveCustomers: with
// small limits it either stops (a *LimitError, or a *ValidationError with
// Truncated and exactly MaxViolations violations) or gives the very same
// result as without limits.
func checkLimits(tb testing.TB, body []byte) {
	tb.Helper()
	want, wantErr := DecodeSaveCustomers(body)
	for _, lim := range []Limits{
		{MaxCustomers: 1}, {MaxCustomers: 2}, {MaxViolations: 1}, {MaxViolations: 3}, {MaxCustomers: 1, MaxViolations: 1},
		{RecordLimits: RecordLimits{MaxRelations: 1}}, {RecordLimits: RecordLimits{MaxVariations: 1}}, {RecordLimits: RecordLimits{MaxItems: 1}},
		{RecordLimits: RecordLimits{MaxKeys: 1}}, {RecordLimits: RecordLimits{MaxIDLength: 2, MaxStringLength: 4}},
		{RecordLimits: RecordLimits{MaxAllVariations: 2, MaxAllKeys: 2}},
	} {
		got, err := DecodeSaveCustomersLimits(body, lim)
		var le *LimitError
		var ve *ValidationError
		switch {
		case errors.As(err, &le) && le.What != LimitCustomers:
			if le.Limit != limitOf(lim, le.What) {
				tb.Fatalf("body %q, %+v: got %v", body, lim, err)
			}
			continue
		case errors.As(err, &le):
			if lim.MaxCustomers == 0 || le.Limit != lim.MaxCustomers {
				tb.Fatalf("body %q, %+v: got %v", body, lim, err)
			}
			if want != nil && len(want.Customers) > lim.MaxCustomers {
				continue
			}
			// Fewer customers in the end: an earlier, repeated "customers" was longer.
			if !bytes.Contains(body, []byte("customers")) {
				tb.Fatalf("body %q, %+v: got %v without customers", body, lim, err)
			}
		case errors.As(err, &ve) && ve.Truncated:
			if len(ve.Violations) != lim.MaxViolations {
				tb.Fatalf("body %q, %+v: got %d violations, want %d", body, lim, len(ve.Violations), lim.MaxViolations)
			}
		default:
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(err, wantErr) {
				tb.Fatalf("body %q, %+v: got %v %v, want %v %v", body, lim, got, err, want, wantErr)
			}
		}
		if want != nil && len(want.Customers) > lim.MaxCustomers && lim.MaxCustomers > 0 && le == nil {
			tb.Fatalf("body %q, %+v: %d customers, got %v, want a *LimitError", body, lim, len(want.Customers), err)
		}
	}
}

// limitOf returns the limit of lim that a LimitError's What names (0 for
// none).
func limitOf(lim Limits, what string) int {
	return map[string]int{
		LimitCustomers: lim.MaxCustomers, LimitRelations: lim.MaxRelations, LimitVariations: lim.MaxVariations,
		LimitItems: lim.MaxItems, LimitKeys: lim.MaxKeys, LimitAllVariations: lim.MaxAllVariations, LimitAllKeys: lim.MaxAllKeys, LimitIDLength: lim.MaxIDLength, LimitStringLength: lim.MaxStringLength,
	}[what]
}

// fuzzSeeds are the seed bodies: the corpus's valid bodies and one of each
// hostile value at the places that matter.
func fuzzSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	seeds := baseBodies(tb)
	for _, v := range hostileValues {
		seeds = append(seeds,
			[]byte(`{"customers":[{"external_id":"a","kyc_level":`+v+`}]}`),
			[]byte(`{"customers":[{"contacts":`+v+`,"fields":{"a":`+v+`}}],"relations":`+v+`}`),
			[]byte(`{"customers":[{"variations":[`+v+`],"x":`+v+`}],"verify_input":`+v+`}`),
		)
	}
	for _, s := range []string{"", " ", "{", `{"customers":[}`, "{} x", `{"a":"\u12`, "[01]", "\xef\xbb\xbf{}"} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

// TestFuzzSeeds checks that the committed seed corpus is the one fuzzSeeds
// makes (rewrite it with -update), so that a new hostile value reaches the
// fuzzer too.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeSaveCustomers")
	want := map[string]string{}
	for _, s := range fuzzSeeds(t) {
		name := fmt.Sprintf("seed-%x", sha256.Sum256(s))[:21]
		want[name] = "go test fuzz v1\n[]byte(" + strconv.Quote(string(s)) + ")\n"
	}
	if golden.Updating() {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, content := range want {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, content := range want {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("seed %s missing (run go test ./openapi -run FuzzSeeds -update): %v", name, err)
		}
		if string(got) != content {
			t.Errorf("seed %s differs from fuzzSeeds; run with -update", name)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "seed-") && want[e.Name()] == "" {
			t.Errorf("stale seed %s; delete it", e.Name())
		}
	}
}
