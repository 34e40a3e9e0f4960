package mockserver

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
)

// faultKind is a broken answer the mock can give instead of its own.
type faultKind uint8

const (
	faultNone      faultKind = iota
	faultReset               // the connection is reset (TCP RST), no answer
	faultEmpty               // the connection is closed (FIN) with no answer
	faultTruncated           // a 200 whose body stops before its Content-Length
	faultMalformed           // a 200 whose application/json body is not JSON
)

var faultByName = map[string]faultKind{"reset": faultReset, "empty": faultEmpty, "truncated": faultTruncated, "malformed": faultMalformed}

// faultNames lists the faults for the messages that say what is allowed.
const faultNames = "reset, empty, truncated or malformed"

func parseFault(s string) (faultKind, bool) {
	f, ok := faultByName[s]
	return f, ok
}

func (f faultKind) String() string {
	for name, k := range faultByName {
		if k == f {
			return name
		}
	}
	return "none"
}

// malformedBody is the body of a malformed answer: it starts like a Save
// customers response and is not JSON.
const malformedBody = `{"added":[{"customer_id":"3f1c9e2a-7b4d-4e0f-9a61-2d8c5b7e4f10","external_id":]`

// truncatedBody is what a truncated answer cuts short when the request
// applied nothing (a save that was applied cuts its own answer).
const truncatedBody = `{"added":[],"detail":[],"status":"ok","verify_input":false}`

// breakAnswer gives the fault f instead of an answer. body is the answer a
// truncated fault cuts (truncatedBody when nil). The connection is hijacked
// and closed, so that the client sees exactly the fault: a reset has
// SO_LINGER 0 (the kernel sends RST), an empty answer is a plain close, a
// truncated one declares its whole length and sends half, a malformed one
// sends its broken body. The request body is read first (up to limit bytes),
// so that closing a connection with unread data does not turn every fault
// into a reset. Where the connection cannot be hijacked (HTTP/2), the
// handler aborts (net/http resets the stream).
func (s *Server) breakAnswer(w http.ResponseWriter, r *http.Request, f faultKind, body []byte, limit int64) {
	s.countFault(f.String())
	if f != faultReset {
		io.CopyN(io.Discard, r.Body, limit)
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		s.log.Warn("fault injection: the connection cannot be hijacked; aborting the handler instead", "fault", f.String(), "err", err)
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	switch f {
	case faultReset:
		var raw net.Conn = conn
		if sc, ok := raw.(*serverConn); ok {
			raw = sc.Conn
		}
		if tc, ok := raw.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
	case faultTruncated:
		if body == nil {
			body = []byte(truncatedBody)
		}
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", len(body))
		buf.Write(body[:len(body)/2])
		buf.Flush()
	case faultMalformed:
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(malformedBody), malformedBody)
		buf.Flush()
	}
}

// injectedRetryAfter is the Retry-After of an injected 429 or 503 that
// names none.
const injectedRetryAfter = 1

// answerInjected answers status as a problem, with Retry-After (seconds) on
// 429 and 503 (retryAfter ≤ 0: injectedRetryAfter) and WWW-Authenticate on
// 401, as the real answers have them. why says who asked for it, applied
// whether the request was applied all the same.
func (s *Server) answerInjected(w http.ResponseWriter, r *http.Request, status, retryAfter int, why string, applied bool) {
	s.countFault("status")
	switch status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		if retryAfter <= 0 {
			retryAfter = injectedRetryAfter
		}
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", wwwAuthenticate)
	}
	effect := "the request changed nothing"
	if applied {
		effect = "the request was applied all the same (apply_then_fail)"
	}
	writeProblem(w, r, status, "injected", http.StatusText(status),
		fmt.Sprintf("%d %s injected by %s (mock only); %s.", status, http.StatusText(status), why, effect))
}

// countFault is the hook of the faults-injected metric; kind is a fault's
// name or "status" or "latency".
func (s *Server) countFault(kind string) { s.metrics.faultInjected(kind) }
