package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Stopping the mock (SIGINT/SIGTERM end runMock's context the same way)
// with its state in memory delivers the pending webhooks first: five saves
// against a receiver that answers in 200 ms all arrive, in order, signed
// with the secret given in the environment.
func TestMockDeliversPendingWebhooksWhenStopped(t *testing.T) {
	var (
		mu  sync.Mutex
		got []string
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			Data struct {
				Customers []struct {
					ExternalID string `json:"external_id"`
				} `json:"customers"`
			} `json:"data"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &ev); err != nil || len(ev.Data.Customers) != 1 || r.Header.Get("webhook-signature") == "" {
			t.Errorf("webhook: %v %s, signature %q", err, body, r.Header.Get("webhook-signature"))
		}
		time.Sleep(200 * time.Millisecond)
		mu.Lock()
		got = append(got, ev.Data.Customers[0].ExternalID)
		mu.Unlock()
	}))
	defer receiver.Close()
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("a secret of 24 bytes or more"))
	t.Run("serve, then stop", func(t *testing.T) { // its Cleanup stops the mock and waits for it
		url, _, _ := startMock(t, map[string]string{"ALGOREG_MOCK_WEBHOOK_SECRET": secret}, "--webhook", receiver.URL)
		for i := range 5 {
			body := fmt.Sprintf(`{"customers":[{"external_id":"c%d","account_type":"N","last_name":"Doe"}]}`, i)
			if status, m := mockPost(t, url+"/api/v1/customers/save", "demo", "demo", body); status != 200 {
				t.Fatalf("save %d: %d %v", i, status, m)
			}
		}
	})
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"c0", "c1", "c2", "c3", "c4"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("delivered before the mock stopped: %v, want %v", got, want)
	}
}
