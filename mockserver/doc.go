// Package mockserver is the stateful mock of the Algoreg Save customers
// endpoint: a *Server (an http.Handler built by New from a Config) that serves
// the vendor's own paths and auth, POST /api/v1/customers/save and POST
// /api/v1/token, so an integrator only swaps the base URL; an inspection API
// under /__admin (same credentials: a business sees only its own data);
// /healthz; and /openapi.yaml.
//
// Every business (tenant) has its own state in a store.Store (store/memstore
// by default).
// A save request is applied atomically per business; its records are handled
// one by one, each checked with the per-record rules of package rules against
// the record as it will be stored (stored values merged with the delta): a
// record with an error is not saved, one with only warnings is. See README.md
// for every rule, code, flag and format.
//
// Package mocktest starts the mock on httptest for Go tests, in one line,
// with every response checked against the OpenAPI document.
//
// A Server is safe for concurrent use. New refuses an invalid
// Config; the caller should call Close when finished.
package mockserver
