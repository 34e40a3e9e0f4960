// Package storetest is the behaviour table every state engine must pass: Run
// opens a fresh store for each case through the engine's open function and
// checks records, paging, businesses, transactions, concurrency, the outbox,
// the accounts' state and context cancellation, so that the memory, SQLite and
// PostgreSQL engines behave the same through store.Store.
//
// A durable engine also gives Run a reopen function (WithReopen): the state
// must then survive closing the store and opening it again. An engine whose
// state lives at a location (a file, a database URL) can call RunDurable,
// which builds the open and reopen functions from a fresh location and an
// opener.
//
// The package imports testing and is for tests only; no command may import it.
package storetest
