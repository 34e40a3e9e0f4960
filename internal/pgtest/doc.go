// Package pgtest gives tests a PostgreSQL server and a fresh database on it.
//
// The server comes from the environment: ALGOREG_TEST_POSTGRES holds its URL. scripts/test
// starts a throwaway cluster (scripts/postgres.sh) and sets it; by hand:
//
//	dir=$(mktemp -d); export ALGOREG_TEST_POSTGRES=$(scripts/postgres.sh start "$dir")
//	go test ./...
//	scripts/postgres.sh stop "$dir"
//
// Without the variable a test that asks for PostgreSQL skips with one line, except under
// CI=true, where it fails: CI must run the PostgreSQL tests.
//
// The package imports testing and is for tests only; no command may import it.
package pgtest
