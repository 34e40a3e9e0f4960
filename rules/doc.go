// Package rules holds the rules of the Save customers endpoint, once: the
// catalogue of error and warning codes, the ISO 3166-1 country table, the
// server's rule settings (Config), the pure value checks (dates, country
// codes, kyc range, phone plausibility), the stored record types (Customer,
// Relation), and Evaluate, which applies every rule to one save request.
//
// Evaluate merges each customer of a request into its stored record (a save is
// a delta), checks the merged record, then checks the relations, which may
// name customers the same request saves or rejects; it returns what to store
// and the answer's detail and status. It reads the stored records through a
// State and writes nothing: the mock runs it inside its store's transaction
// and then stores the result, the contract suite runs it to predict what a
// server must answer, and the fixtures run it to label the invalid records
// they generate. README.md describes the rules as a client sees them.
//
// The request schema of the OpenAPI document checks JSON types only; every value
// rule lives here, named by the x-rule extension of the document's fields.
//
// Everything in this package is safe for concurrent use. The value checks do
// not allocate on valid input and use no regular expressions; Evaluate
// allocates one record per customer and shares the request's strings.
package rules
