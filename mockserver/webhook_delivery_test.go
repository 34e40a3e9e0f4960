package mockserver_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/internal/retry"
	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testWebhookSecret is a Standard Webhooks secret: whsec_ and 32 bytes.
var testWebhookSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

// verifyStandardWebhook is a receiver's check of a delivery, written from
// the Standard Webhooks specification ("Verifying webhooks"), independently
// of the mock's code: the key is the base64 after whsec_, the signed content
// is id.timestamp.body, webhook-signature is a space-separated list of
// version,base64 signatures of which one v1 must match.
func verifyStandardWebhook(secret string, h http.Header, body []byte) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	if id == "" || ts == "" {
		return fmt.Errorf("webhook-id %q, webhook-timestamp %q: missing", id, ts)
	}
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
		return fmt.Errorf("webhook-timestamp %q: %v", ts, err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	want := m.Sum(nil)
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		version, b64, _ := strings.Cut(sig, ",")
		got, err := base64.StdEncoding.DecodeString(b64)
		if version == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no v1 signature of %q matches", h.Get("webhook-signature"))
}

// The reference check above passes the specification's own test vector
// (the one its libraries test), so that it checks what the spec says.
func TestStandardWebhooksTestVector(t *testing.T) {
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	body := []byte(`{"test": 2432232314}`)
	require.NoError(t, verifyStandardWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", h, body))
	assert.Error(t, verifyStandardWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", h, []byte(`{"test": 2432232315}`)), "another body")
	h.Set("webhook-timestamp", "1614265331")
	assert.Error(t, verifyStandardWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", h, body), "another timestamp")
}

// delivery is one call a receiver got.
type delivery struct {
	status int // answered
	header http.Header
	event  mockserver.WebhookEvent
	body   []byte
}

// hookRecorder is a webhook receiver that records every call and answers what
// answer says (nil: 204 after delay).
type hookRecorder struct {
	arrived atomic.Int32 // calls that have started
	mu      sync.Mutex
	calls   []delivery
	url     string
	delay   time.Duration
	answer  func(n int) int // the status of the n-th call (from 1)
}

func newHookRecorder(tb testing.TB, delay time.Duration, answer func(n int) int) *hookRecorder {
	rec := &hookRecorder{delay: delay, answer: answer}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.arrived.Add(1)
		body, err := io.ReadAll(r.Body)
		require.NoError(tb, err)
		var ev mockserver.WebhookEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			tb.Errorf("webhook body %q: %v", body, err)
		}
		time.Sleep(rec.delay)
		rec.mu.Lock()
		n := len(rec.calls) + 1
		status := http.StatusNoContent
		if rec.answer != nil {
			status = rec.answer(n)
		}
		rec.calls = append(rec.calls, delivery{status: status, header: r.Header.Clone(), event: ev, body: body})
		rec.mu.Unlock()
		if status >= 300 && status < 400 {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(status)
	}))
	tb.Cleanup(srv.Close)
	rec.url = srv.URL
	return rec
}

func (rec *hookRecorder) all() []delivery {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.calls)
}

// delivered returns the events of the calls answered 2xx, by business, in
// the order they arrived.
func (rec *hookRecorder) delivered() map[string][]mockserver.WebhookEvent {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := map[string][]mockserver.WebhookEvent{}
	for _, c := range rec.calls {
		if c.status < 300 {
			out[c.event.Data.ClientID] = append(out[c.event.Data.ClientID], c.event)
		}
	}
	return out
}

// externalIDs returns the external_id of each event's one customer.
func externalIDs(evs []mockserver.WebhookEvent) []string {
	out := []string{}
	for _, e := range evs {
		for _, c := range e.Data.Customers {
			out = append(out, c.ExternalID)
		}
	}
	return out
}

// saveSeries saves n customers one request at a time into each business
// (the businesses in parallel), through HTTP, and returns the external_ids
// in the order saved, by business. pause is waited between two saves.
func saveSeries(t *testing.T, ts *mocktest.Server, businesses []string, n int, pause time.Duration) map[string][]string {
	t.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		want = map[string][]string{}
	)
	for _, b := range businesses {
		client := ts.ClientFor(b, "pw")
		wg.Go(func() {
			for i := range n {
				id := fmt.Sprintf("c%03d", i)
				saveAs(t, ts, client, `{"customers":[{"external_id":"`+id+`",`+indiv+`}]}`)
				mu.Lock()
				want[b] = append(want[b], id)
				mu.Unlock()
				time.Sleep(pause)
			}
		})
	}
	wg.Wait()
	return want
}

func businessNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("biz-%02d", i)
	}
	return out
}

var millisDate = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// Issue 12, row 4: 2,000 saves against a receiver that answers in 100 ms.
// Every event arrives, once, in the order of its business's saves, signed.
// 20 businesses × 100 saves: a business's events go one at a time (100 ×
// 100 ms = 10 s), the businesses in parallel.
func TestWebhooks2000SavesSlowReceiver(t *testing.T) {
	t.Parallel()
	rec := newHookRecorder(t, 100*time.Millisecond, nil)
	ts := newServer(t, mockserver.Config{WebhookURL: rec.url, WebhookSecret: testWebhookSecret})
	businesses := businessNames(20)
	want := saveSeries(t, ts, businesses, 100, 0)
	waitForWithin(t, 60*time.Second, "2,000 deliveries", func() bool { return len(rec.all()) >= 2000 })
	time.Sleep(200 * time.Millisecond) // a duplicate would show now
	calls := rec.all()
	require.Len(t, calls, 2000, "deliveries")
	ids := map[string]bool{}
	for _, c := range calls {
		require.NoError(t, verifyStandardWebhook(testWebhookSecret, c.header, c.body), "signature")
		assert.Equal(t, c.event.EventID, c.header.Get("webhook-id"), "webhook-id is the event_id")
		assert.Regexp(t, millisDate, c.event.EventDate, "event_date: RFC 3339 with milliseconds")
		ids[c.event.EventID] = true
	}
	assert.Len(t, ids, 2000, "distinct event_ids")
	got := rec.delivered()
	for _, b := range businesses {
		assert.Equal(t, want[b], externalIDs(got[b]), "business %s: events in the order of its saves", b)
	}
}

// waitForWithin polls cond until it holds, failing tb after d.
func waitForWithin(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("waited %s for %s", d, what)
		}
	}
}

// fastBackoff is a short backoff, so that a test sees many retries.
var fastBackoff = retry.Policy{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond}

// A receiver that fails for 10 s (real time) and then recovers loses
// nothing: the events saved during the outage arrive after it, in order per
// business, none failed, none pending.
func TestWebhooksReceiverOutage(t *testing.T) {
	t.Parallel()
	var up atomic.Bool
	rec := newHookRecorder(t, 0, func(int) int {
		if up.Load() {
			return http.StatusNoContent
		}
		return http.StatusServiceUnavailable
	})
	ts := newServer(t, mockserver.WithWebhookBackoff(mockserver.Config{WebhookURL: rec.url}, fastBackoff))
	businesses := businessNames(5)
	outage := time.AfterFunc(10*time.Second, func() { up.Store(true) })
	defer outage.Stop()
	want := saveSeries(t, ts, businesses, 20, 200*time.Millisecond) // 4 s of saves, all during the outage
	require.False(t, up.Load(), "the saves took longer than the outage")
	failing := len(rec.all())
	waitForWithin(t, 30*time.Second, "the events after the outage", func() bool {
		got := rec.delivered()
		n := 0
		for _, b := range businesses {
			n += len(got[b])
		}
		return n >= 100
	})
	assert.Greater(t, failing, len(businesses), "attempts during the outage (each business retried)")
	got := rec.delivered()
	for _, b := range businesses {
		assert.Equal(t, want[b], externalIDs(got[b]), "business %s: every event, in order", b)
		page := webhookPage(t, ts, b, "failed")
		assert.Zero(t, page.Total, "business %s: failed events", b)
		waitForWithin(t, 5*time.Second, "no pending event", func() bool { return webhookPage(t, ts, b, "pending").Total == 0 })
		assert.Equal(t, int64(20), webhookPage(t, ts, b, "delivered").Total, "business %s: delivered events listed", b)
	}
}

