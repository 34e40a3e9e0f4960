// Package sqlstore is the SQL that the SQLite and PostgreSQL engines share:
// the schema and its numbered migrations, the encoding of customers and
// relations into rows, and a store.Store written once over a small DB
// interface that each engine implements with its own driver (database/sql
// with modernc.org/sqlite, pgx). A Dialect holds the few places where the two
// SQL dialects differ.
package sqlstore
