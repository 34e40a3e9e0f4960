// Command algoreg-kit is the algoreg-kit toolkit: a stateful mock of the Algoreg
// Save customers endpoint, a fake customer dataset generator, a contract suite,
// and the OpenAPI document they share. Run "algoreg-kit help" for the subcommands.
package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	ctx := context.Background()
	err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	code, print := exitStatus(err)
	if print {
		fmt.Fprintf(os.Stderr, "algoreg-kit: %s\n", err)
	}
	os.Exit(code)
}
