package mockserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/memstore"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// Close cancels the deliveries in flight (of three businesses) and waits for them; after it, saves
// start no goroutine and send nothing; a second Close is harmless.
func TestCloseStopsWebhooks(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		io.Copy(io.Discard, r.Body) // then the server notices when the mock hangs up
		select {                    // no answer: the mock's Close must cancel the call
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer receiver.Close()
	defer close(release) // before receiver.Close, should the test fail
	before := runtime.NumGoroutine()
	mock, err := mockserver.New(mockserver.Config{WebhookURL: receiver.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	saveOne := func(id string) { // one business each: a business has one delivery in flight at a time
		resp, _, err := mock.Save(ctx, "acme-"+id, &openapi.SaveCustomersRequest{Customers: []openapi.Customer{
			{ExternalID: &id, AccountType: ptr("N"), LastName: ptr("D")}}})
		if err != nil || len(resp.Added) != 1 {
			t.Fatalf("save %s: %v %+v", id, err, resp)
		}
	}
	for _, id := range []string{"a", "b", "c"} {
		saveOne(id)
	}
	waitFor(t, "three deliveries in flight", func() bool { return calls.Load() == 3 })
	if err := mock.Close(); err != nil {
		t.Fatal(err)
	}
	// A goroutine that has called wg.Done may still be unwinding out of the
	// sender's frames for a moment after Close returns; one that is still
	// there 10 s later outlived Close.
	buf := make([]byte, 1<<20)
	senderStacks := func() string {
		if stacks := string(buf[:runtime.Stack(buf, true)]); strings.Contains(stacks, "mockserver.(*webhookSender)") {
			return stacks
		}
		return ""
	}
	for deadline := time.Now().Add(10 * time.Second); senderStacks() != ""; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("a delivery outlived Close:\n%s", senderStacks())
		}
	}
	waitFor(t, "the goroutines the mock started to end", func() bool { return runtime.NumGoroutine() <= before })
	saveOne("d")
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("a save after Close left %d goroutines, want at most %d", n, before)
	}
	if err := mock.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if got := calls.Load(); got != 3 {
		t.Errorf("receiver calls: got %d, want 3 (none after Close)", got)
	}
}

func ptr(s string) *string { return &s }

// waitFor polls cond until it holds, failing tb after 10 s.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("waited 10 s for %s", what)
		}
	}
}

// holdingReceiver is a receiver that reads each event, passes it on, and
// then never answers (until the caller hangs up): its events stay in flight,
// so in the outbox.
func holdingReceiver(tb testing.TB) (string, <-chan mockserver.WebhookEvent) {
	tb.Helper()
	events := make(chan mockserver.WebhookEvent, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev mockserver.WebhookEvent
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			tb.Errorf("webhook body: %v", err)
		}
		events <- ev
		<-r.Context().Done()
	}))
	tb.Cleanup(srv.Close)
	return srv.URL, events
}

func pendingEvents(tb testing.TB, s store.Store) []store.Event {
	tb.Helper()
	evs, err := s.PendingEvents(context.Background(), 100)
	require.NoError(tb, err)
	return evs
}

func saveOf(id, accountType string, verify bool) *openapi.SaveCustomersRequest {
	return &openapi.SaveCustomersRequest{VerifyInput: &verify,
		Customers: []openapi.Customer{{ExternalID: &id, AccountType: ptr(accountType), LastName: ptr("D")}}}
}

// An event is in the outbox exactly when its save committed: a save whose
// store fails at any call (the event's own write and the commit included)
// leaves none, nor do a dry run and a batch whose every record was
// rejected; without a WebhookURL no event is ever written.
func TestOutboxEventIffSaveCommitted(t *testing.T) {
	ctx := context.Background()
	url, received := holdingReceiver(t)
	mem := memstore.New()
	failing := &failingStore{Store: mem}
	mock := mocktest.NewMock(t, mockserver.Config{Store: failing, WebhookURL: url})

	failures := 0
	for n := 1; ; n++ {
		failing.arm(n)
		_, _, err := mock.Save(ctx, "acme", saveOf("c1", "N", false))
		if !failing.reached() {
			require.NoError(t, err)
			break
		}
		failures++
		require.ErrorIs(t, err, store.ErrUnavailable, "call %d failing", n)
		assert.Empty(t, pendingEvents(t, mem), "call %d failing: an event of a save that did not commit", n)
	}
	failing.arm(0)
	assert.GreaterOrEqual(t, failures, 3, "the read, the writes, the event and the commit must each fail once")
	evs := pendingEvents(t, mem)
	require.Len(t, evs, 1, "the save that committed")
	ev := nextEvent(t, received)
	var stored mockserver.WebhookEvent
	require.NoError(t, json.Unmarshal(evs[0].Payload, &stored))
	assert.Equal(t, stored, ev, "what is delivered is the stored payload")
	assert.Equal(t, "acme", evs[0].Business)

	for _, req := range []*openapi.SaveCustomersRequest{saveOf("c2", "N", true), saveOf("c3", "Q", false)} {
		_, _, err := mock.Save(ctx, "acme", req)
		require.NoError(t, err)
	}
	assert.Len(t, pendingEvents(t, mem), 1, "a dry run or an all-rejected batch wrote an event")

	quiet := memstore.New()
	_, _, err := mocktest.NewMock(t, mockserver.Config{Store: quiet}).Save(ctx, "acme", saveOf("c1", "N", false))
	require.NoError(t, err)
	assert.Empty(t, pendingEvents(t, quiet), "an event written without a WebhookURL")
}

// An event whose delivery a closing server cancelled stays in the outbox
// and is delivered, with the same event_id, by the next server on the same
// durable state (a SQLite file, a PostgreSQL database), which then removes it.
func TestPendingEventDeliveredAfterRestart(t *testing.T) {
	for _, st := range testStores {
		if !st.durable {
			continue
		}
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			open := st.state(t)
			holding, inFlight := holdingReceiver(t)
			first := open()
			mock, err := mockserver.New(mockserver.Config{Store: first, WebhookURL: holding})
			require.NoError(t, err)
			resp, _, err := mock.Save(ctx, "acme", saveOf("c1", "N", false))
			require.NoError(t, err)
			sent := nextEvent(t, inFlight)
			require.NoError(t, mock.Close())
			require.Len(t, pendingEvents(t, first), 1, "the event whose delivery Close cancelled")
			require.NoError(t, first.Close())

			url, delivered, _ := webhookReceiver(t, 0)
			second := open()
			mocktest.NewMock(t, mockserver.Config{Store: second, WebhookURL: url})
			got := nextEvent(t, delivered)
			assert.Equal(t, sent, got, "the event delivered after the restart")
			require.Len(t, got.Data.Customers, 1)
			assert.Equal(t, resp.Added[0].CustomerID, got.Data.Customers[0].CustomerID)
			waitFor(t, "the delivered event to leave the outbox", func() bool { return len(pendingEvents(t, second)) == 0 })
		})
	}
}
