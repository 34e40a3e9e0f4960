package contract

import "strings"

// Checks returns the catalogue of checks, in the order a report lists them:
// by category, then as declared. IDs are stable; the negative/code/… checks
// follow rules.Catalogue, one per code.
func Checks() []Check {
	var all []Check
	all = append(all, schemaChecks()...)
	all = append(all, behaviourChecks()...)
	all = append(all, codeChecks()...)
	all = append(all, authChecks()...)
	all = append(all, finalChecks()...)
	all = append(all, transportChecks()...)
	all = append(all, generativeChecks()...)
	all = append(all, safetyChecks()...)
	for i := range all {
		cat, _, _ := strings.Cut(all[i].ID, "/")
		all[i].Category = Category(cat)
	}
	return all
}
