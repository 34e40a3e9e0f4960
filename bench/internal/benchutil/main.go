package benchutil

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// Main calls run with a background context, the program's arguments, stdout
// and stderr, and exits: with 0 when run returns nil or flag.ErrHelp (the flag
// package has printed the usage then), else with 1 after printing
// "name: error" on stderr. run handles signals itself where it must (see
// SignalContext and Serve). Only a main function should call Main.
func Main(name string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	err := run(context.Background(), os.Args, os.Stdout, os.Stderr)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	fmt.Fprintf(os.Stderr, "%s: %s\n", name, err)
	os.Exit(1)
}

// Flags returns the flag set of a program run with args (args[0] names it),
// which prints its usage and errors on stderr and returns its errors
// (flag.ErrHelp for -h) for Main to report, instead of exiting.
func Flags(args []string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
