package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// A hostileBody is a request of issue 12's table, sent through the client.
type hostileBody struct {
	name, method, path string
	header             map[string]string
	body               []byte
}

const mib = 1 << 20

// repeatList is `{"<key>":[{},{},…]}` of about size bytes, within prefix
// and suffix.
func repeatList(prefix, suffix string, size int) []byte {
	var b bytes.Buffer
	b.WriteString(prefix)
	for b.Len() < size {
		b.WriteString("{},")
	}
	b.WriteString("{}")
	b.WriteString(suffix)
	return b.Bytes()
}

// gzipBomb is 64 MiB of spaces gzipped (about 64 KiB): over the body limit
// once decoded.
func gzipBomb() []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write([]byte(`{"customers":[`))
	chunk := bytes.Repeat([]byte(" "), mib)
	for range 64 {
		zw.Write(chunk)
	}
	zw.Close()
	return b.Bytes()
}

// hostileBodies are made once and shared by the workers (read only).
func hostileBodies() []hostileBody {
	j := map[string]string{"Content-Type": "application/json"}
	save := "/api/v1/customers/save"
	return []hostileBody{
		{"relations-1MiB", "POST", save, j, repeatList(`{"relations":[`, `]}`, mib)},
		{"variations-1MiB", "POST", save, j, repeatList(`{"customers":[{"external_id":"h","account_type":"N","last_name":"x","variations":[`, `]}]}`, mib)},
		{"invalid-utf8", "POST", save, j, []byte("{\"customers\":[{\"external_id\":\"\xff\",\"account_type\":\"N\",\"last_name\":\"x\"}]}")},
		{"lone-surrogate", "POST", save, j, []byte(`{"customers":[{"external_id":"\ud800","account_type":"N","last_name":"x"}]}`)},
		{"gzip-bomb", "POST", save, map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}, gzipBomb()},
		{"encoding-br", "POST", save, map[string]string{"Content-Type": "application/json", "Content-Encoding": "br"}, []byte(`{"customers":[]}`)},
		{"kyc-1e400", "POST", save, j, []byte(`{"customers":[{"external_id":"k","account_type":"N","last_name":"x","kyc_level":1e400}]}`)},
		{"form-token", "POST", "/api/v1/token", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte("grant_type=password&username=a&password=b")},
		{"admin-double-slash", "GET", "//__admin//customers", nil, nil},
		{"admin-dotdot", "DELETE", "/__admin/customers/../state", nil, nil},
		{"big-header", "GET", "/healthz", map[string]string{"X-Big": strings.Repeat("a", 1100*1024)}, nil},
	}
}

// rawHostile are the requests the client cannot send: written on a fresh
// TCP connection, the answer read, and then whether the mock closed it.
var rawHostile = []struct{ name, request string }{
	{"cl-and-te", "POST /api/v1/customers/save HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic("soak-raw") +
		"\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"10\r\n{\"customers\":[]}\r\n0\r\n\r\n"},
	{"bad-escape-path", "GET /__admin/customers/%zz HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic("soak-raw") + "\r\n\r\n"},
}

// hostile sends one request of the table, drawn at random.
func (w *worker) hostile(ctx context.Context) {
	if i := w.r.IntN(len(w.hostiles) + len(rawHostile)); i < len(w.hostiles) {
		h := w.hostiles[i]
		req, _ := http.NewRequestWithContext(ctx, h.method, w.url, bytes.NewReader(h.body))
		req.URL.Path = h.path
		req.URL.RawPath = h.path
		for k, v := range h.header {
			req.Header.Set(k, v)
		}
		req.SetBasicAuth("soak-hostile", "pw") // never a business whose customers are counted
		w.send("hostile:"+h.name, req)
	} else {
		h := rawHostile[i-len(w.hostiles)]
		status, err := raw(ctx, w.url, h.request, true)
		if ctx.Err() != nil {
			return
		}
		w.tally.add("hostile:"+h.name, status, err, fmt.Sprint(status, " ", err))
	}
}

// raw writes request on a new connection to base and reads the answer; with
// mustClose, an answer on a connection the mock then keeps open is an error.
func raw(ctx context.Context, base, request string, mustClose bool) (int, error) {
	u, _ := url.Parse(base)
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		return 0, err
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if mustClose {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := br.ReadByte(); err == nil || isTimeout(err) {
			return resp.StatusCode, fmt.Errorf("answered %d and kept the connection open", resp.StatusCode)
		}
	}
	return resp.StatusCode, nil
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// slow sends a 4 KiB save one byte every 200 ms (a slowloris body), again and
// again: the mock should answer 408 once the body is late.
func slow(ctx context.Context, base string, t *tally) {
	body := fmt.Sprintf(`{"customers":[],"x":"%s"}`, strings.Repeat("a", 4096))
	head := "POST /api/v1/customers/save HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic("soak-slow") +
		fmt.Sprintf("\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	u, _ := url.Parse(base)
	for ctx.Err() == nil {
		status, err := slowOnce(ctx, u.Host, head, body)
		if ctx.Err() == nil {
			t.add("slow-body", status, err, fmt.Sprint(status, " ", err))
		}
	}
}

func slowOnce(ctx context.Context, host, head, body string) (int, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", host)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	io.WriteString(c, head)
	go func() {
		for i := 0; i < len(body) && ctx.Err() == nil; i++ {
			if _, err := c.Write([]byte{body[i]}); err != nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	c.SetReadDeadline(time.Now().Add(5 * time.Minute))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// idle keeps a keep-alive connection open after one GET /healthz, and opens
// a new one when the mock closes it (its idle timeout, or the cap).
func idle(ctx context.Context, base string, t *tally) {
	u, _ := url.Parse(base)
	for ctx.Err() == nil {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", u.Host)
		if err != nil {
			if ctx.Err() == nil {
				t.add("idle-conn", 0, err, err.Error())
				time.Sleep(time.Second)
			}
			continue
		}
		stop := context.AfterFunc(ctx, func() { c.Close() })
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if ctx.Err() == nil {
			if err != nil {
				t.add("idle-conn", 0, err, err.Error())
			} else {
				io.Copy(io.Discard, resp.Body)
				t.add("idle-conn", resp.StatusCode, nil, resp.Status)
			}
		}
		br.ReadByte() // until the mock closes it, or the soak ends
		stop()
		c.Close()
	}
}
