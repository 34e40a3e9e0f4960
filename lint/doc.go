// Package lint checks Save customers request bodies offline, with the decoder
// and the rules the mock uses: every finding the mock would answer (a syntax
// error, the schema's type violations, a request limit, each record's errors
// and warnings with their codes), placed at a line and column of the file.
//
// A Linter holds what its bodies saved, as the mock's business does, so a
// folder of batches is linted as the mock would answer them posted in order;
// Body lints one body against an empty business. Both are what an
// integrator's unit test calls on the bodies its code produces.
package lint
