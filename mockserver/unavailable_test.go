package mockserver_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failingStore is a store whose failAt-th call (counting the calls of the
// Store, of its Accounts and of its Tx, and the commit at the end of an
// Update, but not of its Outbox) fails with an
// error wrapping store.ErrUnavailable, as a database that goes away would.
type failingStore struct {
	store.Store
	mu     sync.Mutex // guards calls and failAt
	calls  int
	failAt int // 0: never
}

var errInjected = fmt.Errorf("injected failure: %w", store.ErrUnavailable)

// arm makes the n-th call from now fail.
func (f *failingStore) arm(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls, f.failAt = 0, n
}

// reached reports whether the armed call was made.
func (f *failingStore) reached() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failAt > 0 && f.calls >= f.failAt
}

func (f *failingStore) call() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls == f.failAt {
		return errInjected
	}
	return nil
}

func (f *failingStore) Update(ctx context.Context, business string, fn func(store.Tx) error) error {
	if err := f.call(); err != nil {
		return err
	}
	return f.Store.Update(ctx, business, func(tx store.Tx) error {
		if err := fn(failingTx{tx, f}); err != nil {
			return err
		}
		return f.call() // the commit
	})
}

func (f *failingStore) View(ctx context.Context, business string, fn func(store.Tx) error) error {
	if err := f.call(); err != nil {
		return err
	}
	return f.Store.View(ctx, business, func(tx store.Tx) error { return fn(failingTx{tx, f}) })
}

func (f *failingStore) Reset(ctx context.Context, business string) error {
	if err := f.call(); err != nil {
		return err
	}
	return f.Store.Reset(ctx, business)
}

func (f *failingStore) Secret(ctx context.Context) ([]byte, error) {
	if err := f.call(); err != nil {
		return nil, err
	}
	return f.Store.Secret(ctx)
}

func (f *failingStore) Lockout(ctx context.Context, username string) (store.Lockout, error) {
	if err := f.call(); err != nil {
		return store.Lockout{}, err
	}
	return f.Store.Lockout(ctx, username)
}

func (f *failingStore) RecordFailure(ctx context.Context, username string, now time.Time, threshold int, lockFor time.Duration) (store.Lockout, error) {
	if err := f.call(); err != nil {
		return store.Lockout{}, err
	}
	return f.Store.RecordFailure(ctx, username, now, threshold, lockFor)
}

func (f *failingStore) ClearFailures(ctx context.Context, username string) error {
	if err := f.call(); err != nil {
		return err
	}
	return f.Store.ClearFailures(ctx, username)
}

type failingTx struct {
	store.Tx
	f *failingStore
}

func (tx failingTx) Customer(id string) (rules.Customer, bool, error) {
	if err := tx.f.call(); err != nil {
		return rules.Customer{}, false, err
	}
	return tx.Tx.Customer(id)
}

func (tx failingTx) PutCustomer(c *rules.Customer) error {
	if err := tx.f.call(); err != nil {
		return err
	}
	return tx.Tx.PutCustomer(c)
}

func (tx failingTx) Relation(id string) (rules.Relation, bool, error) {
	if err := tx.f.call(); err != nil {
		return rules.Relation{}, false, err
	}
	return tx.Tx.Relation(id)
}

func (tx failingTx) PutRelation(r rules.Relation) error {
	if err := tx.f.call(); err != nil {
		return err
	}
	return tx.Tx.PutRelation(r)
}

func (tx failingTx) Customers(offset, limit int) ([]rules.Customer, int, error) {
	if err := tx.f.call(); err != nil {
		return nil, 0, err
	}
	return tx.Tx.Customers(offset, limit)
}

func (tx failingTx) Relations(offset, limit int) ([]rules.Relation, int, error) {
	if err := tx.f.call(); err != nil {
		return nil, 0, err
	}
	return tx.Tx.Relations(offset, limit)
}

func (tx failingTx) RelationsOf(ids ...string) ([]rules.Relation, error) {
	if err := tx.f.call(); err != nil {
		return nil, err
	}
	return tx.Tx.RelationsOf(ids...)
}

func (tx failingTx) AddEvent(e store.Event) error {
	if err := tx.f.call(); err != nil {
		return err
	}
	return tx.Tx.AddEvent(e)
}

// snapshot is everything a business stores, read from the store underneath.
func snapshot(tb testing.TB, s store.Store, business string) (cs []rules.Customer, rs []rules.Relation) {
	tb.Helper()
	require.NoError(tb, s.View(context.Background(), business, func(tx store.Tx) (err error) {
		if cs, _, err = tx.Customers(0, 1000); err == nil {
			rs, _, err = tx.Relations(0, 1000)
		}
		return err
	}))
	return cs, rs
}

