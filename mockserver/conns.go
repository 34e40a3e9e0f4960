package mockserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// What a hostile client can hold of the mock is bounded here: open
// connections (Listener), request-body bytes buffered at once (bodyBudget),
// and how long a body may take to arrive (a read deadline per request). The
// same connection wrapper answers, as problem JSON, the errors net/http
// writes itself before any handler runs.

// The defaults of the Config fields on connections and bodies.
const (
	DefaultMaxConns          = 4096
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultMinBodyRate       = 256 << 10 // bytes per second
	DefaultBodyWait          = 5 * time.Second
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	// defaultBodyMemoryBodies is how many bodies of the largest size
	// Config.BodyMemory holds by default.
	defaultBodyMemoryBodies = 16
	// maxRejecting bounds the connections over MaxConns being answered 503
	// at once; beyond it they are closed without an answer.
	maxRejecting = 64
	// writeTimeout bounds writing a response (and a profile of --pprof-addr).
	writeTimeout = 2 * time.Minute
)

// connDefaults checks the Config fields on connections and fills in the
// zero ones (BodyMemory, which depends on the body limit, is New's).
func connDefaults(cfg Config) (Config, error) {
	if err := positiveOr("MaxConns", &cfg.MaxConns, DefaultMaxConns); err != nil {
		return cfg, err
	}
	if err := positiveOr("MaxHeaderBytes", &cfg.MaxHeaderBytes, DefaultMaxHeaderBytes); err != nil {
		return cfg, err
	}
	switch {
	case cfg.MinBodyRate < 0:
		return cfg, fmt.Errorf("Config.MinBodyRate is %d; make it a positive number of bytes per second, or 0 for %d", cfg.MinBodyRate, DefaultMinBodyRate)
	case cfg.BodyMemory < 0:
		return cfg, fmt.Errorf("Config.BodyMemory is %d; make it at least the body limit, or 0 for %d bodies of the limit", cfg.BodyMemory, defaultBodyMemoryBodies)
	case cfg.BodyWait < 0 || cfg.ReadHeaderTimeout < 0 || cfg.IdleTimeout < 0:
		return cfg, fmt.Errorf("Config.BodyWait, ReadHeaderTimeout and IdleTimeout must not be negative; 0 means %s, %s and %s", DefaultBodyWait, DefaultReadHeaderTimeout, DefaultIdleTimeout)
	}
	zeroFor(&cfg.MinBodyRate, DefaultMinBodyRate)
	zeroFor(&cfg.BodyWait, DefaultBodyWait)
	zeroFor(&cfg.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	zeroFor(&cfg.IdleTimeout, DefaultIdleTimeout)
	return cfg, nil
}

// HTTPServer returns an *http.Server for s with the mock's limits: headers
// of at most Config.MaxHeaderBytes read within Config.ReadHeaderTimeout, a
// body within that again plus the body limit at Config.MinBodyRate (each
// request gets a deadline for its own length), 2 min to write a response,
// Config.IdleTimeout for an idle keep-alive connection. Serve it on
// s.Listener(ln), which caps the connections and answers net/http's own
// errors as problem JSON. The caller calls Shutdown when finished.
func (s *Server) HTTPServer() *http.Server {
	srv := &http.Server{Handler: s, ErrorLog: nil}
	s.ServerLimits(srv)
	srv.ConnState = s.conns.state
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if sc, ok := c.(*serverConn); ok {
			return context.WithValue(ctx, serverConnKey{}, sc)
		}
		return ctx
	}
	return srv
}

// ServerLimits sets srv's timeouts, header limit and error log to the mock's
// (for another server of the process, such as --pprof-addr's).
func (s *Server) ServerLimits(srv *http.Server) {
	srv.ReadHeaderTimeout = s.cfg.ReadHeaderTimeout
	srv.ReadTimeout = s.cfg.ReadHeaderTimeout + time.Duration(float64(s.rules.MaxBody)/float64(s.cfg.MinBodyRate)*float64(time.Second))
	srv.WriteTimeout = writeTimeout
	srv.IdleTimeout = s.cfg.IdleTimeout
	srv.MaxHeaderBytes = s.cfg.MaxHeaderBytes
	srv.ErrorLog = slogLogger(s.log)
}

// Listener wraps ln for HTTPServer: at most Config.MaxConns connections are
// open at once. At the cap a new connection closes the keep-alive
// connection idle the longest, or, when none is idle, is answered 503 with
// Retry-After and closed: a load balancer sees at once that this instance
// is full, where a connection waiting in the accept queue would only time
// out. It also answers, as problem JSON, what net/http answers in
// text/plain before a handler runs (a request line or header it cannot
// parse, headers over MaxHeaderBytes, an unknown Transfer-Encoding), and
// notes a header block with both Content-Length and Transfer-Encoding so
// that the handler refuses it.
func (s *Server) Listener(ln net.Listener) net.Listener {
	return &limitListener{Listener: ln, lim: s.conns}
}

