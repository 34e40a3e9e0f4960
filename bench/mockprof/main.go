package main

import (
	"context"
	"expvar"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/algoreg-kit/algoreg-kit/bench/internal/benchutil"
	"github.com/algoreg-kit/algoreg-kit/internal/flushwriter"
	"github.com/algoreg-kit/algoreg-kit/internal/gcheadroom"
	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/memstore"
	"github.com/algoreg-kit/algoreg-kit/store/sqlite"
)

func main() {
	benchutil.Main("mockprof", run)
}

// debugHandler serves the profiling and expvar endpoints (and nothing else):
// importing net/http/pprof and expvar registers them on http.DefaultServeMux,
// and nothing in this program registers anything else there.
func debugHandler() http.Handler {
	return http.DefaultServeMux
}

// publishStore publishes "store": {"customers": n, "record_bytes": 0} in
// /debug/vars (and "reruns", Stats.Reruns), once per process (expvar names are global). record_bytes is
// what the store holds outside the Go heap, which bench/run.sh adds to the
// heap: nothing since the in-memory store keeps its records on the heap.
var publishStore = func() func(*memstore.Store) {
	var current atomic.Pointer[memstore.Store]
	var once sync.Once
	return func(s *memstore.Store) {
		current.Store(s)
		once.Do(func() {
			expvar.Publish("store", expvar.Func(func() any {
				st := current.Load().Stats()
				return map[string]int64{"customers": int64(st.Customers), "record_bytes": 0, "reruns": st.Reruns}
			}))
		})
	}
}()

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:18200", "the mock's address")
	debugAddr := fs.String("debug-addr", "127.0.0.1:18201", "the profiling endpoints' address (keep it on loopback)")
	quiet := fs.Bool("quiet", false, "no request log (the mock command logs one line per request at info)")
	state := fs.String("state", "", "a SQLite state file (default sync) instead of the in-memory store")
	mutexFraction := fs.Int("mutex-fraction", 0, "sample 1 in N mutex contention events for /debug/pprof/mutex (0: none)")
	headroom := fs.Int64("gc-headroom", gcheadroom.Default, "bytes of heap growth between collections at least, as algoreg-kit mock --gc-headroom (0: Go's default)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	defer gcheadroom.Start(*headroom)()
	runtime.SetMutexProfileFraction(*mutexFraction)
	// Like the mock command: log lines are buffered and flushed every 100 ms.
	var logOut io.Writer = io.Discard
	if !*quiet {
		fw := flushwriter.New(stderr, 100*time.Millisecond)
		defer fw.Close()
		logOut = fw
	}
	// /debug/vars publishes the number of customers stored, which the memory
	// run of bench/run.sh divides the heap by.
	var st store.Store
	if *state != "" {
		sq, err := sqlite.Open(ctx, *state, sqlite.Options{})
		if err != nil {
			return err
		}
		st = sq
	} else {
		mem := memstore.New()
		publishStore(mem)
		st = mem
	}
	defer st.Close() // after the mock's Close
	mock, err := mockserver.New(mockserver.Config{Store: st, Logger: slog.New(slog.NewTextHandler(logOut, nil))})
	if err != nil {
		return err
	}
	defer mock.Close()

	ln, err := benchutil.Listen(*addr)
	if err != nil {
		return err
	}
	dln, err := benchutil.Listen(*debugAddr)
	if err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintf(stdout, "mock on http://%s, profiles on http://%s/debug/pprof/\n", ln.Addr(), dln.Addr())
	return benchutil.Serve(ctx, benchutil.Site{Listener: ln, Handler: mock}, benchutil.Site{Listener: dln, Handler: debugHandler()})
}
