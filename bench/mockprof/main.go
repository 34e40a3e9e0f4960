package main

import (
	"context"
	"errors"
	"expvar"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/algoreg-kit/algoreg-kit/internal/flushwriter"
	"github.com/algoreg-kit/algoreg-kit/mockserver"
)

func main() {
	if err := run(context.Background(), os.Args, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "mockprof: %s\n", err)
		os.Exit(1)
	}
}

// debugHandler serves the profiling and expvar endpoints (and nothing else).
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/vars", expvar.Handler())
	return mux
}

// publishStore publishes "store": {"customers": n, "record_bytes": b} in
// /debug/vars, once per process (expvar names are global).
var publishStore = func() func(*mockserver.MemStore) {
	var current atomic.Pointer[mockserver.MemStore]
	var once sync.Once
	return func(s *mockserver.MemStore) {
		current.Store(s)
		once.Do(func() {
			expvar.Publish("store", expvar.Func(func() any {
				n, b := current.Load().Footprint()
				return map[string]int64{"customers": int64(n), "record_bytes": b}
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
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Like the mock command: log lines are buffered and flushed every 100 ms.
	var logOut io.Writer = io.Discard
	if !*quiet {
		fw := flushwriter.New(stderr, 100*time.Millisecond)
		defer fw.Close()
		logOut = fw
	}
	// The MemStore keeps its records outside the Go heap, so the heap alone
	// does not say what the customers take: /debug/vars publishes the store's
	// own count of its record bytes too.
	store := mockserver.NewMemStore()
	publishStore(store)
	mock, err := mockserver.New(mockserver.Config{Store: store, Logger: slog.New(slog.NewTextHandler(logOut, nil))})
	if err != nil {
		return err
	}
	defer mock.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	dln, err := net.Listen("tcp", *debugAddr)
	if err != nil {
		ln.Close()
		return fmt.Errorf("listen on %s: %w", *debugAddr, err)
	}
	srv := &http.Server{Handler: mock, ReadHeaderTimeout: 10 * time.Second}
	dsrv := &http.Server{Handler: debugHandler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	go func() { errc <- dsrv.Serve(dln) }()
	fmt.Fprintf(stdout, "mock on http://%s, profiles on http://%s/debug/pprof/\n", ln.Addr(), dln.Addr())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dsrv.Shutdown(sctx)
	return srv.Shutdown(sctx)
}
