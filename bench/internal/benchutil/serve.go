package benchutil

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// SignalContext returns a copy of parent that ends when SIGINT or SIGTERM
// arrives (bench/run.sh stops its servers with SIGTERM). The caller should
// call stop when finished, which restores the default handling of both.
func SignalContext(parent context.Context) (ctx context.Context, stop context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
}

// Listen listens on the TCP address addr (host:port; port 0 picks a free one).
// Its error names the address.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// Site is a listener and the handler to serve on it.
type Site struct {
	Listener net.Listener
	Handler  http.Handler
}

// shutdownGrace is how long the requests in flight get once Serve stops.
const shutdownGrace = 5 * time.Second

// Serve serves every site until ctx ends or SIGINT or SIGTERM arrives, then
// shuts them all down, giving the requests in flight shutdownGrace. It closes
// the listeners. It returns the first error that stopped a site from serving
// ("serve: …"), else the first site's Shutdown error: the later sites are side
// channels (profiles), whose requests may be cut short.
func Serve(ctx context.Context, sites ...Site) error {
	ctx, stop := SignalContext(ctx)
	defer stop()
	servers := make([]*http.Server, len(sites))
	errc := make(chan error, len(sites))
	for i, s := range sites {
		servers[i] = &http.Server{Handler: s.Handler, ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- servers[i].Serve(s.Listener) }()
	}
	var err error
	select {
	case err = <-errc:
		err = fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	for i := len(servers) - 1; i >= 0; i-- {
		if serr := servers[i].Shutdown(shutdownCtx); i == 0 && err == nil {
			err = serr
		}
	}
	return err
}
