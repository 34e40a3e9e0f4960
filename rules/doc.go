// Package rules holds the per-record value rules of the Save customers endpoint:
// the catalogue of error and warning codes, and the checks that the mock runs on
// each record, that the fixtures use to generate valid and labelled-invalid data,
// and that the contract suite expects.
//
// The request schema of the OpenAPI document checks JSON types only; every value
// rule lives here, named by the x-rule extension of the document's fields.
package rules
