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
	"bufio"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
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
	url, cmd, err := start(*bin, args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "webhookload:", err)
		os.Exit(1)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	pid := cmd.Process.Pid
	fmt.Println("mock RSS at start:", status(pid, "VmRSS"))
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
	fmt.Println("mock RSS:", status(pid, "VmRSS"), "peak:", status(pid, "VmHWM"))
}

// start runs the mock with args and returns its URL once it prints it.
func start(bin string, args []string) (string, *exec.Cmd, error) {
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	serving := regexp.MustCompile(`serving on (http://[0-9.:]+)`)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := serving.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, out)
			return m[1], cmd, nil
		}
	}
	cmd.Wait()
	return "", nil, fmt.Errorf("%s exited without serving", bin)
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

// status is a field of /proc/pid/status.
func status(pid int, field string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}
