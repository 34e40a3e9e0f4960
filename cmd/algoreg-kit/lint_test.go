package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLint runs the command: its lines, its JSON, its exit statuses.
func TestLint(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	valid := write("valid.json", `{"customers":[{"external_id":"a","account_type":"N","last_name":"Doe"}]}`)
	warn := write("warn.json", `{"customers":[{"external_id":"b","account_type":"N","last_name":"Doe","domicile_code":"fr"}]}`)
	bad := write("bad.json", "{\"customers\":[\n{\"external_id\":\"c\",\"account_type\":\"N\",\"kyc_level\":9,\"last_name\":\"Doe\"}]}")
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		wantOut  string // a line of stdout
	}{
		{"valid", []string{valid}, "", 0, ""},
		{"warnings pass", []string{warn}, "", 0, warn + ":1:15: country_code_lowercase: customers[0]: domicile_code \"fr\" is lower case; stored as \"FR\""},
		{"warnings fail with --strict", []string{warn, "--strict"}, "", 1, "country_code_lowercase"},
		{"errors fail", []string{valid, bad}, "", 1, bad + ":2:1: kyc_level_out_of_range: customers[0]: kyc_level 9 is outside the range 0 to 3"},
		{"the rule flags", []string{"--kyc-max", "9", bad}, "", 0, ""},
		{"a folder", []string{dir}, "", 1, "kyc_level_out_of_range"},
		{"stdin", []string{"-"}, `{"customers":[{"external_id":"x"}]}`, 1, "-:1:15: account_type_missing: "},
		{"no file", nil, "", 2, ""},
		{"a missing file", []string{filepath.Join(dir, "nope.json")}, "", 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, err := runSubcommandStdin(t, tt.stdin, append([]string{"lint"}, tt.args...)...)
			if code, _ := exitStatus(err); code != tt.wantCode {
				t.Errorf("got exit status %d (%v), want %d; stdout:\n%s\nstderr:\n%s", code, err, tt.wantCode, stdout, stderr)
			}
			if !strings.Contains(stdout, tt.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantOut, stdout)
			}
		})
	}
	stdout, _, _ := runSubcommandStdin(t, "", "lint", "--format", "json", warn, bad)
	var out struct {
		Errors, Warnings int
		Findings         []struct{ File, Code, Severity string }
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || out.Errors != 1 || out.Warnings != 1 || len(out.Findings) != 2 || out.Findings[1].Severity != "error" {
		t.Errorf("--format json: %v, got %+v from\n%s", err, out, stdout)
	}
}

// runSubcommandStdin is runSubcommand with stdin, and no environment.
func runSubcommandStdin(tb testing.TB, stdin string, args ...string) (string, string, error) {
	tb.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"algoreg-kit"}, args...), getenvOf(nil), strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}
