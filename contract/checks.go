package contract

import (
	"regexp"
	"slices"
	"strings"
)

// Checks returns the catalogue of checks, in the order a report lists them:
// by category, then as declared. IDs are stable; the negative/code/… checks
// follow rules.Catalogue, one per code. A check's function lives in the file
// of its category (behaviour.go, schema.go, …).
func Checks() []Check {
	all := slices.Concat([]Check{
		{ID: "schema/save-response-valid", Description: "a save answers 200 application/json with a body that matches SaveCustomersResponse", run: checkSaveResponseValid},
		{ID: "schema/document-examples-accepted", Description: "the document's own request examples are answered 200 with a Save customers response (ids given the run prefix)", run: checkDocumentExamples},
		{ID: "schema/every-response-valid", Description: "every response of the run has a status documented for its operation, and its content type and body match the document", final: true, run: checkEveryResponseValid},
		{ID: "behaviour/create-lists-added", Description: "new customers are listed in added, in request order, each with a customer_id unique across the batch", run: checkCreateListsAdded},
		{ID: "behaviour/resave-not-added", Description: "saving the same body twice creates once: the second answer adds nothing", NeedsPersistence: true, run: checkResaveNotAdded},
		{ID: "behaviour/delta-update-accepted", Description: "a delta update (external_id and one field) of a stored customer is accepted and not added", NeedsPersistence: true, run: checkDeltaAccepted},
		{ID: "behaviour/delta-update-keeps-fields", Description: "a delta update replaces the fields it gives and keeps every other stored field", NeedsPersistence: true, NeedsInspection: true, run: checkDeltaKeepsFields},
		{ID: "behaviour/null-means-absent", Description: "a JSON null in an update keeps the stored value", NeedsPersistence: true, NeedsInspection: true, run: checkNullMeansAbsent},
		{ID: "behaviour/mixed-batch-partial", Description: "a mixed batch saves the valid records, reports each invalid one under its own external_id with its code, and answers partial", run: checkMixedBatch},
		{ID: "behaviour/detail-in-request-order", Description: "detail has one entry per record with errors or warnings, in request order, customers first", run: checkDetailOrder},
		{ID: "behaviour/all-valid-ok", Description: "a batch of valid customers and relations answers ok with an empty detail", run: checkAllValid},
		{ID: "behaviour/all-invalid-failed", Description: "a batch of invalid records answers failed and adds nothing", run: checkAllInvalid},
		{ID: "behaviour/relations-same-request", Description: "a relation may name customers created by the same request", run: checkRelationsSameRequest},
		{ID: "behaviour/relation-stored", Description: "a saved relation is stored between its two customers", NeedsPersistence: true, NeedsInspection: true, run: checkRelationStored},
		{ID: "behaviour/relation-upsert", Description: "a relation saved again is updated in place by relation_external_id, not stored twice", NeedsPersistence: true, NeedsInspection: true, run: checkRelationUpsert},
		{ID: "behaviour/relation-unknown-customer-rejected", Description: "a relation to an unknown customer is rejected under its relation_external_id with relation_customer_unknown", run: checkRelationUnknown},
		{ID: "behaviour/verify-input-persists-nothing", Description: "verify_input: true adds nothing and stores nothing: a later real save lists the customer in added", NeedsPersistence: true, run: checkVerifyPersistsNothing},
		{ID: "behaviour/verify-input-same-answer", Description: "verify_input: true answers the same detail and status as the real save, with added empty", NeedsPersistence: true, run: checkVerifySameAnswer},
		{ID: "behaviour/verify-input-echoed", Description: "the response echoes verify_input (false when absent)", run: checkVerifyEchoed},
		{ID: "behaviour/tenant-isolation", Description: "the same external_id under two businesses is two customers", NeedsPersistence: true, NeedsSecondBusiness: true, run: checkTenantIsolation},
		{ID: "behaviour/tenant-isolation-basic", Description: "the same external_id saved by two businesses' users as HTTP Basic is two customers", NeedsPersistence: true, NeedsSecondBusiness: true, run: checkTenantIsolationBasic},
		{ID: "behaviour/concurrent-create-once", Description: "parallel saves of one new external_id create it exactly once", NeedsPersistence: true, run: checkConcurrentCreate},
		{ID: "behaviour/string-list-split", Description: "review_groups and contacts given as one string are split on ';' and ',', trimmed, empty items dropped, and stored as arrays", NeedsPersistence: true, NeedsInspection: true, run: checkStringListSplit},
		{ID: "behaviour/variations-add-remove", Description: "variations are added to the stored set, and remove takes an equal one out of it", NeedsPersistence: true, NeedsInspection: true, run: checkVariations},
		{ID: "behaviour/warnings-stored-as-documented", Description: "a customer saved with warnings is stored as the codes say: a lower-case country upper case, a phone that is not E.164 as given, an unknown key and an unknown custom field not at all", NeedsPersistence: true, NeedsInspection: true, run: checkWarningsStored},
		{ID: "behaviour/risk-scan-forced", Description: "a save of more customers than the risk-scan limit runs without the risk scan", NeedsPersistence: true, NeedsInspection: true, run: checkRiskScanForced},
		{ID: "behaviour/document-examples-saved", Description: "the document's own request examples are saved without errors (but those the server's rules add to the defaults')", run: checkDocumentExamplesSaved},
	}, codeChecks(), authChecks(), []Check{
		{ID: "negative/never-5xx", Description: "no request of the run was answered with a 5xx", final: true, run: checkNever5xx},
		{ID: "transport/wrong-content-type-415", Description: "a save whose Content-Type is not JSON is answered 415", run: checkWrongContentType},
		{ID: "transport/malformed-json-400", Description: "a save whose body is not well-formed JSON is answered 400 with the byte offset", run: checkMalformedJSON},
		{ID: "transport/schema-invalid-422", Description: "a save whose body breaks the schema is answered 422 listing every violation with its JSON pointer", run: checkSchemaInvalid},
		{ID: "transport/oversized-body-413", Description: "a save body larger than the server's limit is answered 413", run: checkOversizedBody},
		{ID: "transport/oversized-batch-413", Description: "a save of more customers than the server's batch limit is answered 413", run: checkOversizedBatch},
		{ID: "transport/wrong-method-405", Description: "a method the save and token paths do not serve is answered 405 problem details, with Allow: POST", MockBehaviour: true, run: checkWrongMethod},
		{ID: "transport/unsupported-encoding-415", Description: "a save with a Content-Encoding the server does not read is answered 415 problem details, with Accept-Encoding listing gzip", MockBehaviour: true, run: checkUnsupportedEncoding},
		{ID: "transport/oversized-relations-413", Description: "a save of more relations than the server's relation limit is answered 413", run: checkOversizedRelations},
	}, generativeChecks(), []Check{
		{ID: "safety/verify-only-stores-nothing", Description: "customers sent with verify_input: true are not stored (what --verify-only relies on)", NeedsInspection: true, run: checkVerifyStoresNothing},
		{ID: "safety/run-prefix-on-every-id", Description: "the suite sends no external_id or relation_external_id without the run prefix", final: true, run: checkRunPrefix},
		{ID: "safety/cleanup-disables-created", Description: "at the end every customer and relation the run may have created is disabled", final: true, run: checkCleanup},
	})
	for i := range all {
		cat, _, _ := strings.Cut(all[i].ID, "/")
		all[i].Category = Category(cat)
		all[i].index = i
	}
	return all
}

