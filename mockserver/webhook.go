package mockserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/google/uuid"

	"github.com/algoreg-kit/algoreg-kit/internal/retry"
)

// The vendor emits a customers_updated webhook after saves. With
// Config.WebhookURL set, the mock does the same: after every save that is not a
// dry run and saved at least one customer, it POSTs this envelope to the URL.

// WebhookEvent is the envelope of a webhook call.
type WebhookEvent struct {
	EventID     string      `json:"event_id"`
	EventCode   string      `json:"event_code"` // "customers_updated"
	EventDate   string      `json:"event_date"` // RFC 3339, UTC
	EventSource string      `json:"event_source"`
	Data        WebhookData `json:"data"`
}

// WebhookData lists the customers a save created or updated.
type WebhookData struct {
	ClientID  string            `json:"client_id"` // the business
	Customers []WebhookCustomer `json:"customers"`
}

// WebhookCustomer is one created or updated customer.
type WebhookCustomer struct {
	CustomerID string `json:"customer_id"`
	ExternalID string `json:"external_id"`
}

// webhookSender delivers events in the background: at most maxInFlight at a
// time (further events are dropped and logged, so a slow receiver never slows
// the API), each tried up to webhookAttempts times with a growing pause.
// Deliveries run on ctx; close cancels it and waits for them.
type webhookSender struct {
	url       string
	client    *http.Client
	transport *http.Transport // the client's own, so close can drop its connections
	log       *slog.Logger
	inFlight  chan struct{}
	backoff   time.Duration

	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex // guards closed and wg.Add against close
	closed bool
	wg     sync.WaitGroup // deliveries in flight
}

const (
	webhookAttempts    = 3
	webhookMaxInFlight = 64
)

// checkWebhookURL refuses a Config.WebhookURL that is set but not an
// absolute http or https URL.
func checkWebhookURL(s string) error {
	if s == "" {
		return nil
	}
	if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("Config.WebhookURL %q is not an absolute http or https URL; give one like http://127.0.0.1:9000/hook", s)
	}
	return nil
}

func newWebhookSender(url string, log *slog.Logger) *webhookSender {
	ctx, cancel := context.WithCancel(context.Background())
	transport := http.DefaultTransport.(*http.Transport).Clone()
	return &webhookSender{
		url:       url,
		client:    &http.Client{Timeout: 5 * time.Second, Transport: transport},
		transport: transport,
		log:       log,
		inFlight:  make(chan struct{}, webhookMaxInFlight),
		backoff:   200 * time.Millisecond,
		ctx:       ctx,
		cancel:    cancel,
	}
}

// close cancels the deliveries in flight, waits for them and closes the
// client's connections. Events sent afterwards are dropped.
func (w *webhookSender) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.cancel()
	w.wg.Wait()
	w.transport.CloseIdleConnections()
}

// send queues ev for delivery and returns at once.
func (w *webhookSender) send(ev WebhookEvent) {
	body, err := json.Marshal(ev)
	if err != nil { // only plain strings inside: cannot happen
		w.log.Error("webhook: encode event", "err", err)
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.log.Warn("webhook: the server is closed; event dropped", "event_id", ev.EventID, "url", w.url)
		return
	}
	select {
	case w.inFlight <- struct{}{}:
	default:
		w.log.Warn("webhook: too many deliveries in flight; event dropped", "event_id", ev.EventID, "url", w.url)
		return
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer func() { <-w.inFlight }()
		if err := w.deliver(w.ctx, body); err != nil {
			w.log.Warn("webhook: delivery failed", "event_id", ev.EventID, "url", w.url, "err", err)
		}
	}()
}

// deliver POSTs body, retrying on transport errors and 5xx/429 answers with
// the toolkit's one retry policy (internal/retry): up to webhookAttempts
// attempts, a backoff from w.backoff with jitter. It stops when ctx ends.
func (w *webhookSender) deliver(ctx context.Context, body []byte) error {
	p := retry.Policy{Attempts: webhookAttempts, Initial: w.backoff, Max: 4 * w.backoff}
	return p.Do(ctx, func() error {
		err := w.post(ctx, body)
		if _, final := err.(finalError); err != nil && !final {
			return retry.Again(err)
		}
		return err
	}, nil)
}

// finalError is an answer that retrying will not change (a 4xx but 429).
type finalError struct{ status int }

func (e finalError) Error() string { return fmt.Sprintf("receiver answered %d", e.status) }

func (w *webhookSender) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return finalError{0}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("receiver answered %d", resp.StatusCode)
	default:
		return finalError{resp.StatusCode}
	}
}

// customersUpdated builds the event of one save: the customers it created or
// updated (saved, as rules.Outcome.Customers lists them), in request order.
func (s *Server) customersUpdated(business string, saved []*rules.Customer) (WebhookEvent, bool) {
	var list []WebhookCustomer
	for _, c := range saved {
		list = append(list, WebhookCustomer{CustomerID: c.CustomerID.String(), ExternalID: c.ExternalID})
	}
	if len(list) == 0 {
		return WebhookEvent{}, false
	}
	return WebhookEvent{
		EventID:     uuid.NewString(),
		EventCode:   "customers_updated",
		EventDate:   s.now().UTC().Format(time.RFC3339),
		EventSource: "api",
		Data:        WebhookData{ClientID: business, Customers: list},
	}, true
}
