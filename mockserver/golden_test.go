package mockserver_test

import (
	"context"
	"encoding/json"
	"regexp"
	"sort"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/internal/golden"
	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/openapi"
)

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`)

// TestDocumentExamples saves every request example of the document into one
// business, and compares each answer (customer_ids masked) and
// the final stored state with testdata/TestDocumentExamples.golden.json.
// Refresh with: go test ./mockserver -run TestDocumentExamples -update
func TestDocumentExamples(t *testing.T) {
	doc, err := openapi.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	examples := doc.Paths.Find("/api/v1/customers/save").Post.RequestBody.Value.Content["application/json"].Examples
	// The document's narrative first (create, then update, then dry run), then
	// any other example in name order.
	names := []string{}
	for _, name := range []string{"individualAndFirm", "deltaUpdate", "dryRun"} {
		if examples[name] != nil {
			names = append(names, name)
		}
	}
	var others []string
	for name := range examples {
		if name != "individualAndFirm" && name != "deltaUpdate" && name != "dryRun" {
			others = append(others, name)
		}
	}
	sort.Strings(others)
	names = append(names, others...)
	ts := newServer(t, mockserver.Config{})
	got := map[string]any{}
	for _, name := range names {
		body, err := json.Marshal(examples[name].Value.Value)
		if err != nil {
			t.Fatal(err)
		}
		resp := save(t, ts, string(body))
		got["response "+name] = resp
	}
	r := do(t, ts.Client, "GET", ts.URL+"/__admin/customers", "", "")
	var page any
	if err := json.Unmarshal(r.body, &page); err != nil {
		t.Fatal(err)
	}
	got["stored customers"] = page
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = uuidRE.ReplaceAll(b, []byte("00000000-0000-4000-8000-000000000000"))
	golden.Check(t, t.Name()+".golden.json", append(b, '\n'))
}
