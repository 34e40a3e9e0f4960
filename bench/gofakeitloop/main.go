package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/algoreg-kit/algoreg-kit/bench/internal/benchutil"
)

func main() {
	benchutil.Main("gofakeitloop", run)
}

func run(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := benchutil.Flags(args, stderr)
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
