package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// openapiDir is package openapi's directory, seen from this package's.
const openapiDir = "../.."

// TestGeneratedFilesUpToDate runs the generator in memory and compares its
// output with the files on disk: a document changed without go generate, or
// a generated file edited by hand, fails here.
func TestGeneratedFilesUpToDate(t *testing.T) {
	files, err := generateFrom(openapiDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		path := filepath.Join(openapiDir, f.path)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%v: run go generate ./openapi/...", err) // the file is missing
			continue
		}
		if !bytes.Equal(got, f.src) {
			t.Errorf("%s is stale (openapi.yaml or the generator changed since it was written, or it was edited by hand): run go generate ./openapi/...", filepath.Join("openapi", f.path))
		}
	}
}

// withProperty returns the document with one more property in a schema,
// written after the line that declares the schema's properties.
func withProperty(t *testing.T, schemaName, yaml string) []byte {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(openapiDir, "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	at := strings.Index(s, "\n    "+schemaName+":\n")
	if at < 0 {
		t.Fatalf("no schema %s", schemaName)
	}
	props := strings.Index(s[at:], "      properties:\n")
	if props < 0 {
		t.Fatalf("schema %s has no properties", schemaName)
	}
	cut := at + props + len("      properties:\n")
	return []byte(s[:cut] + yaml + s[cut:])
}

// TestNewPropertyReachesEveryTable adds a property to Customer and checks
// that every generated table has it: the struct, the key list, the decoder's
// dispatch and the fixtures encoder.
func TestNewPropertyReachesEveryTable(t *testing.T) {
	files, err := generate(withProperty(t, "Customer", "        place_of_birth:\n          type: string\n          nullable: true\n          description: Where the person was born.\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"model_gen.go": {
			"// Where the person was born.\n\tPlaceOfBirth *string `json:\"place_of_birth,omitempty\"`",
			`"place_of_birth",`, // in CustomerKeys
		},
		// The key's index depends on how many properties Customer has.
		"decode_gen.go": {"case \"place_of_birth\":\n\t\t\td.repeat(&keys, <n>)\n\t\t\td.stringField(&c.PlaceOfBirth, \"place_of_birth\")"},
		filepath.Join("..", "fixtures", "encode_gen.go"): {"\to = o.str(\"place_of_birth\", c.PlaceOfBirth)\n"},
	}
	for _, f := range files {
		for _, w := range want[f.path] {
			re := regexp.MustCompile(strings.ReplaceAll(regexp.QuoteMeta(w), "<n>", `[0-9]+`))
			if !re.Match(f.src) {
				t.Errorf("%s lacks\n%s", f.path, w)
			}
		}
		delete(want, f.path)
	}
	if len(want) > 0 {
		t.Errorf("not generated: %v", want)
	}
}

// TestGeneratorRefuses: what the decoder cannot read is refused with a
// sentence naming the schema and the property.
func TestGeneratorRefuses(t *testing.T) {
	tests := []struct {
		name, schema, yaml, want string
	}{
		{"not nullable", "Customer", "        place_of_birth:\n          type: string\n", "schema Customer, property place_of_birth: not nullable"},
		{"number", "Customer", "        score:\n          type: number\n          nullable: true\n", "schema Customer, property score: type *float64 has no decoder"},
		{"array of integers", "Relation", "        shares:\n          type: array\n          nullable: true\n          items:\n            type: integer\n", `schema Relation, property shares: type "array"`},
		{"object", "Customer", "        address:\n          $ref: '#/components/schemas/Violation'\n", "schema Customer, property address: type *Violation has no decoder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := generate(withProperty(t, tt.schema, tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestGoName(t *testing.T) {
	for in, want := range map[string]string{
		"account_type": "AccountType", "alias_ids": "AliasIDs", "_op": "Op", "kyc_level_requested": "KYCLevelRequested",
		"child_customer_external_id": "ChildCustomerExternalID", "customer_id": "CustomerID", "expires_in": "ExpiresIn",
	} {
		if got := goName(in); got != want {
			t.Errorf("goName(%q) = %q, want %q", in, got, want)
		}
	}
}
