package contract_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/algoreg-kit/algoreg-kit/contract"
	"github.com/algoreg-kit/algoreg-kit/internal/golden"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// behaviour is one row of the behaviour matrix: a behaviour that
// mockserver/README.md or the document promises, the checks that fail when
// it is broken, and the built-in mutant that breaks it (mutation_test.go).
type behaviour struct {
	area   string
	what   string
	checks []string
	mutant string
	// with are checks run beside checks against the mutant, for a final
	// check that judges the traffic of the others; they need not fail.
	with []string
}

// matrix is the behaviour matrix, in the order contract/README.md lists it:
// the catalogue's codes first, one row each, then the rest by area.
func matrix() []behaviour {
	var rows []behaviour
	for _, c := range rules.Catalogue {
		checks := []string{"negative/code/" + c.Code}
		if c.Code == rules.RelationCustomerUnknown {
			checks = append(checks, "behaviour/relation-unknown-customer-rejected")
		}
		rows = append(rows, behaviour{area: "code " + string(c.Severity), what: fmt.Sprintf("`%s`: %s", c.Code, c.Summary), checks: checks, mutant: codeMutant(c.Code)})
	}
	return append(rows, []behaviour{
		{"status", "a batch of valid records answers `ok` with an empty `detail`", []string{"behaviour/all-valid-ok"}, "answers partial for an all-valid batch", nil},
		{"status", "records with only warnings are saved and the batch answers `ok`", []string{"negative/code/country_code_lowercase"}, "answers partial when there are only warnings", nil},
		{"status", "a batch with valid and rejected records answers `partial`", []string{"behaviour/mixed-batch-partial"}, "answers a wrong status", nil},
		{"status", "a batch whose every record is rejected answers `failed`", []string{"behaviour/all-invalid-failed"}, "answers partial for an all-invalid batch", nil},
		{"status", "value rules are never a `422`: they are reported per record in a `200`", []string{"behaviour/all-invalid-failed"}, "answers a rejected batch with a 422", nil},
		{"status", "`status` is one of the document's `ok`, `partial`, `failed`", []string{"schema/save-response-valid"}, "answers a status outside the enum", nil},
		{"schema", "a save answers a body that matches `SaveCustomersResponse` (no undocumented property)", []string{"schema/save-response-valid"}, "breaks the response schema", nil},
		{"added", "every created customer is listed in `added`", []string{"behaviour/create-lists-added"}, "drops an added entry", nil},
		{"added", "`added` is in request order", []string{"behaviour/create-lists-added"}, "lists added in reverse order", nil},
		{"added", "each created customer has its own `customer_id`", []string{"behaviour/create-lists-added"}, "gives two customers one customer_id", nil},
		{"added", "a `customer_id` is a UUID", []string{"schema/save-response-valid"}, "answers a customer_id that is not a uuid", nil},
		{"added", "an updated customer is not listed in `added`", []string{"behaviour/resave-not-added"}, "re-adds updated customers", nil},
		{"added", "a rejected customer is not listed in `added`", []string{"behaviour/all-invalid-failed"}, "lists rejected customers in added", nil},
		{"added", "parallel saves of one new `external_id` create it once", []string{"behaviour/concurrent-create-once"}, "creates a customer twice under concurrency", nil},
		{"detail", "`detail` has an entry only for records with errors or warnings", []string{"behaviour/all-valid-ok"}, "lists clean records in detail", nil},
		{"detail", "`detail` is in request order", []string{"behaviour/detail-in-request-order"}, "sorts detail by id instead of request order", nil},
		{"detail", "`detail` lists customers first, then relations", []string{"behaviour/detail-in-request-order"}, "lists relations before customers in detail", nil},
		{"detail", "each entry is under the record's own `external_id`", []string{"behaviour/mixed-batch-partial"}, "blames the wrong external_id in detail", nil},
		{"detail", "a warning is listed under `warnings`, not `errors`", []string{"negative/code/country_code_lowercase"}, "reports warnings as errors", nil},
		{"detail", "an error is listed under `errors`, not `warnings`", []string{"negative/code/account_type_invalid"}, "reports errors as warnings", nil},
		{"detail", "every message has a sentence in its `detail`", []string{"negative/code/unknown_key"}, "sends messages without a sentence", nil},
		{"merged record", "an update replaces the fields it gives and keeps every other stored field", []string{"behaviour/delta-update-keeps-fields"}, "ignores delta semantics", nil},
		{"merged record", "a JSON `null` in an update keeps the stored value", []string{"behaviour/null-means-absent"}, "stores null as an empty value", nil},
		{"merged record", "an update needs no `account_type` or name: it is accepted, not added", []string{"behaviour/delta-update-accepted"}, "treats every save as a create", nil},
		{"merged record", "`review_groups` and `contacts` given as a string are split and stored as arrays", []string{"behaviour/string-list-split"}, "does not split string lists", nil},
		{"merged record", "variations are added to the stored set; `remove` takes one out", []string{"behaviour/variations-add-remove"}, "ignores variation removal", nil},
		{"relations", "a relation may name customers created by the same request", []string{"behaviour/relations-same-request"}, "refuses relations to customers of the same request", nil},
		{"relations", "every relation type of the table (`--relation-types`, 1–10 by default) is accepted", []string{"generative/valid-batches"}, "refuses relation types above 5", nil},
		{"relations", "a saved relation is stored between its two customers", []string{"behaviour/relation-stored"}, "stores no relation", nil},
		{"relations", "a relation saved again is updated in place by `relation_external_id`", []string{"behaviour/relation-upsert"}, "ignores updates of stored relations", nil},
		{"stored warnings", "a lower-case country code is stored upper case", []string{"behaviour/warnings-stored-as-documented"}, "stores lower-case country codes as given", nil},
		{"stored warnings", "a phone that is not E.164 is stored as given", []string{"behaviour/warnings-stored-as-documented"}, "normalises phones that are not E.164", nil},
		{"stored warnings", "a custom field not in `--custom-fields` is dropped", []string{"behaviour/warnings-stored-as-documented"}, "stores unknown custom fields", nil},
		{"stored warnings", "a key the API does not define is ignored, not stored", []string{"behaviour/warnings-stored-as-documented"}, "stores unknown keys", nil},
		{"merged record", "a save of more customers than `--risk-scan-limit` is stored with the risk scan disabled", []string{"behaviour/risk-scan-forced"}, "reports risk_scan_disabled false", nil},
		{"verify_input", "`verify_input: true` stores nothing: a later real save creates the customers", []string{"behaviour/verify-input-persists-nothing"}, "persists in verify mode", nil},
		{"verify_input", "`verify_input: true` stores nothing, as the mock's store shows (what `--verify-only` relies on)", []string{"safety/verify-only-stores-nothing"}, "persists verify_input saves and says so", nil},
		{"verify_input", "`verify_input: true` answers the real save's `detail` and `status`", []string{"behaviour/verify-input-same-answer"}, "drops warnings in verify mode", nil},
		{"verify_input", "`verify_input: true` answers an empty `added`", []string{"behaviour/verify-input-same-answer"}, "lists added in verify mode", nil},
		{"verify_input", "`verify_input` is echoed (`false` when absent)", []string{"behaviour/verify-input-echoed"}, "does not echo verify_input", nil},
		{"token", "the password grant answers a Bearer token with `Cache-Control: no-store`, and the token works", []string{"negative/auth/token-grant"}, "answers a token without Cache-Control", nil},
		{"token", "an unknown user or a wrong password is `400 invalid_grant` (RFC 6749 §5.2), not a 401", []string{"negative/auth/token-wrong-password-400"}, "answers invalid_grant with a 401", nil},
		{"token", "with `--users`, an unknown user or a wrong password gets no token", []string{"negative/auth/token-wrong-password-400"}, "gives a token for any user and password", nil},
		{"token", "with `--users` and `--lockout-user`: after `--lockout-threshold` wrong passwords in a row the right one gets no token (`400 invalid_grant`)", []string{"negative/auth/lockout"}, "never locks an account", nil},
		{"token", "with `--users` and `--lockout-user`: an unknown user and a wrong password get the same answer, byte for byte (no user enumeration)", []string{"negative/auth/lockout"}, "tells an unknown user apart", nil},
		{"token", "a grant other than `password` is `400 unsupported_grant_type`", []string{"negative/auth/token-unsupported-grant-400"}, "answers unsupported grants with invalid_request", nil},
		{"token", "a missing parameter is `400 invalid_request`", []string{"negative/auth/token-missing-parameter-400"}, "answers a missing parameter with invalid_grant", nil},
		{"token", "a body that is not well-formed JSON is `400 invalid_request`", []string{"negative/auth/token-malformed-400"}, "answers a malformed token request with a 500", nil},
		{"token", "a form-encoded body is `415` (JSON only, unless the mock runs `--lenient`)", []string{"negative/auth/token-form-415"}, "takes form-encoded token requests", nil},
		{"business", "a token or Basic user acts as its own business: one `external_id` under two businesses is two customers", []string{"behaviour/tenant-isolation"}, "shares state across tokens", nil},
		{"business", "a Basic user acts as its own business: one `external_id` saved by two businesses' Basic users is two customers", []string{"behaviour/tenant-isolation-basic"}, "serves Basic users as the first business", nil},
		{"open mode", "open mode (no `--users`): any username and password get a token, and the username names its own business", []string{"behaviour/tenant-isolation"}, "serves every user of open mode as one business", nil},
		{"auth", "a request without credentials is `401`", []string{"negative/auth/no-credentials-401"}, "answers without auth", nil},
		{"auth", "a `401` carries `WWW-Authenticate`", []string{"negative/auth/no-credentials-401"}, "answers a 401 without WWW-Authenticate", nil},
		{"auth", "a `401` is problem JSON", []string{"negative/auth/garbage-token-401"}, "answers a 401 in text/plain", nil},
		{"auth", "a bearer token the server never issued is `401`", []string{"negative/auth/garbage-token-401"}, "accepts any bearer token", nil},
		{"auth", "with `--users`, a wrong Basic user and password is `401` (open mode takes any)", []string{"negative/auth/wrong-password-401"}, "accepts any Basic password", nil},
		{"auth", "HTTP Basic with the user's credentials works", []string{"negative/auth/basic-accepted"}, "refuses HTTP Basic", nil},
		{"HTTP", "a save whose `Content-Type` is not JSON is `415`", []string{"transport/wrong-content-type-415"}, "ignores the content type", nil},
		{"HTTP", "an error is `application/problem+json`", []string{"transport/wrong-content-type-415"}, "answers a problem as application/json", nil},
		{"HTTP", "a method the save or token path does not serve is `405` problem details (mock only)", []string{"transport/wrong-method-405"}, "answers a wrong method with 404", nil},
		{"HTTP", "a `405` has `Allow`, which lists `POST` (mock only)", []string{"transport/wrong-method-405"}, "answers a 405 without Allow", nil},
		{"HTTP", "a save whose `Content-Encoding` the mock does not read is `415` problem details (mock only)", []string{"transport/unsupported-encoding-415"}, "accepts any Content-Encoding", nil},
		{"HTTP", "that `415` lists the encodings read in `Accept-Encoding` (mock only)", []string{"transport/unsupported-encoding-415"}, "answers an unread encoding without Accept-Encoding", nil},
		{"HTTP", "a body that is not well-formed JSON is `400`, not a 5xx", []string{"transport/malformed-json-400"}, "answers malformed JSON with a 500", nil},
		{"HTTP", "the `400` of malformed JSON gives the byte `offset`", []string{"transport/malformed-json-400"}, "gives no offset for malformed JSON", nil},
		{"HTTP", "a body that breaks the schema is `422` listing every violation with its pointer", []string{"transport/schema-invalid-422"}, "lists no violations in a 422", nil},
		{"HTTP", "a schema violation is `422`, not `400`", []string{"transport/schema-invalid-422"}, "answers a schema violation with a 400", nil},
		{"HTTP", "a body over `--max-body` is `413`", []string{"transport/oversized-body-413"}, "answers an oversized body with a 400", nil},
		{"HTTP", "more customers than `--max-batch` is `413`", []string{"transport/oversized-batch-413"}, "answers an oversized batch with a 422", nil},
		{"HTTP", "more relations than `--max-relations` is `413`", []string{"transport/oversized-relations-413"}, "answers too many relations with a 422", nil},
		{"HTTP", "a value the schema allows is never a `422`, however long (up to `--max-string-length`): the rules judge it in a `200`", []string{"generative/single-field-mutations"}, "refuses strings longer than 255 characters", nil},
		{"HTTP", "every answer, errors included, matches the document (a problem has its `type`)", []string{"schema/every-response-valid"}, "answers a problem without its type", []string{"transport/malformed-json-400"}},
		{"HTTP", "no request is answered with a 5xx", []string{"negative/never-5xx"}, "answers a made-up token with a 502", []string{"negative/auth/garbage-token-401"}},
	}...)
}

