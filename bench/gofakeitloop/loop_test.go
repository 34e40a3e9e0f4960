package main

import (
	"bufio"
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

func TestGenerate(t *testing.T) {
	tests := []struct {
		name  string
		count int
		seed  int64
	}{
		{"none", 0, 1},
		{"one", 1, 42},
		{"many", 500, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := generate(&out, tt.count, tt.seed); err != nil {
				t.Fatal(err)
			}
			var again bytes.Buffer
			if err := generate(&again, tt.count, tt.seed); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), again.Bytes()) {
				t.Errorf("got different output for the same seed %d", tt.seed)
			}
			got, firms := 0, 0
			sc := bufio.NewScanner(&out)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				// Every line must be a customer of the document's schema, so the
				// ceiling produces the same kind of data as the fixtures.
				body := `{"customers":[` + sc.Text() + `]}`
				req, err := openapi.DecodeSaveCustomers([]byte(body))
				if err != nil {
					t.Fatalf("line %d: %v", got+1, err)
				}
				if c := req.Customers[0]; c.ExternalID == nil || c.AccountType == nil {
					t.Fatalf("line %d: no external_id or account_type: %s", got+1, sc.Text())
				} else if *c.AccountType == "F" {
					firms++
				}
				got++
			}
			if got != tt.count {
				t.Errorf("got %d lines, want %d", got, tt.count)
			}
			if tt.count >= 500 && (firms < tt.count/5 || firms > tt.count*2/5) {
				t.Errorf("got %d firms of %d, want about 30 %%", firms, tt.count)
			}
		})
	}
}

func TestRunRejectsSeedZero(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"gofakeitloop", "-seed", "0"}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "-seed 0") {
		t.Errorf("got %v, want a seed 0 error", err)
	}
}
