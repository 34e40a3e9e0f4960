package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Args, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "gofakeitloop: %s\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	count := fs.Int("count", 1000, "customers to write")
	seed := fs.Int64("seed", 42, "gofakeit seed (not 0, which gofakeit reads as random)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *count < 0 {
		return fmt.Errorf("-count %d is negative", *count)
	}
	if *seed == 0 {
		return errors.New("-seed 0 means a random seed in gofakeit; pass any other number")
	}
	return generate(stdout, *count, *seed)
}