type serverConnKey struct{}

// connLimiter counts the open connections of the listeners of one Server
// and knows which are idle.
type connLimiter struct {
	max            int
	maxHeaderBytes int
	rejecting      atomic.Int32

	mu   sync.Mutex
	open int
	idle map[*serverConn]time.Time // since when
}

func newConnLimiter(cfg Config) *connLimiter {
	return &connLimiter{max: cfg.MaxConns, maxHeaderBytes: cfg.MaxHeaderBytes, idle: map[*serverConn]time.Time{}}
}

type limitListener struct {
	net.Listener
	lim *connLimiter
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if sc := l.lim.admit(c); sc != nil {
			return sc, nil
		}
		l.lim.reject(c)
	}
}

// admit returns c wrapped when there is room for it, making room by closing
// the longest-idle connection; nil when every connection is busy.
func (l *connLimiter) admit(c net.Conn) *serverConn {
	sc := &serverConn{Conn: c, lim: l}
	l.mu.Lock()
	if l.open < l.max {
		l.open++
		l.mu.Unlock()
		return sc
	}
	var victim *serverConn
	var since time.Time
	for ic, t := range l.idle {
		if victim == nil || t.Before(since) {
			victim, since = ic, t
		}
	}
	if victim == nil {
		l.mu.Unlock()
		return nil
	}
	// The victim's slot passes to sc: its Close no longer counts.
	victim.released = true
	delete(l.idle, victim)
	l.mu.Unlock()
	victim.Conn.Close()
	return sc
}

// reject answers c 503 and closes it, in the background (a few at once).
func (l *connLimiter) reject(c net.Conn) {
	if l.rejecting.Add(1) > maxRejecting {
		l.rejecting.Add(-1)
		c.Close()
		return
	}
	go func() {
		defer l.rejecting.Add(-1)
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Second))
		c.Write(problemResponse(http.StatusServiceUnavailable, map[string]string{"Retry-After": retryAfter}, openapi.Problem{
			Type: "urn:algoreg-kit:problem:too-many-connections", Title: "Too many connections", Status: http.StatusServiceUnavailable,
			Detail: fmt.Sprintf("The mock has %d connections open, its limit (--max-conns), and none is idle; retry after %s s (Retry-After), or raise --max-conns.", l.max, retryAfter),
		}))
		// Read what the client sent, so that closing does not reset the
		// connection before it reads the answer.
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		io.Copy(io.Discard, io.LimitReader(c, 64<<10))
	}()
}

