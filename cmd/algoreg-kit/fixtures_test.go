package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/fixtures"
	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

func TestFixturesNDJSONToStdout(t *testing.T) {
	stdout, stderr, err := runSubcommand(t, nil, "fixtures", "--count", "25", "--format", "ndjson", "--seed", "5")
	if err != nil {
		t.Fatalf("got error %v; stderr %s", err, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if got, want := len(lines), 25; got != want {
		t.Fatalf("got %d lines, want %d", got, want)
	}
	for i, line := range lines {
		var c openapi.Customer
		if err := json.Unmarshal([]byte(line), &c); err != nil || c.ExternalID == nil {
			t.Fatalf("line %d: %v: %s", i, err, line)
		}
	}
	if !strings.Contains(stderr, "25 customers") || !strings.Contains(stderr, "seed 5") || !strings.Contains(stderr, "customers/s") {
		t.Errorf("got summary %q, want the count, the seed and the rate", stderr)
	}
}

func TestFixturesRequestFolderWithExpectations(t *testing.T) {
	dir := t.TempDir()
	out, exp := filepath.Join(dir, "batches"), filepath.Join(dir, "labels", "expectations.jsonl")
	_, stderr, err := runSubcommand(t, nil, "fixtures", "--count", "300", "--batch-size", "100", "--invalid", "0.2", "--out", out, "--expectations", exp)
	if err != nil {
		t.Fatalf("got error %v; stderr %s", err, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(out, "batch-*.json"))
	if len(files) < 3 {
		t.Fatalf("got %d batch files, want at least 3", len(files))
	}
	bodies := map[int]*openapi.SaveCustomersRequest{}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		req, err := openapi.DecodeSaveCustomers(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var n int
		if _, err := fmt.Sscanf(filepath.Base(name), "batch-%05d.json", &n); err != nil {
			t.Fatal(err)
		}
		bodies[n] = req
	}
	f, err := os.Open(exp)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	labels := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l fixtures.LabelledRecord
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("expectation line %q: %v", sc.Text(), err)
		}
		labels++
		req := bodies[l.Batch]
		if req == nil {
			t.Fatalf("label %+v names a batch that is not written", l)
		}
		var id *string
		if l.Record == rules.RelationRecord {
			id = req.Relations[l.Index].RelationExternalID
		} else {
			id = req.Customers[l.Index].ExternalID
		}
		if got := deref(id); got != l.ExternalID {
			t.Errorf("label %+v: the record at its index has id %q", l, got)
		}
		if _, ok := rules.Lookup(l.Code); !ok {
			t.Errorf("label %+v: unknown code", l)
		}
	}
	if labels < 20 {
		t.Errorf("got %d labels for 300 records at 20%%, want about 60", labels)
	}
	// A second run into the same folder would mix two datasets: refused.
	if _, _, err := runSubcommand(t, nil, "fixtures", "--count", "10", "--out", out); err == nil || !strings.Contains(err.Error(), "already holds") {
		t.Errorf("second run into %s: got %v, want a refusal", out, err)
	}
}

func TestFixturesPostToMock(t *testing.T) {
	lists := rules.DefaultConfig()
	lists.ReviewGroups = []string{"retail", "corporate"}
	fields := rules.DefaultConfig()
	fields.CustomFields = []string{"segment"}
	table := rules.DefaultConfig()
	table.RelationTypes = []rules.RelationType{{Value: 1, Name: "director"}, {Value: 2}, {Value: 42, Name: "auditor"}}
	tests := []struct {
		name    string
		cfg     *rules.Config
		args    []string
		env     map[string]string
		wantErr string
		wantOut []string
	}{
		{
			name:    "token from user and password, every code",
			cfg:     &lists,
			args:    []string{"--count", "800", "--invalid", "0.1", "--batch-size", "150", "--review-groups", "retail,corporate", "--user", "ops", "--password", "pw", "--expectations", filepath.Join(t.TempDir(), "labels.jsonl")},
			wantOut: []string{"0 mismatches", "added "},
		},
		{
			name:    "basic credentials from the environment, verify only",
			args:    []string{"--count", "300", "--invalid", "0.1", "--basic", "--verify-only", "--concurrency", "2"},
			env:     map[string]string{"ALGOREG_USER": "ops", "ALGOREG_PASSWORD": "pw"},
			wantOut: []string{"0 mismatches", "added 0;"},
		},
		{
			name:    "labels the server cannot answer are listed",
			args:    []string{"--count", "200", "--invalid", "0.2", "--codes", "review_group_unknown", "--review-groups", "retail", "--user", "ops", "--password", "pw"},
			wantErr: "answers differ from the labels",
			wantOut: []string{"missing review_group_unknown", "needs the server configured with a list of review groups"},
		},
		{
			name:    "a relation-type table of the server's own",
			cfg:     &table,
			args:    []string{"--count", "600", "--invalid", "0.1", "--relation-types", "1=director,2,42=auditor", "--user", "ops", "--password", "pw"},
			wantOut: []string{"0 mismatches", "relation_type_invalid="},
		},
		{
			name:    "a server list the flags say is not there",
			cfg:     &fields,
			args:    []string{"--count", "100", "--user", "ops", "--password", "pw", "--custom-fields="},
			wantErr: "answers differ from the labels",
			wantOut: []string{"flags given override them: --custom-fields", "unexpected custom_field_unknown=", "hint: the server has a custom-field list: pass it with --custom-fields"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := mocktest.New(t, mocktest.WithConfig(mockserver.Config{Rules: tt.cfg}))
			_, stderr, err := runSubcommand(t, tt.env, append([]string{"fixtures", "--post", ts.URL}, tt.args...)...)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("got error %v; stderr %s", err, stderr)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got error %v, want %q; stderr %s", err, tt.wantErr, stderr)
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			for k, arg := range tt.args {
				if arg != "--expectations" {
					continue
				}
				b, err := os.ReadFile(tt.args[k+1])
				if err != nil {
					t.Fatal(err)
				}
				if n := strings.Count(string(b), "\n"); !strings.Contains(stderr, fmt.Sprintf("%d labelled records", n)) || n == 0 {
					t.Errorf("the labels file has %d lines, the tally says otherwise:\n%s", n, stderr)
				}
			}
		})
	}
}

func TestFixturesFlagErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"seed 0", []string{"--seed", "0"}, "seed 0"},
		{"unknown format", []string{"--format", "xml"}, "unknown format"},
		{"share above 1", []string{"--firms", "1.5"}, "between 0 and 1"},
		{"unknown code", []string{"--invalid", "0.1", "--codes", "nope"}, "unknown code"},
		{"relation code in ndjson", []string{"--format", "ndjson", "--invalid", "0.1", "--codes", "relation_self_reference"}, "can be produced in this output format"},
		{"post with format", []string{"--post", "http://127.0.0.1:1", "--format", "csv"}, "drop --out, --format and --relations-out"},
		{"relations aside of a request format", []string{"--format", "json", "--relations-out", filepath.Join(t.TempDir(), "r.ndjson")}, "--relations-out is for --format ndjson or csv"},
		{"relations aside with post", []string{"--post", "http://127.0.0.1:1", "--format", "ndjson", "--relations-out", filepath.Join(t.TempDir(), "r.ndjson")}, "drop --out, --format and --relations-out"},
		{"bad batch size", []string{"--batch-size", "0"}, "--batch-size"},
		{"bad progress mode", []string{"--progress", "sometimes"}, "use auto, always or never"},
		{"request format to a file", []string{"--out", filepath.Join(t.TempDir(), "x.json")}, "give a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runSubcommand(t, nil, append([]string{"fixtures"}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, _, err := runSubcommand(t, nil, "fixtures", "--nope"); err == nil || errors.Is(err, flag.ErrHelp) {
		t.Errorf("bad flag: got %v, want exit status 2", err)
	} else if code, _ := exitStatus(err); code != 2 {
		t.Errorf("bad flag: got %v, want exit status 2", err)
	}
	secrets := map[string]string{"ALGOREG_TOKEN": "tok-xyzzy", "ALGOREG_USER": "user-xyzzy", "ALGOREG_PASSWORD": "pw-xyzzy"}
	stdout, _, err := runSubcommand(t, secrets, "fixtures", "-h")
	if err != nil || !strings.Contains(stdout, "Examples:") {
		t.Errorf("-h: got error %v and usage %q, want the usage with examples", err, stdout)
	}
	if strings.Contains(stdout, "xyzzy") {
		t.Errorf("-h prints credentials from the environment:\n%s", stdout)
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func TestFixturesProgressBar(t *testing.T) {
	tests := []struct {
		mode string
		want bool
	}{{"always", true}, {"auto", false}, {"never", false}}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			_, stderr, err := runSubcommand(t, nil, "fixtures", "--count", "5000", "--format", "ndjson", "--progress", tt.mode)
			if err != nil {
				t.Fatal(err)
			}
			// The bar draws "records" with a count; the summary line alone does not.
			if got := strings.Contains(stderr, "/5000"); got != tt.want {
				t.Errorf("--progress %s: got bar %v, want %v; stderr %q", tt.mode, got, tt.want, stderr)
			}
		})
	}
}

