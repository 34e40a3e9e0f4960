package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable that holds the test server's URL.
const EnvURL = "ALGOREG_TEST_POSTGRES"

// timeout bounds each administrative statement (connect, CREATE and DROP DATABASE).
const timeout = 30 * time.Second

// URL returns the test server's URL from ALGOREG_TEST_POSTGRES. When it is unset, URL skips
// the test with a one-line reason, or fails it under CI=true.
func URL(tb testing.TB) string {
	tb.Helper()
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("pgtest: CI=true and %s is unset: scripts/test starts PostgreSQL for CI", EnvURL)
		return ""
	}
	tb.Skipf("pgtest: %s is unset, skipping the PostgreSQL test (scripts/test sets it when PostgreSQL is installed)", EnvURL)
	return ""
}

// NewDatabase creates a database with a unique name on the test server and returns its URL.
// It drops the database in tb.Cleanup, closing any connection still open to it, so the
// caller only has to close its own pools before then (or leave them to the drop). It skips
// or fails as URL does when there is no server, and fails the test when a statement fails.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	base := URL(tb)
	if base == "" {
		return ""
	}
	name := databaseName(tb.Name())
	if err := execOn(base, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
		return ""
	}
	tb.Cleanup(func() {
		if err := execOn(base, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u, err := withDatabase(base, name)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return u
}

// execOn runs one statement on its own connection to the server at base.
func execOn(base, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

var notIdent = regexp.MustCompile(`[^a-z0-9]+`)

// databaseName makes a database name that is unique (random suffix) and says which test made
// it (for whoever lists the databases of a stuck run), within PostgreSQL's 63 bytes.
func databaseName(testName string) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	slug := strings.Trim(notIdent.ReplaceAllString(strings.ToLower(testName), "_"), "_")
	if len(slug) > 40 {
		slug = slug[:40]
	}
	return "t_" + slug + "_" + hex.EncodeToString(b[:])
}

// withDatabase returns base with its database replaced by name. base is a postgres:// URL
// or a keyword/value connection string, as pgx accepts both.
func withDatabase(base, name string) (string, error) {
	if strings.HasPrefix(base, "postgres://") || strings.HasPrefix(base, "postgresql://") {
		u, err := url.Parse(base)
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", EnvURL, err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	return base + " dbname=" + name, nil
}
