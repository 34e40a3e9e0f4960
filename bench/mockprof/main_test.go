package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestDebugHandler(t *testing.T) {
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
				}
				if err := json.Unmarshal(body, &vars); err != nil || vars.Memstats.HeapAlloc == 0 {
					t.Errorf("got %v / HeapAlloc %d, want memstats with a heap", err, vars.Memstats.HeapAlloc)
				}
			}
		})
	}
}
