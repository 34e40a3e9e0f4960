package main

import (
	"context"
	"fmt"
	"io"

	"github.com/algoreg-kit/algoreg-kit/bench/internal/benchutil"
)

func main() {
	benchutil.Main("baseline", run)
}

// run parses the flags, listens, and serves until ctx ends or a signal arrives.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := benchutil.Flags(args, stderr)
	addr := fs.String("addr", "127.0.0.1:18090", "address to listen on (host:port; port 0 picks a free one)")
	mode := fs.String("decode", "project", "what to do with the body: "+decoderNames())
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	decode, ok := decoders[*mode]
	if !ok {
		return fmt.Errorf("unknown -decode %q; use one of %s", *mode, decoderNames())
	}
	ln, err := benchutil.Listen(*addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening on http://%s (decode %s)\n", ln.Addr(), *mode)
	return benchutil.Serve(ctx, benchutil.Site{Listener: ln, Handler: newHandler(decode)})
}