// state is the http.Server's ConnState hook: it keeps the idle set.
func (l *connLimiter) state(c net.Conn, st http.ConnState) {
	sc, ok := c.(*serverConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if st == http.StateIdle && !sc.released {
		l.idle[sc] = time.Now()
	} else {
		delete(l.idle, sc)
	}
}

// serverConn is a connection of Listener.
type serverConn struct {
	net.Conn
	lim      *connLimiter
	released bool // under lim.mu: its slot is given back (or passed on)
	once     sync.Once

	scan headerScan // by Read, which the server never calls concurrently
	// ambiguous is set when a header block had both Content-Length and
	// Transfer-Encoding (RFC 9112 section 6.3).
	ambiguous atomic.Bool
}

func (c *serverConn) Close() error {
	c.once.Do(func() {
		c.lim.mu.Lock()
		if !c.released {
			c.released = true
			c.lim.open--
			delete(c.lim.idle, c)
		}
		c.lim.mu.Unlock()
	})
	return c.Conn.Close()
}

// CloseWrite lets net/http half-close the connection (closeWriteAndWait),
// as it does a *net.TCPConn.
func (c *serverConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *serverConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.scan.feed(p[:n]) {
		c.ambiguous.Store(true)
	}
	return n, err
}

// goErrorHeaders follow the status line of the answers net/http writes by
// itself, straight to the connection, when it cannot read a request
// (net/http's server.go, errorHeaders). No response of the mock's handlers
// has them: they never answer text/plain.
const goErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// expectationFailed starts net/http's bodiless 417 for an Expect other than
// 100-continue, which it writes whole in one write, ending with an empty
// Content-Length; no handler of the mock answers 417, and no body of its
// has the raw line breaks of that end.
var expectationFailed = [][]byte{[]byte("HTTP/1.1 417 "), []byte("HTTP/1.0 417 ")}

func (c *serverConn) Write(p []byte) (int, error) {
	if !bytes.HasPrefix(p, []byte("HTTP/1.")) {
		return c.Conn.Write(p)
	}
	if status, text, ok := parseGoError(p); ok {
		c.Conn.Write(problemResponse(status, nil, c.lim.goErrorProblem(status, text)))
		return len(p), nil
	}
	if (bytes.HasPrefix(p, expectationFailed[0]) || bytes.HasPrefix(p, expectationFailed[1])) && bytes.HasSuffix(p, []byte("\r\nContent-Length: 0\r\n\r\n")) {
		c.Conn.Write(problemResponse(http.StatusExpectationFailed, nil, openapi.Problem{
			Type: "urn:algoreg-kit:problem:expectation-failed", Title: "Expectation failed", Status: http.StatusExpectationFailed,
			Detail: "The request's Expect header is not 100-continue, the only expectation the mock meets; drop it.",
		}))
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// parseGoError reads net/http's own error answer: its status and the text
// after the reason phrase ("missing required Host header"), if any.
func parseGoError(p []byte) (status int, text string, ok bool) {
	eol := bytes.Index(p, []byte("\r\n"))
	if eol < 12 || !bytes.HasPrefix(p, []byte("HTTP/1.1 ")) || !bytes.HasPrefix(p[eol:], []byte(goErrorHeaders)) {
		return 0, "", false
	}
	status, err := strconv.Atoi(string(p[9:12]))
	if err != nil {
		return 0, "", false
	}
	line := string(p[13:eol])
	if _, after, found := bytes.Cut([]byte(line), []byte(": ")); found {
		text = string(after)
	}
	return status, text, true
}

// goErrorProblem is the problem for one of net/http's own answers.
func (l *connLimiter) goErrorProblem(status int, text string) openapi.Problem {
	p := openapi.Problem{Type: "urn:algoreg-kit:problem:bad-request", Title: "Bad request", Status: status}
	switch status {
	case http.StatusRequestHeaderFieldsTooLarge:
		p.Type, p.Title = "urn:algoreg-kit:problem:headers-too-large", "Request headers too large"
		p.Detail = fmt.Sprintf("The request line and headers are larger than the mock's limit of %d bytes (--max-header-bytes); send smaller headers.", l.maxHeaderBytes)
	case http.StatusNotImplemented:
		p.Type, p.Title = "urn:algoreg-kit:problem:unsupported-transfer-encoding", "Unsupported transfer encoding"
		p.Detail = "The Transfer-Encoding is not chunked, the only one the mock reads; send chunked or a Content-Length."
	case http.StatusHTTPVersionNotSupported:
		p.Type, p.Title = "urn:algoreg-kit:problem:http-version", "HTTP version not supported"
		p.Detail = "The request's HTTP version is not supported; send HTTP/1.1 (or 1.0)."
	default:
		p.Detail = "The request is not valid HTTP/1.1 (RFC 9112): its request line (method, target, version), a header field or its Content-Length cannot be read. Percent-encode the target correctly (\"%zz\" is not an escape)."
		if text != "" {
			p.Detail = "The request is not valid HTTP/1.1 (RFC 9112): " + text + "."
		}
	}
	return p
}

// problemResponse is a whole HTTP/1.1 answer with the problem p that closes
// the connection, for the places that write to the connection directly.
func problemResponse(status int, header map[string]string, p openapi.Problem) []byte {
	body, _ := json.Marshal(p) // a Problem always encodes
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\nContent-Length: %d\r\n",
		status, http.StatusText(status), openapi.ProblemContentType, len(body))
	for k, v := range header {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// headerScan watches the bytes a connection reads for a header block with
// both a Content-Length and a Transfer-Encoding field. net/http reads such
// a request as chunked and drops the Content-Length, so the handler cannot
// see it. The scan is of lines, not of HTTP framing: a body line that reads
// like those fields can only make the mock close a connection it could
// have kept.
type headerScan struct {
	head   [20]byte // the start of the current line
	n      int
	cl, te bool
}

// feed scans p and reports whether a header block ended in it with both
// fields.
func (s *headerScan) feed(p []byte) (both bool) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		seg := p
		if i >= 0 {
			seg = p[:i]
		}
		s.n += copy(s.head[s.n:], seg)
		if i < 0 {
			return both
		}
		p = p[i+1:]
		line := bytes.TrimSuffix(s.head[:s.n], []byte("\r"))
		s.n = 0
		switch {
		case len(line) == 0:
			both = both || (s.cl && s.te)
			s.cl, s.te = false, false
		case hasPrefixFold(line, "content-length:"):
			s.cl = true
		case hasPrefixFold(line, "transfer-encoding:"):
			s.te = true
		}
	}
	return both
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && bytes.EqualFold(b[:len(prefix)], []byte(prefix))
}
