package mockserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
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
	EventID     string      `json:"event_id"`   // a UUID, the same for every attempt
	EventCode   string      `json:"event_code"` // "customers_updated"
	EventDate   string      `json:"event_date"` // RFC 3339 in UTC, with milliseconds
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

// The defaults and bounds of the webhook sender.
const (
	// DefaultWebhookRetryFor is how long after its save an event is retried
	// (Config.WebhookRetryFor).
	DefaultWebhookRetryFor = time.Hour
	webhookWorkers         = 64               // businesses delivered at once, one event at a time each
	webhookBatch           = 100              // pending events a worker reads at a time
	webhookPoll            = time.Second      // how often the outbox is read without a wake-up
	webhookTimeout         = 10 * time.Second // of one attempt
	webhookLease           = 30 * time.Second // a business's lease, renewed before each attempt
	webhookKeepDelivered   = time.Hour        // then PruneEvents deletes a delivered event
	webhookPruneEvery      = time.Minute
	webhookMaxError        = 300 // bytes of an attempt's error kept in the outbox
)

// defaultWebhookBackoff is the sender's backoff: capped exponential with
// jitter (internal/retry), 0.5 s after the first failure, doubling up to 30 s.
var defaultWebhookBackoff = retry.Policy{Initial: 500 * time.Millisecond, Max: 30 * time.Second}

// webhookSender delivers the events of the store's outbox in the background,
// at least once and in order per business: one worker per business, which
// holds the business's lease in the store (so that one sender of all those
// sharing the store delivers it) and delivers its pending events one at a
// time, oldest first; an event is retried with backoff until retryFor after
// its save, then kept as failed, and the next one goes. Server.Save adds an
// event in the save's own transaction and wakes the sender; the sender also
// reads the outbox every webhookPoll, for the events of other processes and
// of a previous one. Every attempt is recorded in the outbox, so a restart
// resumes where the last process stopped. A slow receiver never slows the
// API: the events wait in the outbox.
type webhookSender struct {
	url       string
	outbox    store.Outbox
	client    *http.Client
	transport *http.Transport // the client's own, so close can drop its connections
	log       *slog.Logger
	key       []byte // of WebhookSecret; nil: unsigned
	retryFor  time.Duration
	backoff   retry.Policy
	holder    string        // this sender's name in the leases
	metrics   *metrics      // counts the attempts; nil: not counted
	wake      chan struct{} // buffered: one pending wake-up is enough

	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup // the loop and the workers
	workers  sync.WaitGroup // the workers only
	stopping atomic.Bool    // set by shutdown: no new attempt
	mu       sync.Mutex     // guards busy
	busy     map[string]bool
}

// checkWebhook refuses a Config.WebhookURL that is set but not an absolute
// http or https URL, and a WebhookSecret that is not whsec_ and base64.
func checkWebhook(cfg Config) error {
	if s := cfg.WebhookURL; s != "" {
		if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("Config.WebhookURL %q is not an absolute http or https URL; give one like http://127.0.0.1:9000/hook", s)
		}
	}
	if cfg.WebhookSecret != "" {
		if _, err := webhookKey(cfg.WebhookSecret); err != nil {
			return fmt.Errorf("Config.WebhookSecret: %w", err)
		}
	}
	return nil
}

// startWebhookSender starts delivering the events of outbox as cfg says.
func startWebhookSender(cfg Config, outbox store.Outbox, m *metrics) *webhookSender {
	ctx, cancel := context.WithCancel(context.Background())
	transport := http.DefaultTransport.(*http.Transport).Clone()
	key, _ := webhookKey(cfg.WebhookSecret) // checked by New
	w := &webhookSender{
		url:    cfg.WebhookURL,
		outbox: outbox,
		client: &http.Client{Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a 3xx is the answer, a failure
		}},
		transport: transport,
		log:       cfg.Logger,
		key:       key,
		retryFor:  cfg.WebhookRetryFor,
		backoff:   defaultWebhookBackoff,
		holder:    uuid.NewString(),
		metrics:   m,
		wake:      make(chan struct{}, 1),
		ctx:       ctx,
		cancel:    cancel,
		busy:      map[string]bool{},
	}
	if cfg.webhookBackoff != nil {
		w.backoff = *cfg.webhookBackoff
	}
	w.wg.Add(1)
	go w.run()
	return w
}

// close cancels the attempts in flight (their events stay pending), waits
// for them and the loop, and closes the client's connections. It may be
// called more than once.
func (w *webhookSender) close() {
	w.cancel()
	w.wg.Wait()
	w.transport.CloseIdleConnections()
}