// TestMatrix holds the matrix to its rules: every row names at least one
// check and a mutant, each of which exists; no two rows share a mutant, and
// every mutant has its row.
func TestMatrix(t *testing.T) {
	ids := map[string]bool{}
	for _, c := range contract.Checks() {
		ids[c.ID] = true
	}
	ms := map[string]bool{}
	for _, m := range mutants() {
		if ms[m.name] {
			t.Errorf("two mutants are named %q", m.name)
		}
		ms[m.name] = true
	}
	used := map[string]string{}
	for _, b := range matrix() {
		if len(b.checks) == 0 {
			t.Errorf("the row %q names no check", b.what)
		}
		for _, c := range slices.Concat(b.checks, b.with) {
			if !ids[c] {
				t.Errorf("the row %q names the check %q, which does not exist", b.what, c)
			}
		}
		switch {
		case b.mutant == "":
			t.Errorf("the row %q names no mutant", b.what)
		case !ms[b.mutant]:
			t.Errorf("the row %q names the mutant %q, which does not exist", b.what, b.mutant)
		case used[b.mutant] != "":
			t.Errorf("the rows %q and %q share the mutant %q: give each its own", used[b.mutant], b.what, b.mutant)
		}
		used[b.mutant] = b.what
	}
	for name := range ms {
		if used[name] == "" {
			t.Errorf("the mutant %q has no row in the matrix", name)
		}
	}
}