// A store that fails, at any of its calls, answers 503 problem JSON with
// Retry-After (and on the document: the test server checks every answer),
// logs the failure, and leaves the state as it was: for a save, the
// listings, a get and a reset. Every call of each request is made to fail in
// turn, until the request makes fewer calls than the one armed to fail.
func TestStoreFailureIs503(t *testing.T) {
	mem := memstore.New()
	failing := &failingStore{Store: mem}
	var logs bytes.Buffer
	var mu sync.Mutex
	ts := newServer(t, mockserver.Config{Store: failing, Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))})
	save(t, ts, `{"customers":[{"external_id":"c1",`+indiv+`},{"external_id":"c2",`+firm+`}],
		"relations":[{"relation_external_id":"r1","parent_customer_external_id":"c2","child_customer_external_id":"c1","relation_type":1}]}`)
	before, beforeRels := snapshot(t, mem, "test")
	for _, tt := range []struct {
		name, method, path, body string
		want                     int
	}{
		{"save", http.MethodPost, "/api/v1/customers/save", `{"customers":[{"external_id":"c1","phone":"+33612345678"},{"external_id":"c3",` + indiv + `}],
			"relations":[{"relation_external_id":"r1","relation_type":2},{"relation_external_id":"r2","parent_customer_external_id":"c2","child_customer_external_id":"c3","relation_type":1}]}`, http.StatusOK},
		{"list customers", http.MethodGet, "/__admin/customers", "", http.StatusOK},
		{"list relations", http.MethodGet, "/__admin/relations", "", http.StatusOK},
		{"get", http.MethodGet, "/__admin/customers/c1", "", http.StatusOK},
		{"reset", http.MethodDelete, "/__admin/state", "", http.StatusNoContent},
	} {
		t.Run(tt.name, func(t *testing.T) {
			failures := 0
			for n := 1; ; n++ {
				failing.arm(n)
				mu.Lock()
				logs.Reset()
				mu.Unlock()
				r := do(t, ts.Client, tt.method, ts.URL+tt.path, "application/json", tt.body)
				if !failing.reached() { // the request made fewer calls: it went through
					require.Equal(t, tt.want, r.status, "no call failing: %s", r.body)
					break
				}
				failures++
				require.Equal(t, http.StatusServiceUnavailable, r.status, "call %d failing: %s", n, r.body)
				assert.Equal(t, "1", r.header.Get("Retry-After"), "call %d failing", n)
				p := problemOf(t, r)
				assert.Equal(t, "urn:algoreg-kit:problem:unavailable", p.Type)
				cs, rs := snapshot(t, mem, "test")
				assert.Equal(t, before, cs, "call %d failing: customers changed", n)
				assert.Equal(t, beforeRels, rs, "call %d failing: relations changed", n)
				mu.Lock()
				assert.Contains(t, logs.String(), "injected failure", "call %d failing: not logged", n)
				mu.Unlock()
			}
			assert.Positive(t, failures, "no call of the store failed: the test checks nothing")
			failing.arm(0)
			cs, rs := snapshot(t, mem, "test")
			if tt.name == "save" || tt.name == "reset" { // it changed the state once it went through
				assert.NotEqual(t, [2]int{len(before), len(beforeRels)}, [2]int{len(cs), len(rs)})
				save(t, ts, `{"customers":[{"external_id":"c3"}],"verify_input":true}`) // a no-op, to show the mock still works
				require.NoError(t, mem.Reset(context.Background(), "test"))
				save(t, ts, `{"customers":[{"external_id":"c1",`+indiv+`},{"external_id":"c2",`+firm+`}],
					"relations":[{"relation_external_id":"r1","parent_customer_external_id":"c2","child_customer_external_id":"c1","relation_type":1}]}`)
				before, beforeRels = snapshot(t, mem, "test")
			}
		})
	}
}

// A request whose client has gone away is not answered, and its store error
// (the context's) is not logged as an error.
func TestCancelledRequestIsNotAnError(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	mock, err := mockserver.New(mockserver.Config{Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))})
	require.NoError(t, err)
	defer mock.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "/__admin/customers", nil)
	require.NoError(t, err)
	req.SetBasicAuth("b", "x")
	rec := &recorder{header: http.Header{}}
	mock.ServeHTTP(rec, req)
	assert.Zero(t, rec.status, "an answer was written")
	mu.Lock()
	defer mu.Unlock()
	assert.NotContains(t, logs.String(), "level=ERROR")
	assert.Contains(t, logs.String(), "cancelled=true")
	assert.Contains(t, logs.String(), "status=499")
}

// recorder is an http.ResponseWriter that records whether anything was
// written (httptest.ResponseRecorder reports 200 when nothing was).
type recorder struct {
	header http.Header
	status int
	body   strings.Builder
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}
