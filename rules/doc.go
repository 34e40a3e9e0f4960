// Package rules holds the per-record value rules of the Save customers endpoint:
// the catalogue of error and warning codes, the ISO 3166-1 country table, the
// server's rule settings (Config), and the pure value checks (dates, country
// codes, kyc range, phone plausibility) that the mock runs on each record, that
// the fixtures use to generate valid and labelled-invalid data, and that the
// contract suite expects.
//
// The request schema of the OpenAPI document checks JSON types only; every value
// rule lives here, named by the x-rule extension of the document's fields.
//
// Everything in this package is safe for concurrent use. The value checks do
// not allocate on valid input and use no regular expressions.
package rules
