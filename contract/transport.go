package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

func checkWrongContentType(t *checkT) {
	x := t.Do(request{method: http.MethodPost, path: savePath, body: t.probeBody(), contentType: "text/plain"})
	if x.Status != http.StatusUnsupportedMediaType {
		t.Errorf(x, "415 for Content-Type text/plain")
		return
	}
	t.expectProblem(x)
}

// checkWrongMethod sends GET and PUT, without a body, to the two vendor
// paths: only the mock documents the answer (the vendor publishes none).
func checkWrongMethod(t *checkT) {
	for _, path := range []string{savePath, tokenPath} {
		for _, method := range []string{http.MethodGet, http.MethodPut} {
			x := t.Do(request{method: method, path: path, auth: authNone})
			if x.Status != http.StatusMethodNotAllowed {
				t.Errorf(x, "405 for %s %s", method, path)
				continue
			}
			if allow := x.Header.Get("Allow"); !listsToken(allow, http.MethodPost) {
				t.Errorf(x, "an Allow header that lists POST, got %q", allow)
			}
			t.expectProblem(x)
		}
	}
}

// checkUnsupportedEncoding sends a verify save whose Content-Encoding is br,
// which the mock does not read (it reads gzip, deflate and identity); the
// body is plain JSON, so a server that ignored the header would save it.
func checkUnsupportedEncoding(t *checkT) {
	x := t.Do(request{method: http.MethodPost, path: savePath, body: t.probeBody(), header: http.Header{"Content-Encoding": {"br"}}})
	if x.Status != http.StatusUnsupportedMediaType {
		t.Errorf(x, "415 for Content-Encoding br")
		return
	}
	if ae := x.Header.Get("Accept-Encoding"); !listsToken(ae, "gzip") {
		t.Errorf(x, "an Accept-Encoding header that lists gzip, got %q", ae)
	}
	t.expectProblem(x)
}

// listsToken says whether the comma-separated header value list has token.
func listsToken(list, token string) bool {
	return slices.Contains(strings.Split(strings.ReplaceAll(list, " ", ""), ","), token)
}

func checkMalformedJSON(t *checkT) {
	body := []byte(fmt.Sprintf(`{"verify_input":true,"customers":[{"external_id":%q,"account_type":"N"`, t.NewID("malformed")))
	x := t.Do(request{method: http.MethodPost, path: savePath, body: body})
	if x.Status != http.StatusBadRequest {
		t.Errorf(x, "400 for a body cut short")
		return
	}
	t.expectProblem(x)
	var p openapi.Problem
	if json.Unmarshal(x.Body, &p) == nil && p.Offset == nil {
		t.Errorf(x, "the problem to give the offset of the syntax error")
	}
}

func checkSchemaInvalid(t *checkT) {
	t.needBatch(2)
	body := fmt.Sprintf(`{"verify_input":true,"customers":[{"external_id":%q,"account_type":"N","last_name":"Doe","kyc_level":"high"},{"external_id":%q,"account_type":"F","company_name":"Acme","fields":["not","an","object"]}]}`,
		t.NewID("schema"), t.NewID("schema"))
	x := t.Do(request{method: http.MethodPost, path: savePath, body: []byte(body)})
	if x.Status != http.StatusUnprocessableEntity {
		t.Errorf(x, "422 for a kyc_level that is a string and fields that is an array")
		return
	}
	t.expectProblem(x)
	var p openapi.Problem
	_ = json.Unmarshal(x.Body, &p)
	for _, want := range []string{"/customers/0/kyc_level", "/customers/1/fields"} {
		found := false
		for _, v := range p.Violations {
			if v.Pointer == want {
				found = true
			}
		}
		if !found {
			t.Errorf(x, "a violation at %s (every violation is listed)", want)
		}
	}
}

func checkOversizedBody(t *checkT) {
	// One record without account_type and verify_input: true: even a server
	// that accepted the body could persist nothing.
	max := t.r.serverRules().MaxBody
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"verify_input":true,"customers":[{"external_id":%q,"comment":"`, t.NewID("big"))
	b.WriteString(strings.Repeat("x", int(max)+1-b.Len()))
	b.WriteString(`"}]}`)
	x := t.Do(request{method: http.MethodPost, path: savePath, body: b.Bytes()})
	if x.Status != http.StatusRequestEntityTooLarge {
		t.Errorf(x, "413 for a body of %d bytes (the limit is %d)", b.Len(), max)
		return
	}
	t.expectProblem(x)
}

func checkOversizedBatch(t *checkT) {
	t.oversizedList("customers", "external_id", t.r.serverRules().MaxBatch, "customers (the batch limit is %d)")
}

func checkOversizedRelations(t *checkT) {
	t.oversizedList("relations", "relation_external_id", t.r.serverRules().MaxRelations, "relations (the relation limit is %d)")
}

// oversizedList sends a dry-run save whose list holds limit+1 records with
// only their id key, and expects a 413; what says what they are.
func (t *checkT) oversizedList(list, key string, limit int, what string) {
	n := limit + 1
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"verify_input":true,%q:[`, list)
	base := t.NewID(list)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{%q:"%s-%d"}`, key, base, i)
	}
	b.WriteString(`]}`)
	if int64(b.Len()) > t.r.serverRules().MaxBody {
		t.Skipf("a batch of %d %s does not fit in the body limit of %d bytes", n, list, t.r.serverRules().MaxBody)
	}
	x := t.Do(request{method: http.MethodPost, path: savePath, body: b.Bytes()})
	if x.Status != http.StatusRequestEntityTooLarge {
		t.Errorf(x, "413 for %d "+what, n, limit)
		return
	}
	t.expectProblem(x)
}
