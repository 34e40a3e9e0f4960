package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/internal/pgtest"
	"github.com/algoreg-kit/algoreg-kit/store/sqlite"
)

// A state that cannot be opened stops the mock before it listens: one plain
// line naming --state and what to do, exit status 1, nothing on stdout.
func TestMockStateErrors(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	os.WriteFile(notDB, []byte("not a database\n"), 0o600)
	tests := []struct {
		name, state, wantErr string
	}{
		{"a folder", dir, "mock: --state: " + dir + " is a folder; give the path of a file, e.g. " + filepath.Join(dir, "state.db")},
		{"a missing folder", filepath.Join(dir, "none", "state.db"), "the folder " + filepath.Join(dir, "none") + " of the state file"},
		{"not a database", notDB, "file is not a database"},
		{"a newer schema", newerSchemaFile(t), "has schema version 99; this algoreg-kit knows up to"},
		{"PostgreSQL down", "postgres://algoreg:s3cret@" + closedPort(t) + "/algoreg?sslmode=disable", "mock: --state: postgres: cannot reach the state database postgres://algoreg:xxxxx@"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMockFails(t, []string{"--state", tt.state}, tt.wantErr)
		})
	}
}

// checkMockFails runs the mock with args and wants it to fail at start with
// one line containing wantErr, exit status 1, and nothing on stdout.
func checkMockFails(t *testing.T, args []string, wantErr string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := run(ctx, append([]string{"algoreg-kit", "mock", "--addr", "127.0.0.1:0"}, args...), func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), wantErr) {
		t.Fatalf("error: got %v, want one containing %q", err, wantErr)
	}
	if code, print := exitStatus(err); code != 1 || !print {
		t.Errorf("exit status %d (print %v), want 1 with the error printed", code, print)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
	if stdout.Len() > 0 {
		t.Errorf("printed before the error:\n%s", stdout.String())
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error shows the password: %q", err)
	}
}

// closedPort is a local address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// newerSchemaFile is a state file whose schema_version a newer algoreg-kit
// would have written.
func newerSchemaFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "newer.db")
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO schema_version (version, applied_at) VALUES (99, 0)`); err != nil {
		t.Fatal(err)
	}
	return path
}

// The preload, the saves, the listings and the reset all go through the
// state, on a SQLite file and on PostgreSQL: what one process saved, the next
// one lists, pages and resets, and a reset survives a restart too.
func TestMockStateSurvivesRestart(t *testing.T) {
	stores := []struct {
		name   string
		state  func(t *testing.T) string
		banner string
	}{
		{"SQLite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "state.db") }, "state in SQLite file "},
		{"PostgreSQL", func(t *testing.T) string { return pgtest.NewDatabase(t) }, "state in PostgreSQL postgres://"},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			state := st.state(t)
			checkStateSurvivesRestart(t, state, st.banner)
		})
	}
}

func checkStateSurvivesRestart(t *testing.T, state, banner string) {
	dir := t.TempDir()
	body := filepath.Join(dir, "body.json")
	os.WriteFile(body, []byte(`{"customers":[{"external_id":"p1","account_type":"N","last_name":"Preloaded"},{"external_id":"p2","account_type":"F","company_name":"Acme"}],
		"relations":[{"relation_external_id":"r1","parent_customer_external_id":"p2","child_customer_external_id":"p1","relation_type":1}]}`), 0o600)
	var p1ID any
	t.Run("preload and save", func(t *testing.T) {
		url, stdout, _ := startMock(t, nil, "--state", state, "--preload", body)
		if !strings.Contains(stdout.String(), "2 customers added") || !strings.Contains(stdout.String(), banner) {
			t.Errorf("banner:\n%s", stdout.String())
		}
		status, m := mockPost(t, url+"/api/v1/customers/save", "demo", "demo", `{"customers":[{"external_id":"c1","account_type":"N","last_name":"Saved"}]}`)
		if status != 200 || m["status"] != "ok" {
			t.Fatalf("save: %d %v", status, m)
		}
		mockPost(t, url+"/api/v1/customers/save", "other", "x", `{"customers":[{"external_id":"o1","account_type":"N","last_name":"Other"}]}`)
		p1ID = adminCustomer(t, url, "p1")["customer_id"]
	})
	t.Run("after a restart", func(t *testing.T) {
		url, _, _ := startMock(t, nil, "--state", state)
		if got := adminCustomer(t, url, "p1"); got["customer_id"] != p1ID || got["last_name"] != "Preloaded" {
			t.Errorf("p1 after restart: %v, want customer_id %v", got, p1ID)
		}
		page := adminList(t, url+"/__admin/customers?offset=1&limit=1")
		if page["total"] != 3.0 || len(page["customers"].([]any)) != 1 || page["customers"].([]any)[0].(map[string]any)["external_id"] != "p1" {
			t.Errorf("second page of one: %v, want p1 of 3 (c1, p1, p2)", page)
		}
		if rels := adminList(t, url+"/__admin/relations"); rels["total"] != 1.0 {
			t.Errorf("relations after restart: %v", rels)
		}
		if status, _ := mockDo(t, http.MethodDelete, url+"/__admin/state", "demo", "demo", ""); status != http.StatusNoContent {
			t.Fatalf("reset: %d", status)
		}
	})
	t.Run("after the reset and a restart", func(t *testing.T) {
		url, _, _ := startMock(t, nil, "--state", state)
		if page := adminList(t, url+"/__admin/customers"); page["total"] != 0.0 {
			t.Errorf("demo after its reset: %v, want empty", page)
		}
		if b := mockGet(t, url+"/__admin/customers/o1", "other", "x"); !strings.Contains(string(b), `"last_name":"Other"`) {
			t.Errorf("the other business after demo's reset: %s", b)
		}
	})
}

// adminCustomer is GET /__admin/customers/{id} of business demo, decoded.
func adminCustomer(t *testing.T, url, id string) map[string]any {
	t.Helper()
	return adminList(t, url+"/__admin/customers/"+id)
}

// adminList is a GET of an /__admin url as demo, decoded.
func adminList(t *testing.T, url string) map[string]any {
	t.Helper()
	status, b := mockDo(t, http.MethodGet, url, "demo", "demo", "")
	var m map[string]any
	if err := json.Unmarshal(b, &m); status != 200 || err != nil {
		t.Fatalf("GET %s: %d %s", url, status, b)
	}
	return m
}

// A PostgreSQL URL's password is in no message: not in the banner (see
// TestParseMock), not in the error of a URL that does not parse.
func TestStateErrorsKeepPasswordsOut(t *testing.T) {
	for _, u := range []string{"postgres://u:s3cret@db:port/x", "postgresql://u:s3cret@[::1/x"} {
		_, err := parseMock([]string{"--state", u}, func(string) string { return "" })
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("--state %s: got %v, want an error without the password", u, err)
		}
	}
}
