// Package sqlite is the state engine that keeps the mock's state in one
// SQLite file, through modernc.org/sqlite (pure Go: no cgo, the binary stays
// one static file). The file is in WAL mode: readers do not wait for the
// writer, and a save answered 200 is in the file before the answer is written.
// With Options.Sync NORMAL (the default) a commit survives a crash of the
// process; with FULL it also survives a power loss, at the price of an fsync
// per commit.
//
// SQLite allows one writer at a time: every update takes the one write
// connection in a BEGIN IMMEDIATE transaction, so the updates of every
// business are serialised, also with other processes that open the same file.
// The schema (store/SCHEMA.md) is migrated at Open; a file a newer
// algoreg-kit made is refused.
package sqlite