// webhookPage gets GET /__admin/webhooks?status= as business.
func webhookPage(tb testing.TB, ts *mocktest.Server, business, status string) openapi.WebhookEventPage {
	tb.Helper()
	r := do(tb, ts.ClientFor(business, "pw"), http.MethodGet, ts.URL+"/__admin/webhooks?status="+status, "", "")
	require.Equal(tb, http.StatusOK, r.status, "%s", r.body)
	var page openapi.WebhookEventPage
	require.NoError(tb, json.Unmarshal(r.body, &page))
	return page
}

// A redirect is not followed: it is a failed attempt, retried until the
// retry bound, then the event is failed and listed with its last error; the
// next event of the business waits until then.
func TestWebhooksRedirectsAreFailures(t *testing.T) {
	t.Parallel()
	var followed atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed.Add(1) }))
	defer target.Close()
	rec := newHookRecorder(t, 0, func(int) int { return http.StatusTemporaryRedirect })
	cfg := mockserver.Config{WebhookURL: rec.url, WebhookRetryFor: 500 * time.Millisecond}
	ts := newServer(t, mockserver.WithWebhookBackoff(cfg, fastBackoff))
	saveSeries(t, ts, []string{"acme"}, 2, 0)
	waitForWithin(t, 10*time.Second, "both events failed", func() bool { return webhookPage(t, ts, "acme", "failed").Total == 2 })
	assert.Zero(t, followed.Load(), "calls that followed the redirect")

	page := webhookPage(t, ts, "acme", "failed")
	require.Len(t, page.Events, 2)
	calls := rec.all()
	first := page.Events[0]
	assert.Equal(t, "failed", first.Status)
	assert.Contains(t, first.LastError, "receiver answered 307")
	assert.Contains(t, first.LastError, "redirects are not followed")
	assert.Greater(t, first.Attempts, int64(1), "retried before it was given up")
	assert.NotEmpty(t, first.LastAttemptAt)
	assert.Empty(t, first.NextAttemptAt)
	assert.Equal(t, "c000", first.Event["data"].(map[string]any)["customers"].([]any)[0].(map[string]any)["external_id"])
	assert.Equal(t, first.EventID, first.Event["event_id"])
	n := 0
	for _, c := range calls {
		if c.header.Get("webhook-id") != first.EventID {
			break
		}
		n++
	}
	assert.Equal(t, int(first.Attempts), n, "every attempt of the first event came before the second event's")
	assert.Empty(t, calls[0].header.Get("webhook-signature"), "no signature without a secret")
	assert.Zero(t, webhookPage(t, ts, "other", "failed").Total, "another business sees none")
}

// The inspection listing refuses a bad status and pages like the others.
func TestWebhooksListing(t *testing.T) {
	rec := newHookRecorder(t, 0, nil)
	ts := newServer(t, mockserver.Config{WebhookURL: rec.url})
	saveSeries(t, ts, []string{"acme"}, 3, 0)
	waitForWithin(t, 10*time.Second, "three delivered", func() bool { return webhookPage(t, ts, "acme", "delivered").Total == 3 })
	client := ts.ClientFor("acme", "pw")
	r := do(t, client, http.MethodGet, ts.URL+"/__admin/webhooks?status=delivered&offset=1&limit=1", "", "")
	require.Equal(t, http.StatusOK, r.status)
	var page openapi.WebhookEventPage
	require.NoError(t, json.Unmarshal(r.body, &page))
	assert.Equal(t, int64(3), page.Total)
	require.Len(t, page.Events, 1)
	assert.Equal(t, int64(1), page.Events[0].Attempts)
	assert.Equal(t, "c001", page.Events[0].Event["data"].(map[string]any)["customers"].([]any)[0].(map[string]any)["external_id"], "offset 1")
	for _, q := range []string{"status=done", "limit=0", "offset=-1"} {
		r := do(t, client, http.MethodGet, ts.URL+"/__admin/webhooks?"+q, "", "")
		assert.Equal(t, http.StatusBadRequest, r.status, "%s: %s", q, r.body)
	}
	assert.Equal(t, "failed", webhookPage(t, ts, "acme", "").Status, "the default status")
	r = do(t, &http.Client{}, http.MethodGet, ts.URL+"/__admin/webhooks", "", "")
	assert.Equal(t, http.StatusUnauthorized, r.status)
}

