// Package openapi holds the OpenAPI document of the Algoreg Save customers API
// (embedded from openapi.yaml), the typed Go model of its requests and responses,
// the request and response validation built on it with kin-openapi, and
// DecodeSaveCustomers, the fast single-pass reader of Save customers bodies.
//
// The document is the single source of truth of algoreg-kit: the mock server, the
// fixture generator and the contract suite all load it through this package.
//
// Load parses and validates the document once; NewValidator builds the router
// once. A *Validator is safe for concurrent use. Validation errors are
// *ValidationError values that list every violation (a JSON pointer and a
// message) and wrap kin-openapi's own errors, so callers can still use
// errors.As to reach *openapi3filter.RequestError or *openapi3.SchemaError.
//
// DecodeSaveCustomers checks a Save customers body (JSON syntax and the JSON
// types of the SaveCustomersRequest schema) and fills the typed model in one
// pass, without kin-openapi's generic walk: it is the mock's request path.
// Its verdicts, pointers and messages are kin-openapi's; tests hold them equal
// over a differential corpus and a fuzz target, and hold its property names
// equal to the document's, so the document stays the source of truth. Its
// errors are *SyntaxError (400) and *ValidationError (422); its
// ValidationErrors wrap no kin-openapi error, since none was made.
// DecodeSaveCustomersLimits bounds what a hostile body may cost (*LimitError,
// 413, beyond a number of customers; a truncated list of violations).
package openapi