// Select returns the checks of the catalogue that run picks and skip leaves
// out (nil: no filter), in catalogue order. A pattern that matches no check
// is a *ConfigError that names the closest IDs, and so is a pair that leaves
// nothing to run: a typo in a CI job would otherwise be a green run of no
// check.
func Select(run, skip *regexp.Regexp) ([]Check, error) {
	all := Checks()
	var ids []string
	for _, c := range all {
		ids = append(ids, c.ID)
	}
	for _, p := range []struct {
		what string
		re   *regexp.Regexp
	}{{"run", run}, {"skip", skip}} {
		if p.re != nil && !slices.ContainsFunc(ids, p.re.MatchString) {
			return nil, configErrorf("the %s pattern %q matches no check; the closest are %s", p.what, p.re.String(), strings.Join(closest(p.re.String(), ids, 3), ", "))
		}
	}
	var out []Check
	for _, c := range all {
		if (run == nil || run.MatchString(c.ID)) && (skip == nil || !skip.MatchString(c.ID)) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, configErrorf("the skip pattern %q leaves out every check the run pattern %q picks: no check would run", skip.String(), run.String())
	}
	return out, nil
}

// closest returns the n ids nearest to the regular expression pattern read
// as text (its anchors and escapes dropped): the fewest edits that turn the
// pattern into a part of the id, then the shortest id.
func closest(pattern string, ids []string, n int) []string {
	p := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`^$\`, r) {
			return -1
		}
		return r
	}, pattern)
	type scored struct {
		id   string
		dist int
	}
	var s []scored
	for _, id := range ids {
		s = append(s, scored{id, substringDistance(p, id)})
	}
	slices.SortStableFunc(s, func(a, b scored) int {
		if a.dist != b.dist {
			return a.dist - b.dist
		}
		return len(a.id) - len(b.id)
	})
	var out []string
	for _, x := range s[:min(n, len(s))] {
		out = append(out, x.id)
	}
	return out
}

// substringDistance is the fewest insertions, deletions and substitutions
// that turn p into a substring of s (Sellers' variant of the Levenshtein
// distance: the match may start and end anywhere in s).
func substringDistance(p, s string) int {
	a, b := []rune(p), []rune(s)
	prev := make([]int, len(b)+1) // row 0: an empty p matches anywhere
	cur := make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j-1]+cost, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return slices.Min(prev)
}
