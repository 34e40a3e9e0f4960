package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	if err := run(os.Args, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "bodies: %s\n", err)
		os.Exit(1)
	}
}

// inputs collects repeated -in flags.
type inputs []string

func (in *inputs) String() string     { return strings.Join(*in, ",") }
func (in *inputs) Set(v string) error { *in = append(*in, v); return nil }

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var in inputs
	fs.Var(&in, "in", "a body file or a folder of *.json body files (repeatable)")
	out := fs.String("out", "-", "the pool file to write (- for stdout)")
	want := fs.Int("customers", -1, "customers every body must hold (-1: any)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if len(in) == 0 {
		return errors.New("no -in given; pass the folder that \"algoreg-kit fixtures --format request --out DIR\" wrote")
	}
	files, err := expand(in)
	if err != nil {
		return err
	}
	w := stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("create pool: %w", err)
		}
		defer f.Close()
		w = f
	}
	var st stats
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		err = writePool(w, f, name, *want, &st)
		f.Close()
		if err != nil {
			return err
		}
	}
	if f, ok := w.(*os.File); ok && f != os.Stdout {
		if err := f.Close(); err != nil {
			return fmt.Errorf("write pool: %w", err)
		}
	}
	fmt.Fprintf(stderr, "bodies: %d bodies, %d customers, %d relations, %d bytes on average\n",
		st.Bodies, st.Customers, st.Relations, st.Bytes/max(st.Bodies, 1))
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
