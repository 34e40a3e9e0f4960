package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
)

// testPool is two bodies of two valid customers and a relation between them.
func testPool(tb testing.TB) [][]byte {
	tb.Helper()
	var pool [][]byte
	for b := 0; b < 2; b++ {
		body := fmt.Sprintf(`{"customers":[{"external_id":"c%[1]d-a","account_type":"N","last_name":"Doe"},{"external_id":"c%[1]d-b","account_type":"F","company_name":"Doe Ltd"}],"relations":[{"relation_external_id":"r%[1]d","parent_customer_external_id":"c%[1]d-b","child_customer_external_id":"c%[1]d-a","relation_type":1}]}`, b)
		marked, _, _, err := markBody([]byte(body), 2)
		if err != nil {
			tb.Fatal(err)
		}
		pool = append(pool, marked)
	}
	return pool
}

func TestPosterAgainstTheMock(t *testing.T) {
	ts := mocktest.New(t)
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(ts.Username+":"+ts.Password))
	tests := []struct {
		name          string
		prefix        string
		total         int64
		bodies        int
		wantRequests  int64
		wantCustomers int64
		wantErr       string
	}{
		{name: "one pass", prefix: "a", wantRequests: 2, wantCustomers: 4},
		{name: "until a total", prefix: "b", total: 9, wantRequests: 5, wantCustomers: 10},
		{name: "some bodies", prefix: "c", bodies: 3, wantRequests: 3, wantCustomers: 6},
		// The same prefix again: the customers exist, so they are updated, not
		// added, and the strict check fails.
		{name: "updates are not creates", prefix: "a", wantErr: "want status ok, 2 added"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &poster{URL: ts.URL, Auth: auth, Prefix: tt.prefix, Strict: true, Concurrency: 1, Client: ts.Client}
			st, err := p.run(context.Background(), testPool(t), tt.total, tt.bodies)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.Requests != tt.wantRequests || st.Customers != tt.wantCustomers || st.Added != tt.wantCustomers {
				t.Errorf("got %d requests, %d customers, %d added; want %d, %d, %d",
					st.Requests, st.Customers, st.Added, tt.wantRequests, tt.wantCustomers, tt.wantCustomers)
			}
		})
	}
}

func TestPosterLenientAndFailures(t *testing.T) {
	// status is read by handler goroutines that may outlive a subtest whose
	// poster gave up early, so it is atomic.
	var status atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(status.Load()))
		w.Write([]byte(`{"added":[],"detail":[],"status":"ok","verify_input":false}`))
	}))
	defer srv.Close()
	tests := []struct {
		name    string
		status  int
		strict  bool
		wantErr string
	}{
		{"lenient takes a fixed answer", http.StatusOK, false, ""},
		{"strict wants every customer added", http.StatusOK, true, "want status ok, 2 added"},
		{"a 4xx always fails", http.StatusUnprocessableEntity, false, "status 422"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status.Store(int32(tt.status))
			p := &poster{URL: srv.URL, Strict: tt.strict, Concurrency: 2, Client: srv.Client()}
			_, err := p.run(context.Background(), testPool(t), 0, 0)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestRunPostsAPool(t *testing.T) {
	ts := mocktest.New(t)
	pool := t.TempDir() + "/pool.txt"
	writeFile(t, pool, string(bytes.Join(testPool(t), []byte("\n")))+"\n")
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(ts.Username+":"+ts.Password))
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"bodies", "-pool", pool, "-post", ts.URL, "-auth", auth, "-total", "8"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v (stderr %s)", err, stderr.String())
	}
	if got, want := stdout.String(), `{"requests":4,"customers":8,"added":8,`; !strings.HasPrefix(got, want) {
		t.Errorf("got %q, want it to start with %q", got, want)
	}
}