// TestMutants runs, against each row's mutant, only the checks the row
// names (and its with checks), and requires every named check to fail. The
// mutants run mutantsAtOnce at a time (their requests wait on one another
// more than on the CPU, which t.Parallel would bound to GOMAXPROCS), then
// each row reports as a subtest.
func TestMutants(t *testing.T) {
	byName := map[string]mutant{}
	for _, m := range mutants() {
		byName[m.name] = m
	}
	rows := matrix()
	type result struct {
		failed []string
		err    error
	}
	results := make([]result, len(rows))
	sem := make(chan struct{}, mutantsAtOnce)
	var wg sync.WaitGroup
	for i, b := range rows {
		m, ok := byName[b.mutant]
		if !ok {
			continue // TestMatrix reports it
		}
		cfg := startMock(t, m.wrap)
		if openModeMutants[m.name] {
			cfg = startOpenMock(t, m.wrap)
		}
		cfg.Run = regexp.MustCompile("^(" + strings.Join(quoteAll(slices.Concat(b.checks, b.with)), "|") + ")$")
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			rep, err := contract.Run(context.Background(), cfg)
			results[i] = result{rep.Failed(), err}
		}()
	}
	// TestMock holds the checks to passing against the sound mock with a
	// users file; the open-mode rows' checks must pass against a sound
	// mock in open mode (not be skipped), or their mutants prove nothing.
	for _, b := range rows {
		if openModeMutants[b.mutant] {
			cfg := startOpenMock(t, nil)
			cfg.Run = regexp.MustCompile("^(" + strings.Join(quoteAll(b.checks), "|") + ")$")
			rep, err := contract.Run(context.Background(), cfg)
			require.NoError(t, err)
			for _, c := range rep.Checks {
				require.Equal(t, contract.Pass, c.Status, "%s against the sound mock in open mode: %s", c.ID, c.Reason)
			}
		}
	}
	wg.Wait()
	caught := 0
	for i, b := range rows {
		t.Run(b.mutant, func(t *testing.T) {
			res := results[i]
			require.NoError(t, res.err)
			for _, c := range b.checks {
				if !slices.Contains(res.failed, c) {
					t.Errorf("the mutant %q survived %s (row %q); failed: %v", b.mutant, c, b.what, res.failed)
				}
			}
			if !t.Failed() {
				caught++
			}
		})
	}
	t.Logf("mutation score: %d/%d mutants caught by their named checks", caught, len(rows))
}

