// Command soak runs a mixed load on the mock for a while (issue 12, item 10)
// and reports every answer by kind and class, whether the mock crashed, and
// its memory (VmRSS every second, Linux /proc) against the customers it
// holds at the end.
//
// Workers draw each request from a seeded mix: creates, updates, saves with
// relations, verify-only dry runs, resets, token requests followed by a save
// with the token, and the hostile bodies of the table. Beside them,
// slow clients send a body a byte every 200 ms and idle clients hold
// keep-alive connections open.
//
//	go run ./bench/soak -duration 10m                 # builds and starts the mock (in memory)
//	go run ./bench/soak -duration 1m -state /tmp/s.db # the mock with --state FILE
//	go run ./bench/soak -url http://127.0.0.1:8080 -pid PID
//
// Not run in CI (its tests are). Numbers and their meaning: bench/README.md, "Soak".
package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/algoreg-kit/algoreg-kit/bench/internal/benchutil"
)

func main() { benchutil.Main("soak", run) }

type options struct {
	duration               time.Duration
	bin, url, state, flags string
	pid                    int
	workers, slow, idle    int
	seed                   uint64
	mix                    string
	rssOut                 string
}

const defaultMix = "create=25,update=20,relations=10,verify=10,reset=5,token=10,hostile=20"

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := benchutil.Flags(args, stderr)
	fs.DurationVar(&o.duration, "duration", 10*time.Minute, "how long the load runs")
	fs.StringVar(&o.bin, "bin", "", "the algoreg-kit binary (default: go build ./cmd/algoreg-kit into a temporary folder)")
	fs.StringVar(&o.url, "url", "", "a running mock instead (then -pid for its memory)")
	fs.IntVar(&o.pid, "pid", 0, "with -url: the mock's process id")
	fs.StringVar(&o.state, "state", "", "start the mock with --state FILE (default: in memory)")
	fs.StringVar(&o.flags, "mock-flags", "", "more flags for the mock, space-separated")
	fs.IntVar(&o.workers, "workers", 16, "workers drawing from the mix")
	fs.IntVar(&o.slow, "slow", 4, "slow clients (a body byte every 200 ms)")
	fs.IntVar(&o.idle, "idle", 200, "idle keep-alive connections held open")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the mix")
	fs.StringVar(&o.mix, "mix", defaultMix, "kind=weight,… (kinds: "+strings.Join(slices.Sorted(mapsKeys()), ", ")+")")
	fs.StringVar(&o.rssOut, "rss-out", "", "write the RSS samples (seconds,kB) to this CSV file")
	return o, fs.Parse(args[1:])
}

func mapsKeys() func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range kinds {
			if !yield(k) {
				return
			}
		}
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	m, err := parseMix(o.mix, slices.Collect(mapsKeys()))
	if err != nil {
		return err
	}
	ctx, stop := benchutil.SignalContext(ctx)
	defer stop()
	url, pid, exited, cleanup, err := mock(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer cleanup()
	fmt.Fprintf(stdout, "soak: %s on %s (pid %d), mix %s, %d workers, %d slow, %d idle, seed %d\n",
		o.duration, url, pid, o.mix, o.workers, o.slow, o.idle, o.seed)
	startKB, loadStart := benchutil.ProcKB(pid, "VmRSS"), loadavg()
	fmt.Fprintf(stdout, "soak: started %s, load average %s\n", time.Now().UTC().Format(time.RFC3339), loadStart)
	res := load(ctx, o, m, url, pid, exited)
	res.startKB, res.loadStart = startKB, loadStart
	if !res.crashed {
		res.stored, res.relations, err = stored(url, o.workers)
		if err != nil {
			fmt.Fprintln(stdout, "soak: counting the stored customers:", err)
		}
		res.hwmKB = benchutil.ProcKB(pid, "VmHWM")
	}
	res.write(stdout)
	if o.rssOut != "" {
		if err := os.WriteFile(o.rssOut, res.csv(), 0o644); err != nil {
			return err
		}
	}
	if res.crashed {
		return fmt.Errorf("the mock exited during the soak: %v", res.exit)
	}
	return nil
}