// TestFixturesLabelsPointAtTheirLines: in NDJSON and CSV, a label's index is
// the line (data row) of the record it labels.
func TestFixturesLabelsPointAtTheirLines(t *testing.T) {
	for _, format := range []string{"ndjson", "csv", "json"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			out, exp := filepath.Join(dir, "data."+format), filepath.Join(dir, "labels.jsonl")
			if _, stderr, err := runSubcommand(t, nil, "fixtures", "--count", "400", "--invalid", "0.3", "--format", format, "--out", out, "--expectations", exp); err != nil {
				t.Fatalf("got error %v; stderr %s", err, stderr)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			var ids []string
			switch format {
			case "csv":
				for _, line := range lines[1:] {
					id, _, _ := strings.Cut(line, ",")
					ids = append(ids, id)
				}
			case "ndjson":
				for _, line := range lines {
					var c openapi.Customer
					if err := json.Unmarshal([]byte(line), &c); err != nil {
						t.Fatal(err)
					}
					ids = append(ids, deref(c.ExternalID))
				}
			case "json":
				req, err := openapi.DecodeSaveCustomers(data)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range req.Customers {
					ids = append(ids, deref(c.ExternalID))
				}
				for _, r := range req.Relations {
					ids = append(ids, "relation:"+deref(r.RelationExternalID))
				}
			}
			labels, err := os.ReadFile(exp)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			relOffset := 0
			if format == "json" {
				for k, id := range ids {
					if strings.HasPrefix(id, "relation:") {
						relOffset = k
						break
					}
				}
			}
			for _, line := range strings.Split(strings.TrimSpace(string(labels)), "\n") {
				var l fixtures.LabelledRecord
				if err := json.Unmarshal([]byte(line), &l); err != nil {
					t.Fatal(err)
				}
				n++
				got, want := ids[l.Index], l.ExternalID
				if l.Record == rules.RelationRecord {
					got, want = ids[relOffset+l.Index], "relation:"+l.ExternalID
				}
				if got != want {
					t.Errorf("label %+v: the record at its index has id %q", l, got)
				}
			}
			if n < 60 {
				t.Errorf("got %d labels for 400 records at 30%%, want about 120", n)
			}
		})
	}
}

// TestFixturesPostLostLabels: labels that cannot be written fail the run
// before its summary.
func TestFixturesPostLostLabels(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full here")
	}
	ts := mocktest.New(t)
	_, stderr, err := runSubcommand(t, nil, "fixtures", "--post", ts.URL, "--user", "u", "--password", "p", "--count", "20", "--invalid", "1", "--expectations", "/dev/full")
	if err == nil || !strings.Contains(err.Error(), "fixtures: write /dev/full: ") {
		t.Errorf("got error %v, want the lost write", err)
	}
	if strings.Contains(stderr, "posted") {
		t.Errorf("a failed run printed its summary:\n%s", stderr)
	}
}
