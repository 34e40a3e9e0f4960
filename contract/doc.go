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
// The JSON report keeps each failing check's exchanges whole (Exchange:
// credentials as placeholders, bodies up to MaxReportBody, a curl command),
// and Replay sends them again to tell whether the failure is still there.
// Select picks checks by --run and --skip patterns; a mistake in a Config is
// a *ConfigError, returned before any request.
//
// Run is safe for concurrent use with different Configs; it runs up to
// Config.Parallel checks (and generative cases) at once, each check with its
// own ids, so the verdicts do not depend on the order. The test data comes
// from package fixtures, seeded by Config.Seed, so a failing generative case
// replays with the same seed.
package contract
