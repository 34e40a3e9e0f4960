package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/algoreg-kit/algoreg-kit/bench/internal/benchutil"
)

func main() {
	benchutil.Main("bodies", run)
}

// inputs collects repeated -in flags.
type inputs []string

func (in *inputs) String() string     { return strings.Join(*in, ",") }
func (in *inputs) Set(v string) error { *in = append(*in, v); return nil }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := benchutil.Flags(args, stderr)
	var in inputs
	fs.Var(&in, "in", "build a pool: a body file or a folder of *.json body files (repeatable)")
	out := fs.String("out", "-", "the pool file to write (- for stdout)")
	want := fs.Int("customers", -1, "customers every body must hold (-1: any)")
	poolFile := fs.String("pool", "", "post a pool: the pool file")
	target := fs.String("post", "", "post a pool: the server's base URL, e.g. http://127.0.0.1:8080")
	auth := fs.String("auth", "", "post a pool: the Authorization header value")
	prefix := fs.String("prefix", "p", "post a pool: the id prefix (the request number and '-' follow it)")
	total := fs.Int64("total", 0, "post a pool: customers to send in all (0: one pass over the pool)")
	bodies := fs.Int("bodies", 0, "post a pool: send only this many bodies (0: see -total)")
	lenient := fs.Bool("lenient", false, "post a pool: accept any 2xx (for peers); by default every customer must be added with no detail entry")
	conc := fs.Int("concurrency", 2, "post a pool: requests in flight")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ctx, stop := benchutil.SignalContext(ctx)
	defer stop()
	switch {
	case *poolFile != "" && *target != "":
		f, err := os.Open(*poolFile)
		if err != nil {
			return err
		}
		pool, err := readPool(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *poolFile, err)
		}
		p := &poster{URL: strings.TrimRight(*target, "/"), Auth: *auth, Prefix: *prefix, Strict: !*lenient,
			Concurrency: *conc, Client: &http.Client{Timeout: 2 * time.Minute}}
		st, err := p.run(ctx, pool, *total, *bodies)
		if err != nil {
			return fmt.Errorf("post to %s: %w", *target, err)
		}
		fmt.Fprintf(stdout, "{\"requests\":%d,\"customers\":%d,\"added\":%d,\"seconds\":%.3f}\n",
			st.Requests, st.Customers, st.Added, st.Elapsed.Seconds())
		return nil
	case len(in) > 0:
		return buildPool(in, *out, *want, stdout, stderr)
	default:
		return errors.New("no -in given (build a pool) and no -pool with -post (post one); see -h")
	}
}

func buildPool(in inputs, out string, want int, stdout, stderr io.Writer) error {
	files, err := expand(in)
	if err != nil {
		return err
	}
	w := stdout
	var f *os.File
	if out != "-" {
		if f, err = os.Create(out); err != nil {
			return fmt.Errorf("create pool: %w", err)
		}
		defer f.Close()
		w = f
	}
	var st stats
	for _, name := range files {
		r, err := os.Open(name)
		if err != nil {
			return err
		}
		err = writePool(w, r, name, want, &st)
		r.Close()
		if err != nil {
			return err
		}
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return fmt.Errorf("write pool: %w", err)
		}
	}
	fmt.Fprintf(stderr, "bodies: %d bodies, %d customers, %d relations (%d naming another body's customer dropped), %d bytes on average\n",
		st.Bodies, st.Customers, st.Relations, st.DroppedRelations, st.Bytes/max(st.Bodies, 1))
	return nil
}

// expand turns folders into their *.json files, in name order.
func expand(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		matches, err := filepath.Glob(filepath.Join(p, "*.json"))
		if err != nil {
			return nil, err
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("%s: no *.json files", p)
		}
		sort.Strings(matches)
		files = append(files, matches...)
	}
	return files, nil
}
