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

func TestMarkBody(t *testing.T) {
	tests := []struct {
		name, body string
		customers  int
		want       string // "" when an error is wanted
		wantErr    string
	}{
		{
			name:      "customer and relation",
			body:      "{\n  \"customers\": [{\"external_id\": \"c1\", \"last_name\": \"Doe\"}, {\"external_id\": \"c2\"}],\n  \"relations\": [{\"relation_external_id\": \"r1\", \"parent_customer_external_id\": \"c2\", \"child_customer_external_id\": \"c1\", \"relation_type\": 1}]\n}",
			customers: 2,
			want:      `{"customers":[{"external_id":"@ID@c1","last_name":"Doe"},{"external_id":"@ID@c2"}],"relations":[{"relation_external_id":"@ID@r1","parent_customer_external_id":"@ID@c2","child_customer_external_id":"@ID@c1","relation_type":1}]}`,
		},
		{
			name:      "relations to another body's customers are dropped",
			body:      `{"customers":[{"external_id":"c2"}],"relations":[{"relation_external_id":"r1","parent_customer_external_id":"c2","child_customer_external_id":"c1","relation_type":1},{"relation_external_id":"r2","parent_customer_external_id":"c2"}]}`,
			customers: 1,
			want:      `{"customers":[{"external_id":"@ID@c2"}]}`,
		},
		{name: "any count", body: `{"customers":[{"external_id":"a"}]}`, customers: -1, want: `{"customers":[{"external_id":"@ID@a"}]}`},
		{name: "wrong count", body: `{"customers":[{"external_id":"a"}]}`, customers: 2, wantErr: "got 1 customers, want 2"},
		{name: "no external_id", body: `{"customers":[{"last_name":"a"}]}`, customers: 1, wantErr: "customers[0] has no external_id"},
		{name: "verify_input", body: `{"customers":[{"external_id":"a"}],"verify_input":true}`, customers: 1, wantErr: "verify_input is true"},
		{name: "escaped key in a value is left alone", body: `{"customers":[{"external_id":"a","comment":"\"external_id\":\""}]}`, customers: 1, want: `{"customers":[{"external_id":"@ID@a","comment":"\"external_id\":\""}]}`},
		{name: "identifier key in custom fields", body: `{"customers":[{"external_id":"a","fields":{"external_id":"x"}}]}`, customers: 1, wantErr: "marked 2 identifiers, want 1"},
		{name: "marker already there", body: `{"customers":[{"external_id":"@ID@"}]}`, customers: 1, wantErr: "already contains the marker"},
		{name: "not JSON", body: `{"customers":`, customers: 1, wantErr: "not JSON"},
		{name: "wrong type", body: `{"customers":{}}`, customers: 1, wantErr: "not a SaveCustomersRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, _, err := markBody([]byte(tt.body), tt.customers)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestRunWritesOneBodyPerLine(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "batch-0002.json"), `{"customers":[{"external_id":"b"}]}`)
	writeFile(t, filepath.Join(dir, "batch-0001.json"), "{\"customers\":[{\"external_id\":\"a\"}]}\n{\"customers\":[{\"external_id\":\"a2\"}]}\n")
	writeFile(t, filepath.Join(dir, "notes.txt"), "ignored")
	out := filepath.Join(t.TempDir(), "pool.txt")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"bodies", "-in", dir, "-customers", "1", "-out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v (stderr %s)", err, stderr.String())
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"customers":[{"external_id":"@ID@a"}]}
{"customers":[{"external_id":"@ID@a2"}]}
{"customers":[{"external_id":"@ID@b"}]}
`
	if string(got) != want {
		t.Errorf("got pool\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(stderr.String(), "3 bodies, 3 customers") {
		t.Errorf("got summary %q, want it to count 3 bodies", stderr.String())
	}
}

func TestRunNeedsInput(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"bodies"}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "no -in given") {
		t.Errorf("got %v, want a no -in error", err)
	}
}

// FuzzMarkBody checks that marking never panics, and that a marked body minus
// its markers is the compact input, still one line.
func FuzzMarkBody(f *testing.F) {
	f.Add([]byte(`{"customers":[{"external_id":"c1"}],"relations":[{"relation_external_id":"r","parent_customer_external_id":"c1","child_customer_external_id":"c2"}]}`))
	f.Add([]byte(`{"customers":[{"external_id":"a","fields":{"external_id":"x"}}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		marked, _, dropped, err := markBody(body, -1)
		if err != nil {
			return
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, body); err != nil {
			t.Fatalf("markBody accepted a body json.Compact rejects: %v", err)
		}
		if dropped > 0 {
			return // re-encoded: the bytes differ by design
		}
		if got := bytes.ReplaceAll(marked, []byte(Marker), nil); !bytes.Equal(got, compact.Bytes()) {
			t.Errorf("got %s without markers, want %s", got, compact.Bytes())
		}
		if bytes.ContainsRune(marked, '\n') {
			t.Errorf("got a newline in the marked body %q", marked)
		}
	})
}

func writeFile(tb testing.TB, name, content string) {
	tb.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}