// mock starts the mock (or takes -url) and returns its URL, its process id,
// a channel closed when it exits (with its error stored), and a cleanup.
func mock(ctx context.Context, o options, stderr io.Writer) (string, int, <-chan error, func(), error) {
	if o.url != "" {
		return strings.TrimRight(o.url, "/"), o.pid, nil, func() {}, nil
	}
	bin, dir := o.bin, ""
	if bin == "" {
		var err error
		if dir, err = os.MkdirTemp("", "soak-"); err != nil {
			return "", 0, nil, nil, err
		}
		bin = filepath.Join(dir, "algoreg-kit")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/algoreg-kit")
		build.Stdout, build.Stderr = stderr, stderr
		if err := build.Run(); err != nil {
			os.RemoveAll(dir)
			return "", 0, nil, nil, fmt.Errorf("go build ./cmd/algoreg-kit (run soak from the repository's root, or give -bin): %w", err)
		}
	}
	args := []string{"mock", "--addr", "127.0.0.1:0", "--log-level", "warn"}
	if o.state != "" {
		args = append(args, "--state", o.state)
	}
	args = append(args, strings.Fields(o.flags)...)
	url, cmd, err := benchutil.StartMock(bin, args, stderr)
	if err != nil {
		os.RemoveAll(dir)
		return "", 0, nil, nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); close(exited) }()
	cleanup := func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	return url, cmd.Process.Pid, exited, cleanup, nil
}

// result is what a soak measured.
type result struct {
	tally             *tally
	elapsed           time.Duration
	crashed           bool
	exit              error
	rss               []int64 // kB, one a second
	startKB, hwmKB    int64
	loadStart         string
	created           int64
	stored, relations int64
}

// load runs the workers, slow and idle clients until the duration is over,
// ctx ends or the mock exits, sampling the mock's RSS every second.
func load(ctx context.Context, o options, m mix, url string, pid int, exited <-chan error) *result {
	res := &result{tally: newTally()}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: o.workers}}
	var created atomic.Int64
	var wg sync.WaitGroup
	hostiles := hostileBodies()
	for i := range o.workers {
		w := &worker{id: i, url: url, client: client, tally: res.tally, created: &created, hostiles: hostiles,
			r: rand.New(rand.NewPCG(o.seed, uint64(i)))}
		wg.Go(func() {
			for ctx.Err() == nil {
				kinds[m.pick(w.r)](w, ctx)
			}
		})
	}
	for range o.slow {
		wg.Go(func() { slow(ctx, url, res.tally) })
	}
	for range o.idle {
		wg.Go(func() { idle(ctx, url, res.tally) })
	}
	res.sample(ctx, o, pid, exited)
	cancel()
	wg.Wait()
	res.created = created.Load()
	return res
}

// sample reads the RSS every second until the duration is over, ctx ends or
// the mock exits, printing a line every 30 s.
func (res *result) sample(ctx context.Context, o options, pid int, exited <-chan error) {
	began := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	end := time.After(o.duration)
	for {
		select {
		case err := <-exited:
			res.crashed, res.exit, res.elapsed = true, err, time.Since(began)
			return
		case <-end:
			res.elapsed = time.Since(began)
			return
		case <-ctx.Done():
			res.elapsed = time.Since(began)
			return
		case <-tick.C:
			res.rss = append(res.rss, benchutil.ProcKB(pid, "VmRSS"))
			if len(res.rss)%30 == 0 {
				t := res.tally.totals()
				fmt.Printf("  %3ds: %d requests, 5xx %d, 503 %d, err %d, RSS %d MB\n", len(res.rss),
					res.tally.requests(), t["5xx"], t["503"], t["err"], res.rss[len(res.rss)-1]/1024)
			}
		}
	}
}
