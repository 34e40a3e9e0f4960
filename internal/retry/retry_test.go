package retry_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/internal/retry"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		h      string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{" 7 ", 7 * time.Second, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"99999999999", 24 * time.Hour, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"Thursday, 01-Jan-26 12:00:30 GMT", 30 * time.Second, true}, // RFC 850, still read
	}
	for _, tt := range tests {
		got, ok := retry.ParseRetryAfter(tt.h, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseRetryAfter(%q): got %s, %v; want %s, %v", tt.h, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestDo(t *testing.T) {
	errBusy := errors.New("busy")
	p := retry.Policy{Attempts: 3, Initial: time.Millisecond, Max: time.Millisecond}
	tests := []struct {
		name      string
		op        func(n int) error // n: the attempt, from 1
		wantCalls int
		wantErr   string // "" for nil
	}{
		{"success at once", func(int) error { return nil }, 1, ""},
		{"an unmarked error ends it", func(int) error { return errBusy }, 1, "busy"},
		{"marked errors are retried", func(n int) error {
			if n < 3 {
				return retry.Again(errBusy)
			}
			return nil
		}, 3, ""},
		{"attempts bounded", func(int) error { return retry.After(errBusy, 0) }, 3, "gave up after 3 attempts: busy"},
		{"the error of a nested Do is not marked", func(int) error {
			return retry.Policy{Attempts: 2}.Do(context.Background(), func() error { return retry.Again(errBusy) }, nil)
		}, 1, "gave up after 2 attempts: busy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := p.Do(context.Background(), func() error { calls++; return tt.op(calls) }, nil)
			if calls != tt.wantCalls {
				t.Errorf("got %d calls, want %d", calls, tt.wantCalls)
			}
			if (err == nil) != (tt.wantErr == "") || err != nil && err.Error() != tt.wantErr {
				t.Errorf("got %v, want %q", err, tt.wantErr)
			}
			if err != nil && tt.wantErr != "busy" && !errors.Is(err, errBusy) {
				t.Errorf("errors.Is(%v, errBusy) is false", err)
			}
		})
	}
}

func TestDoStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	errBusy := errors.New("busy")
	start := time.Now()
	err := retry.Policy{Attempts: 5}.Do(ctx, func() error { return retry.After(errBusy, time.Hour) }, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, errBusy) || !strings.Contains(err.Error(), "while waiting to retry after: busy") {
		t.Errorf("got %v, want the deadline and the last error", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("took %s", el)
	}
}

// Sleep waits the whole time, or returns the context's error at once when it
// has ended.
func TestSleep(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range []struct {
		name string
		ctx  context.Context
		d    time.Duration
		want error
	}{
		{"a cancelled context ends a long wait", cancelled, time.Hour, context.Canceled},
		{"no wait, a cancelled context", cancelled, 0, context.Canceled},
		{"no wait", context.Background(), 0, nil},
		{"a short wait", context.Background(), time.Millisecond, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := retry.Sleep(tt.ctx, tt.d); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}
