package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// poster posts pool bodies to a server's save endpoint, each with its own id
// prefix, and checks every answer.
type poster struct {
	URL         string // base URL
	Auth        string // Authorization header value; empty sends none
	Prefix      string // ids become Prefix + request number + "-" + generator id
	Strict      bool   // require status ok, every customer added, no detail entry
	Concurrency int
	Client      *http.Client
}

// postStats counts what a post run sent and got.
type postStats struct {
	Requests, Customers, Added int64
	Elapsed                    time.Duration
}

// run posts bodies in order, round-robin over pool, until customers have been
// sent (at least one pass over the pool when customers is 0, or bodies bodies
// when bodies > 0). It stops at the first bad answer.
func (p *poster) run(ctx context.Context, pool [][]byte, customers int64, bodies int) (postStats, error) {
	counts := make([]int64, len(pool))
	for i, b := range pool {
		var req struct{ Customers []json.RawMessage }
		if err := json.Unmarshal(bytes.ReplaceAll(b, []byte(Marker), nil), &req); err != nil {
			return postStats{}, fmt.Errorf("pool body %d: %w", i+1, err)
		}
		counts[i] = int64(len(req.Customers))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		st       postStats
		next     atomic.Int64
		sent     atomic.Int64
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	done := func(i int64) bool {
		switch {
		case bodies > 0:
			return i >= int64(bodies)
		case customers > 0:
			return sent.Load() >= customers
		default:
			return i >= int64(len(pool))
		}
	}
	start := time.Now()
	for w := 0; w < max(p.Concurrency, 1); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if done(i) {
					return
				}
				k := int(i % int64(len(pool)))
				sent.Add(counts[k])
				body := bytes.ReplaceAll(pool[k], []byte(Marker), []byte(p.Prefix+strconv.FormatInt(i, 36)+"-"))
				added, err := p.post(ctx, body, counts[k])
				if err != nil {
					fail(fmt.Errorf("request %d (pool body %d): %w", i+1, k+1, err))
					return
				}
				mu.Lock()
				st.Requests++
				st.Customers += counts[k]
				st.Added += added
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	st.Elapsed = time.Since(start)
	if firstErr != nil {
		return st, firstErr
	}
	return st, ctx.Err()
}

func (p *poster) post(ctx context.Context, body []byte, customers int64) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL+"/api/v1/customers/save", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if p.Auth != "" {
		req.Header.Set("Authorization", p.Auth)
	}
	resp, err := p.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode/100 != 2 {
		return 0, fmt.Errorf("status %d: %.600s", resp.StatusCode, got)
	}
	if !p.Strict {
		return 0, nil
	}
	var out openapi.SaveCustomersResponse
	if err := json.Unmarshal(got, &out); err != nil {
		return 0, fmt.Errorf("answer is not a SaveCustomersResponse: %w: %.300s", err, got)
	}
	if out.Status != openapi.StatusOK || int64(len(out.Added)) != customers || len(out.Detail) != 0 {
		return 0, fmt.Errorf("want status ok, %d added and no detail; got status %q, %d added, %d detail entries: %.600s",
			customers, out.Status, len(out.Added), len(out.Detail), got)
	}
	return int64(len(out.Added)), nil
}
