package openapi

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v4"
)

func loadVendor(t *testing.T) (*openapi3.T, []byte) {
	t.Helper()
	b, err := VendorDocument()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := LoadVendor(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return doc, b
}

// TestVendorDocument: the vendor document is valid OpenAPI with the two
// vendor operations only, nothing marked x-mock-only anywhere, no component
// that nothing refers to, and the token endpoint as an OAuth2 password flow.
func TestVendorDocument(t *testing.T) {
	doc, b := loadVendor(t)
	var paths []string
	for p := range doc.Paths.Map() {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	if want := []string{"/api/v1/customers/save", "/api/v1/token"}; !slices.Equal(paths, want) {
		t.Errorf("paths %v, want %v", paths, want)
	}
	if bytes.Contains(b, []byte("x-mock-only")) {
		t.Errorf("the vendor document still has something marked x-mock-only")
	}
	for _, banned := range []string{"/__admin", "/healthz", "/openapi.yaml", "Prefer", "Algoreg-Kit-Detail-Omitted", "operatorToken", "Mock inspection"} {
		var n yaml.Node
		if err := yaml.Unmarshal(b, &n); err != nil {
			t.Fatal(err)
		}
		if where := findKeyOrValue(&n, banned); where != "" {
			t.Errorf("the vendor document still has %q (%s)", banned, where)
		}
	}
	// Nor in prose: no section, sentence or example about what only the
	// mock serves.
	for _, banned := range []string{"(mock only)", "Prefer", "Limits of the mock", "urn:algoreg-kit:problem:injected"} {
		if i := bytes.Index(b, []byte(banned)); i >= 0 {
			t.Errorf("the vendor document still says %q: …%s…", banned, b[max(0, i-80):min(len(b), i+80)])
		}
	}
	// Every component is referred to (the filter drops the others).
	used := map[string]bool{}
	var root yaml.Node
	yaml.Unmarshal(b, &root)
	top := root.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != "components" {
			collectRefs(top.Content[i+1], used)
		}
	}
	collectSecurity(top, used)
	forEachComponent(mapValue(top, "components"), func(ref string, c *yaml.Node) { collectRefs(c, used) })
	forEachComponent(mapValue(top, "components"), func(ref string, c *yaml.Node) {
		if !used[ref] {
			t.Errorf("%s is in the vendor document but nothing refers to it", ref)
		}
	})
	for _, name := range []string{"SaveCustomersRequest", "SaveCustomersResponse", "TokenRequest", "TokenResponse", "OAuthError", "Problem"} {
		if doc.Components.Schemas[name] == nil {
			t.Errorf("schema %s missing", name)
		}
	}
	for _, op := range []*openapi3.Operation{doc.Paths.Value("/api/v1/customers/save").Post, doc.Paths.Value("/api/v1/token").Post} {
		for _, p := range op.Parameters {
			t.Errorf("%s keeps parameter %s", op.OperationID, p.Value.Name)
		}
	}
	s := doc.Components.SecuritySchemes["oauth2Password"]
	if s == nil || s.Value.Type != "oauth2" || s.Value.Flows == nil || s.Value.Flows.Password == nil || s.Value.Flows.Password.TokenURL != "/api/v1/token" {
		t.Errorf("oauth2Password is not an OAuth2 password flow with tokenUrl /api/v1/token: %+v", s)
	}
}

// TestFullDocumentUnchanged: the filter works on a copy; the mock's document
// keeps its mock-only paths and parameters.
func TestFullDocumentUnchanged(t *testing.T) {
	before := Document()
	if _, err := VendorDocument(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, Document()) {
		t.Fatal("VendorDocument changed the embedded document")
	}
	doc, err := Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/__admin/customers", "/healthz", "/openapi.yaml"} {
		if doc.Paths.Value(p) == nil {
			t.Errorf("full document lost %s", p)
		}
	}
	if doc.Components.Parameters["Prefer"] == nil {
		t.Error("full document lost the Prefer parameter")
	}
}

// findKeyOrValue returns where s occurs as a mapping key or a scalar prefix.
func findKeyOrValue(n *yaml.Node, s string) string {
	if n.Kind == yaml.ScalarNode && (n.Value == s || strings.HasPrefix(n.Value, s+"/") || strings.HasPrefix(n.Value, s+"{")) {
		return fmt.Sprintf("line %d", n.Line)
	}
	for _, c := range n.Content {
		if w := findKeyOrValue(c, s); w != "" {
			return w
		}
	}
	return ""
}

// TestVendorFilter: the filter on a small document: what is marked goes with
// every reference to it, then what only the removed parts referred to, at any
// depth; what a kept part refers to stays.
func TestVendorFilter(t *testing.T) {
	in := `openapi: 3.0.3
info: {title: t, version: "1"}
tags:
  - name: Kept
  - name: Mock
paths:
  /kept:
    post:
      tags: [Kept]
      parameters:
        - $ref: '#/components/parameters/MockHeader'
      responses:
        '200':
          description: ok
          headers:
            X-Mock:
              x-mock-only: true
              schema: {type: string}
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Kept'}
  /mock:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
    get:
      tags: [Mock]
      x-mock-only: true
      security: [{mockToken: []}]
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/MockOnly'}
components:
  securitySchemes:
    mockToken: {type: http, scheme: bearer}
  parameters:
    MockHeader: {name: X-Prefer, in: header, x-mock-only: true, schema: {type: string}}
  schemas:
    Kept:
      type: object
      properties:
        inner: {$ref: '#/components/schemas/Inner'}
    Inner: {type: string}
    MockOnly:
      type: object
      properties:
        deep: {$ref: '#/components/schemas/DeepMockOnly'}
    DeepMockOnly: {type: string}
    Orphan: {type: string}
`
	out, err := vendorDocument([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, gone := range []string{"/mock", "MockOnly", "DeepMockOnly", "Orphan", "MockHeader", "X-Mock", "mockToken", "name: Mock", "parameters:", "x-mock-only"} {
		if strings.Contains(s, gone) {
			t.Errorf("%q is still there:\n%s", gone, s)
		}
	}
	for _, kept := range []string{"/kept", "Kept:", "Inner:", "name: Kept"} {
		if !strings.Contains(s, kept) {
			t.Errorf("%q is gone:\n%s", kept, s)
		}
	}
	if _, err := openapi3.NewLoader().LoadFromData(out); err != nil {
		t.Errorf("the result does not load: %v", err)
	}
}

// withoutMockOnlySections drops a "(mock only)" section down to the next
// heading of its level or above, keeping its subsections' siblings.
func TestWithoutMockOnlySections(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"none", "intro\n## A\ntext", "intro\n## A\ntext"},
		{"last section", "intro\n## A\na\n## Mock (mock only)\nm\nm2", "intro\n## A\na"},
		{"middle section with a subsection", "## A\na\n## M (mock only)\nm\n### Sub\ns\n## B\nb", "## A\na\n## B\nb"},
		{"a subsection only", "## A\na\n### M (mock only)\nm\n### C\nc\n# Top\nt", "## A\na\n### C\nc\n# Top\nt"},
		{"not a heading", "say (mock only)\n#hashtag (mock only)\nend", "say (mock only)\n#hashtag (mock only)\nend"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := withoutMockOnlySections(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
