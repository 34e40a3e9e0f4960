package mockserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/openapi"
)

const oneCustomer = `{"customers":[{"external_id":"p1","account_type":"N","last_name":"Doe"}]}`

// Prefer: code answers the status with a problem body (and Retry-After on
// 429 and 503) and stores nothing; a status the operation does not list, or
// a value the mock cannot take, is 400 in the operation's error form.
func TestPreferCode(t *testing.T) {
	for _, tt := range []struct {
		name       string
		path       string
		prefer     string
		wantStatus int
		wantType   string // problem type, or OAuth error code for the token path
		retryAfter string
	}{
		{"503 on save", "/api/v1/customers/save", "code=503", 503, "urn:algoreg-kit:problem:injected", "1"},
		{"429 on save", "/api/v1/customers/save", "code=429", 429, "urn:algoreg-kit:problem:injected", "1"},
		{"502 on save", "/api/v1/customers/save", "code=502", 502, "urn:algoreg-kit:problem:injected", ""},
		{"504 with delay", "/api/v1/customers/save", "delay=1ms, code=504", 504, "urn:algoreg-kit:problem:injected", ""},
		{"422 on save", "/api/v1/customers/save", "code=422", 422, "urn:algoreg-kit:problem:injected", ""},
		{"401 on save", "/api/v1/customers/save", "code=401", 401, "urn:algoreg-kit:problem:injected", ""},
		{"not listed", "/api/v1/customers/save", "code=404", 400, "urn:algoreg-kit:problem:bad-prefer", ""},
		{"bad delay", "/api/v1/customers/save", "delay=2m", 400, "urn:algoreg-kit:problem:bad-prefer", ""},
		{"503 on token", "/api/v1/token", "code=503", 503, "urn:algoreg-kit:problem:injected", "1"},
		{"OAuth 400 not injectable", "/api/v1/token", "code=400", 400, "invalid_request", ""},
		{"bad fault on token", "/api/v1/token", "fault=slow", 400, "invalid_request", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := newServer(t, mockserver.Config{})
			body := oneCustomer
			if tt.path == "/api/v1/token" {
				body = `{"grant_type":"password","username":"test","password":"test"}`
			}
			r := do(t, ts.Client, http.MethodPost, ts.URL+tt.path, "application/json", body, "Prefer", tt.prefer)
			if r.status != tt.wantStatus {
				t.Fatalf("got %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			var got struct{ Type, Error string }
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatal(err)
			}
			if got.Type != tt.wantType && got.Error != tt.wantType {
				t.Errorf("got %s, want %s: %s", r.body, tt.wantType, r.body)
			}
			if got := r.header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After: got %q, want %q", got, tt.retryAfter)
			}
			if n := total(t, ts, ts.Client, "customers"); n != 0 {
				t.Errorf("%d customers stored, want none", n)
			}
		})
	}
}

// Prefer: fault breaks the answer in the way it names and stores nothing;
// a delay alone only delays the save.
func TestPreferFault(t *testing.T) {
	for _, tt := range []struct {
		fault string
		check func(t *testing.T, resp *http.Response, err error)
	}{
		{"reset", func(t *testing.T, resp *http.Response, err error) {
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("got %v, want a connection reset", err)
			}
		}},
		{"empty", func(t *testing.T, resp *http.Response, err error) {
			if !errors.Is(err, io.EOF) {
				t.Errorf("got %v, want EOF before any answer", err)
			}
		}},
		{"truncated", func(t *testing.T, resp *http.Response, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 {
				t.Errorf("status %d, want 200", resp.StatusCode)
			}
			if _, err := io.ReadAll(resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("reading the body: got %v, want an unexpected EOF", err)
			}
		}},
		{"malformed", func(t *testing.T, resp *http.Response, err error) {
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || json.Valid(b) {
				t.Errorf("got %d %s %q, want 200 application/json that is not JSON", resp.StatusCode, resp.Header.Get("Content-Type"), b)
			}
		}},
	} {
		t.Run(tt.fault, func(t *testing.T) {
			ts := newServer(t, mockserver.Config{})
			resp, err := post(ts, oneCustomer, "delay=1ms, fault="+tt.fault)
			tt.check(t, resp, err)
			if resp != nil {
				resp.Body.Close()
			}
			if n := total(t, ts, ts.Client, "customers"); n != 0 {
				t.Errorf("%d customers stored, want none", n)
			}
		})
	}
	t.Run("delay alone saves", func(t *testing.T) {
		ts := newServer(t, mockserver.Config{})
		r := do(t, ts.Client, http.MethodPost, ts.URL+"/api/v1/customers/save", "application/json", oneCustomer, "Prefer", "delay=5ms, return=minimal")
		var out openapi.SaveCustomersResponse
		if r.status != 200 || json.Unmarshal(r.body, &out) != nil || len(out.Added) != 1 {
			t.Fatalf("got %d %s, want the save's 200 with one added", r.status, r.body)
		}
	})
}

// post sends a save with a Prefer header and returns what the client got.
func post(ts *mocktest.Server, body, prefer string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, ts.URL+"/api/v1/customers/save", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if prefer != "" {
		req.Header.Set("Prefer", prefer)
	}
	return ts.Client.Do(req)
}

// A client that goes away ends a Prefer: delay: the request is over (the
// journal has it, as 499) long before the delay would have passed.
func TestPreferDelayEndsWithTheClient(t *testing.T) {
	ts := newServer(t, mockserver.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/api/v1/customers/save", strings.NewReader(oneCustomer))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Prefer", "delay=60s")
	done := make(chan error, 1)
	go func() {
		resp, err := ts.Client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	count := func() int {
		r := do(t, ts.Client, http.MethodGet, ts.URL+"/__admin/requests/count?status=499", "", "")
		var c struct{ Count int }
		if r.status != http.StatusOK || json.Unmarshal(r.body, &c) != nil {
			t.Fatalf("count: %d %s", r.status, r.body)
		}
		return c.Count
	}
	time.Sleep(20 * time.Millisecond) // let the request reach the wait; if it has not, it ends at once
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the client's cancellation", err)
	}
	for deadline := time.Now().Add(10 * time.Second); count() != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the delayed request is still waiting 10 s after its client went away")
		}
	}
	if n := total(t, ts, ts.Client, "customers"); n != 0 {
		t.Errorf("%d customers stored by a request whose client went away during its delay", n)
	}
}
