package mockserver_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/google/uuid"
)

// webhookReceiver is a receiver that answers failFirst 503s, then 204s, and
// passes every event it accepted on.
func webhookReceiver(tb testing.TB, failFirst int32) (string, <-chan mockserver.WebhookEvent, *atomic.Int32) {
	tb.Helper()
	events := make(chan mockserver.WebhookEvent, 16)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= failFirst {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var ev mockserver.WebhookEvent
		if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&ev) != nil {
			tb.Errorf("webhook: got content type %q and an undecodable body", r.Header.Get("Content-Type"))
		}
		w.WriteHeader(http.StatusNoContent)
		events <- ev
	}))
	tb.Cleanup(srv.Close)
	return srv.URL, events, &calls
}

func nextEvent(tb testing.TB, events <-chan mockserver.WebhookEvent) mockserver.WebhookEvent {
	tb.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(10 * time.Second):
		tb.Fatal("no webhook event within 10 s")
		return mockserver.WebhookEvent{}
	}
}

func TestWebhookCustomersUpdated(t *testing.T) {
	url, events, calls := webhookReceiver(t, 1) // the first delivery fails once: it must be retried
	ts := newServer(t, mockserver.Config{WebhookURL: url})
	save := ts.URL + "/api/v1/customers/save"

	first := do(t, ts.Client, "POST", save, "application/json",
		`{"customers":[{"external_id":"w1","account_type":"N","last_name":"A"},{"external_id":"bad","account_type":"Q"},{"external_id":"w2","account_type":"F","company_name":"B"}]}`)
	if first.status != 200 {
		t.Fatalf("save: got %d, want 200: %s", first.status, first.body)
	}
	var added struct {
		Added []mockserver.WebhookCustomer `json:"added"` // same two keys as an added entry
	}
	if err := json.Unmarshal(first.body, &added); err != nil {
		t.Fatalf("save answer: %v", err)
	}

	ev := nextEvent(t, events)
	if ev.EventCode != "customers_updated" || ev.EventSource != "api" || ev.Data.ClientID != "test" {
		t.Errorf("envelope: got %+v, want customers_updated from api for business test", ev)
	}
	if _, err := uuid.Parse(ev.EventID); err != nil {
		t.Errorf("event_id: got %q, want a UUID", ev.EventID)
	}
	if _, err := time.Parse(time.RFC3339, ev.EventDate); err != nil {
		t.Errorf("event_date: got %q, want RFC 3339", ev.EventDate)
	}
	if got := len(ev.Data.Customers); got != 2 || len(added.Added) != 2 {
		t.Fatalf("customers: got %+v, want the two saved (not the rejected one)", ev.Data.Customers)
	}
	for i, c := range ev.Data.Customers {
		if c.ExternalID != added.Added[i].ExternalID || c.CustomerID != added.Added[i].CustomerID {
			t.Errorf("customers[%d]: got %+v, want %+v", i, c, added.Added[i])
		}
	}
	if got := calls.Load(); got != 2 {
		t.Errorf("deliveries: got %d calls, want 2 (one 503, one retry)", got)
	}

	// A dry run and an all-rejected batch send nothing; an update does.
	do(t, ts.Client, "POST", save, "application/json", `{"verify_input":true,"customers":[{"external_id":"w3","account_type":"N","last_name":"C"}]}`)
	do(t, ts.Client, "POST", save, "application/json", `{"customers":[{"external_id":"w4","account_type":"Z"}]}`)
	do(t, ts.Client, "POST", save, "application/json", `{"customers":[{"external_id":"w1","phone":"+33612345678"}]}`)
	ev = nextEvent(t, events)
	if len(ev.Data.Customers) != 1 || ev.Data.Customers[0].ExternalID != "w1" || ev.Data.Customers[0].CustomerID != added.Added[0].CustomerID {
		t.Errorf("after a dry run, a rejected batch and an update: got %+v, want only the update of w1", ev.Data.Customers)
	}
	select {
	case ev := <-events:
		t.Errorf("unexpected event %+v", ev)
	case <-time.After(300 * time.Millisecond):
	}
}
