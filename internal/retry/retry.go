// Package retry is the one retry policy of the toolkit's HTTP senders (the
// client of package algoreg, the contract suite, the mock's webhook sender):
// capped exponential backoff with jitter, a bounded number of attempts and a
// bounded time, the server's Retry-After honoured, and every wait cut short
// when the context ends.
package retry

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Policy says how often and how long to retry. The zero Policy makes one
// attempt. A Policy is a value: Do may be called from many goroutines at once.
type Policy struct {
	// Attempts bounds the attempts, the first one included (1 or less: no
	// retry).
	Attempts int
	// MaxElapsed bounds the time from the first attempt: a wait that would end
	// later is not started, and Do gives up at once (0: no bound). It is what
	// bounds a server's long Retry-After.
	MaxElapsed time.Duration
	// Initial is the backoff after the first attempt; it doubles after each
	// attempt, up to Max. Each wait is drawn between half of the backoff and
	// all of it (jitter), so that concurrent senders do not retry in step.
	// A Retry-After given with After replaces the backoff.
	Initial, Max time.Duration
}

// retryable marks an error that another attempt may not get.
type retryable struct {
	err   error
	after time.Duration // < 0: the policy's backoff
}

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

// Again marks err, returned by an operation of Do, as worth another attempt
// after the policy's backoff. An error not marked by Again or After ends Do.
func Again(err error) error { return &retryable{err: err, after: -1} }

// After marks err as worth another attempt after d, the wait a server asked
// for.
func After(err error, d time.Duration) error { return &retryable{err: err, after: max(d, 0)} }

// AfterHeader marks err as worth another attempt after the Retry-After of
// header, or after the policy's backoff when header has none that can be
// read. now reads an HTTP date.
func AfterHeader(err error, header http.Header, now time.Time) error {
	if d, ok := ParseRetryAfter(header.Get("Retry-After"), now); ok {
		return After(err, d)
	}
	return Again(err)
}

// ParseRetryAfter reads a Retry-After value (RFC 9110 section 10.2.3): a
// number of seconds, or an HTTP date, which now turns into a wait (0 when it
// is past). ok is false when h is empty or neither.
func ParseRetryAfter(h string, now time.Time) (d time.Duration, ok bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, int64(24*time.Hour/time.Second))) * time.Second, true
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// Do calls op until it returns nil or an error that Again or After did not
// mark, the attempts are spent, the next wait would end past MaxElapsed, or
// ctx ends. It returns nil, op's unmarked error, the last error wrapped in
// "gave up after N attempts: …", or ctx's error wrapped with the last one
// (errors.Is finds context.Canceled or context.DeadlineExceeded). The
// returned error is never marked, so that Do may run inside another Do's
// operation. notify, when not nil, is called before each wait with the
// error and the wait.
func (p Policy) Do(ctx context.Context, op func() error, notify func(err error, wait time.Duration)) error {
	start := time.Now()
	for attempt := 1; ; attempt++ {
		err := op()
		r, ok := err.(*retryable)
		if !ok {
			return err
		}
		if attempt >= p.Attempts {
			return fmt.Errorf("gave up after %s: %w", plural(attempt, "attempt"), r.err)
		}
		wait := r.after
		if wait < 0 {
			wait = p.backoff(attempt)
		}
		if p.MaxElapsed > 0 && time.Since(start)+wait > p.MaxElapsed {
			return fmt.Errorf("gave up after %s (the next one would be in %s, past the bound of %s): %w",
				plural(attempt, "attempt"), wait.Round(time.Millisecond), p.MaxElapsed, r.err)
		}
		if notify != nil {
			notify(r.err, wait)
		}
		if err := Sleep(ctx, wait); err != nil {
			return fmt.Errorf("%w while waiting to retry after: %w", err, r.err)
		}
	}
}

// Backoff is the wait after the attempt-th attempt (from 1), for a sender
// that keeps its own schedule (the mock's webhook sender stores the time of
// the next attempt in its outbox, so that it survives a restart).
func (p Policy) Backoff(attempt int) time.Duration { return p.backoff(attempt) }

// backoff is the wait after the attempt-th attempt: Initial doubled
// attempt-1 times, at most Max, of which a random half to all.
func (p Policy) backoff(attempt int) time.Duration {
	d := p.Initial
	for i := 1; i < attempt && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}

// Sleep waits d, or less when ctx ends first; it returns ctx's error then.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
