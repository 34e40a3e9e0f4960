// Command webhookload replays two rows of issue 12 against the mock binary,
// which it starts itself, and prints the outcome and the mock's memory
// (VmRSS and VmHWM, Linux /proc):
//
//	-mode webhooks: the mock with --webhook (and a --webhook-secret) to a
//	                receiver that answers in 100 ms; 20 businesses × 100
//	                saves, each business's one after the other; then it
//	                waits for the 2,000 deliveries (row 4)
//	-mode tokens:   32 clients request tokens for 30 s (row 6)
//
// For example:
//
//	go build -o /tmp/algoreg-kit ./cmd/algoreg-kit
//	go run ./bench/webhookload -bin /tmp/algoreg-kit -mode webhooks
//
// Not run in CI: it takes 10 to 30 s of a loaded machine.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/algoreg-kit/algoreg-kit/bench/internal/benchutil"
)

func main() {
	bin := flag.String("bin", "algoreg-kit", "the algoreg-kit binary")
	mode := flag.String("mode", "webhooks", "webhooks or tokens")
	flag.Parse()
	var delivered atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		time.Sleep(100 * time.Millisecond)
		delivered.Add(1)
	}))
	defer recv.Close()
	args := []string{"mock", "--addr", "127.0.0.1:0", "--log-level", "warn"}
	if *mode == "webhooks" {
		args = append(args, "--webhook", recv.URL, "--webhook-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	}
	url, cmd, err := benchutil.StartMock(*bin, args, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "webhookload:", err)
		os.Exit(1)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	pid := cmd.Process.Pid
	fmt.Println("mock RSS at start:", benchutil.ProcStatus(pid, "VmRSS"))
	began := time.Now()
	switch *mode {
	case "webhooks":
		saves(url)
		fmt.Println("2,000 saves answered in", time.Since(began).Round(time.Millisecond))
		for delivered.Load() < 2000 && time.Since(began) < 2*time.Minute {
			time.Sleep(50 * time.Millisecond)
		}
		fmt.Printf("%d events delivered in %s\n", delivered.Load(), time.Since(began).Round(time.Millisecond))
	default:
		fmt.Printf("%d tokens in %s\n", tokens(url), time.Since(began).Round(time.Millisecond))
	}
	fmt.Println("mock RSS:", benchutil.ProcStatus(pid, "VmRSS"), "peak:", benchutil.ProcStatus(pid, "VmHWM"))
}

// saves posts 100 one-customer saves into each of 20 businesses, the
// businesses in parallel.
func saves(url string) {
	var wg sync.WaitGroup
	for b := range 20 {
		wg.Go(func() {
			for i := range 100 {
				body := fmt.Sprintf(`{"customers":[{"external_id":"c%03d","account_type":"N","last_name":"Doe"}]}`, i)
				req, _ := http.NewRequest(http.MethodPost, url+"/api/v1/customers/save", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.SetBasicAuth(fmt.Sprint("biz-", b), "pw")
				mustOK(http.DefaultClient.Do(req))
			}
		})
	}
	wg.Wait()
}

// tokens has 32 clients request tokens for 30 s and returns how many they got.
func tokens(url string) int64 {
	var (
		wg sync.WaitGroup
		n  atomic.Int64
	)
	deadline := time.Now().Add(30 * time.Second)
	for c := range 32 {
		wg.Go(func() {
			body := fmt.Sprintf(`{"grant_type":"password","username":"user-%d","password":"x"}`, c)
			for time.Now().Before(deadline) {
				mustOK(http.Post(url+"/api/v1/token", "application/json", strings.NewReader(body)))
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return n.Load()
}

func mustOK(resp *http.Response, err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "webhookload:", err)
		os.Exit(1)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "webhookload: status", resp.StatusCode)
		os.Exit(1)
	}
}
