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

	"github.com/algoreg-kit/algoreg-kit/internal/retry"
	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/google/uuid"
)

// The vendor emits a customers_updated webhook after saves. With
// Config.WebhookURL set, the mock does the same: every save that is not a dry
// run and saved at least one customer adds this envelope to the store's
// outbox, in the save's transaction, and the sender POSTs it to the URL.

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

// webhookSender delivers the events of the store's outbox in the
// background. Server.Save adds an event to the outbox in the save's own
// transaction (so it exists exactly when the save committed) and wakes the
// sender; the sender also reads the outbox every webhookPoll, for the events
// of other processes of the store and of a previous process. At most
// webhookMaxInFlight events are delivered at a time, each tried up to
// webhookAttempts times with a growing pause, then removed from the outbox
// (delivered or not: a failure is logged). A slow receiver never slows the
// API: the events wait in the outbox. Deliveries run on ctx; close cancels
// it, and an event whose delivery it cancelled stays in the outbox for the
// next process of the store.
type webhookSender struct {
	url       string
	outbox    store.Outbox
	client    *http.Client
	transport *http.Transport // the client's own, so close can drop its connections
	log       *slog.Logger
	backoff   time.Duration
	wake      chan struct{} // buffered: one pending wake-up is enough

	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup // the loop and the deliveries in flight
	mu       sync.Mutex     // guards inFlight
	inFlight map[int64]bool // outbox IDs being delivered, not to start again
}

const (
	webhookAttempts    = 3
	webhookMaxInFlight = 64
	webhookPoll        = time.Second
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

// startWebhookSender starts delivering the events of outbox to url.
func startWebhookSender(url string, outbox store.Outbox, log *slog.Logger) *webhookSender {
	ctx, cancel := context.WithCancel(context.Background())
	transport := http.DefaultTransport.(*http.Transport).Clone()
	w := &webhookSender{
		url:       url,
		outbox:    outbox,
		client:    &http.Client{Timeout: 5 * time.Second, Transport: transport},
		transport: transport,
		log:       log,
		backoff:   200 * time.Millisecond,
		wake:      make(chan struct{}, 1),
		ctx:       ctx,
		cancel:    cancel,
		inFlight:  map[int64]bool{},
	}
	w.wg.Add(1)
	go w.run()
	return w
}

// close cancels the deliveries in flight, waits for them and the loop, and
// closes the client's connections. It may be called more than once.
func (w *webhookSender) close() {
	w.cancel()
	w.wg.Wait()
	w.transport.CloseIdleConnections()
}

// wakeUp makes the loop read the outbox now, and returns at once.
func (w *webhookSender) wakeUp() {
	select {
	case w.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// run reads the outbox when woken, every webhookPoll, and once at start (for
// what a previous process left), until ctx ends.
func (w *webhookSender) run() {
	defer w.wg.Done()
	poll := time.NewTicker(webhookPoll)
	defer poll.Stop()
	for {
		w.dispatch()
		select {
		case <-w.ctx.Done():
			return
		case <-w.wake:
		case <-poll.C:
		}
	}
}

// dispatch starts the delivery of the oldest pending events that are not in
// flight, up to webhookMaxInFlight in flight.
func (w *webhookSender) dispatch() {
	w.mu.Lock()
	free := webhookMaxInFlight - len(w.inFlight)
	w.mu.Unlock()
	if free <= 0 {
		return
	}
	events, err := w.outbox.PendingEvents(w.ctx, webhookMaxInFlight)
	if err != nil {
		if w.ctx.Err() == nil {
			w.log.Warn("webhook: cannot read the outbox; will try again", "err", err)
		}
		return
	}
	for _, e := range events {
		if free == 0 {
			break
		}
		w.mu.Lock()
		busy := w.inFlight[e.ID]
		w.inFlight[e.ID] = true
		w.mu.Unlock()
		if !busy {
			free--
			w.wg.Add(1) // the loop's own count keeps the group above zero
			go w.deliverEvent(e)
		}
	}
}

// deliverEvent delivers e and removes it from the outbox, unless close
// cancelled the delivery. Then it frees its place and wakes the loop.
func (w *webhookSender) deliverEvent(e store.Event) {
	defer w.wg.Done()
	defer w.wakeUp()
	defer func() {
		w.mu.Lock()
		delete(w.inFlight, e.ID)
		w.mu.Unlock()
	}()
	err := w.deliver(w.ctx, e.Payload)
	switch {
	case err != nil && w.ctx.Err() != nil:
		return // closing: the event stays in the outbox, for the next process
	case err != nil:
		w.log.Warn("webhook: delivery failed; the event is dropped", "outbox_id", e.ID, "business", e.Business, "url", w.url, "attempts", webhookAttempts, "err", err)
	default:
		w.log.Debug("webhook: delivered", "outbox_id", e.ID, "business", e.Business, "url", w.url)
	}
	// Delivered even if close is under way: remove it, but give up after a while.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), 5*time.Second)
	defer cancel()
	if err := w.outbox.RecordAttempt(ctx, e.ID, store.Attempt{At: time.Now(), Error: errorText(err)}); err != nil {
		w.log.Warn("webhook: cannot remove the event from the outbox; it will be sent again", "outbox_id", e.ID, "business", e.Business, "err", err)
	}
}

// errorText is err's text for the outbox, "" for nil.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
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

// customersUpdated builds the outbox event of one save at now: the
// customers it created or updated (saved, as rules.Outcome.Customers lists
// them), in request order; ok is false when there are none. The payload is
// the webhook's body, with its event_id, so that every delivery of the event
// (a retry, another process's) sends the same body.
func customersUpdated(business string, now time.Time, saved []*rules.Customer) (e store.Event, ok bool, err error) {
	if len(saved) == 0 {
		return store.Event{}, false, nil
	}
	list := make([]WebhookCustomer, len(saved))
	for i, c := range saved {
		list[i] = WebhookCustomer{CustomerID: c.CustomerID.String(), ExternalID: c.ExternalID}
	}
	payload, err := json.Marshal(WebhookEvent{
		EventID:     uuid.NewString(),
		EventCode:   "customers_updated",
		EventDate:   now.UTC().Format(time.RFC3339),
		EventSource: "api",
		Data:        WebhookData{ClientID: business, Customers: list},
	})
	if err != nil { // only plain strings inside: cannot happen
		return store.Event{}, false, fmt.Errorf("encode the webhook event: %w", err)
	}
	return store.Event{Business: business, Payload: payload, CreatedAt: now}, true, nil
}
