package mockserver

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// bodyBudget bounds the request-body bytes the handlers hold at once across
// all connections (Config.BodyMemory): a request takes its share before
// its body is read (its Content-Length, or for a chunked body the route's
// whole limit) and gives it back when answered. A request that cannot have
// its share within Config.BodyWait is answered 503 with Retry-After.
type bodyBudget struct {
	sem  *semaphore.Weighted
	size int64
	wait time.Duration
	held atomic.Int64
	peak atomic.Int64 // the most held at once, for tests
}

func newBodyBudget(size int64, wait time.Duration) *bodyBudget {
	return &bodyBudget{sem: semaphore.NewWeighted(size), size: size, wait: wait}
}

// take reserves n bytes, waiting at most b.wait; false when it could not.
func (b *bodyBudget) take(ctx context.Context, n int64) bool {
	if !b.sem.TryAcquire(n) { // the common case costs no timer
		ctx, cancel := context.WithTimeout(ctx, b.wait)
		defer cancel()
		if b.sem.Acquire(ctx, n) != nil {
			return false
		}
	}
	h := b.held.Add(n)
	for p := b.peak.Load(); h > p && !b.peak.CompareAndSwap(p, h); p = b.peak.Load() {
	}
	return true
}

func (b *bodyBudget) give(n int64) {
	b.held.Add(-n)
	b.sem.Release(n)
}

// maxTokenBody is the largest body of a token request.
const maxTokenBody = 64 << 10

// refuseAmbiguous answers 400 and closes the connection when the request's
// header block had both Content-Length and Transfer-Encoding (RFC 9112
// section 6.3), which net/http reads as chunked without a trace but the
// Listener's note; it reports whether it answered.
func refuseAmbiguous(w http.ResponseWriter, r *http.Request) bool {
	sc, ok := r.Context().Value(serverConnKey{}).(*serverConn)
	if !ok || len(r.TransferEncoding) == 0 || !sc.ambiguous.Load() {
		return false
	}
	w.Header().Set("Connection", "close")
	writeProblem(w, r, http.StatusBadRequest, "ambiguous-length", "Ambiguous body length",
		"The request has both Content-Length and Transfer-Encoding (RFC 9112 section 6.3: a request smuggling attempt, or a broken client); send one of them. The connection is closed.")
	return true
}

// boundBody serves next, whose body is at most limit bytes, after taking
// the body's share of the budget and setting the connection's read deadline
// for a body of that size at Config.MinBodyRate. A body declared larger
// than limit is left to next (it answers 413 without reading it).
func (s *Server) boundBody(limit int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := r.ContentLength
		if n > limit {
			next.ServeHTTP(w, r)
			return
		}
		if n < 0 {
			n = limit
		}
		if n > 0 {
			if !s.bodies.take(r.Context(), n) {
				if r.Context().Err() != nil {
					noteCancelled(r.Context())
					return
				}
				w.Header().Set("Connection", "close") // the body is not read
				w.Header().Set("Retry-After", retryAfter)
				writeProblem(w, r, http.StatusServiceUnavailable, "busy", "Too many bodies in flight",
					fmt.Sprintf("The mock holds %d bytes of request bodies at once (--max-body-memory) and had no room for this one within %s; retry after %s s (Retry-After).", s.bodies.size, s.cfg.BodyWait, retryAfter))
				return
			}
			defer s.bodies.give(n)
		}
		// A body of n bytes gets ReadHeaderTimeout plus n at MinBodyRate.
		d := s.cfg.ReadHeaderTimeout + time.Duration(float64(n)/float64(s.cfg.MinBodyRate)*float64(time.Second))
		setReadDeadline(w, time.Now().Add(d))
		next.ServeHTTP(w, r)
	})
}

// setReadDeadline is http.ResponseController's SetReadDeadline without its
// allocation: on w or what it unwraps to. A ResponseWriter without
// deadlines (a test's recorder) keeps the server's ReadTimeout.
func setReadDeadline(w http.ResponseWriter, t time.Time) {
	for {
		switch x := w.(type) {
		case interface{ SetReadDeadline(time.Time) error }:
			_ = x.SetReadDeadline(t)
			return
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return
		}
	}
}

// slogLogger is a *log.Logger for net/http's own messages, at WARN.
func slogLogger(l *slog.Logger) *log.Logger { return slog.NewLogLogger(l.Handler(), slog.LevelWarn) }

// bodyTimeout answers 408 for a body that did not arrive in time (the read
// deadline of boundBody), and closes the connection.
func (s *Server) bodyTimeout(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Connection", "close")
	writeProblem(w, r, http.StatusRequestTimeout, "body-timeout", "Body too slow",
		fmt.Sprintf("The body did not arrive within %s plus its length at %d bytes per second (--min-body-rate); send it faster, or lower --min-body-rate.", s.cfg.ReadHeaderTimeout, s.cfg.MinBodyRate))
}