// shutdown ends the sender gracefully, then closes it. With drain (an
// outbox in memory, which dies with the process) it goes on delivering
// until no event is pending or ctx ends; else (the events stay in a durable
// outbox) it starts no new attempt and waits for those in flight, until ctx
// ends.
func (w *webhookSender) shutdown(ctx context.Context, drain bool) {
	defer w.close()
	if drain {
		for {
			evs, err := w.outbox.PendingEvents(ctx, 1)
			if err != nil || len(evs) == 0 || retry.Sleep(ctx, 20*time.Millisecond) != nil {
				return
			}
		}
	}
	w.stopping.Store(true)
	done := make(chan struct{})
	go func() {
		w.workers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// wakeUp makes the loop read the outbox now, and returns at once.
func (w *webhookSender) wakeUp() {
	select {
	case w.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// run reads the outbox when woken, every webhookPoll, and once at start (for
// what a previous process left), until ctx ends; it prunes the delivered
// events every webhookPruneEvery.
func (w *webhookSender) run() {
	defer w.wg.Done()
	poll := time.NewTicker(webhookPoll)
	defer poll.Stop()
	pruned := time.Now()
	for {
		w.dispatch()
		if time.Since(pruned) >= webhookPruneEvery {
			pruned = time.Now()
			if err := w.outbox.PruneEvents(w.ctx, pruned.Add(-webhookKeepDelivered)); err != nil && w.ctx.Err() == nil {
				w.log.Warn("webhook: cannot prune the delivered events; will try again", "err", err)
			}
		}
		select {
		case <-w.ctx.Done():
			return
		case <-w.wake:
		case <-poll.C:
		}
	}
}

// dispatch starts a worker for each business with a pending event that has
// none, up to webhookWorkers at once, the business of the oldest event
// first.
func (w *webhookSender) dispatch() {
	if w.stopping.Load() {
		return
	}
	w.mu.Lock()
	free := webhookWorkers - len(w.busy)
	w.mu.Unlock()
	if free <= 0 {
		return
	}
	events, err := w.outbox.NextEvents(w.ctx, 2*webhookWorkers) // enough for the free ones: at most webhookWorkers are busy
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
		busy := w.busy[e.Business]
		w.busy[e.Business] = true
		w.mu.Unlock()
		if !busy {
			free--
			w.wg.Add(1) // the loop's own count keeps the group above zero
			w.workers.Add(1)
			go w.work(e.Business)
		}
	}
}

// work delivers business's pending events, oldest first, while it holds the
// business's lease, until none is left; then it releases the lease. It stops
// early when the sender closes or shuts down, when another sender took the
// lease, or when the outbox fails (the poll starts a new worker later).
func (w *webhookSender) work(business string) {
	defer w.wg.Done()
	defer w.workers.Done()
	emptied := false
	defer func() {
		w.mu.Lock()
		delete(w.busy, business)
		w.mu.Unlock()
		if emptied { // an event added since the last read would otherwise wait for the poll
			w.wakeUp()
		}
	}()
	if !w.lease(business, time.Now().Add(webhookLease)) {
		return // another sender delivers it
	}
	defer func() {
		now := time.Now()
		w.leaseUntil(context.WithoutCancel(w.ctx), business, now, now) // release: another sender may take it at once
	}()
	for {
		evs, _, err := w.outbox.Events(w.ctx, business, store.EventPending, 0, webhookBatch)
		if err != nil {
			if w.ctx.Err() == nil {
				w.log.Warn("webhook: cannot read the outbox; will try again", "business", business, "err", err)
			}
			return
		}
		if len(evs) == 0 {
			emptied = true
			return
		}
		for _, e := range evs {
			if !w.deliverEvent(e) {
				return
			}
		}
	}
}

// lease takes or renews business's lease until until; false when another
// sender holds it or the store failed (logged).
func (w *webhookSender) lease(business string, until time.Time) bool {
	return w.leaseUntil(w.ctx, business, time.Now(), until)
}

func (w *webhookSender) leaseUntil(ctx context.Context, business string, now, until time.Time) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ok, err := w.outbox.Lease(ctx, business, w.holder, now, until)
	if err != nil && w.ctx.Err() == nil {
		w.log.Warn("webhook: cannot lease the business's deliveries; will try again", "business", business, "err", err)
	}
	return ok && err == nil
}

// deliverEvent makes the attempts of e, from its recorded ones on, waiting
// for its next attempt time, and records each in the outbox, until e is
// delivered or given up (true: the next event may go). It returns false,
// leaving e pending, when the sender closes or shuts down, the lease is
// lost, or an attempt cannot be recorded.
func (w *webhookSender) deliverEvent(e store.Event) bool {
	for attempt := e.Attempts + 1; ; attempt++ {
		if retry.Sleep(w.ctx, time.Until(e.NextAttempt)) != nil || w.stopping.Load() {
			return false
		}
		if !w.lease(e.Business, time.Now().Add(webhookLease)) {
			return false
		}
		err := w.post(e)
		if w.ctx.Err() != nil {
			return false // cancelled by close: not an attempt of the event
		}
		a := store.Attempt{At: time.Now()}
		if err != nil {
			a.Error = truncate(err.Error(), webhookMaxError)
			if next := a.At.Add(w.backoff.Backoff(attempt)); next.Before(e.CreatedAt.Add(w.retryFor)) {
				a.Next = next
			}
		}
		if !w.record(e, a) {
			return false
		}
		w.metrics.webhookAttempt(err == nil, a.Next.IsZero())
		switch {
		case err == nil:
			w.log.Debug("webhook: delivered", "outbox_id", e.ID, "business", e.Business, "attempts", attempt)
			return true
		case a.Next.IsZero():
			w.log.Warn("webhook: delivery failed; the event is kept as failed (GET /__admin/webhooks?status=failed)",
				"outbox_id", e.ID, "business", e.Business, "url", w.url, "attempts", attempt, "err", err)
			return true
		}
		w.log.Debug("webhook: attempt failed; will retry", "outbox_id", e.ID, "business", e.Business, "attempt", attempt, "next", a.Next, "err", err)
		e.NextAttempt = a.Next
		if !w.lease(e.Business, a.Next.Add(webhookLease)) { // held through the wait
			return false
		}
	}
}

// record stores the outcome of an attempt, retrying for a while (even
// while closing: a delivery must not be sent again for want of a record).
func (w *webhookSender) record(e store.Event, a store.Attempt) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), 5*time.Second)
	defer cancel()
	p := retry.Policy{Attempts: 5, Initial: 100 * time.Millisecond, Max: time.Second}
	err := p.Do(ctx, func() error {
		if err := w.outbox.RecordAttempt(ctx, e.ID, a); err != nil {
			return retry.Again(err)
		}
		return nil
	}, nil)
	if err != nil {
		w.log.Warn("webhook: cannot record the attempt in the outbox; the event will be sent again", "outbox_id", e.ID, "business", e.Business, "err", err)
		return false
	}
	return true
}

