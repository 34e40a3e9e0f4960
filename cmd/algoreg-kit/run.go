package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// env gives a subcommand everything it may touch, so tests can fake it all.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// command is one subcommand: its name, a one-line summary, and its run function,
// which gets the arguments after the subcommand's name.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, e env) error
}

func commands() []command {
	return []command{
		{"mock", "run the stateful mock of the Save customers endpoint", runMock},
		{"fixtures", "generate fake customer datasets, or load them into a server", runFixtures},
		{"contract", "check that a server honours the Save customers contract", runContract},
		{"spec", "print the OpenAPI document", runSpec},
	}
}

const usage = `algoreg-kit: a toolkit for the Algoreg Save customers endpoint.

Usage:
  algoreg-kit <command> [flags]

Commands:
%s
Run "algoreg-kit <command> -h" for a command's flags and examples.
`

// run is the whole program; main only maps its error to an exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	var list strings.Builder
	for _, c := range commands() {
		fmt.Fprintf(&list, "  %-9s %s\n", c.name, c.summary)
	}
	if len(args) < 2 {
		fmt.Fprintf(stderr, usage, list.String())
		return exitError{2}
	}
	name := args[1]
	switch name {
	case "help", "-h", "-help", "--help":
		fmt.Fprintf(stdout, usage, list.String())
		return nil
	}
	for _, c := range commands() {
		if c.name == name {
			err := c.run(ctx, args[2:], e)
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
	}
	return fmt.Errorf("unknown command %q; run \"algoreg-kit help\" for the list", name)
}

// exitError ends the program with a code and no message (the message, if any,
// was already printed, as the flag package does for bad flags).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func exitCode(err error) (int, bool) {
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code, true
	}
	return 0, false
}

// newFlagSet returns a FlagSet for a subcommand that prints its usage (with
// examples) to stderr and returns errors instead of exiting.
func newFlagSet(name, usageText string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet("algoreg-kit "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprint(e.stderr, usageText)
		fmt.Fprintln(e.stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; a bad flag has already been reported by the flag
// package, so it becomes exit status 2 with no further message.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return exitError{2}
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return exitError{2}
	}
	return nil
}
