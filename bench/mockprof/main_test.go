package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/memstore"
)

func TestDebugHandler(t *testing.T) {
	st := memstore.New()
	publishStore(st)
	err := st.Update(context.Background(), "b", func(tx store.Tx) error {
		for _, id := range []string{"a", "b", "c"} {
			if err := tx.PutCustomer(&rules.Customer{ExternalID: id, LastName: "Doe"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(debugHandler())
	defer srv.Close()
	tests := []struct {
		path       string
		wantStatus int
	}{
		{"/debug/vars", http.StatusOK},
		{"/debug/pprof/heap?gc=1", http.StatusOK},
		{"/api/v1/customers/save", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := srv.Client().Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("got status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.path == "/debug/vars" {
				var vars struct {
					Memstats struct{ HeapAlloc uint64 } `json:"memstats"`
					Store    struct {
						Customers   int   `json:"customers"`
						RecordBytes int64 `json:"record_bytes"`
					} `json:"store"`
				}
				if err := json.Unmarshal(body, &vars); err != nil || vars.Memstats.HeapAlloc == 0 {
					t.Errorf("got %v / HeapAlloc %d, want memstats with a heap", err, vars.Memstats.HeapAlloc)
				}
				if vars.Store.Customers != 3 || vars.Store.RecordBytes != 0 {
					t.Errorf("store: got %+v, want 3 customers and no record bytes outside the heap", vars.Store)
				}
			}
		})
	}
}
