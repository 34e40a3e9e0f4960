package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

const specUsage = `Usage: algoreg-kit spec [--format yaml|json]

Prints the OpenAPI document that drives the mock, the fixtures and the contract suite.

Examples:
  algoreg-kit spec > openapi.yaml
  algoreg-kit spec --format json | jq '.paths | keys'
`

func runSpec(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("spec", specUsage, e)
	format := fs.String("format", "yaml", "output format: yaml or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch *format {
	case "yaml":
		_, err := e.stdout.Write(openapi.Document())
		return err
	case "json":
		doc, err := openapi.Load(ctx)
		if err != nil {
			return err
		}
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return fmt.Errorf("encode document as JSON: %w", err)
		}
		_, err = fmt.Fprintf(e.stdout, "%s\n", b)
		return err
	default:
		return fmt.Errorf("spec: unknown --format %q; use yaml or json", *format)
	}
}
