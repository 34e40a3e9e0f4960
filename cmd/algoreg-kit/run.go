package main

import (
	"context"
	"errors"
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

// command is one subcommand: its name, a one-line summary, and its main,
// which gets the arguments after the subcommand's name.
type command struct {
	name    string
	summary string
	main    func(ctx context.Context, args []string, e env) error
}

func commands() []command {
	return []command{
		{"mock", "run the stateful mock of the Save customers endpoint", parseThenRun(parseMock, runMock)},
		{"fixtures", "generate fake customer datasets, or load them into a server", parseThenRun(parseFixtures, runFixtures)},
		{"contract", "check that a server honours the Save customers contract", parseThenRun(parseContract, runContract)},
		{"lint", "check Save customers request bodies offline, as the mock would answer them", parseThenRun(parseLint, runLint)},
		{"spec", "print the OpenAPI document", parseThenRun(parseSpec, runSpec)},
		{"version", "print the version and VCS revision of this build", parseThenRun(parseVersion, runVersion)},
	}
}

// parsed is embedded in every subcommand's config: what parsing has to say
// besides the settings.
type parsed struct {
	// notes are the deprecation lines of old environment variables in use.
	notes []string
}

func (p parsed) deprecations() []string { return p.notes }

// parseThenRun makes a subcommand's main from its two halves: parse, a pure
// function of the arguments and the environment, and run, which does the work.
func parseThenRun[C interface{ deprecations() []string }](
	parse func(args []string, getenv func(string) string) (C, error),
	run func(ctx context.Context, cfg C, e env) error,
) func(context.Context, []string, env) error {
	return func(ctx context.Context, args []string, e env) error {
		cfg, err := parse(args, e.getenv)
		if err != nil {
			return err
		}
		for _, n := range cfg.deprecations() {
			fmt.Fprintln(e.stderr, n)
		}
		return run(ctx, cfg, e)
	}
}

const usage = `algoreg-kit: a toolkit for the Algoreg Save customers endpoint.

Usage:
  algoreg-kit <command> [flags]

Commands:
%s
Run "algoreg-kit help <command>" (or "algoreg-kit <command> --help") for a
command's flags and examples, "algoreg-kit --version" for the version.
`

func topHelp() string {
	var list strings.Builder
	for _, c := range commands() {
		fmt.Fprintf(&list, "  %-9s %s\n", c.name, c.summary)
	}
	return fmt.Sprintf(usage, list.String())
}

// run is the whole program; main only prints its error and maps it to an
// exit status (see exitStatus).
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) < 2 {
		fmt.Fprint(stderr, topHelp())
		return silentExit{2}
	}
	name, rest := args[1], args[2:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			fmt.Fprint(stdout, topHelp())
			return nil
		}
		name, rest = rest[0], []string{"--help"}
	case "-version", "--version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		err := c.main(ctx, rest, e)
		var help helpError
		if errors.As(err, &help) {
			_, err = fmt.Fprint(stdout, help.text)
		}
		return err
	}
	return usageError{err: fmt.Errorf("unknown command %q", name)}
}

// usageError is a mistake on the command line: main prints it on one line
// with where to read the command's help, and exits with status 2.
type usageError struct {
	cmd string // "" for the command name itself
	err error
}

func (e usageError) Error() string {
	if e.cmd == "" {
		return fmt.Sprintf("%v; run 'algoreg-kit help' for the list of commands", e.err)
	}
	return fmt.Sprintf("%s: %v; run 'algoreg-kit %s --help'", e.cmd, e.err, e.cmd)
}

func (e usageError) Unwrap() error { return e.err }

// helpError carries a command's help, asked for with -h or --help; run
// prints it on stdout and succeeds.
type helpError struct{ text string }

func (e helpError) Error() string { return "help requested" }

// silentExit ends the program with a status and no message (what there was
// to say is already printed).
type silentExit struct{ code int }

func (e silentExit) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// exitStatus maps run's error to the program's exit status, and says whether
// main should print the error.
func exitStatus(err error) (code int, print bool) {
	var se silentExit
	var ue usageError
	switch {
	case err == nil:
		return 0, false
	case errors.As(err, &se):
		return se.code, false
	case errors.As(err, &ue):
		return 2, true
	}
	return 1, true
}