func quoteAll(ids []string) []string {
	var out []string
	for _, id := range ids {
		out = append(out, regexp.QuoteMeta(id))
	}
	return out
}

// mutantsAtOnce is how many mutants TestMutants runs at a time.
const mutantsAtOnce = 8

// The markers of the matrix's section in README.md.
const (
	matrixBegin = "<!-- behaviour matrix: generated by go test ./contract -run TestMatrixREADME -update; do not edit -->\n"
	matrixEnd   = "<!-- end of the behaviour matrix -->\n"
)

// matrixSection is the README's matrix section as the code has it.
func matrixSection() string {
	var b strings.Builder
	b.WriteString(matrixBegin)
	fmt.Fprintf(&b, "\n%d behaviours, %d mutants, mutation score %d/%d (`TestMutants`).\n\n", len(matrix()), len(mutants()), len(matrix()), len(matrix()))
	b.WriteString("| area | behaviour | checks that fail when it is broken | mutant that proves it |\n|---|---|---|---|\n")
	for _, r := range matrix() {
		var cs []string
		for _, c := range r.checks {
			cs = append(cs, "`"+c+"`")
		}
		check := strings.Join(cs, ", ")
		if len(r.with) > 0 {
			check += " (run with `" + strings.Join(r.with, "`, `") + "`)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.area, r.what, check, r.mutant)
	}
	b.WriteString("\n" + matrixEnd)
	return b.String()
}

// TestMatrixREADME fails when README.md's matrix section is not what the
// code generates; -update rewrites it.
func TestMatrixREADME(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	i, j := bytes.Index(readme, []byte(matrixBegin)), bytes.Index(readme, []byte(matrixEnd))
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the markers of the behaviour matrix:\n%s…\n%s", matrixBegin, matrixEnd)
	}
	got := string(readme[i : j+len(matrixEnd)])
	want := matrixSection()
	if golden.Updating() && got != want {
		out := slices.Concat(readme[:i], []byte(want), readme[j+len(matrixEnd):])
		require.NoError(t, os.WriteFile("README.md", out, 0o644))
		got = want
	}
	if got != want {
		t.Errorf("README.md's behaviour matrix is out of step with matrix_test.go; run go test ./contract -run TestMatrixREADME -update")
	}
}
