// Package contract is the contract suite of the Save customers endpoint: a
// catalogue of named checks that tell whether a server (the algoreg-kit mock,
// the vendor's sandbox, or production) honours the contract of the OpenAPI
// document, both its schema and its business behaviour (upserts, partial
// batches, relations, dry runs, tenants, auth, transport errors).
//
// Run executes the checks against Config.Target and returns a Report, which
// writes itself as a text summary (WriteText), JUnit XML (WriteJUnit) or JSON
// (WriteJSON). Checks lists the catalogue. Every response of every check is
// validated against the document with openapi.Validator.ValidateResponse.
//
// The suite is safe to point at a live tenant: every external_id and
// relation_external_id it sends starts with a random run prefix (the client
// refuses to send a save body that breaks this), every customer and relation it
// may have created is disabled at the end, Config.VerifyOnly sends only
// verify_input: true requests, checks that need the mock's inspection API
// (/__admin) are skipped when the target is not the mock, and Config.Rate
// bounds the request rate. README.md says exactly what a live run writes.
//
// Run is safe for concurrent use with different Configs; it runs up to
// Config.Parallel checks at once. The test data comes from package fixtures,
// seeded by Config.Seed, so a failing generative case replays with the same
// seed.
package contract
