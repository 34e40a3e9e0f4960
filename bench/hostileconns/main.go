// Command hostileconns replays two attacks of issue 12 on a running mock and
// prints what the mock answered and its memory (VmRSS and VmHWM of -pid):
//
//	-mode idle:  -n connections (default 19,990) each make one request and
//	             stay open, idle; then a fresh GET /healthz (row 2)
//	-mode stall: -n connections (default 64) each send all but one byte of
//	             a 16 MiB save, then stall (row 3)
//
// For example:
//
//	algoreg-kit mock --addr 127.0.0.1:18081 --log-level error & pid=$!
//	go run ./bench/hostileconns -mode idle -addr 127.0.0.1:18081 -pid $pid
//
// Not run in CI: it takes a minute or two and the file limit of two
// processes of 20,000 connections each.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	mode := flag.String("mode", "idle", "idle or stall")
	addr := flag.String("addr", "127.0.0.1:8080", "the mock's host:port")
	pid := flag.Int("pid", 0, "the mock's process id, for its memory (Linux /proc)")
	n := flag.Int("n", 0, "connections (default 19990 idle, 64 stalled)")
	flag.Parse()
	switch *mode {
	case "idle":
		idle(*addr, *pid, or(*n, 19990))
	case "stall":
		stall(*addr, *pid, or(*n, 64))
	default:
		fmt.Fprintln(os.Stderr, "hostileconns: -mode is idle or stall")
		os.Exit(2)
	}
}

func or(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// memory is the VmRSS and VmHWM lines of pid, or "".
func memory(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if pid == 0 || err != nil {
		return ""
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS") || strings.HasPrefix(l, "VmHWM") {
			out = append(out, strings.Join(strings.Fields(l), " "))
		}
	}
	return strings.Join(out, ", ")
}

func idle(addr string, pid, n int) {
	var conns []net.Conn
	fails := 0
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			fails++
			continue
		}
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
			io.Copy(io.Discard, resp.Body)
		}
		conns = append(conns, c)
	}
	fmt.Printf("opened %d connections (%d dials failed); mock: %s\n", len(conns), fails, memory(pid))
	t0 := time.Now()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/healthz")
	if err != nil {
		fmt.Println("a fresh /healthz:", err)
	} else {
		resp.Body.Close()
		fmt.Printf("a fresh /healthz: %s in %s\n", resp.Status, time.Since(t0).Round(time.Microsecond))
	}
	var open atomic.Int32
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			c.SetReadDeadline(time.Now().Add(time.Second))
			_, err := c.Read(make([]byte, 1))
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				open.Add(1)
			}
		})
	}
	wg.Wait()
	fmt.Printf("of ours still open: %d; mock: %s\n", open.Load(), memory(pid))
}

func stall(addr string, pid, n int) {
	const size = 16 << 20
	head := "POST /api/v1/customers/save HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ZGVtbzpkZW1v\r\nContent-Type: application/json\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", size)
	start := `{"customers":[],"x":"`
	payload := []byte(head + start + strings.Repeat("a", size-1-len(start)))
	results := make(chan string, n)
	t0 := time.Now()
	for range n {
		go func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				results <- "dial: " + err.Error()
				return
			}
			defer c.Close()
			go c.Write(payload)
			c.SetReadDeadline(time.Now().Add(200 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				results <- fmt.Sprintf("%v after %s", err, time.Since(t0).Round(time.Second))
				return
			}
			results <- fmt.Sprintf("%d after %s", resp.StatusCode, time.Since(t0).Round(time.Second))
		}()
	}
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	got := map[string]int{}
	for k := 0; k < n; {
		select {
		case r := <-results:
			got[r]++
			k++
		case <-tick.C:
			fmt.Printf("%s: mock: %s\n", time.Since(t0).Round(time.Second), memory(pid))
		}
	}
	fmt.Printf("answers: %v; mock: %s\n", got, memory(pid))
}
