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
	if err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		if code, ok := exitCode(err); ok {
			os.Exit(code)
		}
		fmt.Fprintf(os.Stderr, "algoreg-kit: %s\n", err)
		os.Exit(1)
	}
}
