package mockserver_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/stretchr/testify/require"
)

// serveReal serves a mock for cfg as the binary does: HTTPServer on
// Listener. It returns the address and the mock.
func serveReal(t *testing.T, cfg mockserver.Config) (string, *mockserver.Server) {
	t.Helper()
	mock := mocktest.NewMock(t, cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := mock.HTTPServer()
	go srv.Serve(mock.Listener(ln))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), mock
}

const basicDemo = "Authorization: Basic ZGVtbzpkZW1v\r\n" // demo:demo

// rawAnswer is what a raw connection got back for one request.
type rawAnswer struct {
	resp   *http.Response
	body   []byte
	closed bool // the server closed the connection after answering
}

// rawRequest writes req on a new connection to addr and reads one answer,
// then whether the server closed the connection.
func rawRequest(t *testing.T, addr, req string) rawAnswer {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	go io.WriteString(c, req) // may fail when the server hangs up first
	return readAnswer(t, c)
}

func readAnswer(t *testing.T, c net.Conn) rawAnswer {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return rawAnswer{resp: resp, body: body, closed: isClosed(br, c)}
}

// isClosed reports whether the peer closed c: a read ends with EOF or a
// reset within 2 s (a connection kept open costs a test that long).
func isClosed(r io.Reader, c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err := r.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

func problemIn(t *testing.T, a rawAnswer) openapi.Problem {
	t.Helper()
	require.Equal(t, openapi.ProblemContentType, a.resp.Header.Get("Content-Type"), "%s", a.body)
	var p openapi.Problem
	require.NoError(t, json.Unmarshal(a.body, &p), "%s", a.body)
	require.Equal(t, a.resp.StatusCode, p.Status)
	require.NotEmpty(t, p.Detail)
	return p
}

// TestHTTPEdges: requests net/http answers before any handler, or that a
// path cleaner would redirect, get problem JSON; a request with both
// Content-Length and Transfer-Encoding is refused and its connection closed
// (RFC 9112 section 6.3).
func TestHTTPEdges(t *testing.T) {
	addr, _ := serveReal(t, mockserver.Config{})
	save := "POST /api/v1/customers/save HTTP/1.1\r\nHost: x\r\n" + basicDemo + "Content-Type: application/json\r\n"
	saveOne := `{"customers":[{"external_id":"kept","account_type":"N","last_name":"Doe"}]}`
	require.Equal(t, 200, rawRequest(t, addr, save+fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(saveOne), saveOne)).resp.StatusCode)
	tests := []struct {
		name     string
		req      string
		status   int
		kind     string // problem type after urn:algoreg-kit:problem:
		closed   bool
		inDetail string
	}{
		{"Content-Length and chunked", save + "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 400, "ambiguous-length", true, "RFC 9112"},
		{"chunked and Content-Length, lower case", "GET /healthz HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\ncontent-length: 5\r\n\r\n0\r\n\r\n", 400, "ambiguous-length", true, ""},
		{"chunked alone is fine", save + "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 200, "", false, ""},
		{"DELETE with a dot-dot segment is 404, not a reset", "DELETE /__admin/customers/../state HTTP/1.1\r\nHost: x\r\n" + basicDemo + "\r\n", 404, "not-found", false, "does not redirect"},
		{"empty segments are 404, not a 301", "GET //__admin//customers HTTP/1.1\r\nHost: x\r\n" + basicDemo + "\r\n", 404, "not-found", false, "does not redirect"},
		{"a bad escape in the path", "GET /__admin/customers/%zz HTTP/1.1\r\nHost: x\r\n" + basicDemo + "\r\n", 400, "bad-request", true, "%zz"},
		{"headers of 1.1 MB", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 1100000) + "\r\n\r\n", 431, "headers-too-large", true, "65536 bytes"},
		{"no Host", "GET /healthz HTTP/1.1\r\n\r\n", 400, "bad-request", true, "missing required Host header"},
		{"a header without a colon", "GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400, "bad-request", true, ""},
		{"not HTTP", "GARBAGE\r\n\r\n", 400, "bad-request", true, ""},
		{"two Content-Lengths", save + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400, "bad-request", true, ""},
		{"an unknown transfer coding", save + "Transfer-Encoding: gzip\r\n\r\n", 501, "unsupported-transfer-encoding", true, ""},
		{"an Expect other than 100-continue", "GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: 100-foo\r\n\r\n", 417, "expectation-failed", true, "Expect"},
		{"HTTP/2.0 in a request line", "GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505, "http-version", true, ""},
	}
	t.Run("edges", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				a := rawRequest(t, addr, tt.req)
				require.Equal(t, tt.status, a.resp.StatusCode, "%s", a.body)
				require.Equal(t, tt.closed, a.closed, "connection closed")
				if tt.kind == "" {
					return
				}
				p := problemIn(t, a)
				require.Equal(t, "urn:algoreg-kit:problem:"+tt.kind, p.Type)
				require.Contains(t, p.Detail, tt.inDetail)
			})
		}
	})
	a := rawRequest(t, addr, "GET /__admin/customers/kept HTTP/1.1\r\nHost: x\r\n"+basicDemo+"\r\n")
	require.Equal(t, 200, a.resp.StatusCode, "the DELETE of a path with .. reset the state: %s", a.body)
}

