// Package memstore is the in-memory store.Store, the mock's default: the
// state lives as long as the process and nothing is written to disk.
//
// Each customer and each relation is one compact record (record.go) held in
// an immutable Go string (the ones a save creates share one, slab.go), on
// the Go heap, found through a map from a hash of its id to its slot in the
// table's records (kept in chunks, chunked.go). There is no pointer into
// memory that can be unmapped or reused while a reader holds it (a replaced
// record is a new string; what a reader decoded stays valid), no dependence
// on kernel mapping limits, and Reset only drops a map entry, so it cannot fail half way. A
// record has no pointer inside, so the garbage collector marks it without
// scanning it: about 250 bytes of heap per customer of the fixtures' shape,
// where a struct per customer took 1,165 (README.md has the figures and
// their commands).
//
// Every business has its own lock, so saves of different businesses run in
// parallel, and saves of one business run their fn in parallel too: Update
// runs fn optimistically, without the lock (each read takes the read lock for
// its lookup and is remembered, the writes wait in the transaction), then
// locks the business for writing, checks that every record fn read is
// unchanged and applies the writes; when one changed, fn runs again, at last
// with the business locked from start to end (writing as it goes, with an
// undo log that puts back what it replaced when fn fails or panics). Its
// events reach the outbox only when fn succeeds. View locks for reading.
//
// Accounts: the token-signing secret is random, made once per Store (tokens
// do not outlive the process, as nothing else does); lockouts are a map. The
// outbox keeps at most OutboxLimit events and OutboxBytes of payloads, of
// every status: past either, events are dropped and counted (Stats) —
// delivered ones first, then failed ones, the oldest pending ones last — so
// that a mock without a webhook receiver does not grow without end, and a
// save never fails because of the outbox. Leases are a map.
//
// A Store is safe for concurrent use. Its methods fail only when ctx is done
// before they start (ctx.Err()), after Close (an error wrapping
// store.ErrUnavailable), or for a custom-field value without a JSON form
// given by a Go caller.
package memstore
