package pgtest_test

import (
	"context"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// A store test asks for a database of its own; pgtest drops it when the test ends. (Compiled
// only: it needs a server.)
func ExampleNewDatabase() {
	_ = func(t *testing.T) {
		conn, err := pgx.Connect(context.Background(), pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		// ... migrate, then run the store's behaviour table against conn
	}
}