// keepAlive opens a connection to addr that has made one request and is
// kept alive, idle.
func keepAlive(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	_, err = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	require.Equal(t, 200, resp.StatusCode)
	return c, br
}

// TestConnectionCap: idle keep-alive connections (row 2 of issue 12:
// 19,990 of them exhausted the file descriptors and a fresh /healthz timed
// out) never hold more than MaxConns; a new connection closes the one idle
// the longest, and /healthz answers. When every connection is busy a new
// one gets 503 with Retry-After. IdleTimeout closes an idle connection.
func TestConnectionCap(t *testing.T) {
	const maxConns, idle = 64, 200
	addr, _ := serveReal(t, mockserver.Config{MaxConns: maxConns})
	type kept struct {
		c  net.Conn
		br *bufio.Reader
	}
	var conns []kept
	for range idle {
		c, br := keepAlive(t, addr)
		conns = append(conns, kept{c, br})
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode, "a fresh /healthz with %d idle connections", idle)
	var open atomic.Int32
	var wg sync.WaitGroup
	for _, k := range conns {
		wg.Go(func() {
			if !isClosed(k.br, k.c) {
				open.Add(1)
			}
		})
	}
	wg.Wait()
	require.LessOrEqual(t, int(open.Load()), maxConns, "idle connections still open")
	require.Positive(t, open.Load())

	t.Run("every connection busy: 503 with Retry-After", func(t *testing.T) {
		addr, _ := serveReal(t, mockserver.Config{MaxConns: 4})
		for range 4 { // each waits for a body it never gets
			c, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			t.Cleanup(func() { c.Close() })
			io.WriteString(c, "POST /api/v1/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
		}
		time.Sleep(100 * time.Millisecond) // let the server read their headers: they are busy, not new
		a := rawRequest(t, addr, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		require.Equal(t, 503, a.resp.StatusCode)
		require.Equal(t, "1", a.resp.Header.Get("Retry-After"))
		require.True(t, a.closed)
		require.Equal(t, "urn:algoreg-kit:problem:too-many-connections", problemIn(t, a).Type)
	})

	t.Run("IdleTimeout closes an idle keep-alive connection", func(t *testing.T) {
		addr, _ := serveReal(t, mockserver.Config{IdleTimeout: 50 * time.Millisecond})
		c, br := keepAlive(t, addr)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := br.ReadByte()
		require.ErrorIs(t, err, io.EOF)
	})
}

// TestBodiesInFlight: row 3 of issue 12 (64 connections each sending 16 MiB
// − 1 of a 16 MiB body, then stalling, held 1.08 GB for 120 s), at a small
// scale: the bodies held at once never pass BodyMemory, the connections
// over it are answered 503 with Retry-After, and the stalled ones 408 once
// their body is late; every connection is closed.
func TestBodiesInFlight(t *testing.T) {
	const maxBody, conns = 1 << 20, 16
	cfg := mockserver.Config{
		Rules:      rulesWith(func(c *rules.Config) { c.MaxBody = maxBody }),
		BodyMemory: 4 * maxBody, BodyWait: 100 * time.Millisecond,
		ReadHeaderTimeout: time.Second, MinBodyRate: 8 << 20, // the holders are cut long after the waiters gave up
	}
	addr, mock := serveReal(t, cfg)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	head := "POST /api/v1/customers/save HTTP/1.1\r\nHost: x\r\n" + basicDemo + fmt.Sprintf("Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", maxBody)
	stalled := head + `{"customers":[],"x":"` + strings.Repeat("a", maxBody-1-len(`{"customers":[],"x":"`))
	answers := make([]rawAnswer, conns)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() { answers[i] = rawRequest(t, addr, stalled) })
	}
	wg.Wait()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	statuses := map[int]int{}
	for _, a := range answers {
		statuses[a.resp.StatusCode]++
		require.True(t, a.closed, "a stalled connection was kept open: %d %s", a.resp.StatusCode, a.body)
		p := problemIn(t, a)
		switch a.resp.StatusCode {
		case 408:
			require.Equal(t, "urn:algoreg-kit:problem:body-timeout", p.Type)
		case 503:
			require.Equal(t, "urn:algoreg-kit:problem:busy", p.Type)
			require.Equal(t, "1", a.resp.Header.Get("Retry-After"))
		default:
			t.Fatalf("status %d: %s", a.resp.StatusCode, a.body)
		}
	}
	require.Positive(t, statuses[408], "%v", statuses)
	require.Positive(t, statuses[503], "%v", statuses)
	require.LessOrEqual(t, mockserver.BodyPeak(mock), int64(cfg.BodyMemory))
	t.Logf("%d stalled bodies of %d bytes: %v; bodies held at most %d bytes; heap in use %d MB → %d MB",
		conns, maxBody, statuses, mockserver.BodyPeak(mock), before.HeapInuse>>20, after.HeapInuse>>20)
}
