package sqlstore

import (
	"fmt"
	"strings"
)

// queries are the statements of a Store, in its dialect.
type queries struct {
	customer, putCustomer, customers, countCustomers            string
	relation, putRelation, relations, countRelations, relatedTo string
	customersIn, relationsIn                                    string
	touchCustomers, touchRelations                              string
	// putCustomers[k] and putRelations[k] upsert 2^k rows in one statement
	// (as many as the dialect's batches).
	putCustomers, putRelations                                 []string
	deleteCustomers, deleteRelations                           string
	businesses, countBusinesses                                string
	addEvent, pendingEvents, nextEvents, events, countEvents   string
	countPending                                               string
	recordAttempt, pruneEvents, lease                          string
	secret, putSecret                                          string
	lockout, newLockout, lockoutForUpdate, putLockout, delLock string
}

func newQueries(d *Dialect) queries {
	cc, rc := strings.Join(customerColumns, ", "), strings.Join(relationColumns, ", ")
	r := d.Rebind
	return queries{
		customer:       r(`SELECT ` + cc + ` FROM customers WHERE business = $1 AND external_id = $2`),
		putCustomer:    r(upsert("customers", "external_id", customerColumns)),
		customers:      r(`SELECT ` + cc + ` FROM customers WHERE business = $1 ORDER BY external_id LIMIT $2 OFFSET $3`),
		countCustomers: r(`SELECT count(*) FROM customers WHERE business = $1`),
		relation:       r(`SELECT ` + rc + ` FROM relations WHERE business = $1 AND relation_external_id = $2`),
		customersIn:    r(`SELECT ` + cc + ` FROM customers WHERE business = $1 AND ` + d.inList("external_id", "$2")),
		touchCustomers: r(`UPDATE customers SET updated_at = $1 WHERE business = $2 AND ` + d.inList("external_id", "$3")),
		putCustomers:   batches(d, "customers", "external_id", customerColumns),
		putRelations:   batches(d, "relations", "relation_external_id", relationColumns),
		relationsIn:    r(`SELECT ` + rc + ` FROM relations WHERE business = $1 AND ` + d.inList("relation_external_id", "$2")),
		touchRelations: r(`UPDATE relations SET updated_at = $1 WHERE business = $2 AND ` + d.inList("relation_external_id", "$3")),
		putRelation:    r(upsert("relations", "relation_external_id", relationColumns)),
		relations:      r(`SELECT ` + rc + ` FROM relations WHERE business = $1 ORDER BY relation_external_id LIMIT $2 OFFSET $3`),
		countRelations: r(`SELECT count(*) FROM relations WHERE business = $1`),
		relatedTo: r(`SELECT ` + rc + ` FROM relations WHERE business = $1 AND (` + d.inList("parent", "$2") +
			` OR ` + d.inList("child", "$2") + `) ORDER BY relation_external_id`),
		deleteCustomers: r(`DELETE FROM customers WHERE business = $1`),
		deleteRelations: r(`DELETE FROM relations WHERE business = $1`),
		businesses: r(`SELECT business, CAST(sum(customers) AS BIGINT), CAST(sum(relations) AS BIGINT) FROM (
    SELECT business, count(*) AS customers, 0 AS relations FROM customers GROUP BY business
    UNION ALL
    SELECT business, 0, count(*) FROM relations GROUP BY business
) AS counts GROUP BY business ORDER BY business LIMIT $1 OFFSET $2`),
		countBusinesses: r(`SELECT count(*) FROM (SELECT business FROM customers UNION SELECT business FROM relations) AS b`),
		addEvent:        r(`INSERT INTO outbox (business, payload, created_at) VALUES ($1, $2, $3)`),
		pendingEvents:   r(`SELECT ` + eventColumns + ` FROM outbox WHERE status = 'pending' ORDER BY id LIMIT $1`),
		nextEvents: r(`SELECT ` + eventColumns + ` FROM outbox WHERE id IN (
    SELECT min(id) FROM outbox WHERE status = 'pending' GROUP BY business
) ORDER BY id LIMIT $1`),
		events:       r(`SELECT ` + eventColumns + ` FROM outbox WHERE business = $1 AND status = $2 ORDER BY id LIMIT $3 OFFSET $4`),
		countEvents:  r(`SELECT count(*) FROM outbox WHERE business = $1 AND status = $2`),
		countPending: r(`SELECT count(*) FROM outbox WHERE status = 'pending'`),
		recordAttempt: r(`UPDATE outbox SET status = $2, attempts = attempts + 1,
    last_error = CASE WHEN CAST($3 AS TEXT) = '' THEN last_error ELSE CAST($3 AS TEXT) END, last_attempt_at = $4, next_attempt_at = $5
WHERE id = $1 AND status = 'pending'`),
		pruneEvents: r(`DELETE FROM outbox WHERE status = 'delivered' AND last_attempt_at < $1`),
		lease: r(`INSERT INTO webhook_leases (business, holder, until) VALUES ($1, $2, $4)
ON CONFLICT (business) DO UPDATE SET holder = excluded.holder, until = excluded.until
WHERE webhook_leases.holder = excluded.holder OR webhook_leases.until <= $3
RETURNING holder`),
		secret:    r(`SELECT value FROM settings WHERE name = 'token_secret'`),
		putSecret: r(`INSERT INTO settings (name, value) VALUES ('token_secret', $1) ON CONFLICT (name) DO NOTHING`),
		lockout:   r(`SELECT failures, locked_until FROM lockouts WHERE username = $1`),
		newLockout: r(`INSERT INTO lockouts (username, failures, locked_until) VALUES ($1, 0, 0)
ON CONFLICT (username) DO NOTHING`),
		lockoutForUpdate: r(`SELECT failures, locked_until FROM lockouts WHERE username = $1` + d.forUpdate),
		putLockout:       r(`UPDATE lockouts SET failures = $2, locked_until = $3 WHERE username = $1`),
		delLock:          r(`DELETE FROM lockouts WHERE username = $1`),
	}
}

// eventColumns are the columns of an event, in the order scanEvent reads them.
const eventColumns = `id, business, payload, created_at, status, attempts, last_error, last_attempt_at, next_attempt_at`

// upsert is the INSERT that creates or replaces a row of table by (business,
// key), columns after business.
func upsert(table, key string, columns []string) string { return upsertRows(table, key, columns, 1) }

// batches returns the dialect's multi-row upserts of table: of 2^k rows for
// each k below d.batches.
func batches(d *Dialect, table, key string, columns []string) []string {
	out := make([]string, d.batches)
	for k := range out {
		out[k] = d.Rebind(upsertRows(table, key, columns, 1<<k))
	}
	return out
}

// upsertRows is the INSERT that creates or replaces n rows of table by
// (business, key), each row's values business and then columns.
func upsertRows(table, key string, columns []string, n int) string {
	var rows, set []string
	for _, c := range columns {
		if c != key {
			set = append(set, c+" = excluded."+c)
		}
	}
	for r := range n {
		values := make([]string, 0, 1+len(columns))
		for c := range 1 + len(columns) {
			values = append(values, fmt.Sprintf("$%d", r*(1+len(columns))+c+1))
		}
		rows = append(rows, "("+strings.Join(values, ", ")+")")
	}
	return `INSERT INTO ` + table + ` (business, ` + strings.Join(columns, ", ") + `) VALUES ` +
		strings.Join(rows, ", ") + ` ON CONFLICT (business, ` + key + `) DO UPDATE SET ` + strings.Join(set, ", ")
}
