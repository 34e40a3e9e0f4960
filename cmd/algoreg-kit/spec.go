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

type specConfig struct {
	parsed
	Format string // yaml or json
}

func parseSpec(args []string, getenv func(string) string) (specConfig, error) {
	var cfg specConfig
	fs := newFlagSet("spec", specUsage)
	fs.choice(&cfg.Format, "format", "yaml", []string{"yaml", "json"}, "output `format`: yaml or json")
	var err error
	cfg.notes, err = fs.parse(args, getenv)
	return cfg, err
}

func runSpec(ctx context.Context, cfg specConfig, e env) error {
	if cfg.Format == "yaml" {
		_, err := e.stdout.Write(openapi.Document())
		return err
	}
	doc, err := openapi.Load(ctx)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("spec: encode the document as JSON: %w", err)
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", b)
	return err
}
