package pgtest

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// fakeTB records what URL asks of a test instead of stopping it.
type fakeTB struct {
	testing.TB // nil: a call URL should not make panics
	fatal      string
	skip       string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skip = fmt.Sprintf(format, args...)
}

func TestURL(t *testing.T) {
	tests := []struct {
		name      string
		env, ci   string
		want      string
		wantFatal bool
		wantSkip  bool
	}{
		{name: "set", env: "postgres://u@127.0.0.1:1/db", want: "postgres://u@127.0.0.1:1/db"},
		{name: "set under CI", env: "postgres://u@127.0.0.1:1/db", ci: "true", want: "postgres://u@127.0.0.1:1/db"},
		{name: "unset locally skips", wantSkip: true},
		{name: "unset under CI fails", ci: "true", wantFatal: true},
		{name: "CI other than true skips", ci: "1", wantSkip: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvURL, tt.env)
			t.Setenv("CI", tt.ci)
			tb := &fakeTB{}
			got := URL(tb)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if (tb.fatal != "") != tt.wantFatal || (tb.skip != "") != tt.wantSkip {
				t.Errorf("got fatal %q, skip %q; want fatal %v, skip %v", tb.fatal, tb.skip, tt.wantFatal, tt.wantSkip)
			}
			for _, msg := range []string{tb.fatal, tb.skip} {
				if strings.Contains(msg, "\n") || (msg != "" && !strings.Contains(msg, EnvURL)) {
					t.Errorf("got message %q, want one line naming %s", msg, EnvURL)
				}
			}
		})
	}
}

func TestDatabaseName(t *testing.T) {
	valid := regexp.MustCompile(`^t_[a-z0-9_]*_[0-9a-f]{12}$`)
	long := "TestStore/" + strings.Repeat("Ünïcode name with spaces/", 10)
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		for _, in := range []string{"TestA", "TestB/sub_test#01", long, ""} {
			got := databaseName(in)
			if !valid.MatchString(got) || len(got) > 63 {
				t.Fatalf("databaseName(%q) = %q, want a lower-case identifier of at most 63 bytes", in, got)
			}
			if seen[got] {
				t.Fatalf("databaseName(%q) = %q twice", in, got)
			}
			seen[got] = true
		}
	}
}

func TestWithDatabase(t *testing.T) {
	tests := []struct{ base, want string }{
		{"postgres://algoreg@127.0.0.1:5432/algoreg?sslmode=disable", "postgres://algoreg@127.0.0.1:5432/t_x?sslmode=disable"},
		{"postgresql://u:p@localhost/", "postgresql://u:p@localhost/t_x"},
		{"postgres://u@h:1", "postgres://u@h:1/t_x"},
		{"host=127.0.0.1 port=5432 user=u dbname=algoreg", "host=127.0.0.1 port=5432 user=u dbname=algoreg dbname=t_x"},
	}
	for _, tt := range tests {
		got, err := withDatabase(tt.base, "t_x")
		if err != nil || got != tt.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", tt.base, got, err, tt.want)
		}
		cfg, err := pgx.ParseConfig(got)
		if err != nil || cfg.Database != "t_x" {
			t.Errorf("pgx reads %q as database %q (%v), want t_x", got, cfg.Database, err)
		}
	}
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	return conn
}

// TestNewDatabase uses a database as a store test would, checks that two databases are
// apart, and that the cleanup drops the database even with a connection still open to it.
func TestNewDatabase(t *testing.T) {
	ctx := context.Background()
	base := URL(t)
	var name string
	var leftOpen *pgx.Conn
	t.Run("use", func(t *testing.T) {
		dbURL := NewDatabase(t)
		conn := connect(t, dbURL)
		t.Cleanup(func() { conn.Close(ctx) })
		if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(name, "t_testnewdatabase_use_") {
			t.Errorf("got database %q, want it named after the test", name)
		}
		if _, err := conn.Exec(ctx, `CREATE TABLE customers (customer_id bigint PRIMARY KEY, external_id text NOT NULL UNIQUE, kyc_level int)`); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO customers VALUES ($1, $2, $3)`, 1, "ext-1", 2); err != nil {
			t.Fatal(err)
		}
		var ext string
		if err := conn.QueryRow(ctx, `SELECT external_id FROM customers WHERE kyc_level = $1`, 2).Scan(&ext); err != nil {
			t.Fatal(err)
		}
		if ext != "ext-1" {
			t.Errorf("got external_id %q, want ext-1", ext)
		}

		other := connect(t, NewDatabase(t))
		t.Cleanup(func() { other.Close(ctx) })
		var n int
		if err := other.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename = 'customers'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("a second database sees %d customers tables, want 0", n)
		}
		leftOpen = connect(t, dbURL) // never closed before the drop: WITH (FORCE) must cope
	})
	if t.Failed() || name == "" {
		return
	}
	defer leftOpen.Close(ctx)
	conn := connect(t, base)
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s still exists after the test's cleanup", name)
	}
}

// TestNotInCommands keeps this test-only package (it imports testing) out of every binary.
func TestNotInCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/algoreg-kit/algoreg-kit/cmd/...").CombinedOutput()
	if err != nil {
		t.Skipf("go list: %v: %s", err, out) // no go command next to the test binary
	}
	pkgs := strings.Fields(string(out))
	if !slices.Contains(pkgs, "github.com/algoreg-kit/algoreg-kit/cmd/algoreg-kit") {
		t.Fatalf("go list -deps does not list cmd/algoreg-kit: %s", out)
	}
	for _, pkg := range pkgs {
		if strings.HasSuffix(pkg, "/internal/pgtest") {
			t.Errorf("a command imports %s; it is for tests only", pkg)
		}
	}
}
