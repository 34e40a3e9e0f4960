package sqlstore

import (
	"encoding/json"
	"strings"
)

// A Dialect holds what differs between SQLite's SQL and PostgreSQL's.
type Dialect struct {
	// Name is "sqlite" or "postgres".
	Name string
	// types expands the type placeholders of the migrations.
	types *strings.Replacer
	// rebind turns the $N placeholders into ?N.
	rebind bool
	// batches is how many multi-row upserts PutCustomers and PutRelations
	// use: of 1, 2, 4, … 2^(batches-1) rows. Both 7 (up to 64 rows a
	// statement): on PostgreSQL one round trip; on SQLite, whose write
	// connection binds by number (store/sqlite's conn), 9 % fewer
	// instructions for a save of 100 new customers and their relations than
	// single rows (store/sqlite/README.md).
	batches int
	// forUpdate ends a SELECT that locks the rows it reads.
	forUpdate string
	// inList is a condition: column is one of the strings of the list
	// parameter param, which listArg makes.
	inList  func(column, param string) string
	listArg func(values []string) (any, error)
}

// SQLite is the dialect of modernc.org/sqlite. Text compares by its bytes
// (the BINARY collation), as Go compares strings.
var SQLite = &Dialect{
	Name: "sqlite",
	types: strings.NewReplacer(
		"{{text}}", "TEXT",
		"{{json}}", "TEXT",
		"{{bytes}}", "BLOB",
		"{{serial}}", "INTEGER PRIMARY KEY AUTOINCREMENT", // AUTOINCREMENT: an ID is never reused
	),
	rebind:  true,
	batches: 7,
	inList: func(column, param string) string {
		return column + " IN (SELECT value FROM json_each(" + param + "))"
	},
	listArg: func(values []string) (any, error) {
		b, err := json.Marshal(values)
		return string(b), err
	},
}

// Postgres is the dialect of PostgreSQL through pgx. Text columns use the
// "C" collation, so that they order by their bytes, as Go compares strings,
// whatever the database's locale.
var Postgres = &Dialect{
	Name: "postgres",
	types: strings.NewReplacer(
		"{{text}}", `TEXT COLLATE "C"`,
		"{{json}}", "JSON", // not JSONB: JSON keeps the text as written (key order, -0, 1e400)
		"{{bytes}}", "BYTEA",
		"{{serial}}", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
	),
	forUpdate: " FOR UPDATE",
	batches:   7,
	inList: func(column, param string) string {
		return column + " = ANY(" + param + ")"
	},
	listArg: func(values []string) (any, error) { return values, nil },
}

// Rebind returns query with the dialect's placeholders.
func (d *Dialect) Rebind(query string) string {
	if d.rebind {
		return strings.ReplaceAll(query, "$", "?")
	}
	return query
}