// Shutdown with the in-memory store delivers the pending events first.
func TestWebhooksShutdownDrainsMemory(t *testing.T) {
	rec := newHookRecorder(t, 50*time.Millisecond, nil)
	mock, err := mockserver.New(mockserver.Config{WebhookURL: rec.url})
	require.NoError(t, err)
	for i := range 5 {
		_, _, err := mock.Save(context.Background(), "acme", saveOf(fmt.Sprint("c", i), "N", false))
		require.NoError(t, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, mock.Shutdown(ctx))
	assert.Len(t, rec.all(), 5, "delivered before Shutdown returned")
	evs, err := mock.Store().PendingEvents(context.Background(), 10)
	require.NoError(t, err)
	assert.Empty(t, evs)
}

// Two mocks on one state (one in-memory store, one SQLite file, one
// PostgreSQL database) both deliver: a business's events still arrive once
// each and in the order of its saves, which alternate between the mocks.
func TestWebhooksTwoSendersKeepOrder(t *testing.T) {
	for _, st := range testStores {
		t.Run(st.name, func(t *testing.T) {
			rec := newHookRecorder(t, 5*time.Millisecond, nil)
			open := st.state(t)
			cfg := mockserver.Config{WebhookURL: rec.url}
			a, b := newServer(t, withStore(cfg, open())), newServer(t, withStore(cfg, open()))
			businesses := businessNames(3)
			want := map[string][]string{}
			var wg sync.WaitGroup
			var mu sync.Mutex
			for _, biz := range businesses {
				wg.Go(func() {
					for i := range 30 {
						ts := []*mocktest.Server{a, b}[i%2]
						id := fmt.Sprintf("c%03d", i)
						saveAs(t, ts, ts.ClientFor(biz, "pw"), `{"customers":[{"external_id":"`+id+`",`+indiv+`}]}`)
						mu.Lock()
						want[biz] = append(want[biz], id)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			waitForWithin(t, 30*time.Second, "90 deliveries", func() bool { return len(rec.all()) >= 90 })
			time.Sleep(300 * time.Millisecond) // a duplicate would show now
			assert.Len(t, rec.all(), 90, "deliveries")
			got := rec.delivered()
			for _, biz := range businesses {
				assert.Equal(t, want[biz], externalIDs(got[biz]), "business %s", biz)
			}
		})
	}
}

func withStore(cfg mockserver.Config, s store.Store) mockserver.Config {
	cfg.Store = s
	return cfg
}

// Shutdown with a durable store lets the attempt in flight finish, starts
// no other, and leaves the pending events for the next server on the
// store, which delivers them in order.
func TestWebhooksShutdownKeepsDurableEvents(t *testing.T) {
	open := storeOf(t, "sqlite").state(t)
	rec := newHookRecorder(t, 300*time.Millisecond, nil)
	first := open()
	mock, err := mockserver.New(mockserver.Config{Store: first, WebhookURL: rec.url})
	require.NoError(t, err)
	for i := range 3 {
		_, _, err := mock.Save(context.Background(), "acme", saveOf(fmt.Sprint("c", i), "N", false))
		require.NoError(t, err)
	}
	waitFor(t, "the first attempt in flight (300 ms)", func() bool { return rec.arrived.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, mock.Shutdown(ctx))
	require.Len(t, rec.all(), 1, "the attempt in flight, and no other")
	pending, err := first.PendingEvents(context.Background(), 10)
	require.NoError(t, err)
	require.Len(t, pending, 2, "the events left for the next server")
	require.NoError(t, first.Close())

	mocktest.NewMock(t, mockserver.Config{Store: open(), WebhookURL: rec.url})
	waitForWithin(t, 10*time.Second, "the other two", func() bool { return len(rec.all()) == 3 })
	assert.Equal(t, []string{"c0", "c1", "c2"}, externalIDs(rec.delivered()["acme"]))
}

// storeOf returns the entry of testStores with name.
func storeOf(tb testing.TB, name string) testStore {
	for _, st := range testStores {
		if st.name == name {
			return st
		}
	}
	tb.Fatalf("no test store %q", name)
	return testStore{}
}
