// Package openapi holds the OpenAPI document of the Algoreg Save customers API
// (embedded from openapi.yaml), the typed Go model of its requests and responses,
// and the request and response validation built on it with kin-openapi.
//
// The document is the single source of truth of algoreg-kit: the mock server, the
// fixture generator and the contract suite all load it through this package.
//
// Load parses and validates the document once; NewValidator builds the router
// once. A *Validator is safe for concurrent use. Validation errors are
// *ValidationError values that list every violation (a JSON pointer and a
// message) and wrap kin-openapi's own errors, so callers can still use
// errors.As to reach *openapi3filter.RequestError or *openapi3.SchemaError.
package openapi