// post makes one attempt: it POSTs e's payload with the Standard Webhooks
// headers (webhook-id, webhook-timestamp, and webhook-signature with a
// secret). Any answer but a 2xx is a failure, a 3xx included (redirects are
// not followed).
func (w *webhookSender) post(e store.Event) error {
	ctx, cancel := context.WithTimeout(w.ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(e.Payload))
	if err != nil {
		return err // the URL was checked by New: cannot happen
	}
	id, ts := webhookID(e), time.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "algoreg-kit-mock")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	if w.key != nil {
		req.Header.Set("webhook-signature", signWebhook(w.key, id, ts, e.Payload))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is the same for every event: keep the cause
		}
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so that the connection is reused
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return fmt.Errorf("receiver answered %d (Location %q); redirects are not followed: give the final URL", resp.StatusCode, resp.Header.Get("Location"))
	}
	return fmt.Errorf("receiver answered %d", resp.StatusCode)
}

// webhookID is the webhook-id of e: its event_id, the same for every
// attempt, so that a receiver dedupes on it.
func webhookID(e store.Event) string {
	var p struct {
		EventID string `json:"event_id"`
	}
	if json.Unmarshal(e.Payload, &p) != nil || p.EventID == "" {
		return "outbox-" + strconv.FormatInt(e.ID, 10) // not the mock's payload: cannot happen
	}
	return p.EventID
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// eventDateLayout is RFC 3339 with milliseconds, as event_date is written.
const eventDateLayout = "2006-01-02T15:04:05.000Z07:00"

// customersUpdated builds the outbox event of one save at now: the
// customers it created or updated (saved, as rules.Outcome.Customers lists
// them), in request order; ok is false when there are none. The payload is
// the webhook's body, with its event_id, so that every delivery of the event
// (a retry, another process's) sends the same body. The event's CreatedAt is
// left to the store, whose clock the sender's retry bound reads (now may be
// Config.Now's).
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
		EventDate:   now.UTC().Format(eventDateLayout),
		EventSource: "api",
		Data:        WebhookData{ClientID: business, Customers: list},
	})
	if err != nil { // only plain strings inside: cannot happen
		return store.Event{}, false, fmt.Errorf("encode the webhook event: %w", err)
	}
	return store.Event{Business: business, Payload: payload}, true, nil
}
